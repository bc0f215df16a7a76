// Microcredit on top of the ledger fixture's network: a third member of bank A (Dora,
// with a PALMA account), a funded reserve at A, two loan products and a solidarity group.
#pragma once

#include <gtest/gtest.h>

#include "tests/clearing/ledger_fixture.h"

namespace ayni {

struct LoanSetup {
  MemberId dora;
  AccountId dora_palma;
  // "Produção": BRL, up to 5,000.00, 1% a month, 4 × 30 days, no grace.
  LoanProductId cash;
  // "Consumo": PALMA, up to 1,000.00, 0.5% a month, 3 × 14 days, no grace.
  LoanProductId palma;
  // "Mulheres da feira": Ana, Caio and Dora; Ana and Caio jointly liable.
  SolidarityGroupId group;
};

inline LoanSetup AddLoanSetup(Network& n, int64_t fund_minor = 1'000'000) {
  LoanSetup s;
  auto must = [](const OpResult& r) {
    EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
    return r.id;
  };
  Ledger& l = n.ledger;
  n.Begin();
  s.dora = MemberId(must(l.CreateMember({n.Next(), n.a, "Dora"})));
  s.dora_palma = AccountId(must(l.OpenAccount({n.Next(), s.dora, n.palma, AccountKind::kMember})));
  if (fund_minor > 0) {
    must(l.FundReserve({n.Next(), n.a, Amount(fund_minor), FundSource::kVault, "grant"}));
  }
  s.cash = LoanProductId(must(
      l.CreateLoanProduct({n.Next(), n.a, "Produção", n.brl, Amount(500'000), 100, 4, 30, 0})));
  s.palma = LoanProductId(must(
      l.CreateLoanProduct({n.Next(), n.a, "Consumo", n.palma, Amount(100'000), 50, 3, 14, 0})));
  s.group = SolidarityGroupId(must(l.CreateSolidarityGroup(
      {n.Next(), n.a, "Mulheres da feira", {n.ana, n.caio, s.dora}, {n.ana, n.caio}})));
  n.Seal();
  return s;
}

}  // namespace ayni
