// Microcredit (issue 7): exact schedules against hand-computed tables, the postings of
// SPEC §3's loan table, repayment allocation, write-off, arrears of members and groups,
// and the portfolio (PAR30, PAR90, repayment rate) under an injected clock. Every refusal
// of the loan commands, with the proof that nothing was written, is in ledger_test's
// table; idempotency of each command is there too.
#include "clearing/loans.h"

#include <gtest/gtest.h>

#include <vector>

#include "clearing/portfolio.h"
#include "tests/clearing/ledger_fixture.h"
#include "tests/clearing/loan_fixture.h"

namespace ayni {

void PrintTo(Outcome o, std::ostream* os) { *os << OutcomeName(o); }

namespace {

constexpr uint64_t kT0 = 1'700'000'000'000'000'000ull;  // any disbursement time

LoanProduct Product(int32_t rate_bp, int32_t count, int32_t period_days, int32_t grace_days) {
  LoanProduct p;
  p.max_principal = Amount::Max();
  p.monthly_rate_bp = rate_bp;
  p.instalments = count;
  p.period_days = period_days;
  p.grace_days = grace_days;
  return p;
}

struct Row {
  uint64_t due_day;  // days after disbursement
  int64_t principal, interest;
};

void ExpectSchedule(const std::vector<Instalment>& got, const std::vector<Row>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < want.size(); ++k) {
    SCOPED_TRACE("instalment " + std::to_string(k + 1));
    EXPECT_EQ(got[k].due_ns, kT0 + want[k].due_day * kDayNs);
    EXPECT_EQ(got[k].principal, Amount(want[k].principal));
    EXPECT_EQ(got[k].interest, Amount(want[k].interest));
  }
}

// ---- Schedules (docs/loans.md has the same tables) ---------------------------------------

// 1,200.00 at 1% a month, 4 × 30 days: equal principal; interest on the declining balance.
//   1: 120000 × 100 × 30 / 300000 = 1200;  2: 90000 → 900;  3: 60000 → 600;  4: 30000 → 300
TEST(LoanSchedule, PlainMonthly) {
  const auto s = BuildSchedule(Amount(120'000), Product(100, 4, 30, 0), kT0);
  ASSERT_TRUE(s.has_value());
  ExpectSchedule(*s,
                 {{30, 30'000, 1'200}, {60, 30'000, 900}, {90, 30'000, 600}, {120, 30'000, 300}});
}

// 1,000.00 at 0.75% a month, 3 × 14 days: floor(100000 / 3) = 33333, the last 33334;
// interest pro rata 14/30 of the month, rounded down:
//   1: 100000 × 75 × 14 / 300000 = 350
//   2:  66667 × 75 × 14 / 300000 = 233.33… → 233
//   3:  33334 × 75 × 14 / 300000 = 116.66… → 116
TEST(LoanSchedule, RemainderInTheLastInstalment) {
  const auto s = BuildSchedule(Amount(100'000), Product(75, 3, 14, 0), kT0);
  ASSERT_TRUE(s.has_value());
  ExpectSchedule(*s, {{14, 33'333, 350}, {28, 33'333, 233}, {42, 33'334, 116}});
}

// 500.00 at 1% a month, 2 × 30 days after 15 days of grace: the first period runs 45 days
// and bears their interest:
//   1: 50000 × 100 × 45 / 300000 = 750, due on day 45;  2: 25000 × 100 × 30 / 300000 = 250
TEST(LoanSchedule, GraceDefersAndBearsInterest) {
  const auto s = BuildSchedule(Amount(50'000), Product(100, 2, 30, 15), kT0);
  ASSERT_TRUE(s.has_value());
  ExpectSchedule(*s, {{45, 25'000, 750}, {75, 25'000, 250}});
}

// 10.01 at 1% a month, 2 × 7 days: 500 then 501; interest 2.33… → 2 and 1.16… → 1.
TEST(LoanSchedule, WeeklyRoundsInterestDown) {
  const auto s = BuildSchedule(Amount(1'001), Product(100, 2, 7, 0), kT0);
  ASSERT_TRUE(s.has_value());
  ExpectSchedule(*s, {{7, 500, 2}, {14, 501, 1}});
}

TEST(LoanSchedule, PrincipalSmallerThanTheCountAndZeroRate) {
  const auto s = BuildSchedule(Amount(2), Product(0, 3, 30, 0), kT0);
  ASSERT_TRUE(s.has_value());
  ExpectSchedule(*s, {{30, 0, 0}, {60, 0, 0}, {90, 2, 0}});
}

TEST(LoanSchedule, TotalThatWouldOverflowIsRefused) {
  // Principal near INT64_MAX: principal plus interest cannot be one amount.
  EXPECT_FALSE(BuildSchedule(Amount(INT64_MAX - 10), Product(100, 12, 30, 0), kT0).has_value());
  EXPECT_TRUE(BuildSchedule(Amount(INT64_MAX), Product(0, 12, 30, 0), kT0).has_value());
}

TEST(LoanSchedule, PastDueBoundaryIsStrict) {
  Loan l;
  l.principal = Amount(120'000);
  l.disbursed_ns = kT0;
  l.schedule = *BuildSchedule(l.principal, Product(100, 4, 30, 0), kT0);
  const uint64_t due1 = kT0 + 30 * kDayNs;
  EXPECT_FALSE(OldestPastDue(l, due1).has_value());  // due now: not late yet
  EXPECT_EQ(OldestPastDue(l, due1 + 1), due1);
  EXPECT_EQ(DaysPastDue(l, due1 + 1), 0);
  EXPECT_EQ(DaysPastDue(l, due1 + 31 * kDayNs), 31);
  // Interest of a period is payable from any moment after the period starts.
  EXPECT_EQ(InterestPayable(l, kT0), Amount(0));
  EXPECT_EQ(InterestPayable(l, kT0 + 1), Amount(1'200));
  EXPECT_EQ(InterestPayable(l, due1), Amount(1'200));
  EXPECT_EQ(InterestPayable(l, due1 + 1), Amount(2'100));
  // Paying principal alone does not cover an instalment: its interest is due too.
  l.principal_repaid = Amount(30'000);
  EXPECT_EQ(OldestPastDue(l, due1 + 1), due1);
  l.interest_paid = Amount(1'200);
  EXPECT_FALSE(OldestPastDue(l, due1 + 1).has_value());
}

// ---- Postings ------------------------------------------------------------------------------

struct LoanNet : Network {
  LoanSetup ls;
  LoanNet() {
    Build();
    ls = AddLoanSetup(*this);
  }
  AccountId Iss() const { return ledger.FindCurrency(palma)->issuance; }
  const Bank& A() const { return *ledger.FindBank(a); }
  OpResult Disburse(LoanProductId product, MemberId m, SolidarityGroupId g, int64_t principal,
                    AccountId account = AccountId()) {
    return One([&](RequestId r) {
      return ledger.DisburseLoan({r, product, m, g, Amount(principal), account, "loan"});
    });
  }
  OpResult Repay(LoanId loan, int64_t amount, AccountId account = AccountId()) {
    return One([&](RequestId r) {
      return ledger.RepayLoan({r, loan, Amount(amount), account, "instalment"});
    });
  }
  const Loan& L(LoanId id) const { return *ledger.FindLoan(id); }
  void At(uint64_t t) {
    ASSERT_GT(t, clock_ns);
    clock_ns = t - 1000;  // Begin() adds 1000
  }
};

void ExpectLeg(const Transfer& t, AccountId debit, AccountId credit, int64_t amount,
               TransferCode code) {
  EXPECT_EQ(t.debit, debit);
  EXPECT_EQ(t.credit, credit);
  EXPECT_EQ(t.amount, Amount(amount));
  EXPECT_EQ(t.code, code) << TransferCodeName(t.code);
}

TEST(Loans, CashLoanPostsReserveToLoansAndRecordsTheLoan) {
  LoanNet n;
  const Amount reserve = n.Sys(n.a, AccountKind::kReserve);
  n.Begin();
  const OpResult r = n.ledger.DisburseLoan(
      {R(500), n.ls.cash, n.ana, SolidarityGroupId(), Amount(100'000), AccountId(), "tools"});
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.detail;
  const SealedBatch b = n.Seal();
  EXPECT_EQ(r.legs, 1u);
  ASSERT_EQ(b.transfers.size(), 1u);
  ExpectLeg(b.transfers[0], n.A().reserve, n.A().loans, 100'000, TransferCode::kLoanDisburse);
  EXPECT_EQ(b.transfers[0].id, DeriveTransferId(R(500), 0));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kLoans), Amount(100'000));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kReserve), Amount(reserve.minor() - 100'000));
  const Loan& l = n.L(LoanId(r.id));
  EXPECT_EQ(l.product, n.ls.cash);
  EXPECT_EQ(l.member, n.ana);
  EXPECT_FALSE(l.group.valid());
  EXPECT_EQ(l.principal, Amount(100'000));
  EXPECT_EQ(l.monthly_rate_bp, 100);
  EXPECT_EQ(l.disbursed_ns, b.timestamp_ns);
  EXPECT_EQ(l.currency, n.brl);
  ASSERT_EQ(l.schedule.size(), 4u);
  EXPECT_EQ(l.schedule[3].due_ns, b.timestamp_ns + 120 * kDayNs);
  EXPECT_EQ(l.outstanding(), Amount(100'000));
  n.ExpectClean();
}

TEST(Loans, SocialCurrencyLoanMintsToTheBorrowerUpToTheExcess) {
  LoanNet n;
  // The reserve was funded with 10,000.00 and nothing is in circulation: all of it is excess.
  const Amount excess = n.ledger.CoverageOf(n.a).ExcessAtPar();
  EXPECT_EQ(excess, Amount(1'000'000));
  n.Begin();
  const OpResult r = n.ledger.DisburseLoan(
      {R(501), n.ls.palma, n.ana, SolidarityGroupId(), Amount(30'000), n.ana_palma, ""});
  const SealedBatch b = n.Seal();
  ASSERT_EQ(r.outcome, Outcome::kOk) << r.detail;
  ASSERT_EQ(b.transfers.size(), 1u);
  ExpectLeg(b.transfers[0], n.Iss(), n.ana_palma, 30'000, TransferCode::kLoanDisburse);
  EXPECT_EQ(n.L(LoanId(r.id)).account, n.ana_palma);
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(30'000));
  EXPECT_EQ(n.ledger.Supply(n.palma), Amount(30'000));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kLoans), Amount(0));  // the receivable is in the loan book
  EXPECT_EQ(n.ledger.CoverageOf(n.a).ExcessAtPar(), Amount(1'000'000 - 30'000));
  // A group loan is paid into a member's account.
  const OpResult g = n.Disburse(n.ls.palma, MemberId(), n.ls.group, 1, n.ls.dora_palma);
  EXPECT_EQ(g.outcome, Outcome::kOk) << g.detail;
  EXPECT_EQ(n.Balance(n.ls.dora_palma), Amount(1));
  n.ExpectClean();
}

TEST(Loans, SocialCurrencyCoverageRefusalAtTheExactExcess) {
  Network n;
  n.Build();
  const LoanSetup ls = AddLoanSetup(n, 20'000);
  const auto disburse = [&](int64_t x) {
    return n.One([&](RequestId r) {
      return n.ledger.DisburseLoan(
          {r, ls.palma, n.ana, SolidarityGroupId(), Amount(x), n.ana_palma, ""});
    });
  };
  const size_t journal_before = n.journal.batches.size();
  EXPECT_EQ(disburse(20'001).outcome, Outcome::kCoverageWouldBreak);
  EXPECT_EQ(n.journal.batches.back().bytes.size(), kBatchHeaderBytes);
  EXPECT_EQ(n.journal.batches.size(), journal_before + 1);
  EXPECT_TRUE(n.ledger.loans().empty());
  EXPECT_EQ(disburse(20'000).outcome, Outcome::kOk);
  EXPECT_EQ(n.ledger.CoverageOf(n.a).ExcessAtPar(), Amount(0));
  n.ExpectClean();
}

TEST(Loans, CashCoverageRefusalWritesNothing) {
  Network n;
  n.Build();
  const LoanSetup ls = AddLoanSetup(n, 10'000);
  n.One([&](RequestId r) { return n.ledger.Issue({r, n.ana_palma, Amount(5'000)}); });
  // Reserve 150.00 backs 50.00 PALMA: 100.00 can be lent in cash, not one cent more.
  const auto disburse = [&](int64_t x) {
    return n.One([&](RequestId r) {
      return n.ledger.DisburseLoan(
          {r, ls.cash, n.caio, SolidarityGroupId(), Amount(x), AccountId(), ""});
    });
  };
  EXPECT_EQ(disburse(10'001).outcome, Outcome::kCoverageWouldBreak);
  EXPECT_EQ(n.journal.batches.back().bytes.size(), kBatchHeaderBytes);
  EXPECT_EQ(n.Sys(n.a, AccountKind::kLoans), Amount(0));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kReserve), Amount(15'000));
  EXPECT_EQ(disburse(10'000).outcome, Outcome::kOk);
  EXPECT_TRUE(n.ledger.CoverageOf(n.a).covered());
  n.ExpectClean();
}

// ---- Repayment allocation ------------------------------------------------------------------

// 1,000.00 cash at 1%, 4 × 30 days: interest 1000, 750, 500, 250; principal 25000 each.
TEST(Loans, RepaymentPaysInterestFirstThenPrincipalAndEarlyPayoffWaivesLaterInterest) {
  LoanNet n;
  const OpResult d = n.Disburse(n.ls.cash, n.ana, SolidarityGroupId(), 100'000);
  ASSERT_EQ(d.outcome, Outcome::kOk);
  const LoanId id(d.id);
  const uint64_t t0 = n.L(id).disbursed_ns;
  const AccountId vault = n.A().vault, fees = n.A().fees, loans = n.A().loans,
                  reserve = n.A().reserve;

  // Partial, all interest: the first period's 10.00 is payable right after disbursement.
  n.Begin();
  ASSERT_EQ(n.ledger.RepayLoan({R(600), id, Amount(600), AccountId(), ""}).outcome, Outcome::kOk);
  SealedBatch b = n.Seal();
  ASSERT_EQ(b.transfers.size(), 1u);
  ExpectLeg(b.transfers[0], vault, fees, 600, TransferCode::kLoanInterest);
  EXPECT_EQ(n.L(id).interest_paid, Amount(600));
  EXPECT_EQ(n.L(id).principal_repaid, Amount(0));

  // Interest rest (4.00), then principal beyond the first instalment (early, partial).
  n.Begin();
  ASSERT_EQ(n.ledger.RepayLoan({R(601), id, Amount(30'400), AccountId(), ""}).outcome,
            Outcome::kOk);
  b = n.Seal();
  ASSERT_EQ(b.transfers.size(), 2u);
  ExpectLeg(b.transfers[0], vault, fees, 400, TransferCode::kLoanInterest);
  ExpectLeg(b.transfers[1], loans, reserve, 30'000, TransferCode::kLoanRepay);
  EXPECT_EQ(n.L(id).outstanding(), Amount(70'000));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kLoans), Amount(70'000));

  // A day after the first due date: covered (prepaid), so not late; period 2's interest
  // (7.50) is payable. Payoff = 700.00 + 7.50; a cent more is an overpayment.
  n.At(t0 + 31 * kDayNs);
  EXPECT_FALSE(OldestPastDue(n.L(id), t0 + 31 * kDayNs).has_value());
  EXPECT_EQ(InterestPayable(n.L(id), t0 + 31 * kDayNs), Amount(750));
  EXPECT_EQ(n.Repay(id, 70'751).outcome, Outcome::kOverpayment);
  const OpResult payoff = n.Repay(id, 70'750);
  ASSERT_EQ(payoff.outcome, Outcome::kOk);
  EXPECT_EQ(payoff.legs, 2u);
  const Loan& l = n.L(id);
  EXPECT_EQ(l.status, LoanStatus::kRepaid);
  EXPECT_EQ(l.outstanding(), Amount(0));
  EXPECT_EQ(l.interest_paid, Amount(1'750));  // periods 3 and 4 (5.00 + 2.50) waived
  ASSERT_EQ(l.repayments.size(), 3u);
  EXPECT_EQ(l.repayments[2].interest, Amount(750));
  EXPECT_EQ(l.repayments[2].principal, Amount(70'000));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kLoans), Amount(0));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kFees), Amount(1'750));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kReserve), Amount(1'000'000));
  EXPECT_EQ(n.Repay(id, 1).outcome, Outcome::kLoanNotActive);
  n.ExpectClean();
}

// 300.00 PALMA at 0.5%, 3 × 14 days: interest 70, 46, 23; principal 10000 each.
TEST(Loans, SocialCurrencyRepaymentBurnsAndMovesInterestToFees) {
  LoanNet n;
  const OpResult d = n.Disburse(n.ls.palma, n.ana, SolidarityGroupId(), 30'000, n.ana_palma);
  ASSERT_EQ(d.outcome, Outcome::kOk);
  const LoanId id(d.id);
  EXPECT_EQ(n.L(id).schedule[0].interest, Amount(70));
  EXPECT_EQ(n.L(id).schedule[1].interest, Amount(46));
  EXPECT_EQ(n.L(id).schedule[2].interest, Amount(23));
  n.Begin();
  ASSERT_EQ(n.ledger.RepayLoan({R(700), id, Amount(10'070), n.ana_palma, ""}).outcome,
            Outcome::kOk);
  const SealedBatch b = n.Seal();
  ASSERT_EQ(b.transfers.size(), 3u);
  ExpectLeg(b.transfers[0], n.ana_palma, n.Iss(), 70, TransferCode::kLoanInterest);
  ExpectLeg(b.transfers[1], n.A().reserve, n.A().fees, 70, TransferCode::kLoanInterest);
  ExpectLeg(b.transfers[2], n.ana_palma, n.Iss(), 10'000, TransferCode::kLoanRepay);
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(19'930));
  EXPECT_EQ(n.ledger.Supply(n.palma), Amount(19'930));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kFees), Amount(70));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kReserve), Amount(1'000'000 - 70));
  EXPECT_EQ(n.L(id).outstanding(), Amount(20'000));
  n.ExpectClean();
}

TEST(Loans, GroupLoanIsRepaidFromAnyMembersAccount) {
  LoanNet n;
  const OpResult d = n.Disburse(n.ls.palma, MemberId(), n.ls.group, 9'000, n.ls.dora_palma);
  ASSERT_EQ(d.outcome, Outcome::kOk) << d.detail;
  EXPECT_EQ(n.L(LoanId(d.id)).group, n.ls.group);
  // Dora pays Caio's part to him; Caio repays from his own (merchant) account.
  n.One([&](RequestId r) {
    return n.ledger.Pay({r, n.ls.dora_palma, n.caio_palma, Amount(3'000), ""});
  });
  EXPECT_EQ(n.Repay(LoanId(d.id), 3'000, n.caio_palma).outcome, Outcome::kOk);
  EXPECT_EQ(n.Repay(LoanId(d.id), 10, n.bia_sol).outcome, Outcome::kWrongCurrencyKind);
  n.ExpectClean();
}

// ---- Write-off -------------------------------------------------------------------------------

TEST(Loans, WriteOffCashLoanMovesLoansToWriteOff) {
  LoanNet n;
  const LoanId id(n.Disburse(n.ls.cash, n.ana, SolidarityGroupId(), 100'000).id);
  ASSERT_EQ(n.Repay(id, 26'000).outcome, Outcome::kOk);  // interest 1000, principal 25000
  n.Begin();
  const OpResult w = n.ledger.WriteOffLoan({R(800), id, "manager", "moved away, unreachable"});
  const SealedBatch b = n.Seal();
  ASSERT_EQ(w.outcome, Outcome::kOk) << w.detail;
  EXPECT_EQ(w.legs, 1u);
  ASSERT_EQ(b.transfers.size(), 1u);
  ExpectLeg(b.transfers[0], n.A().loans, n.A().write_off, 75'000, TransferCode::kLoanWriteOff);
  EXPECT_EQ(n.Sys(n.a, AccountKind::kLoans), Amount(0));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kWriteOff), Amount(75'000));
  EXPECT_EQ(n.L(id).status, LoanStatus::kWrittenOff);
  EXPECT_EQ(n.L(id).written_off, Amount(75'000));
  EXPECT_EQ(n.L(id).outstanding(), Amount(0));
  // A written-off borrower gets no new loan, alone or in a group.
  EXPECT_EQ(n.Disburse(n.ls.cash, n.ana, SolidarityGroupId(), 1).outcome,
            Outcome::kBorrowerInArrears);
  EXPECT_EQ(n.Disburse(n.ls.cash, MemberId(), n.ls.group, 1).outcome, Outcome::kBorrowerInArrears);
  n.ExpectClean();
}

TEST(Loans, WriteOffSocialCurrencyLoanTouchesOnlyTheLoanBook) {
  LoanNet n;
  const LoanId id(n.Disburse(n.ls.palma, n.ana, SolidarityGroupId(), 30'000, n.ana_palma).id);
  const Amount supply = n.ledger.Supply(n.palma);
  n.Begin();
  const OpResult w = n.ledger.WriteOffLoan({R(801), id, "manager", "flood"});
  const SealedBatch b = n.Seal();
  ASSERT_EQ(w.outcome, Outcome::kOk);
  EXPECT_EQ(w.legs, 0u);
  EXPECT_TRUE(b.transfers.empty());
  EXPECT_GT(b.bytes.size(), kBatchHeaderBytes);  // the loan-book event and the request
  EXPECT_EQ(n.ledger.Supply(n.palma), supply);
  EXPECT_EQ(n.Sys(n.a, AccountKind::kWriteOff), Amount(0));
  EXPECT_EQ(n.L(id).status, LoanStatus::kWrittenOff);
  EXPECT_EQ(n.L(id).written_off, Amount(30'000));
  n.ExpectClean();
}

// ---- Arrears ---------------------------------------------------------------------------------

TEST(Loans, GroupArrearsBlockEveryMembersNextLoanUntilPaid) {
  LoanNet n;
  const OpResult eva = n.One([&](RequestId r) { return n.ledger.CreateMember({r, n.a, "Eva"}); });
  const LoanId id(n.Disburse(n.ls.cash, MemberId(), n.ls.group, 30'000).id);
  const uint64_t t0 = n.L(id).disbursed_ns;
  // 300.00 at 1% over 4 × 30 days: instalment 1 is 75.00 + 3.00, due on day 30.
  n.At(t0 + 31 * kDayNs);
  for (MemberId m : {n.ana, n.caio, n.ls.dora}) {
    const OpResult r = n.Disburse(n.ls.cash, m, SolidarityGroupId(), 1'000);
    EXPECT_EQ(r.outcome, Outcome::kBorrowerInArrears) << "member " << m.value();
    EXPECT_STREQ(r.detail, "member");
  }
  EXPECT_EQ(n.Disburse(n.ls.cash, MemberId(eva.id), SolidarityGroupId(), 1'000).outcome,
            Outcome::kOk);
  // Interest of periods 1 and 2 (3.00 + 2.25) first, then instalment 1's principal.
  EXPECT_EQ(InterestPayable(n.L(id), n.clock_ns + 1000), Amount(525));
  ASSERT_EQ(n.Repay(id, 525 + 7'499).outcome, Outcome::kOk);
  EXPECT_EQ(n.Disburse(n.ls.cash, n.ana, SolidarityGroupId(), 1'000).outcome,
            Outcome::kBorrowerInArrears);
  ASSERT_EQ(n.Repay(id, 1).outcome, Outcome::kOk);
  for (MemberId m : {n.ana, n.caio, n.ls.dora}) {
    EXPECT_EQ(n.Disburse(n.ls.cash, m, SolidarityGroupId(), 1'000).outcome, Outcome::kOk)
        << "member " << m.value();
  }
  n.ExpectClean();
}

TEST(Loans, MembersOwnArrearsBlockTheGroupAndOtherGroups) {
  LoanNet n;
  const OpResult eva = n.One([&](RequestId r) { return n.ledger.CreateMember({r, n.a, "Eva"}); });
  const OpResult g2 = n.One([&](RequestId r) {
    return n.ledger.CreateSolidarityGroup(
        {r, n.a, "Horta", {MemberId(eva.id), n.caio, n.ana}, {MemberId(eva.id), n.caio}});
  });
  ASSERT_EQ(g2.outcome, Outcome::kOk);
  const LoanId id(n.Disburse(n.ls.cash, n.ls.dora, SolidarityGroupId(), 10'000).id);
  n.At(n.L(id).disbursed_ns + 40 * kDayNs);
  // Dora is late: her group is blocked; the other group (without Dora) is not.
  EXPECT_EQ(n.Disburse(n.ls.cash, MemberId(), n.ls.group, 1'000).outcome,
            Outcome::kBorrowerInArrears);
  const OpResult other = n.Disburse(n.ls.cash, MemberId(), SolidarityGroupId(g2.id), 1'000);
  EXPECT_EQ(other.outcome, Outcome::kOk) << OutcomeName(other.outcome);
  n.ExpectClean();
}

// ---- Portfolio ---------------------------------------------------------------------------------

TEST(Portfolio, OutstandingByProductAndCurrency) {
  LoanNet n;
  n.Disburse(n.ls.cash, n.ana, SolidarityGroupId(), 100'000);
  n.Disburse(n.ls.palma, n.caio, SolidarityGroupId(), 20'000, n.caio_palma);
  n.Disburse(n.ls.palma, n.ls.dora, SolidarityGroupId(), 5'000, n.ls.dora_palma);
  const LoanPortfolio p = PortfolioOf(n.ledger, n.a, n.clock_ns + 1);
  ASSERT_EQ(p.products.size(), 2u);
  EXPECT_EQ(p.products[0].product, n.ls.cash);
  EXPECT_EQ(p.products[0].active_loans, 1u);
  EXPECT_EQ(p.products[0].outstanding, Int128{100'000});
  EXPECT_EQ(p.products[1].product, n.ls.palma);
  EXPECT_EQ(p.products[1].currency, n.palma);
  EXPECT_EQ(p.products[1].active_loans, 2u);
  EXPECT_EQ(p.products[1].outstanding, Int128{25'000});
  ASSERT_EQ(p.currencies.size(), 2u);
  EXPECT_EQ(p.currencies[0].currency, n.brl);
  EXPECT_EQ(p.currencies[0].outstanding, Int128{100'000});
  EXPECT_EQ(p.currencies[1].currency, n.palma);
  EXPECT_EQ(p.currencies[1].outstanding, Int128{25'000});
  EXPECT_EQ(p.outstanding, Int128{125'000});
  EXPECT_EQ(p.active, 3u);
  EXPECT_EQ(p.par30_bp, 0);
  EXPECT_EQ(p.repayment_rate_bp, 10000);  // nothing due yet
  // Bank B lends nothing.
  const LoanPortfolio pb = PortfolioOf(n.ledger, n.b, n.clock_ns + 1);
  EXPECT_TRUE(pb.products.empty());
  EXPECT_EQ(pb.outstanding, Int128{0});
}

// Three cash loans disbursed together (4 × 30 days, 1%):
//   Ana  1,000.00 never pays;
//   Caio   500.00 pays instalment 1 on day 10 (interest 5.00 + principal 125.00), no more;
//   Dora   400.00 pays instalments 1–3 on days 10, 40 and 70, not instalment 4.
TEST(Portfolio, Par30Par90AndRepaymentRateUnderAnInjectedClock) {
  LoanNet n;
  const LoanId ana(n.Disburse(n.ls.cash, n.ana, SolidarityGroupId(), 100'000).id);
  const LoanId caio(n.Disburse(n.ls.cash, n.caio, SolidarityGroupId(), 50'000).id);
  const LoanId dora(n.Disburse(n.ls.cash, n.ls.dora, SolidarityGroupId(), 40'000).id);
  const uint64_t t0 = n.L(ana).disbursed_ns;
  ASSERT_LT(n.L(dora).disbursed_ns - t0, kDayNs);
  n.At(t0 + 10 * kDayNs);
  ASSERT_EQ(n.Repay(caio, 500 + 12'500).outcome, Outcome::kOk);
  ASSERT_EQ(n.Repay(dora, 400 + 10'000).outcome, Outcome::kOk);
  n.At(t0 + 40 * kDayNs);
  ASSERT_EQ(n.Repay(dora, 300 + 10'000).outcome, Outcome::kOk);

  // Day 50: Ana is 20 days late (PAR0 but not PAR30); instalment 1 of each is due:
  // 250.00 + 125.00 + 100.00, of which Caio's and Dora's were paid on time.
  LoanPortfolio p = PortfolioOf(n.ledger, n.a, t0 + 50 * kDayNs);
  EXPECT_EQ(DaysPastDue(n.L(ana), t0 + 50 * kDayNs), 20);
  EXPECT_EQ(p.at_risk_30, Int128{0});
  EXPECT_EQ(p.par30_bp, 0);
  EXPECT_EQ(p.principal_due, Int128{47'500});
  EXPECT_EQ(p.principal_on_time, Int128{22'500});
  EXPECT_EQ(p.repayment_rate_bp, 4736);  // 22500 / 47500 = 0.47368…

  n.At(t0 + 70 * kDayNs);
  ASSERT_EQ(n.Repay(dora, 200 + 10'000).outcome, Outcome::kOk);

  // Day 125: Ana 95 days late (PAR90), Caio 65 days late on instalment 2 (PAR30), Dora
  // 5 days late on instalment 4. Outstanding 1,000.00 + 375.00 + 100.00 = 1,475.00.
  p = PortfolioOf(n.ledger, n.a, t0 + 125 * kDayNs);
  EXPECT_EQ(p.outstanding, Int128{147'500});
  EXPECT_EQ(p.at_risk_30, Int128{137'500});
  EXPECT_EQ(p.at_risk_90, Int128{100'000});
  EXPECT_EQ(p.par30_bp, 9322);  // 137500 / 147500 = 0.93220…
  EXPECT_EQ(p.par90_bp, 6779);  // 100000 / 147500 = 0.67796…
  // Everything has fallen due: 1,900.00; on time 125.00 (Caio) + 300.00 (Dora).
  EXPECT_EQ(p.principal_due, Int128{190'000});
  EXPECT_EQ(p.principal_on_time, Int128{42'500});
  EXPECT_EQ(p.repayment_rate_bp, 2236);  // 42500 / 190000 = 0.22368…
  // A pure function of the clock: the same state read at day 50 answers as before.
  EXPECT_EQ(PortfolioOf(n.ledger, n.a, t0 + 50 * kDayNs).par30_bp, 0);
  // Written-off loans leave the portfolio at risk but stay in the repayment rate.
  n.At(t0 + 126 * kDayNs);
  ASSERT_EQ(n.One([&](RequestId r) {
               return n.ledger.WriteOffLoan({r, ana, "manager", "unreachable"});
             }).outcome,
            Outcome::kOk);
  p = PortfolioOf(n.ledger, n.a, t0 + 126 * kDayNs);
  EXPECT_EQ(p.outstanding, Int128{47'500});
  EXPECT_EQ(p.at_risk_90, Int128{0});
  EXPECT_EQ(p.par30_bp, 7894);  // 37500 / 47500 = 0.78947…
  EXPECT_EQ(p.written_off, 1u);
  EXPECT_EQ(p.repayment_rate_bp, 2236);
  n.ExpectClean();
}

// ---- Batches ---------------------------------------------------------------------------------

TEST(Loans, AbortBatchUndoesProductsGroupsLoansAndRepayments) {
  LoanNet n;
  const LoanId id(n.Disburse(n.ls.cash, n.ana, SolidarityGroupId(), 10'000).id);
  const size_t products = n.ledger.loan_products().size(), groups = n.ledger.groups().size();
  n.Begin();
  EXPECT_EQ(n.ledger.RepayLoan({n.Next(), id, Amount(10'100), AccountId(), ""}).outcome,
            Outcome::kOk);
  EXPECT_EQ(
      n.ledger.CreateLoanProduct({n.Next(), n.a, "Outro", n.brl, Amount(1), 0, 1, 1, 0}).outcome,
      Outcome::kOk);
  EXPECT_EQ(n.ledger
                .CreateSolidarityGroup(
                    {n.Next(), n.a, "Outro", {n.ana, n.caio, n.ls.dora}, {n.ana, n.caio}})
                .outcome,
            Outcome::kOk);
  EXPECT_EQ(n.ledger
                .DisburseLoan({n.Next(), n.ls.cash, n.ana, SolidarityGroupId(), Amount(5'000),
                               AccountId(), ""})
                .outcome,
            Outcome::kOk);
  EXPECT_EQ(n.ledger.WriteOffLoan({n.Next(), id, "admin", "test"}).outcome,
            Outcome::kLoanNotActive);  // repaid in this very batch
  n.ledger.AbortBatch();
  EXPECT_EQ(n.ledger.loan_products().size(), products);
  EXPECT_EQ(n.ledger.groups().size(), groups);
  ASSERT_EQ(n.ledger.loans().size(), 1u);
  EXPECT_EQ(n.L(id).status, LoanStatus::kActive);
  EXPECT_TRUE(n.L(id).repayments.empty());
  EXPECT_EQ(n.L(id).outstanding(), Amount(10'000));
  // The per-member loan index forgot the aborted loan (UnindexLoan checks the order).
  EXPECT_EQ(n.Disburse(n.ls.cash, MemberId(), n.ls.group, 1'000).outcome, Outcome::kOk);
  n.ExpectClean();
}

}  // namespace
}  // namespace ayni
