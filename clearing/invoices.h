// The invoice book and set-off runs (SPEC §4 "Obligation set-off", issue 6).
//
// Member enterprises register invoices between each other; the debtor confirms or disputes
// each one; a set-off run takes the confirmed invoices with something left to pay that are
// due by its cut-off day, cancels debt around cycles (ComputeSetoff, setoff.h) and, when
// asked, pays what is left inside a circle with mutual credit (PlanMutualCredit). Invoices
// are not ledger accounts: a committed run changes the invoices' remainders and appends one
// journal event describing the run, next to the PAYMENT transfers of its mutual-credit leg,
// all in one linked group.
//
// The commands are the Ledger's (ledger.h: RegisterInvoice, ConfirmInvoice,
// DisputeInvoice, RunSetoff, DryRunSetoff); their bodies live in invoices.cc. This header
// holds the commands, the records and the report types.
//
// Dates are whole days since 1970-01-01 (UTC), "unix days": an invoice is due on a day,
// and a run's cut-off day includes every invoice due on or before it.
//
// Value types; thread-compatible. The Ledger owns the book (see its thread rules).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "clearing/amount.h"
#include "clearing/ids.h"

namespace ayni {

// An external reference is an invoice number from the firm's own books, not a document.
inline constexpr size_t kInvoiceReferenceBytesMax = 64;
// Day 2932896 is 9999-12-31: every date the CLI can print; keeps day arithmetic trivial.
inline constexpr int64_t kUnixDayMax = 2932896;
// Invoices in one book. Each record is ≈ 150 bytes; matches the solver's bound so that
// every open invoice can enter one run.
inline constexpr size_t kInvoicesMax = 10'000'000;

// Stable numbers (journal, proto).
enum class InvoiceStatus : uint8_t {
  kRegistered = 1,  // registered by (or for) the creditor; the debtor has not answered
  kConfirmed = 2,   // the debtor acknowledges the debt: it may enter set-off runs
  kDisputed = 3,    // the debtor contests it: never enters a run (final)
};
const char* InvoiceStatusName(InvoiceStatus s);  // "registered", "confirmed", "disputed"

// Registers `debtor` owing `creditor` `amount` in `currency`, due on `due_day`. The invoice
// id is `invoice`, or the request id when `invoice` is zero.
struct RegisterInvoiceCmd {
  RequestId request;
  InvoiceId invoice;
  MemberId debtor, creditor;
  CurrencyId currency;
  Amount amount;
  int64_t due_day = 0;    // unix days
  std::string reference;  // ≤ kInvoiceReferenceBytesMax bytes of UTF-8, may be empty
};

// The debtor's answer: REGISTERED → CONFIRMED.
struct ConfirmInvoiceCmd {
  RequestId request;
  InvoiceId invoice;
};

// The debtor's answer: REGISTERED → DISPUTED, with a reason (SetAccountStatus's rules).
struct DisputeInvoiceCmd {
  RequestId request;
  InvoiceId invoice;
  std::string reason;
};

// A set-off run; the request id is the run id. `currency` zero: every currency.
struct RunSetoffCmd {
  RequestId request;
  int64_t cutoff_day = 0;  // unix days, inclusive
  CurrencyId currency;
  bool use_mutual_credit = false;
};

struct InvoiceRecord {
  InvoiceId id;
  RequestId request;  // the request that registered it
  MemberId debtor, creditor;
  CurrencyId currency;
  Amount amount;
  Amount remainder;  // still owed; set-off runs reduce it
  int64_t due_day = 0;
  std::string reference;
  InvoiceStatus status = InvoiceStatus::kRegistered;
  std::string dispute_reason;
  uint64_t registered_ns = 0;  // batch timestamp of the registration
};

// What a run did to one invoice: before = set_off + mutual_credit + remainder.
struct SetoffRunNotice {
  InvoiceId invoice;
  MemberId debtor, creditor;
  CurrencyId currency;
  Amount before;         // the remainder that entered the run
  Amount set_off;        // cancelled around cycles
  Amount mutual_credit;  // paid by a PAYMENT transfer in the circle's currency
  Amount remainder;      // still owed after the run
};

// One currency's totals. Net internal debt (setoff.h) before the run = gross; after
// set-off = gross − set_off; after set-off and mutual credit = remaining.
struct SetoffRunCurrency {
  CurrencyId currency;
  size_t invoices = 0;
  Amount gross;          // Σ before
  Amount set_off;        // Σ set_off
  Amount after_setoff;   // gross − set_off
  Amount mutual_credit;  // Σ mutual_credit
  Amount remaining;      // Σ remainder
  Amount net_balance;    // Σ positive net positions: the floor no set-off goes below
};

struct SetoffRun {
  RequestId request;    // the run id
  uint64_t number = 0;  // 1, 2, … in commit order; 0 for a dry run
  uint64_t timestamp_ns = 0;
  int64_t cutoff_day = 0;
  CurrencyId currency;  // the filter; zero: all
  bool use_mutual_credit = false;
  uint32_t payments = 0;                      // PAYMENT transfers posted (legs)
  std::vector<SetoffRunNotice> notices;       // in registration order of the invoices
  std::vector<SetoffRunCurrency> currencies;  // by currency id
};

// Per-currency totals of `notices` (pure). Fails only if a sum would overflow int64, which
// the run's own checks exclude for committed runs.
bool SummarizeSetoff(const std::vector<SetoffRunNotice>& notices,
                     std::vector<SetoffRunCurrency>* out);

// The Ledger's invoice state: records in registration order, an index by id, the runs.
struct InvoiceBook {
  std::vector<InvoiceRecord> invoices;
  std::unordered_map<InvoiceId, uint32_t> by_id;  // → index into invoices
  std::vector<SetoffRun> runs;                    // runs[number − 1]
};

class JournalReader;

// Journal events of the invoice book (tags 40–42, docs/journal.md).
namespace journal {
void EncodeInvoice(std::vector<uint8_t>& out, const InvoiceRecord& r);
void EncodeInvoiceStatus(std::vector<uint8_t>& out, const InvoiceId& id, InvoiceStatus s,
                         std::string_view reason);
void EncodeSetoffRun(std::vector<uint8_t>& out, const SetoffRun& run);
// Reads past one invoice event whose tag was just read; false when it does not decode.
// For the replayer, which recomputes balances and has no use for invoices.
bool SkipInvoiceEvent(uint8_t tag, JournalReader& rd);
}  // namespace journal

}  // namespace ayni
