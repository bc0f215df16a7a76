// Cards and kiosks in the ledger (SPEC §5 "Reconciliation on the server", issue 4).
//
// The ledger keeps the registered kiosks and cards, the loads the bank authorised, and
// what it learned from the offline records kiosks upload: per card the records seen (by
// counter), a shadow balance, and whether it is blocked. Card formats and signatures live
// in cardio/ (docs/card-protocol.md); the ledger never parses or verifies card bytes. Its
// caller (the server) parses each record, checks the card's signature against the key
// registered here and the kiosk's batch signature, and hands over the verified fields
// together with the record's bytes, which the journal keeps as evidence.
//
// Money:
//  * an authorised load posts member → CARD_FLOAT (CARD_LOAD) and stays *pending* until a
//    record of the card shows whether the card applied it;
//  * a load is *applied* when a record of the card with counter > the load's counter
//    names it as the last load; the shadow balance then grows by its amount;
//  * a load is *returned* (CARD_FLOAT → member, CARD_RETURN) when a record proves the card
//    never applied it (the record at counter + 1 is not its load record, or a record past
//    the load's counter names an older load), or when the card is blocked;
//  * each debit record settles once: min(amount, shadow) CARD_FLOAT → merchant and the
//    rest CARD_LOSSES → merchant (CARD_SETTLE), the shadow going down by the first part;
//    cross-bank like any payment when the merchant banks elsewhere; to SUSPENSE of the
//    card's currency when the merchant account is frozen or closed (or cannot take it).
// So per currency, always: balance(CARD_FLOAT) = Σ shadow + Σ pending loads (invariant
// "card_float_mismatch", invariants.h).
//
// Clones: a record with a counter already seen but other bytes, or a record whose previous
// hash another record of the card already claims, or a break in balance continuity
// between consecutive counters, blocks the card. The record is still settled (the merchant
// accepted it in good faith; the shadow balance makes the bank's CARD_LOSSES pay any
// overspend) and every conflicting record is kept as evidence.
//
// The commands are the Ledger's (ledger.h: RegisterKiosk, RegisterCard, AuthorizeCardLoad,
// BlockCard, SettleOffline); their bodies live in cards.cc. This header holds the commands,
// the records and the report types.
//
// Value types; thread-compatible. The Ledger owns the book (see its thread rules).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "clearing/amount.h"
#include "clearing/hash.h"
#include "clearing/ids.h"

namespace ayni {

inline constexpr size_t kCardRecordBytes = 210;  // the signed record (docs/card-protocol.md)
inline constexpr size_t kKiosksMax = 1'000'000;
inline constexpr size_t kCardsMax = 10'000'000;
// Receipts in one SettleOffline call (a kiosk batch).
inline constexpr size_t kOfflineBatchMax = 10'000;

using CardPublicKey = std::array<uint8_t, 32>;  // Ed25519
using CardNonce = std::array<uint8_t, 16>;
using CardRecordBytes = std::array<uint8_t, kCardRecordBytes>;

// Stable numbers (journal, proto).
enum class CardStatus : uint8_t { kActive = 1, kBlocked = 2 };
enum class CardBlockReason : uint8_t {
  kNone = 0,
  kManual = 1,           // a teller or admin (lost, stolen)
  kCounterConflict = 2,  // two records with one counter and different bytes
  kChainFork = 3,        // two records claiming the same previous hash
  kBalanceBreak = 4,     // consecutive records whose balances do not follow
  kUnknownLoad = 5,      // a load record for a load the bank never authorised
};
const char* CardBlockReasonName(CardBlockReason r);  // "manual", "counter_conflict", …
enum class CardLoadState : uint8_t { kPending = 1, kApplied = 2, kReturned = 3 };
const char* CardLoadStateName(CardLoadState s);

struct CardLimitTerms {
  Amount payment_max;              // > 0
  Amount offline_amount_max;       // ≥ 0
  uint32_t offline_count_max = 0;  // ≥ 0
  Amount balance_max;              // > 0
  friend bool operator==(const CardLimitTerms&, const CardLimitTerms&) = default;
};

// A kiosk of the bank that holds `merchant` (an active MERCHANT account in a guaranteed
// currency). Terminal ids and public keys are unique. Result id: the kiosk id.
struct RegisterKioskCmd {
  RequestId request;
  TerminalId terminal;
  CardPublicKey public_key{};
  AccountId merchant;
  std::string label;  // name rules (1–120 bytes)
};

// A card for `account` (an active MEMBER account in a guaranteed currency), with the key
// the card generated. The bank of the account's currency certifies it; the server signs
// the certificate from these fields. Card ids and public keys are unique. Result id: the
// account.
struct RegisterCardCmd {
  RequestId request;
  CardId card;
  CardPublicKey public_key{};
  AccountId account;
  CardLimitTerms limits;
  uint64_t expiry_s = 0;  // unix seconds, > 0
};

// Authorises one load: `amount` (≥ 0; 0 only renews the offline allowance) from the card's
// account into CARD_FLOAT, for the counter and challenge the card returned to INITIALIZE
// LOAD. The request id is the load id. Refused for a blocked card, caps above the
// certificate's, or an amount above balance_max.
struct AuthorizeCardLoadCmd {
  RequestId request;  // = the load id's bytes
  CardId card;
  Amount amount;
  uint32_t counter = 0;
  CardNonce challenge{};
  Amount offline_amount_cap;
  uint32_t offline_count_cap = 0;
};

// Blocks a card by hand (lost, stolen). Its pending loads go back to the member.
struct BlockCardCmd {
  RequestId request;
  CardId card;
  std::string actor;   // name rules
  std::string reason;  // SetAccountStatus's reason rules
};

// One offline record, parsed and signature-checked by the caller.
struct OfflineReceipt {
  CardRecordBytes bytes{};  // as the card signed it (body ‖ signature)
  Hash256 body_hash{};      // SHA-256 of the body: the next record's previous hash
  bool load = false;        // record type: load, else debit
  CardId card;
  uint32_t counter = 0;
  Amount amount;
  Amount balance_after;
  TerminalId terminal;
  uint32_t terminal_sequence = 0;
  uint64_t terminal_time_s = 0;
  CardNonce nonce{};  // a load record: the load challenge
  LoadId last_load;
  Amount offline_amount;
  uint32_t offline_count = 0;
  Hash256 previous_hash{};
};

// One kiosk batch. Not idempotent by request: every record is deduplicated on its own
// (card, counter), so an uploaded-again batch answers kDuplicate for each record.
struct SettleOfflineCmd {
  KioskId kiosk;
  std::vector<OfflineReceipt> receipts;  // ≤ kOfflineBatchMax
};

enum class ReceiptStatus : uint8_t {
  kSettled = 1,        // a debit, paid now (to the merchant, or to SUSPENSE)
  kLoadConfirmed = 2,  // a load record; its load is now applied
  kDuplicate = 3,      // identical bytes seen before: ignored
  kRejected = 4,       // nothing done; see ReceiptResult::reject
};
enum class ReceiptReject : uint8_t {
  kNone = 0,
  kUnknownCard = 1,
  kWrongTerminal = 2,       // a debit whose terminal is not the uploading kiosk's
  kCertificateExpired = 3,  // terminal time at or after the card's expiry
  kBadSignature = 4,        // set by the caller (the ledger never sees such a record)
  kMalformed = 5,           // set by the caller
};
const char* ReceiptStatusName(ReceiptStatus s);
const char* ReceiptRejectName(ReceiptReject r);

struct ReceiptResult {
  ReceiptStatus status = ReceiptStatus::kRejected;
  ReceiptReject reject = ReceiptReject::kNone;
  Amount from_float;   // kSettled: paid out of CARD_FLOAT
  Amount from_losses;  // kSettled: paid out of CARD_LOSSES (overspend)
  bool to_suspense = false;
  CardBlockReason blocked = CardBlockReason::kNone;  // this record blocked its card
};

struct SettleOfflineReport {
  std::vector<ReceiptResult> receipts;  // one per receipt, in order
  uint32_t settled = 0, loads_confirmed = 0, duplicates = 0, rejected = 0;
  Amount from_float, from_losses;
  std::vector<CardId> blocked;   // cards this batch blocked
  std::vector<LoadId> returned;  // loads this batch proved unapplied and returned
};

struct KioskRecord {
  KioskId id;
  TerminalId terminal;
  CardPublicKey public_key{};
  AccountId merchant;
  BankId bank;  // the merchant's
  std::string label;
  RequestId request;
  uint64_t registered_ns = 0;
  // Debit records settled from this kiosk: their count and highest terminal sequence.
  // Sequences start at 1, so max_sequence − receipts > 0 means missing receipts.
  uint64_t receipts = 0;
  uint32_t max_sequence = 0;
};

struct CardRecord {
  CardId id;
  CardPublicKey public_key{};
  AccountId account;
  CurrencyId currency;
  BankId bank;
  CardLimitTerms limits;
  uint64_t expiry_s = 0;
  RequestId request;
  uint64_t registered_ns = 0;
  CardStatus status = CardStatus::kActive;
  CardBlockReason block_reason = CardBlockReason::kNone;
  std::string block_detail;  // manual: actor and reason
  uint64_t blocked_ns = 0;
  Amount shadow;               // ≥ 0
  uint32_t max_counter = 0;    // highest record counter seen
  uint64_t records = 0;        // distinct counters seen; counters start at 1
  std::vector<CardRecordBytes> evidence;  // when blocked by records: every conflicting one
};

struct CardLoadRecord {
  LoadId id;
  CardId card;
  AccountId account;  // debited, and credited back on return
  Amount amount;
  uint32_t counter = 0;
  CardNonce challenge{};
  Amount offline_amount_cap;
  uint32_t offline_count_cap = 0;
  CardLoadState state = CardLoadState::kPending;
  uint64_t authorized_ns = 0;
};


// ---- The ledger's private book (cards.cc) ----------------------------------------------

// One counter of a card as first seen (a conflicting record with the same counter is kept
// as evidence only).
struct CardRecordSeen {
  CardRecordBytes bytes{};
  Hash256 bytes_hash{};  // BLAKE2b-256 of bytes: identical bytes are a duplicate
  bool load = false;
  Amount amount, balance_after;
};

struct CardChain {
  std::map<uint32_t, CardRecordSeen> by_counter;
  std::map<Hash256, uint32_t> by_previous;  // previous hash → the counter that claimed it
  std::vector<uint32_t> loads;              // indexes into CardBook::loads, in order
  // Records accepted with a counter already taken (clones): their bytes hashes, so that
  // an upload of the same clone record again is a duplicate too.
  std::multimap<uint32_t, Hash256> conflicts;
};

struct CardBook {
  std::vector<KioskRecord> kiosks;  // kiosks[id − 1]
  std::unordered_map<TerminalId, uint32_t> kiosk_by_terminal;
  std::map<CardPublicKey, uint32_t> kiosk_by_key;
  std::vector<CardRecord> cards;
  std::vector<CardChain> chains;  // parallel to cards
  std::unordered_map<CardId, uint32_t> card_by_id;
  std::map<CardPublicKey, uint32_t> card_by_key;
  std::vector<CardLoadRecord> loads;
  std::unordered_map<LoadId, uint32_t> load_by_id;
  std::vector<CardId> deny;
  // Undo support: card states saved before a change in the open batch (LIFO).
  std::vector<CardRecord> saved;
};

// Journal encoders and the replayer's skip (cards.cc); layouts in docs/journal.md.
class JournalReader;
namespace journal {
bool SkipCardEvent(uint8_t tag, JournalReader& rd);
}  // namespace journal

}  // namespace ayni
