// A bank's loan portfolio at a moment (SPEC §3 microcredit, §7 audit; issue 7 item 5).
//
// A pure function of the ledger's loan book and a clock: PortfolioOf(ledger, bank, now_ns)
// reads only the loans of `bank` and changes nothing. Definitions (docs/loans.md):
//   * outstanding: principal disbursed − repaid − written off, of active loans; by product
//     (each product has one currency) and by currency. Guaranteed currencies trade 1:1
//     with national money at the same scale, so the bank totals add them up.
//   * PAR30 / PAR90: outstanding principal of active loans whose oldest unpaid instalment
//     is more than 30 / 90 whole days past due (loans.h DaysPastDue), in basis points of
//     the bank's outstanding principal, rounded down; 0 when nothing is outstanding.
//   * repayment rate: principal repaid by each instalment's own due time over principal
//     due by now, over every loan of the bank (written-off ones included), in basis
//     points rounded down; 10000 when nothing has fallen due yet. Interest is left out
//     because an early payoff waives the interest of periods not yet started.
// Read on the ledger's owning thread.
#pragma once

#include <cstdint>
#include <vector>

#include "clearing/ledger.h"

namespace ayni {

struct PortfolioProductRow {
  LoanProductId product;
  CurrencyId currency;
  uint32_t active_loans = 0;
  Int128 outstanding = 0;
};

struct PortfolioCurrencyRow {
  CurrencyId currency;
  uint32_t active_loans = 0;
  Int128 outstanding = 0;
};

struct LoanPortfolio {
  BankId bank;
  uint64_t now_ns = 0;
  std::vector<PortfolioProductRow> products;     // every product of the bank, by id
  std::vector<PortfolioCurrencyRow> currencies;  // currencies with loans, by id
  uint32_t active = 0, repaid = 0, written_off = 0;
  Int128 outstanding = 0;
  Int128 at_risk_30 = 0, at_risk_90 = 0;  // principal of loans > 30 / > 90 days past due
  int32_t par30_bp = 0, par90_bp = 0;
  Int128 principal_due = 0, principal_on_time = 0;
  int32_t repayment_rate_bp = 10000;
};

LoanPortfolio PortfolioOf(const Ledger& ledger, BankId bank, uint64_t now_ns);

}  // namespace ayni
