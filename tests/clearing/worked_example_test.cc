// SPEC §2's worked example, step by step, with every balance of the table.
#include "tests/clearing/ledger_fixture.h"

namespace ayni {
namespace {

TEST(WorkedExample, MatchesSpecTable) {
  Network n;
  n.Build();
  // Ana deposits R$100 at A.
  ASSERT_EQ(n.One([&](RequestId r) { return n.ledger.Issue({r, n.ana_palma, Amount(10000)}); })
                .outcome,
            Outcome::kOk);
  EXPECT_EQ(n.Sys(n.a, AccountKind::kReserve), Amount(10000));
  EXPECT_EQ(n.ledger.Supply(n.palma), Amount(10000));
  n.ExpectClean();

  // Ana pays Bia (bank B) 30.
  const OpResult pay =
      n.One([&](RequestId r) { return n.ledger.Pay({r, n.ana_palma, n.bia_sol, Amount(3000)}); });
  ASSERT_EQ(pay.outcome, Outcome::kOk);
  EXPECT_EQ(pay.legs, 3u);
  EXPECT_EQ(n.Due(AccountKind::kDueTo, n.a, n.b), Amount(-3000));
  EXPECT_EQ(n.Due(AccountKind::kDueFrom, n.b, n.a), Amount(3000));
  EXPECT_EQ(n.ledger.Supply(n.palma), Amount(7000));
  EXPECT_EQ(n.ledger.Supply(n.sol), Amount(3000));
  EXPECT_EQ(n.Balance(n.bia_sol), Amount(3000));
  n.ExpectClean();

  // Clearing cycle.
  CycleReport rep;
  const OpResult cyc = n.One([&](RequestId r) { return n.ledger.RunCycle({r}, &rep); });
  ASSERT_EQ(cyc.outcome, Outcome::kOk);
  EXPECT_EQ(n.Sys(n.a, AccountKind::kReserve), Amount(7000));
  EXPECT_EQ(n.Sys(n.b, AccountKind::kReserve), Amount(3000));
  EXPECT_EQ(n.Due(AccountKind::kDueTo, n.a, n.b), Amount(0));
  EXPECT_EQ(n.Due(AccountKind::kDueFrom, n.b, n.a), Amount(0));
  ASSERT_EQ(rep.plan.instructions.size(), 1u);
  EXPECT_EQ(rep.plan.instructions[0], (SettlementInstruction{n.a, n.b, Amount(3000)}));
  n.ExpectClean();

  // Bia redeems 30 SOL, fee 2%.
  ASSERT_EQ(n.One([&](RequestId r) { return n.ledger.Redeem({r, n.bia_sol, Amount(3000)}); })
                .outcome,
            Outcome::kOk);
  EXPECT_EQ(n.Sys(n.b, AccountKind::kReserve), Amount(0));
  EXPECT_EQ(n.Sys(n.b, AccountKind::kFees), Amount(60));
  EXPECT_EQ(n.Sys(n.b, AccountKind::kVault), Amount(2940));
  EXPECT_EQ(n.ledger.Supply(n.sol), Amount(0));
  EXPECT_TRUE(n.ledger.CoverageOf(n.a).covered());
  EXPECT_TRUE(n.ledger.CoverageOf(n.b).covered());
  n.ExpectClean();
}

}  // namespace
}  // namespace ayni
