// Ledger::Restore: a ledger rebuilt from its journal alone is the same ledger. Equality is
// checked field by field, by behaviour (retries answer kExists with the original result),
// and by the strongest test there is: the next command on both ledgers seals into
// byte-identical batches.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/clearing/ledger_compare.h"
#include "tests/clearing/ledger_fixture.h"
#include "tests/clearing/loan_fixture.h"

namespace ayni {
namespace {

// Microcredit: products, a group, a cash loan repaid in part, a PALMA loan repaid in full,
// a group loan written off, and an aborted disbursement.
void LoanHistory(Network& n) {
  auto ok = [](const OpResult& r) {
    EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
  };
  const LoanSetup ls = AddLoanSetup(n);
  ok(n.One([&](RequestId r) {
    return n.ledger.CreateLoanProduct({r, n.a, "Colheita", n.brl, Amount(90'000), 80, 2, 90, 60});
  }));
  n.Begin();
  ok(n.ledger.DisburseLoan(
      {n.Next(), ls.cash, n.ana, SolidarityGroupId(), Amount(100'000), AccountId(), "tools"}));
  ok(n.ledger.DisburseLoan(
      {n.Next(), ls.palma, n.caio, SolidarityGroupId(), Amount(9'000), n.caio_palma, ""}));
  ok(n.ledger.DisburseLoan(
      {n.Next(), LoanProductId(3), MemberId(), ls.group, Amount(60'000), AccountId(), "seeds"}));
  n.Seal();
  n.clock_ns += 20 * kDayNs;
  ok(n.One([&](RequestId r) {
    return n.ledger.RepayLoan({r, LoanId(1), Amount(30'000), AccountId(), "week 3"});
  }));
  ok(n.One([&](RequestId r) {
    return n.ledger.RepayLoan({r, LoanId(2), Amount(9'035), n.caio_palma, "all"});
  }));
  ok(n.One([&](RequestId r) {
    return n.ledger.WriteOffLoan({r, LoanId(3), "manager", "harvest lost to drought"});
  }));
  n.Begin();
  ok(n.ledger.RepayLoan({n.Next(), LoanId(1), Amount(1'000), AccountId(), ""}));
  ok(n.ledger.CreateLoanProduct({n.Next(), n.a, "Aborted", n.brl, Amount(1), 0, 1, 1, 0}));
  n.ledger.AbortBatch();
}

// A history touching every event kind: set-up, deposits, same- and cross-bank payments,
// mutual credit, redemption, reserve funding, distribution, freeze, limits, a cycle, loans,
// and an aborted batch that must leave no trace.
void History(Network& n) {
  n.Build(10000, 200);
  auto ok = [](const OpResult& r) { EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome); };
  ok(n.One([&](RequestId r) { return n.ledger.Issue({r, n.ana_palma, Amount(50000)}); }));
  n.Begin();
  ok(n.ledger.Pay({n.Next(), n.ana_palma, n.caio_palma, Amount(1200), "feira"}));
  ok(n.ledger.Pay({n.Next(), n.ana_palma, n.bia_sol, Amount(3000)}));
  ok(n.ledger.Pay({n.Next(), n.ana_feira, n.caio_feira, Amount(4000)}));
  n.Seal();
  ok(n.One([&](RequestId r) { return n.ledger.FundReserve({r, n.a, Amount(10000)}); }));
  ok(n.One([&](RequestId r) { return n.ledger.Distribute({r, n.caio_palma, Amount(2500)}); }));
  ok(n.One([&](RequestId r) {
    return n.ledger.SetAccountLimits(
        {r, n.ana_feira, Amount(8000), Amount::Max(), "circle", "assembly of 3 March"});
  }));
  ok(n.One([&](RequestId r) {
    return n.ledger.SetAccountStatus(
        {r, n.caio_feira, AccountStatus::kFrozen, "teller", "lost phone"});
  }));
  CycleReport rep;
  ok(n.One([&](RequestId r) { return n.ledger.RunCycle({r}, &rep); }));
  // B's reserve arrived by clearing; now Bia can redeem.
  ok(n.One([&](RequestId r) { return n.ledger.Redeem({r, n.bia_sol, Amount(1000)}); }));
  n.Begin();
  ok(n.ledger.Pay({n.Next(), n.ana_palma, n.bia_sol, Amount(700)}));
  n.ledger.AbortBatch();
  ok(n.One([&](RequestId r) { return n.ledger.Pay({r, n.bia_sol, n.ana_palma, Amount(500)}); }));
  LoanHistory(n);
}

TEST(Restore, RebuildsTheSameLedger) {
  Network n;
  History(n);
  n.ExpectClean();
  Ledger restored;
  ASSERT_TRUE(restored.Restore(n.journal.batches).ok());
  ExpectSameLedger(n.ledger, restored);
  EXPECT_TRUE(CheckInvariants(restored).empty()) << FormatFaults(CheckInvariants(restored));
}

TEST(Restore, RetriesAnswerTheOriginalResult) {
  Network n;
  History(n);
  Ledger restored;
  ASSERT_TRUE(restored.Restore(n.journal.batches).ok());
  // Ask both ledgers about every request id the network used.
  n.ledger.BeginBatch(n.clock_ns + 10);
  restored.BeginBatch(n.clock_ns + 10);
  for (uint64_t k = 1; k < n.next_request; ++k) {
    // A RunCycle retry is the one command every request id can be asked as: identical
    // cycles answer kExists, everything else kExistsWithDifferentFields "operation";
    // unknown ids (refused or aborted requests) would run a new cycle on both sides.
    CycleReport ra, rb;
    const OpResult a = n.ledger.RunCycle({R(k)}, &ra);
    const OpResult b = restored.RunCycle({R(k)}, &rb);
    EXPECT_EQ(a.outcome, b.outcome) << "request " << k;
    EXPECT_EQ(a.id, b.id) << "request " << k;
    EXPECT_EQ(a.timestamp_ns, b.timestamp_ns) << "request " << k;
    EXPECT_EQ(a.legs, b.legs) << "request " << k;
    EXPECT_STREQ(a.detail, b.detail) << "request " << k;
  }
  const SealedBatch sa = n.ledger.SealBatch();
  const SealedBatch sb = restored.SealBatch();
  EXPECT_EQ(sa.bytes, sb.bytes);
  EXPECT_EQ(sa.hash, sb.hash);
}

TEST(Restore, NextBatchIsByteIdentical) {
  Network n;
  History(n);
  Ledger restored;
  ASSERT_TRUE(restored.Restore(n.journal.batches).ok());
  for (Ledger* l : {&n.ledger, &restored}) {
    l->BeginBatch(n.clock_ns + 1000);
    EXPECT_EQ(l->Pay({R(900), n.ana_palma, n.bia_sol, Amount(100), "again"}).outcome, Outcome::kOk);
    EXPECT_EQ(l->Issue({R(901), n.caio_palma, Amount(100)}).outcome, Outcome::kOk);
    EXPECT_EQ(l->Pay({R(900), n.ana_palma, n.bia_sol, Amount(100), "again"}).outcome,
              Outcome::kExists);
    CycleReport rep;
    EXPECT_EQ(l->RunCycle({R(902)}, &rep).outcome, Outcome::kOk);
    // The loan book came back too: arrears, interest payable and the loan index agree.
    EXPECT_EQ(l->RepayLoan({R(903), LoanId(1), Amount(500), AccountId(), ""}).outcome,
              Outcome::kOk);
    const OpResult eva = l->CreateMember({R(907), n.a, "Eva"});
    EXPECT_EQ(eva.outcome, Outcome::kOk);
    EXPECT_EQ(l->DisburseLoan({R(904), LoanProductId(1), MemberId(eva.id), SolidarityGroupId(),
                               Amount(1'000), AccountId(), ""})
                  .outcome,
              Outcome::kOk);
    EXPECT_EQ(l->DisburseLoan({R(905), LoanProductId(1), MemberId(), SolidarityGroupId(1),
                               Amount(1'000), AccountId(), ""})
                  .outcome,
              Outcome::kBorrowerInArrears);  // the group's loan was written off
    EXPECT_EQ(l->RepayLoan({R(906), LoanId(2), Amount(1), n.caio_palma, ""}).outcome,
              Outcome::kLoanNotActive);
  }
  const SealedBatch a = n.ledger.SealBatch();
  const SealedBatch b = restored.SealBatch();
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.hash, b.hash);
  ExpectSameLedger(n.ledger, restored);
}

TEST(Restore, RefusesATamperedJournal) {
  Network n;
  History(n);
  std::vector<StoredBatch> batches = n.journal.batches;
  batches[3].bytes[40] ^= 0x01;
  Ledger restored;
  const Status s = restored.Restore(batches);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("hash_mismatch"), std::string::npos) << s.message();
}

// The journal carries each loan's schedule for auditors; Restore recomputes it and refuses
// a journal whose schedule differs, even when the chain was re-hashed around the change.
TEST(Restore, RefusesALoanScheduleThatTheRulesDoNotGive) {
  Network n;
  History(n);
  std::vector<uint8_t> event;
  journal::EncodeLoan(event, n.ledger.loans()[0]);
  std::vector<StoredBatch> batches = n.journal.batches;
  bool found = false;
  for (StoredBatch& b : batches) {
    const auto it = std::search(b.bytes.begin(), b.bytes.end(), event.begin(), event.end());
    if (it == b.bytes.end()) continue;
    *(it + static_cast<std::ptrdiff_t>(event.size()) - 1) ^= 0x01;  // last instalment's interest
    found = true;
    break;
  }
  ASSERT_TRUE(found);
  Hash256 prev{};
  for (StoredBatch& b : batches) {
    b.hash = Blake2b256(prev, b.bytes);
    prev = b.hash;
  }
  Ledger restored;
  const Status s = restored.Restore(batches);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("does not rebuild"), std::string::npos) << s.message();
}

TEST(Restore, OnlyOnAFreshLedger) {
  Network n;
  History(n);
  const Status s = n.ledger.Restore(n.journal.batches);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
}

TEST(Restore, EmptyJournalGivesAnEmptyLedger) {
  Ledger l;
  ASSERT_TRUE(l.Restore({}).ok());
  EXPECT_FALSE(l.deployed());
  EXPECT_EQ(l.batch_sequence(), 0u);
}

TEST(PrepareCommit, AbortAfterPrepareUndoesEverything) {
  Network n;
  History(n);
  Ledger restored;
  ASSERT_TRUE(restored.Restore(n.journal.batches).ok());
  n.Begin();
  ASSERT_EQ(n.ledger.Pay({R(950), n.ana_palma, n.bia_sol, Amount(300)}).outcome, Outcome::kOk);
  const SealedBatch p = n.ledger.PrepareBatch();
  EXPECT_TRUE(n.ledger.batch_prepared());
  EXPECT_EQ(p.sequence, restored.batch_sequence() + 1);
  EXPECT_EQ(p.transfers.size(), 3u);
  n.ledger.AbortBatch();
  ExpectSameLedger(n.ledger, restored);
  // The same request, prepared and committed this time, seals the same bytes again.
  n.Begin();
  ASSERT_EQ(n.ledger.Pay({R(950), n.ana_palma, n.bia_sol, Amount(300)}).outcome, Outcome::kOk);
  const SealedBatch q = n.ledger.PrepareBatch();
  n.ledger.CommitBatch();
  EXPECT_EQ(q.sequence, p.sequence);
  EXPECT_EQ(n.ledger.head(), q.hash);
  EXPECT_EQ(n.ledger.batch_sequence(), q.sequence);
}

}  // namespace
}  // namespace ayni
