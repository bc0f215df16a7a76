// The invariant checker (SPEC §2): clean on a network after many operations, and each
// corruption made on purpose through LedgerTestAccess is reported by kind, naming the
// account, bank or currency. A checker that cannot fail is not trusted.
#include "clearing/invariants.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/clearing/ledger_fixture.h"
#include "tests/clearing/loan_fixture.h"

namespace ayni {
namespace {

// ---- Clean after many operations ---------------------------------------------------------

uint64_t SeedFromEnv() {
  if (const char* s = std::getenv("AYNI_SEED")) return std::stoull(s);
  return std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
}

TEST(Invariants, CleanAfterManyOperations) {
  const uint64_t seed = SeedFromEnv();
  std::cout << "invariants seed " << seed << " (AYNI_SEED=" << seed << " to replay)\n";
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Network n;
  n.Build(/*coverage_bp=*/8000, /*fee_bp=*/150);
  Ledger& l = n.ledger;
  const AccountId guaranteed[] = {n.ana_palma, n.bia_sol, n.caio_palma};
  const AccountId mutual[] = {n.ana_feira, n.caio_feira};
  std::uniform_int_distribution<int> op(0, 9), pick3(0, 2), pick2(0, 1), cmds(1, 8);
  std::uniform_int_distribution<int64_t> amount(1, 20000);
  int committed = 0;
  for (int batch = 0; batch < 300; ++batch) {
    n.Begin();
    const int k = cmds(rng);
    for (int i = 0; i < k; ++i) {
      OpResult r;
      const Amount x(amount(rng));
      switch (op(rng)) {
        case 0:
        case 1:
          r = l.Issue({n.Next(), guaranteed[pick3(rng)], x});
          break;
        case 2:
        case 3:
          r = l.Pay({n.Next(), guaranteed[pick3(rng)], guaranteed[pick3(rng)], x});
          break;
        case 4:
          r = l.Pay({n.Next(), mutual[pick2(rng)], mutual[pick2(rng)], x});
          break;
        case 5:
          r = l.Redeem({n.Next(), guaranteed[pick3(rng)], x});
          break;
        case 6:
          r = l.FundReserve({n.Next(), pick2(rng) ? n.a : n.b, x});
          break;
        case 7:
          r = l.Distribute({n.Next(), guaranteed[pick3(rng)], x});
          break;
        case 8:
          r = l.RunCycle({n.Next()});
          break;
        default:
          r = l.FundReserve({n.Next(), pick2(rng) ? n.a : n.b, x, FundSource::kFees});
          break;
      }
      if (r.ok()) ++committed;
    }
    if (batch % 17 == 5) {
      l.AbortBatch();
      continue;
    }
    n.Seal();
    const auto faults = CheckInvariants(l);
    ASSERT_TRUE(faults.empty()) << "after batch " << l.batch_sequence() << "\n"
                                << FormatFaults(faults);
  }
  EXPECT_GT(committed, 300) << "the run should commit many operations";
  EXPECT_TRUE(std::any_of(l.cycles().begin(), l.cycles().end(), [](const CycleReport& c) {
    return !c.plan.instructions.empty();
  })) << "some cycle should have settled something";
  n.ExpectClean();
}

// ---- Corruptions ---------------------------------------------------------------------------

// A network with money everywhere: issues at both banks, same-bank, cross-bank and
// mutual-credit payments, and an extra PALMA account of Ana's, closed while empty.
// Coverage at A is exact (margin 0), so one unit out of RESERVE_A breaks it.
struct Base {
  Network n;
  AccountId closed;

  Base() {
    n.Build();
    Ledger& l = n.ledger;
    auto ok = [](const OpResult& r) {
      EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
    };
    ok(n.One([&](RequestId r) { return l.Issue({r, n.ana_palma, Amount(10000)}); }));
    ok(n.One([&](RequestId r) { return l.Issue({r, n.bia_sol, Amount(4000)}); }));
    ok(n.One([&](RequestId r) { return l.Pay({r, n.ana_palma, n.caio_palma, Amount(2000)}); }));
    ok(n.One([&](RequestId r) { return l.Pay({r, n.ana_palma, n.bia_sol, Amount(3000)}); }));
    ok(n.One([&](RequestId r) { return l.Pay({r, n.ana_feira, n.caio_feira, Amount(1000)}); }));
    const OpResult acc = n.One([&](RequestId r) {
      return l.OpenAccount({r, n.ana, n.palma, AccountKind::kMerchant});
    });
    ok(acc);
    closed = AccountId(acc.id);
    ok(n.One([&](RequestId r) {
      return l.SetAccountStatus({r, closed, AccountStatus::kClosed, "teller", "unused"});
    }));
  }
  Ledger& L() { return n.ledger; }
  const Bank& Bank_(BankId b) { return *n.ledger.FindBank(b); }
  const Currency& Cur(CurrencyId c) { return *n.ledger.FindCurrency(c); }
  Amount Bal(AccountId a) { return n.ledger.FindAccount(a)->balance; }
};

struct Expect {
  FaultKind kind;
  uint64_t id;
  std::string detail_has;  // the name the detail must contain
};

struct Corruption {
  std::vector<Expect> faults;
  // Accounts whose balance or posted totals no longer match the journal.
  std::vector<AccountId> journal_accounts;
};

struct Case {
  const char* name;
  std::function<Corruption(Base&)> corrupt;
};

std::string Acct(AccountId id) { return "account " + std::to_string(id.value()) + " ("; }

// A cash loan of 1,000.00 to Ana, committed through the rules (the journal agrees).
LoanId CashLoan(Base& b) {
  const LoanSetup ls = AddLoanSetup(b.n);
  const OpResult r = b.n.One([&](RequestId id) {
    return b.L().DisburseLoan(
        {id, ls.cash, b.n.ana, SolidarityGroupId(), Amount(100'000), AccountId(), ""});
  });
  EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome);
  b.n.ExpectClean();
  return LoanId(r.id);
}

const Case kCases[] = {
    {"LoanBookAheadOfLoans",
     [](Base& b) {
       // The loan book says 10.00 was repaid; LOANS never saw it.
       Loan& l = LedgerTestAccess::MutableLoan(b.L(), CashLoan(b));
       l.principal_repaid = Amount(1'000);
       return Corruption{
           {{FaultKind::kLoanBookMismatch, b.n.a.value(),
             "bank A: national-money loans outstanding 99000 but LOANS holds 100000"}},
           {}};
     }},
    {"LoansMovedBehindTheBook",
     [](Base& b) {
       CashLoan(b);
       const AccountId loans = b.Bank_(b.n.a).loans, write_off = b.Bank_(b.n.a).write_off;
       LedgerTestAccess::ForceMove(b.L(), loans, write_off, 500);
       return Corruption{{{FaultKind::kLoanBookMismatch, b.n.a.value(),
                           "outstanding 100000 but LOANS holds 99500"}},
                         {loans, write_off}};
     }},
    {"FlippedBalance",
     [](Base& b) {
       Account& a = LedgerTestAccess::MutableAccount(b.L(), b.n.ana_palma);
       a.balance = Amount(a.balance.minor() ^ (int64_t{1} << 20));  // totals untouched
       return Corruption{{{FaultKind::kPostedTotalsMismatch, b.n.ana_palma.value(),
                           Acct(b.n.ana_palma) + "MEMBER @A, PALMA)"},
                          {FaultKind::kCurrencyNotBalanced, b.n.palma.value(), "PALMA"}},
                         {b.n.ana_palma}};
     }},
    {"PostedTotalsOnly",
     [](Base& b) {
       Account& a = LedgerTestAccess::MutableAccount(b.L(), b.n.caio_palma);
       a.debits_posted = Amount(a.debits_posted.minor() + 5);
       return Corruption{
           {{FaultKind::kPostedTotalsMismatch, b.n.caio_palma.value(), Acct(b.n.caio_palma)}},
           {b.n.caio_palma}};
     }},
    {"CurrencyNotBalancedOnly",
     [](Base& b) {
       // Balance and credits together: each account is self-consistent, SOL is not.
       Account& a = LedgerTestAccess::MutableAccount(b.L(), b.n.bia_sol);
       a.balance = Amount(a.balance.minor() + 7);
       a.credits_posted = Amount(a.credits_posted.minor() + 7);
       return Corruption{{{FaultKind::kCurrencyNotBalanced, b.n.sol.value(), "SOL"}},
                         {b.n.bia_sol}};
     }},
    {"GuaranteedMemberBelowZero",
     [](Base& b) {
       const int64_t have = b.Bal(b.n.caio_palma).minor();
       LedgerTestAccess::ForceMove(b.L(), b.n.caio_palma, b.n.ana_palma, have + 1);
       return Corruption{{{FaultKind::kBelowFloor, b.n.caio_palma.value(),
                           Acct(b.n.caio_palma) + "MERCHANT @A, PALMA): balance -1 below 0"}},
                         {b.n.caio_palma, b.n.ana_palma}};
     }},
    {"MutualCreditMemberBelowLimit",
     [](Base& b) {
       // Caio holds +10.00 FEIRA with a credit limit of 50.00: 60.01 out is one unit too far.
       EXPECT_EQ(b.Bal(b.n.caio_feira), Amount(1000));
       LedgerTestAccess::ForceMove(b.L(), b.n.caio_feira, b.n.ana_feira, 6001);
       return Corruption{{{FaultKind::kBelowFloor, b.n.caio_feira.value(),
                           Acct(b.n.caio_feira) + "MEMBER @A, FEIRA): balance -5001 below -5000"}},
                         {b.n.caio_feira, b.n.ana_feira}};
     }},
    {"MutualCreditMemberAtLimitIsFine",
     [](Base& b) {
       LedgerTestAccess::ForceMove(b.L(), b.n.caio_feira, b.n.ana_feira, 6000);
       return Corruption{{}, {b.n.caio_feira, b.n.ana_feira}};
     }},
    {"AboveCeiling",
     [](Base& b) {
       b.n.Begin();
       EXPECT_EQ(b.L()
                     .SetAccountLimits({b.n.Next(), b.n.caio_palma, Amount(0), Amount(2500),
                                        "teller", "merchant cap"})
                     .outcome,
                 Outcome::kOk);
       b.n.Seal();
       LedgerTestAccess::ForceMove(b.L(), b.n.ana_palma, b.n.caio_palma, 501);
       return Corruption{{{FaultKind::kAboveCeiling, b.n.caio_palma.value(), Acct(b.n.caio_palma)}},
                         {b.n.ana_palma, b.n.caio_palma}};
     }},
    {"ReserveNegative",
     [](Base& b) {
       const Bank& a = b.Bank_(b.n.a);
       const int64_t have = b.Bal(a.reserve).minor();
       LedgerTestAccess::ForceMove(b.L(), a.reserve, a.vault, have + 1);
       return Corruption{{{FaultKind::kSystemAccountSign, a.reserve.value(),
                           Acct(a.reserve) + "RESERVE @A, BRL): balance -1 has the wrong sign"},
                          {FaultKind::kCoverageBroken, b.n.a.value(), "bank A"}},
                         {a.reserve, a.vault}};
     }},
    {"IssuancePositive",
     [](Base& b) {
       const Currency& p = b.Cur(b.n.palma);
       const int64_t supply = b.L().Supply(b.n.palma).minor();
       // CARD_LOSSES has no sign rule, so only ISSUANCE is wrong.
       LedgerTestAccess::ForceMove(b.L(), p.card_losses, p.issuance, supply + 1);
       return Corruption{{{FaultKind::kSystemAccountSign, p.issuance.value(),
                           Acct(p.issuance) + "ISSUANCE @A, PALMA): balance 1 has the wrong sign"}},
                         {p.card_losses, p.issuance}};
     }},
    {"DueFromNegative",
     [](Base& b) {
       // DUE_FROM:A@B and DUE_TO:B@A moved together: the pair still matches, both signs not.
       const Bank& bb = b.Bank_(b.n.b);
       const Bank& ba = b.Bank_(b.n.a);
       const AccountId from = bb.due_from[b.n.a.value()];
       const AccountId to = ba.due_to[b.n.b.value()];
       EXPECT_EQ(b.Bal(from), Amount(3000));
       LedgerTestAccess::ForceMove(b.L(), from, to, 6001);
       return Corruption{{{FaultKind::kSystemAccountSign, from.value(), Acct(from) + "DUE_FROM @B"},
                          {FaultKind::kSystemAccountSign, to.value(), Acct(to) + "DUE_TO @A"},
                          {FaultKind::kCoverageBroken, b.n.b.value(), "bank B"}},
                         {from, to}};
     }},
    {"CoverageBroken",
     [](Base& b) {
       // RESERVE_A 100.00 − DUE 30.00 = supply 70.00 exactly; one unit less breaks it.
       const Coverage cov = b.L().CoverageOf(b.n.a);
       EXPECT_TRUE(cov.covered());
       EXPECT_EQ(cov.ExcessAtPar(), Amount(0));
       const Bank& a = b.Bank_(b.n.a);
       LedgerTestAccess::ForceMove(b.L(), a.reserve, a.vault, 1);
       return Corruption{{{FaultKind::kCoverageBroken, b.n.a.value(), "bank A"}},
                         {a.reserve, a.vault}};
     }},
    {"OutsideCircle",
     [](Base& b) {
       Circle& c = LedgerTestAccess::MutableCircle(b.L(), b.n.circle);
       std::erase(c.members, b.n.caio);
       std::erase(c.admins, b.n.caio);
       return Corruption{{{FaultKind::kOutsideCircle, b.n.caio_feira.value(),
                           Acct(b.n.caio_feira) + "MEMBER @A, FEIRA)"}},
                         {}};
     }},
    {"DuePairMismatch",
     [](Base& b) {
       const Bank& bb = b.Bank_(b.n.b);
       const AccountId from = bb.due_from[b.n.a.value()];  // DUE_FROM:A@B
       LedgerTestAccess::ForceMove(b.L(), bb.vault, from, 1);
       return Corruption{
           {{FaultKind::kDuePairMismatch, b.n.b.value(), "DUE_FROM:A@B is not minus DUE_TO:B@A"}},
           {bb.vault, from}};
     }},
    {"ClosedNotEmpty",
     [](Base& b) {
       EXPECT_EQ(b.L().FindAccount(b.closed)->status, AccountStatus::kClosed);
       LedgerTestAccess::ForceMove(b.L(), b.n.ana_palma, b.closed, 100);
       return Corruption{{{FaultKind::kClosedNotEmpty, b.closed.value(),
                           Acct(b.closed) + "MERCHANT @A, PALMA): closed"}},
                         {b.n.ana_palma, b.closed}};
     }},
};

class Corrupt : public ::testing::TestWithParam<Case> {};

TEST_P(Corrupt, IsReportedByKindAndNamed) {
  Base b;
  b.n.ExpectClean();
  ASSERT_FALSE(HasFailure()) << "the base network must start clean";
  const Corruption c = GetParam().corrupt(b);
  const std::vector<Fault> faults = CheckInvariants(b.n.ledger);
  const std::string all = FormatFaults(faults);

  // Exactly the expected faults: each kind, id and name; nothing else.
  EXPECT_EQ(faults.size(), c.faults.size()) << all;
  for (const Expect& e : c.faults) {
    const bool found = std::any_of(faults.begin(), faults.end(), [&](const Fault& f) {
      return f.kind == e.kind && f.id == e.id && f.detail.find(e.detail_has) != std::string::npos;
    });
    EXPECT_TRUE(found) << "missing " << FaultKindName(e.kind) << " id " << e.id << " naming \""
                       << e.detail_has << "\"; got:\n"
                       << all;
    EXPECT_NE(all.find(std::string(FaultKindName(e.kind)) + ": "), std::string::npos);
  }

  // The journal still holds the true balances: every account moved behind the ledger's
  // back is a balance_mismatch, and nothing else is.
  const std::vector<Fault> jf = CheckJournal(b.n.ledger, b.n.journal.batches);
  EXPECT_EQ(jf.size(), c.journal_accounts.size()) << FormatFaults(jf);
  for (AccountId id : c.journal_accounts) {
    const bool found = std::any_of(jf.begin(), jf.end(), [&](const Fault& f) {
      return f.kind == FaultKind::kJournal && f.id == id.value() &&
             f.detail.rfind("balance_mismatch: ", 0) == 0 &&
             f.detail.find(Acct(id)) != std::string::npos;
    });
    EXPECT_TRUE(found) << "no balance_mismatch for account " << id.value() << "; got:\n"
                       << FormatFaults(jf);
  }
}

INSTANTIATE_TEST_SUITE_P(Invariants, Corrupt, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return std::string(i.param.name);
                         });

// Every fault kind the checker knows is produced by at least one corruption above.
TEST(Invariants, EveryFaultKindIsExercised) {
  std::set<FaultKind> seen;
  for (const Case& c : kCases) {
    Base b;
    for (const Expect& e : c.corrupt(b).faults) seen.insert(e.kind);
  }
  seen.insert(FaultKind::kJournal);  // CheckJournal, checked in every case above
  for (int k = 1; k <= 11; ++k) {
    EXPECT_TRUE(seen.contains(static_cast<FaultKind>(k)))
        << FaultKindName(static_cast<FaultKind>(k)) << " has no corruption test";
  }
}

TEST(Invariants, CheckJournalAfterBalanceCorruptionNamesTheAccount) {
  Base b;
  Account& a = LedgerTestAccess::MutableAccount(b.L(), b.n.bia_sol);
  a.balance = Amount(a.balance.minor() - 1);
  a.debits_posted = Amount(a.debits_posted.minor() + 1);
  const std::vector<Fault> jf = CheckJournal(b.n.ledger, b.n.journal.batches);
  ASSERT_EQ(jf.size(), 1u) << FormatFaults(jf);
  EXPECT_EQ(jf[0].kind, FaultKind::kJournal);
  EXPECT_EQ(jf[0].id, b.n.bia_sol.value());
  EXPECT_NE(jf[0].detail.find("balance_mismatch"), std::string::npos) << jf[0].detail;
  EXPECT_NE(jf[0].detail.find(Acct(b.n.bia_sol) + "MEMBER @B, SOL)"), std::string::npos)
      << jf[0].detail;
  EXPECT_NE(jf[0].detail.find("ledger 6999, journal 7000"), std::string::npos) << jf[0].detail;
  EXPECT_NE(FormatFaults(jf).find("journal: balance_mismatch"), std::string::npos);
}

TEST(Invariants, FaultKindNamesAreStable) {
  const std::pair<FaultKind, const char*> names[] = {
      {FaultKind::kCurrencyNotBalanced, "currency_not_balanced"},
      {FaultKind::kPostedTotalsMismatch, "posted_totals_mismatch"},
      {FaultKind::kBelowFloor, "below_floor"},
      {FaultKind::kAboveCeiling, "above_ceiling"},
      {FaultKind::kSystemAccountSign, "system_account_sign"},
      {FaultKind::kCoverageBroken, "coverage_broken"},
      {FaultKind::kOutsideCircle, "outside_circle"},
      {FaultKind::kDuePairMismatch, "due_pair_mismatch"},
      {FaultKind::kClosedNotEmpty, "closed_not_empty"},
      {FaultKind::kJournal, "journal"},
  };
  for (const auto& [k, name] : names) EXPECT_STREQ(FaultKindName(k), name);
}

}  // namespace
}  // namespace ayni
