// Ledger::Restore: a ledger rebuilt from its journal alone is the same ledger. Equality is
// checked field by field, by behaviour (retries answer kExists with the original result),
// and by the strongest test there is: the next command on both ledgers seals into
// byte-identical batches.
#include <gtest/gtest.h>

#include "tests/clearing/ledger_compare.h"
#include "tests/clearing/ledger_fixture.h"

namespace ayni {
namespace {

// A history touching every event kind: set-up, deposits, same- and cross-bank payments,
// mutual credit, redemption, reserve funding, distribution, freeze, limits, a cycle, and
// an aborted batch that must leave no trace.
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
