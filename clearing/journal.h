// The journal: canonical bytes of each committed batch, chained by BLAKE2b (invariant 7).
//
// A batch's bytes are a header followed by its events, all big-endian:
//
//   "AYNB" | u16 version=1 | u64 sequence | u64 timestamp_ns | u32 event_count | events…
//
// and its hash is BLAKE2b-256(previous hash ‖ bytes), the first batch chaining from 32
// zero bytes. Every event starts with a one-byte tag; layouts are in docs/journal.md and
// in the encoders below. Strings are u16 length + UTF-8 bytes; ids of 128 bits are 16
// raw bytes; dense ids are u64; amounts are i64 minor units.
//
// ReplayJournal recomputes every balance from the journal alone and shares no code with
// the Ledger's posting path, so a bug there cannot hide itself here.
// Pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clearing/hash.h"
#include "clearing/loans.h"
#include "clearing/model.h"

namespace ayni {

enum class EventTag : uint8_t {
  kTransfer = 1,
  kDeploymentCreated = 2,
  kBankCreated = 3,
  kCurrencyCreated = 4,
  kCircleCreated = 5,
  kMemberCreated = 6,
  kCircleMemberAdded = 7,
  kAccountOpened = 8,
  kAccountStatusChanged = 9,
  kAccountLimitsChanged = 10,
  kCycleSettled = 11,
  kRequestCommitted = 12,  // the idempotency record of a committed request
  kLoanProductCreated = 13,
  kSolidarityGroupCreated = 14,
  kLoanDisbursed = 15,
  kLoanRepaid = 16,
  kLoanWrittenOff = 17,
  // The invoice book and set-off runs (clearing/invoices.h).
  kInvoiceRegistered = 40,
  kInvoiceStatusChanged = 41,
  kSetoffRun = 42,
  // Cards and kiosks (clearing/cards.h).
  kKioskRegistered = 50,
  kCardRegistered = 51,
  kCardLoadAuthorized = 52,
  kCardBlocked = 53,
  kCardLoadState = 54,
  kCardReceipt = 55,
  kCardEvidence = 56,
};

inline constexpr uint16_t kJournalVersion = 1;
inline constexpr size_t kBatchHeaderBytes = 4 + 2 + 8 + 8 + 4;

// Encoders: append one event to `out`.
namespace journal {
void EncodeTransfer(std::vector<uint8_t>& out, const Transfer& t);
void EncodeDeployment(std::vector<uint8_t>& out, CurrencyId id, std::string_view code,
                      int64_t scale);
void EncodeBank(std::vector<uint8_t>& out, const Bank& b);
void EncodeCurrency(std::vector<uint8_t>& out, const Currency& c);
void EncodeCircle(std::vector<uint8_t>& out, const Circle& c);
void EncodeMember(std::vector<uint8_t>& out, const Member& m);
void EncodeCircleMember(std::vector<uint8_t>& out, CircleId circle, MemberId member, bool admin);
void EncodeAccount(std::vector<uint8_t>& out, const Account& a);
void EncodeAccountStatus(std::vector<uint8_t>& out, AccountId id, AccountStatus s,
                         std::string_view actor, std::string_view reason);
void EncodeAccountLimits(std::vector<uint8_t>& out, AccountId id, Amount credit_limit,
                         Amount ceiling, std::string_view actor, std::string_view reason);
void EncodeCycle(std::vector<uint8_t>& out, const RequestId& request, uint64_t number,
                 Amount gross, Amount settled, uint32_t transfers);
// kind and fields are the Ledger's idempotency fingerprint (opaque here).
void EncodeRequest(std::vector<uint8_t>& out, const RequestId& request, uint8_t kind,
                   uint32_t legs, std::span<const uint64_t> fields, uint64_t result_id,
                   uint64_t timestamp_ns);
inline constexpr size_t kRequestFields = 6;
void EncodeLoanProduct(std::vector<uint8_t>& out, const LoanProduct& p);
void EncodeGroup(std::vector<uint8_t>& out, const SolidarityGroup& g);
// The loan as disbursed, with its whole schedule (no repayments yet).
void EncodeLoan(std::vector<uint8_t>& out, const Loan& loan);
void EncodeLoanRepaid(std::vector<uint8_t>& out, LoanId loan, Amount interest, Amount principal,
                      LoanStatus status_after);
void EncodeLoanWrittenOff(std::vector<uint8_t>& out, LoanId loan, Amount principal,
                          std::string_view actor, std::string_view reason);
std::vector<uint8_t> EncodeHeader(uint64_t sequence, uint64_t timestamp_ns, uint32_t events);
}  // namespace journal

// A batch as stored (e.g. a row of the batches table).
struct StoredBatch {
  uint64_t sequence = 0;
  std::vector<uint8_t> bytes;
  Hash256 hash{};
};

enum class JournalFaultKind : uint8_t {
  kSequenceGap = 1,      // batches not numbered 1, 2, 3, …
  kHashMismatch = 2,     // stored hash ≠ BLAKE2b(prev ‖ bytes): bytes or hash altered
  kMalformed = 3,        // bytes do not decode
  kUnknownAccount = 4,   // a transfer names an account never opened
  kCurrencyMismatch = 5, // a transfer's accounts are not both in its currency
  kInactiveAccount = 6,  // a transfer moved a frozen or closed account
  kOverflow = 7,         // a replayed balance overflows
  kBalanceMismatch = 8,  // the ledger's balance differs from the replayed one
  kAccountMismatch = 9,  // the ledger has an account the journal does not, or vice versa
};
const char* JournalFaultKindName(JournalFaultKind k);

struct JournalFault {
  JournalFaultKind kind;
  uint64_t batch = 0;    // sequence where found (0: comparison with the ledger)
  uint64_t account = 0;  // account id where relevant
  std::string detail;
};

struct ReplayAccount {
  bool opened = false;
  CurrencyId currency;
  AccountKind kind = AccountKind::kMember;
  AccountStatus status = AccountStatus::kActive;
  Amount balance, debits_posted, credits_posted;
};

struct Replay {
  std::vector<ReplayAccount> accounts;  // index = account id − 1
  Hash256 head{};
  uint64_t batches = 0;
  uint64_t transfers = 0;
  std::vector<JournalFault> faults;
  bool ok() const { return faults.empty(); }
};

// Verifies the chain and recomputes balances. Stops decoding at the first malformed or
// mis-hashed batch (its contents cannot be trusted) and reports it.
Replay ReplayJournal(std::span<const StoredBatch> batches);

}  // namespace ayni
