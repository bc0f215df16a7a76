#include "clearing/loans.h"

#include <algorithm>

#include "clearing/check.h"
#include "clearing/limits.h"

namespace ayni {
namespace {

uint64_t SaturatingDue(uint64_t base_ns, int64_t days) {
  AYNI_CHECK(days >= 0);
  uint64_t offset, due;
  if (__builtin_mul_overflow(static_cast<uint64_t>(days), kDayNs, &offset) ||
      __builtin_add_overflow(base_ns, offset, &due)) {
    return UINT64_MAX;
  }
  return due;
}

// Start of period k (0-based index into the schedule).
uint64_t PeriodStart(const Loan& loan, size_t k) {
  return k == 0 ? loan.disbursed_ns : loan.schedule[k - 1].due_ns;
}

}  // namespace

const char* LoanStatusName(LoanStatus s) {
  switch (s) {
    case LoanStatus::kActive: return "ACTIVE";
    case LoanStatus::kRepaid: return "REPAID";
    case LoanStatus::kWrittenOff: return "WRITTEN_OFF";
  }
  return "UNKNOWN";
}

std::optional<std::vector<Instalment>> BuildSchedule(Amount principal, const LoanProduct& p,
                                                     uint64_t disbursed_ns) {
  AYNI_CHECK(principal.positive() && p.instalments >= 1 && p.instalments <= kLoanInstalmentsMax &&
             p.period_days >= kLoanPeriodDaysMin && p.period_days <= kLoanPeriodDaysMax &&
             p.grace_days >= 0 && p.grace_days <= kLoanGraceDaysMax && p.monthly_rate_bp >= 0 &&
             p.monthly_rate_bp <= kLoanMonthlyRateBpMax);
  const int64_t n = p.instalments;
  const int64_t each = principal.minor() / n;
  std::vector<Instalment> out;
  out.reserve(static_cast<size_t>(n));
  int64_t outstanding = principal.minor();
  int64_t total_interest = 0;
  for (int64_t k = 1; k <= n; ++k) {
    Instalment in;
    in.due_ns = SaturatingDue(disbursed_ns, p.grace_days + k * p.period_days);
    const int64_t days = p.period_days + (k == 1 ? p.grace_days : 0);
    // ≤ outstanding × 100 × 732 / 300000 < outstanding (the limits above): fits int64.
    const Int128 interest = static_cast<Int128>(outstanding) * p.monthly_rate_bp * days /
                            (Int128{10000} * kDaysPerMonth);
    in.interest = Amount(static_cast<int64_t>(interest));
    in.principal = Amount(k == n ? outstanding : each);
    if (__builtin_add_overflow(total_interest, in.interest.minor(), &total_interest)) {
      return std::nullopt;
    }
    outstanding -= in.principal.minor();
    out.push_back(in);
  }
  AYNI_CHECK(outstanding == 0);
  // A full repayment is principal plus interest: it must fit one amount.
  int64_t total;
  if (__builtin_add_overflow(principal.minor(), total_interest, &total)) return std::nullopt;
  return out;
}

Amount InterestPayable(const Loan& loan, uint64_t now_ns) {
  if (loan.status != LoanStatus::kActive) return Amount::Zero();
  int64_t charged = 0;
  for (size_t k = 0; k < loan.schedule.size(); ++k) {
    if (now_ns <= PeriodStart(loan, k)) break;
    charged += loan.schedule[k].interest.minor();  // BuildSchedule checked the total fits
  }
  return Amount(std::max<int64_t>(0, charged - loan.interest_paid.minor()));
}

std::optional<uint64_t> OldestPastDue(const Loan& loan, uint64_t now_ns) {
  if (loan.status != LoanStatus::kActive) return std::nullopt;
  int64_t cum_principal = 0, cum_interest = 0;
  for (const Instalment& in : loan.schedule) {
    if (in.due_ns >= now_ns) break;
    cum_principal += in.principal.minor();
    cum_interest += in.interest.minor();
    if (loan.principal_repaid.minor() < cum_principal ||
        loan.interest_paid.minor() < cum_interest) {
      return in.due_ns;
    }
  }
  return std::nullopt;
}

int64_t DaysPastDue(const Loan& loan, uint64_t now_ns) {
  const std::optional<uint64_t> due = OldestPastDue(loan, now_ns);
  if (!due) return 0;
  return static_cast<int64_t>((now_ns - *due) / kDayNs);
}

bool BlocksNewLoans(const Loan& loan, uint64_t now_ns) {
  return loan.status == LoanStatus::kWrittenOff || OldestPastDue(loan, now_ns).has_value();
}

PrincipalTimeliness PrincipalOnTime(const Loan& loan, uint64_t now_ns) {
  PrincipalTimeliness t;
  int64_t cum_before = 0;  // scheduled principal of the earlier instalments
  size_t r = 0;
  int64_t paid_by = 0;  // principal repaid up to the current instalment's due time
  for (const Instalment& in : loan.schedule) {
    if (in.due_ns > now_ns) break;
    while (r < loan.repayments.size() && loan.repayments[r].timestamp_ns <= in.due_ns) {
      paid_by += loan.repayments[r].principal.minor();
      ++r;
    }
    t.due += in.principal.minor();
    t.on_time += std::clamp<int64_t>(paid_by - cum_before, 0, in.principal.minor());
    cum_before += in.principal.minor();
  }
  return t;
}

}  // namespace ayni
