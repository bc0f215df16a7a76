// Microcredit (SPEC §3, issue 7): loan products, solidarity groups, loans, their exact
// instalment schedule, arrears and repayment allocation.
//
// Plain data and pure functions. The Ledger (ledger.h) owns every product, group and loan
// and is their only writer; the functions here only read a loan and a clock (`now_ns`,
// e.g. the batch timestamp), so arrears and portfolio figures are a function of time that
// tests inject. All money is integer minor units; every rounding is stated here and in
// docs/loans.md. Thread-compatible.
//
// The schedule (fixed at disbursement; docs/loans.md has worked tables):
//   * n instalments; instalment k (1..n) is due at
//       due_k = disbursed + (grace_days + k × period_days) days.
//   * Principal: floor(P / n) each; the last absorbs the remainder P − (n−1)·floor(P / n).
//   * Interest of instalment k: on the principal still scheduled to be outstanding during
//     its period, at the monthly rate pro rata to the period's days over a 30-day month,
//     rounded down:  floor(O_k × rate_bp × days_k / (10000 × 30)), where
//     O_k = P − Σ_{j<k} principal_j and days_k = period_days (+ grace_days when k = 1:
//     interest runs through the grace period; the grace only defers repayment).
// Interest becomes payable when its period has started: period k runs from start_k to
// due_k, start_1 = disbursed, start_k = due_{k−1}, and its interest is payable from any
// moment after start_k. A repayment pays interest payable first, then principal. Paying
// off the whole outstanding principal closes the loan and waives the interest of periods
// not yet started; a partial prepayment does not change the schedule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "clearing/amount.h"
#include "clearing/ids.h"
#include "clearing/int128.h"

namespace ayni {

inline constexpr uint64_t kDayNs = 86'400'000'000'000ull;
// The monthly rate applies to a 30-day month, pro rata to a period's days.
inline constexpr int64_t kDaysPerMonth = 30;

struct LoanProduct {
  LoanProductId id;
  BankId bank;
  std::string name;
  CurrencyId currency;  // national (production loans) or a guaranteed currency of `bank`
  Amount max_principal;
  int32_t monthly_rate_bp = 0;
  int32_t instalments = 1;
  int32_t period_days = 30;
  int32_t grace_days = 0;
};

struct SolidarityGroup {
  SolidarityGroupId id;
  BankId bank;
  std::string name;
  std::vector<MemberId> members;  // sorted, 3–10
  std::vector<MemberId> liable;   // sorted, jointly liable members, a subset of members
};

struct Instalment {
  uint64_t due_ns = 0;
  Amount principal;
  Amount interest;
  friend bool operator==(const Instalment&, const Instalment&) = default;
};

struct LoanRepayment {
  uint64_t timestamp_ns = 0;
  Amount interest;
  Amount principal;
  friend bool operator==(const LoanRepayment&, const LoanRepayment&) = default;
};

// Stable numbers (journal bytes store them).
enum class LoanStatus : uint8_t { kActive = 0, kRepaid = 1, kWrittenOff = 2 };
const char* LoanStatusName(LoanStatus s);

struct Loan {
  LoanId id;
  RequestId request;  // the disbursement's request id
  LoanProductId product;
  BankId bank;
  CurrencyId currency;
  MemberId member;          // the borrower, or
  SolidarityGroupId group;  // the borrowing group (exactly one of the two is set)
  AccountId account;        // social-currency loans: the account paid out to; else unset
  Amount principal;
  int32_t monthly_rate_bp = 0;
  uint64_t disbursed_ns = 0;
  std::vector<Instalment> schedule;
  std::vector<LoanRepayment> repayments;  // in time order
  Amount principal_repaid, interest_paid, written_off;
  LoanStatus status = LoanStatus::kActive;

  Amount outstanding() const {
    return Amount(principal.minor() - principal_repaid.minor() - written_off.minor());
  }
};

// The schedule of a loan of `principal` under `product` disbursed at `disbursed_ns`; nullopt
// when a sum would overflow int64 (due times saturate at UINT64_MAX instead).
std::optional<std::vector<Instalment>> BuildSchedule(Amount principal, const LoanProduct& product,
                                                     uint64_t disbursed_ns);

// Interest of the periods that have started by `now_ns` (all of it for a loan no longer
// active: nothing more can become payable), minus what was paid. ≥ 0.
Amount InterestPayable(const Loan& loan, uint64_t now_ns);

// The due time of the oldest instalment past due at `now_ns` (due_k < now_ns) and not
// covered by what was repaid (cumulative principal and cumulative interest through k);
// nullopt when none. Only active loans can be past due.
std::optional<uint64_t> OldestPastDue(const Loan& loan, uint64_t now_ns);

// Whole days since the oldest past-due instalment fell due (0 when none, or less than a day).
int64_t DaysPastDue(const Loan& loan, uint64_t now_ns);

// A loan that blocks new loans to its borrowers: active with an instalment past due, or
// written off (a loss the borrowers never repaid).
bool BlocksNewLoans(const Loan& loan, uint64_t now_ns);

// Principal of instalments due by `now_ns` (due_k ≤ now_ns), and the part of it repaid by
// each instalment's own due time (repayment rate, docs/loans.md).
struct PrincipalTimeliness {
  Int128 due = 0;
  Int128 on_time = 0;
};
PrincipalTimeliness PrincipalOnTime(const Loan& loan, uint64_t now_ns);

}  // namespace ayni
