// The kiosk's small state (`state` in the kiosk directory), replaced atomically on every
// change (cardio/file_io.h): the last terminal sequence and batch sequence it used, the
// deny-list and banks' keys from its last sync with the time it fetched them, and the
// card operations whose outcome is unknown (a card pulled after DEBIT or CREDIT LOAD was
// sent), to be settled by the card's last record on its next contact.
//
// Format: "AYNIKSK1" ‖ u16 format=1 ‖ fields ‖ SHA-256 of everything before. Load refuses
// a torn or altered file (kDataLoss); a missing file is a fresh kiosk.
// Value types and functions; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "clearing/amount.h"
#include "clearing/card/bytes.h"
#include "clearing/card/crypto.h"
#include "clearing/card/protocol.h"
#include "clearing/card/record.h"
#include "clearing/status.h"

namespace ayni::cardio::kiosk {

// Pending operations kept at once: one per card that was pulled mid-operation; more means
// cards are being pulled on purpose and the kiosk must be recovered first.
inline constexpr size_t kPendingMax = 64;
// Entries of a deny-list (clearing/cards.h: kCardsMax) and banks.
inline constexpr size_t kDenyListMax = 10'000'000;
inline constexpr size_t kBankKeysMax = 100'000;

struct BankKeyEntry {
  uint64_t bank_id = 0;
  PublicKey public_key{};
  friend bool operator==(const BankKeyEntry&, const BankKeyEntry&) = default;
};

// A debit or load sent to the card whose answer was lost. The card's record for it, if it
// made one, has exactly these fields.
struct PendingOperation {
  RecordType type = RecordType::kDebit;
  CardId card_id;
  uint32_t expected_counter = 0;  // the card's counter + 1 when the command was sent
  Nonce nonce{};                  // the terminal nonce (debit) or the load challenge (load)
  Amount amount;
  uint32_t terminal_sequence = 0;  // debit only
  uint64_t terminal_time_s = 0;    // debit only
  uint64_t started_s = 0;
  friend bool operator==(const PendingOperation&, const PendingOperation&) = default;
};

struct KioskState {
  uint32_t terminal_sequence = 0;    // the last one used (0: none yet)
  uint32_t batch_sequence = 0;       // the last batch uploaded (0: none yet)
  uint64_t deny_list_fetched_s = 0;  // kiosk clock; 0: never synced
  uint64_t deny_list_server_ns = 0;  // the server's time of that list
  std::vector<CardId> blocked_cards;
  std::vector<BankKeyEntry> bank_keys;
  std::vector<PendingOperation> pending;
  friend bool operator==(const KioskState&, const KioskState&) = default;
};

Bytes SerializeKioskState(const KioskState& state);
Result<KioskState> DeserializeKioskState(std::span<const uint8_t> bytes);

Status SaveKioskState(const std::string& path, const KioskState& state);
// A fresh state when the file does not exist.
Result<KioskState> LoadKioskState(const std::string& path);

// Whether a record is the card's answer to a pending operation.
bool RecordAnswers(const OfflineRecord& record, const PendingOperation& pending);

}  // namespace ayni::cardio::kiosk
