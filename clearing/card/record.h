// A card format (clearing/card/): shared by the card (cardio/), the kiosk and the server;
// pure, depends on clearing/ and libsodium only. Namespace ayni::cardio (historical).
//
// The offline record: what the card signs for every debit and every load.
//
// Fixed size, big-endian (docs/card-protocol.md §Record):
//   u8 version | u8 type | u32 scheme id | card id[16] | u32 counter | i64 amount |
//   i64 balance after | terminal id[16] | u32 terminal sequence | terminal nonce[16] |
//   u64 terminal time | last load id[16] | i64 offline amount | u32 offline count |
//   previous hash[32]                                   = 146 bytes ("the body")
// followed by the Ed25519 signature of the card over "AYNI-CARD-RECORD-V1" ‖ body.
// The chain: previous hash = SHA-256 of the previous record's body (32 zero bytes before
// the first record). A load record carries zero terminal fields except the nonce, which
// holds the load challenge. Value types and pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <span>

#include "clearing/amount.h"
#include "clearing/card/bytes.h"
#include "clearing/card/crypto.h"
#include "clearing/card/protocol.h"
#include "clearing/cards.h"
#include "clearing/status.h"

namespace ayni::cardio {

inline constexpr uint8_t kRecordVersion = 1;

enum class RecordType : uint8_t { kDebit = 1, kLoad = 2 };

struct OfflineRecord {
  uint8_t version = kRecordVersion;
  RecordType type = RecordType::kDebit;
  uint32_t scheme_id = 0;
  CardId card_id;
  uint32_t counter = 0;
  Amount amount;         // > 0 for a debit, >= 0 for a load
  Amount balance_after;  // >= 0
  TerminalId terminal_id;
  uint32_t terminal_sequence = 0;
  Nonce terminal_nonce{};
  uint64_t terminal_time_s = 0;  // unix seconds, as the terminal said
  LoadId last_load_id;
  Amount offline_amount;  // spent offline since that load, this record included
  uint32_t offline_count = 0;
  Sha256Digest previous_hash{};

  friend bool operator==(const OfflineRecord&, const OfflineRecord&) = default;
};

struct SignedRecord {
  OfflineRecord record;
  Signature signature{};

  friend bool operator==(const SignedRecord&, const SignedRecord&) = default;
};

Bytes EncodeRecordBody(const OfflineRecord& record);
Bytes EncodeSignedRecord(const SignedRecord& record);
// SHA-256 of the body: the next record's previous hash.
Sha256Digest RecordHash(const OfflineRecord& record);

// Parses exactly kRecordSize bytes and refuses, with the field's name, an unknown version
// or type, a non-positive debit amount, a negative load amount, balance or offline amount.
// Does not verify the signature.
Result<SignedRecord> ParseSignedRecord(std::span<const uint8_t> bytes);
bool VerifyRecordSignature(const SignedRecord& record, const PublicKey& card_key);

// What the ledger settles from a record its caller parsed and verified (clearing/cards.h):
// the fields, the signed bytes (kept as evidence; AYNI_CHECKs kRecordSize) and the body's
// SHA-256, which the card's next record names as its previous hash.
OfflineReceipt ToOfflineReceipt(const SignedRecord& record, std::span<const uint8_t> bytes);

}  // namespace ayni::cardio
