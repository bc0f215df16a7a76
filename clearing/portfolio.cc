#include "clearing/portfolio.h"

#include <algorithm>

#include "clearing/check.h"

namespace ayni {
namespace {

int32_t BasisPoints(Int128 part, Int128 whole, int32_t if_empty) {
  if (whole == 0) return if_empty;
  AYNI_CHECK(part >= 0 && part <= whole);
  return static_cast<int32_t>(part * 10000 / whole);
}

}  // namespace

LoanPortfolio PortfolioOf(const Ledger& ledger, BankId bank, uint64_t now_ns) {
  LoanPortfolio pf;
  pf.bank = bank;
  pf.now_ns = now_ns;
  for (const LoanProduct& p : ledger.loan_products()) {
    if (p.bank == bank) pf.products.push_back({p.id, p.currency, 0, 0});
  }
  const auto product_row = [&](LoanProductId id) -> PortfolioProductRow& {
    const auto it = std::lower_bound(
        pf.products.begin(), pf.products.end(), id,
        [](const PortfolioProductRow& r, LoanProductId x) { return r.product < x; });
    AYNI_CHECK(it != pf.products.end() && it->product == id);
    return *it;
  };
  const auto currency_row = [&](CurrencyId id) -> PortfolioCurrencyRow& {
    auto it = std::lower_bound(
        pf.currencies.begin(), pf.currencies.end(), id,
        [](const PortfolioCurrencyRow& r, CurrencyId x) { return r.currency < x; });
    if (it == pf.currencies.end() || it->currency != id) it = pf.currencies.insert(it, {id, 0, 0});
    return *it;
  };
  for (const Loan& l : ledger.loans()) {
    if (l.bank != bank) continue;
    const PrincipalTimeliness t = PrincipalOnTime(l, now_ns);
    pf.principal_due += t.due;
    pf.principal_on_time += t.on_time;
    switch (l.status) {
      case LoanStatus::kRepaid:
        ++pf.repaid;
        continue;
      case LoanStatus::kWrittenOff:
        ++pf.written_off;
        continue;
      case LoanStatus::kActive:
        break;
    }
    ++pf.active;
    const int64_t out = l.outstanding().minor();
    pf.outstanding += out;
    PortfolioProductRow& pr = product_row(l.product);
    ++pr.active_loans;
    pr.outstanding += out;
    PortfolioCurrencyRow& cr = currency_row(l.currency);
    ++cr.active_loans;
    cr.outstanding += out;
    const int64_t dpd = DaysPastDue(l, now_ns);
    if (dpd > 30) pf.at_risk_30 += out;
    if (dpd > 90) pf.at_risk_90 += out;
  }
  pf.par30_bp = BasisPoints(pf.at_risk_30, pf.outstanding, 0);
  pf.par90_bp = BasisPoints(pf.at_risk_90, pf.outstanding, 0);
  pf.repayment_rate_bp = BasisPoints(pf.principal_on_time, pf.principal_due, 10000);
  return pf;
}

}  // namespace ayni
