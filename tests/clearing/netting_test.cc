// Inter-bank netting (SPEC §4): ComputeNetting against hand-computed answers and
// properties on seeded random inputs; then Ledger::RunCycle end to end.
#include "clearing/netting.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/clearing/ledger_fixture.h"

namespace ayni {
namespace {

BankId Bk(uint64_t v) { return BankId(v); }
Obligation Ob(uint64_t debtor, uint64_t creditor, int64_t amount) {
  return {Bk(debtor), Bk(creditor), Amount(amount)};
}
NettingPlan Plan(const std::vector<Obligation>& obs) {
  Result<NettingPlan> r = ComputeNetting(obs);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return NettingPlan{};
  return std::move(r).value();
}

// ---- ComputeNetting: hand-computed -----------------------------------------------------

TEST(Netting, EmptyInputIsAnEmptyPlan) {
  const NettingPlan p = Plan({});
  EXPECT_EQ(p.gross_total, Amount(0));
  EXPECT_TRUE(p.bilateral.empty());
  EXPECT_TRUE(p.positions.empty());
  EXPECT_TRUE(p.instructions.empty());
  EXPECT_EQ(p.settled_total, Amount(0));
  EXPECT_EQ(p.liquidity_saved, Amount(0));
}

TEST(Netting, TwoBanksOneDirection) {
  const NettingPlan p = Plan({Ob(1, 2, 3000)});
  EXPECT_EQ(p.gross_total, Amount(3000));
  ASSERT_EQ(p.bilateral.size(), 1u);
  EXPECT_EQ(p.bilateral[0], (BilateralNet{Bk(1), Bk(2), Amount(3000)}));
  ASSERT_EQ(p.positions.size(), 2u);
  EXPECT_EQ(p.positions[0], (NetPosition{Bk(1), Amount(0), Amount(3000), Amount(-3000)}));
  EXPECT_EQ(p.positions[1], (NetPosition{Bk(2), Amount(3000), Amount(0), Amount(3000)}));
  ASSERT_EQ(p.instructions.size(), 1u);
  EXPECT_EQ(p.instructions[0], (SettlementInstruction{Bk(1), Bk(2), Amount(3000)}));
  EXPECT_EQ(p.settled_total, Amount(3000));
  EXPECT_EQ(p.liquidity_saved, Amount(0));
}

TEST(Netting, TwoBanksOneDirectionHigherIdOwes) {
  // The bilateral net is stated for a < b: b owing a is negative.
  const NettingPlan p = Plan({Ob(2, 1, 700)});
  ASSERT_EQ(p.bilateral.size(), 1u);
  EXPECT_EQ(p.bilateral[0], (BilateralNet{Bk(1), Bk(2), Amount(-700)}));
  ASSERT_EQ(p.instructions.size(), 1u);
  EXPECT_EQ(p.instructions[0], (SettlementInstruction{Bk(2), Bk(1), Amount(700)}));
}

TEST(Netting, TwoBanksBothDirectionsNetBilaterally) {
  // 1 owes 2 100.00, 2 owes 1 30.00: one payment of 70.00 from 1 to 2.
  const NettingPlan p = Plan({Ob(1, 2, 10000), Ob(2, 1, 3000)});
  EXPECT_EQ(p.gross_total, Amount(13000));
  ASSERT_EQ(p.bilateral.size(), 1u);
  EXPECT_EQ(p.bilateral[0], (BilateralNet{Bk(1), Bk(2), Amount(7000)}));
  ASSERT_EQ(p.positions.size(), 2u);
  EXPECT_EQ(p.positions[0], (NetPosition{Bk(1), Amount(3000), Amount(10000), Amount(-7000)}));
  EXPECT_EQ(p.positions[1], (NetPosition{Bk(2), Amount(10000), Amount(3000), Amount(7000)}));
  ASSERT_EQ(p.instructions.size(), 1u);
  EXPECT_EQ(p.instructions[0], (SettlementInstruction{Bk(1), Bk(2), Amount(7000)}));
  EXPECT_EQ(p.settled_total, Amount(7000));
  EXPECT_EQ(p.liquidity_saved, Amount(6000));
}

TEST(Netting, TwoBanksBothDirectionsEqualNetToZero) {
  const NettingPlan p = Plan({Ob(1, 2, 500), Ob(2, 1, 500)});
  EXPECT_EQ(p.gross_total, Amount(1000));
  ASSERT_EQ(p.bilateral.size(), 1u);
  EXPECT_EQ(p.bilateral[0].amount, Amount(0));
  EXPECT_TRUE(p.instructions.empty());
  EXPECT_EQ(p.settled_total, Amount(0));
  EXPECT_EQ(p.liquidity_saved, Amount(1000));
}

TEST(Netting, EqualThreeCycleNetsToZero) {
  // A→B→C→A, 40.00 each: every bank receives what it pays.
  const NettingPlan p = Plan({Ob(1, 2, 4000), Ob(2, 3, 4000), Ob(3, 1, 4000)});
  EXPECT_EQ(p.gross_total, Amount(12000));
  ASSERT_EQ(p.bilateral.size(), 3u);
  EXPECT_EQ(p.bilateral[0], (BilateralNet{Bk(1), Bk(2), Amount(4000)}));
  EXPECT_EQ(p.bilateral[1], (BilateralNet{Bk(1), Bk(3), Amount(-4000)}));
  EXPECT_EQ(p.bilateral[2], (BilateralNet{Bk(2), Bk(3), Amount(4000)}));
  ASSERT_EQ(p.positions.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(p.positions[i], (NetPosition{Bk(i + 1), Amount(4000), Amount(4000), Amount(0)}));
  }
  EXPECT_TRUE(p.instructions.empty());
  EXPECT_EQ(p.settled_total, Amount(0));
  EXPECT_EQ(p.liquidity_saved, p.gross_total);
}

TEST(Netting, UnequalThreeBanksByHand) {
  // 1→2 100, 2→3 60, 3→1 30, 2→1 20.
  //   gross 210
  //   bilateral (1,2): +100 − 20 = +80; (1,3): 3 owes 1 → −30; (2,3): +60
  //   bank 1: receives 30 + 20 = 50, pays 100 → −50
  //   bank 2: receives 100, pays 60 + 20 = 80 → +20
  //   bank 3: receives 60, pays 30 → +30
  //   greedy: debtors [1:50], creditors [2:20, 3:30] → 1→2 20, 1→3 30
  const NettingPlan p = Plan({Ob(1, 2, 100), Ob(2, 3, 60), Ob(3, 1, 30), Ob(2, 1, 20)});
  EXPECT_EQ(p.gross_total, Amount(210));
  EXPECT_EQ(p.bilateral, (std::vector<BilateralNet>{{Bk(1), Bk(2), Amount(80)},
                                                    {Bk(1), Bk(3), Amount(-30)},
                                                    {Bk(2), Bk(3), Amount(60)}}));
  EXPECT_EQ(p.positions, (std::vector<NetPosition>{{Bk(1), Amount(50), Amount(100), Amount(-50)},
                                                   {Bk(2), Amount(100), Amount(80), Amount(20)},
                                                   {Bk(3), Amount(60), Amount(30), Amount(30)}}));
  EXPECT_EQ(p.instructions, (std::vector<SettlementInstruction>{{Bk(1), Bk(2), Amount(20)},
                                                                {Bk(1), Bk(3), Amount(30)}}));
  EXPECT_EQ(p.settled_total, Amount(50));
  EXPECT_EQ(p.liquidity_saved, Amount(160));
}

TEST(Netting, UnequalFourBanksByHand) {
  // 1→2 500, 2→3 100, 3→4 200, 4→1 100, 1→3 50, 4→2 70, 3→1 10.
  //   gross 1030
  //   bilateral (1,2) +500; (1,3) +50 − 10 = +40; (1,4) −100; (2,3) +100; (2,4) −70;
  //             (3,4) +200
  //   bank 1: receives 100 + 10 = 110, pays 500 + 50 = 550 → −440
  //   bank 2: receives 500 + 70 = 570, pays 100 → +470
  //   bank 3: receives 100 + 50 = 150, pays 200 + 10 = 210 → −60
  //   bank 4: receives 200, pays 100 + 70 = 170 → +30
  //   greedy, debtors [1:440, 3:60], creditors [2:470, 4:30]:
  //     1→2 440 (1 done, 2 has 30 left); 3→2 30 (2 done, 3 has 30 left); 3→4 30.
  const NettingPlan p = Plan({Ob(1, 2, 500), Ob(2, 3, 100), Ob(3, 4, 200), Ob(4, 1, 100),
                              Ob(1, 3, 50), Ob(4, 2, 70), Ob(3, 1, 10)});
  EXPECT_EQ(p.gross_total, Amount(1030));
  EXPECT_EQ(p.bilateral, (std::vector<BilateralNet>{{Bk(1), Bk(2), Amount(500)},
                                                    {Bk(1), Bk(3), Amount(40)},
                                                    {Bk(1), Bk(4), Amount(-100)},
                                                    {Bk(2), Bk(3), Amount(100)},
                                                    {Bk(2), Bk(4), Amount(-70)},
                                                    {Bk(3), Bk(4), Amount(200)}}));
  EXPECT_EQ(p.positions, (std::vector<NetPosition>{{Bk(1), Amount(110), Amount(550), Amount(-440)},
                                                   {Bk(2), Amount(570), Amount(100), Amount(470)},
                                                   {Bk(3), Amount(150), Amount(210), Amount(-60)},
                                                   {Bk(4), Amount(200), Amount(170), Amount(30)}}));
  EXPECT_EQ(p.instructions, (std::vector<SettlementInstruction>{{Bk(1), Bk(2), Amount(440)},
                                                                {Bk(3), Bk(2), Amount(30)},
                                                                {Bk(3), Bk(4), Amount(30)}}));
  EXPECT_EQ(p.settled_total, Amount(500));
  EXPECT_EQ(p.liquidity_saved, Amount(530));
}

TEST(Netting, SparseIdsOnlyBanksWithObligationsHavePositions) {
  const NettingPlan p = Plan({Ob(7, 42, 10), Ob(42, 3, 4)});
  ASSERT_EQ(p.positions.size(), 3u);
  EXPECT_EQ(p.positions[0].bank, Bk(3));
  EXPECT_EQ(p.positions[1].bank, Bk(7));
  EXPECT_EQ(p.positions[2].bank, Bk(42));
  EXPECT_EQ(p.instructions, (std::vector<SettlementInstruction>{{Bk(7), Bk(3), Amount(4)},
                                                                {Bk(7), Bk(42), Amount(6)}}));
}

// ---- ComputeNetting: refusals ----------------------------------------------------------

struct BadCase {
  const char* name;
  std::vector<Obligation> obligations;
};

TEST(Netting, RefusesBadInput) {
  const BadCase cases[] = {
      {"zero amount", {Ob(1, 2, 0)}},
      {"negative amount", {Ob(1, 2, -5)}},
      {"zero amount after a good one", {Ob(1, 2, 5), Ob(2, 3, 0)}},
      {"self obligation", {Ob(2, 2, 5)}},
      {"self obligation after a good one", {Ob(1, 2, 5), Ob(3, 3, 1)}},
      {"repeated pair", {Ob(1, 2, 5), Ob(1, 2, 5)}},
      {"repeated pair, other amount", {Ob(1, 2, 5), Ob(2, 1, 3), Ob(1, 2, 7)}},
      {"no debtor", {Ob(0, 2, 5)}},
      {"no creditor", {Ob(1, 0, 5)}},
      {"gross overflows int64", {Ob(1, 2, INT64_MAX), Ob(2, 1, 1)}},
      {"one bank's receivable overflows", {Ob(1, 3, INT64_MAX), Ob(2, 3, INT64_MAX)}},
  };
  for (const BadCase& c : cases) {
    const Result<NettingPlan> r = ComputeNetting(c.obligations);
    EXPECT_FALSE(r.ok()) << c.name;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.name;
    }
  }
}

TEST(Netting, LargestAmountsThatFitAreAccepted) {
  const NettingPlan p = Plan({Ob(1, 2, INT64_MAX - 1), Ob(2, 1, 1)});
  EXPECT_EQ(p.gross_total, Amount(INT64_MAX));
  ASSERT_EQ(p.instructions.size(), 1u);
  EXPECT_EQ(p.instructions[0], (SettlementInstruction{Bk(1), Bk(2), Amount(INT64_MAX - 2)}));
}

// ---- ComputeNetting: properties on seeded random inputs --------------------------------

std::vector<Obligation> RandomObligations(std::mt19937_64& rng, int banks, int64_t max_amount) {
  std::vector<Obligation> out;
  std::uniform_real_distribution<double> density(0.05, 1.0);
  const double d = density(rng);
  std::uniform_int_distribution<int64_t> amount(1, max_amount);
  std::bernoulli_distribution take(d);
  for (int i = 1; i <= banks; ++i) {
    for (int j = 1; j <= banks; ++j) {
      if (i != j && take(rng)) out.push_back(Ob(i, j, amount(rng)));
    }
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

void CheckProperties(const std::vector<Obligation>& obs, const NettingPlan& p) {
  // Reference sums, computed independently.
  std::map<uint64_t, std::pair<Int128, Int128>> gross;  // bank → (receivable, payable)
  std::map<std::pair<uint64_t, uint64_t>, Int128> pair;
  Int128 total = 0;
  for (const Obligation& o : obs) {
    gross[o.creditor.value()].first += o.amount.minor();
    gross[o.debtor.value()].second += o.amount.minor();
    total += o.amount.minor();
    const uint64_t a = std::min(o.debtor.value(), o.creditor.value());
    const uint64_t b = std::max(o.debtor.value(), o.creditor.value());
    pair[{a, b}] += o.debtor.value() == a ? o.amount.minor() : -o.amount.minor();
  }
  EXPECT_EQ(static_cast<Int128>(p.gross_total.minor()), total);

  ASSERT_EQ(p.bilateral.size(), pair.size());
  size_t k = 0;
  for (const auto& [key, net] : pair) {
    EXPECT_EQ(p.bilateral[k].a, Bk(key.first));
    EXPECT_EQ(p.bilateral[k].b, Bk(key.second));
    EXPECT_EQ(static_cast<Int128>(p.bilateral[k].amount.minor()), net);
    ++k;
  }

  ASSERT_EQ(p.positions.size(), gross.size());
  Int128 net_sum = 0;
  std::map<uint64_t, Int128> net_of;
  k = 0;
  for (const auto& [bank, rp] : gross) {
    const NetPosition& pos = p.positions[k++];
    EXPECT_EQ(pos.bank, Bk(bank));
    EXPECT_EQ(static_cast<Int128>(pos.receivable.minor()), rp.first);
    EXPECT_EQ(static_cast<Int128>(pos.payable.minor()), rp.second);
    EXPECT_EQ(static_cast<Int128>(pos.net.minor()), rp.first - rp.second);
    net_sum += pos.net.minor();
    net_of[bank] = pos.net.minor();
  }
  EXPECT_EQ(net_sum, 0) << "net positions must sum to zero";

  // At most n − 1 instructions, each from a net debtor to a net creditor, for > 0.
  const size_t n = p.positions.size();
  EXPECT_LE(p.instructions.size(), n == 0 ? 0 : n - 1);
  std::map<uint64_t, Int128> paid, received;
  Int128 settled = 0;
  for (const SettlementInstruction& s : p.instructions) {
    EXPECT_TRUE(s.amount.positive());
    EXPECT_LT(net_of[s.from.value()], 0) << "instruction from a non-debtor";
    EXPECT_GT(net_of[s.to.value()], 0) << "instruction to a non-creditor";
    paid[s.from.value()] += s.amount.minor();
    received[s.to.value()] += s.amount.minor();
    settled += s.amount.minor();
  }
  for (const auto& [bank, net] : net_of) {
    if (net < 0) {
      EXPECT_EQ(paid[bank], -net) << "debtor " << bank << " must pay exactly −net";
      EXPECT_EQ(received[bank], 0);
    } else if (net > 0) {
      EXPECT_EQ(received[bank], net) << "creditor " << bank << " must receive exactly net";
      EXPECT_EQ(paid[bank], 0);
    } else {
      EXPECT_EQ(paid[bank], 0);
      EXPECT_EQ(received[bank], 0);
    }
  }
  EXPECT_EQ(static_cast<Int128>(p.settled_total.minor()), settled);
  EXPECT_EQ(static_cast<Int128>(p.settled_total.minor()) + p.liquidity_saved.minor(),
            static_cast<Int128>(p.gross_total.minor()));
  EXPECT_GE(p.liquidity_saved.minor(), 0);
}

uint64_t SeedFromEnv(uint64_t fallback) {
  if (const char* s = std::getenv("AYNI_SEED")) return std::stoull(s);
  return fallback;
}

TEST(Netting, RandomPropertiesHold) {
  const uint64_t seed =
      SeedFromEnv(std::random_device{}() | (uint64_t{std::random_device{}()} << 32));
  std::cout << "netting seed " << seed << " (AYNI_SEED=" << seed << " to replay)\n";
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> banks(2, 40);
  for (int iter = 0; iter < 300; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    // Every tenth input uses amounts near the int64 range split over many pairs.
    const int n = banks(rng);
    const int64_t max_amount = iter % 10 == 0 ? INT64_MAX / (n * n) : 1'000'000'000;
    const std::vector<Obligation> obs = RandomObligations(rng, n, max_amount);
    const Result<NettingPlan> r = ComputeNetting(obs);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    CheckProperties(obs, r.value());
    if (HasFatalFailure() || HasNonfatalFailure()) return;

    // Deterministic and independent of input order.
    std::vector<Obligation> shuffled = obs;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    const Result<NettingPlan> r2 = ComputeNetting(shuffled);
    ASSERT_TRUE(r2.ok());
    EXPECT_EQ(r2->gross_total, r->gross_total);
    EXPECT_EQ(r2->bilateral, r->bilateral);
    EXPECT_EQ(r2->positions, r->positions);
    EXPECT_EQ(r2->instructions, r->instructions);
    EXPECT_EQ(r2->settled_total, r->settled_total);
    EXPECT_EQ(r2->liquidity_saved, r->liquidity_saved);
  }
}

// ---- Ledger::RunCycle end to end -------------------------------------------------------

// The fixture's two banks plus bank C ("LUA", member Cleo), made with the ledger's API.
struct ThreeBanks {
  Network n;
  BankId c;
  CurrencyId lua;
  MemberId cleo;
  AccountId cleo_lua;

  explicit ThreeBanks(int32_t coverage_bp = 10000) {
    n.Build(coverage_bp);
    n.Begin();
    const OpResult bank = n.ledger.CreateBank({n.Next(), "C", "Banco Lua"});
    EXPECT_EQ(bank.outcome, Outcome::kOk);
    c = BankId(bank.id);
    const OpResult cur = n.ledger.CreateCurrency({n.Next(), c, "LUA", coverage_bp, 200});
    EXPECT_EQ(cur.outcome, Outcome::kOk);
    lua = CurrencyId(cur.id);
    const OpResult mem = n.ledger.CreateMember({n.Next(), c, "Cleo"});
    EXPECT_EQ(mem.outcome, Outcome::kOk);
    cleo = MemberId(mem.id);
    const OpResult acc = n.ledger.OpenAccount({n.Next(), cleo, lua, AccountKind::kMember});
    EXPECT_EQ(acc.outcome, Outcome::kOk);
    cleo_lua = AccountId(acc.id);
    n.Seal();
  }
  void Issue(AccountId to, int64_t amount) {
    const OpResult r = n.One([&](RequestId id) {
      return n.ledger.Issue({id, to, Amount(amount)});
    });
    ASSERT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
  }
  void Pay(AccountId from, AccountId to, int64_t amount) {
    const OpResult r = n.One([&](RequestId id) {
      return n.ledger.Pay({id, from, to, Amount(amount)});
    });
    ASSERT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
  }
  AccountId Reserve(BankId bank) const { return n.ledger.FindBank(bank)->reserve; }
  std::vector<BankId> Banks() const { return {n.a, n.b, c}; }
};

struct Snapshot {
  std::vector<Account> accounts;
  size_t requests = 0;
  size_t cycles = 0;
};
Snapshot Take(const Ledger& l) {
  return {std::vector<Account>(l.accounts().begin(), l.accounts().end()), l.request_count(),
          l.cycles().size()};
}
void ExpectSameAccounts(const Snapshot& before, const Ledger& l) {
  ASSERT_EQ(l.accounts().size(), before.accounts.size());
  for (size_t i = 0; i < before.accounts.size(); ++i) {
    const Account& x = before.accounts[i];
    const Account& y = l.accounts()[i];
    EXPECT_EQ(x.balance, y.balance) << "account " << x.id.value();
    EXPECT_EQ(x.debits_posted, y.debits_posted) << "account " << x.id.value();
    EXPECT_EQ(x.credits_posted, y.credits_posted) << "account " << x.id.value();
  }
}

void ExpectAllDueZero(const Network& n) {
  for (const Account& a : n.ledger.accounts()) {
    if (a.kind == AccountKind::kDueFrom || a.kind == AccountKind::kDueTo) {
      EXPECT_EQ(a.balance, Amount(0)) << "DUE account " << a.id.value();
    }
  }
}

void ExpectSameReport(const CycleReport& x, const CycleReport& y) {
  EXPECT_EQ(x.request, y.request);
  EXPECT_EQ(x.number, y.number);
  EXPECT_EQ(x.timestamp_ns, y.timestamp_ns);
  EXPECT_EQ(x.obligations, y.obligations);
  EXPECT_EQ(x.plan.gross_total, y.plan.gross_total);
  EXPECT_EQ(x.plan.bilateral, y.plan.bilateral);
  EXPECT_EQ(x.plan.positions, y.plan.positions);
  EXPECT_EQ(x.plan.instructions, y.plan.instructions);
  EXPECT_EQ(x.plan.settled_total, y.plan.settled_total);
  EXPECT_EQ(x.plan.liquidity_saved, y.plan.liquidity_saved);
  EXPECT_EQ(x.short_debtors, y.short_debtors);
}

TEST(RunCycle, ThreeBanksSettleNetPositions) {
  ThreeBanks t;
  Network& n = t.n;
  t.Issue(n.ana_palma, 10000);  // RESERVE_A 100.00
  t.Issue(n.bia_sol, 5000);     // RESERVE_B 50.00
  t.Issue(t.cleo_lua, 3000);    // RESERVE_C 30.00
  // Obligations: A→B 4000, A→C 300, B→A 700, B→C 2500, C→A 1000 (gross 8500).
  t.Pay(n.ana_palma, n.bia_sol, 4000);
  t.Pay(n.bia_sol, t.cleo_lua, 2500);
  t.Pay(t.cleo_lua, n.ana_palma, 1000);
  t.Pay(n.bia_sol, n.ana_palma, 700);
  t.Pay(n.ana_palma, t.cleo_lua, 300);
  n.ExpectClean();

  const std::vector<Obligation> expected_obs = {{n.a, n.b, Amount(4000)},
                                                {n.a, t.c, Amount(300)},
                                                {n.b, n.a, Amount(700)},
                                                {n.b, t.c, Amount(2500)},
                                                {t.c, n.a, Amount(1000)}};
  EXPECT_EQ(n.ledger.OpenObligations(), expected_obs);

  std::map<BankId, Coverage> cov_before;
  std::map<BankId, Amount> reserve_before;
  for (BankId b : t.Banks()) {
    cov_before[b] = n.ledger.CoverageOf(b);
    reserve_before[b] = n.Sys(b, AccountKind::kReserve);
  }

  CycleReport rep;
  n.Begin();
  const RequestId cycle_id = n.Next();
  const OpResult r = n.ledger.RunCycle({cycle_id}, &rep);
  const SealedBatch sb = n.Seal();
  ASSERT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
  EXPECT_EQ(r.id, 1u);
  EXPECT_EQ(rep.number, 1u);
  EXPECT_EQ(rep.request, cycle_id);
  EXPECT_TRUE(rep.short_debtors.empty());
  EXPECT_EQ(rep.obligations, expected_obs);

  // By hand: A receives 700 + 1000 = 1700 and pays 4300 → −2600; B receives 4000 and pays
  // 3200 → +800; C receives 2800 and pays 1000 → +1800. Greedy: A→B 800, A→C 1800.
  EXPECT_EQ(rep.plan.gross_total, Amount(8500));
  EXPECT_EQ(rep.plan.positions,
            (std::vector<NetPosition>{{n.a, Amount(1700), Amount(4300), Amount(-2600)},
                                      {n.b, Amount(4000), Amount(3200), Amount(800)},
                                      {t.c, Amount(2800), Amount(1000), Amount(1800)}}));
  EXPECT_EQ(rep.plan.instructions, (std::vector<SettlementInstruction>{{n.a, n.b, Amount(800)},
                                                                       {n.a, t.c, Amount(1800)}}));
  EXPECT_EQ(rep.plan.settled_total, Amount(2600));
  EXPECT_EQ(rep.plan.liquidity_saved, Amount(5900));

  // Every DUE account is zero; reserves moved by exactly the net positions.
  ExpectAllDueZero(n);
  for (const NetPosition& p : rep.plan.positions) {
    EXPECT_EQ(n.Sys(p.bank, AccountKind::kReserve).minor(),
              reserve_before[p.bank].minor() + p.net.minor())
        << "bank " << p.bank.value();
  }
  EXPECT_EQ(n.Sys(n.a, AccountKind::kReserve), Amount(7400));
  EXPECT_EQ(n.Sys(n.b, AccountKind::kReserve), Amount(5800));
  EXPECT_EQ(n.Sys(t.c, AccountKind::kReserve), Amount(4800));

  // Coverage unchanged at every bank.
  for (BankId b : t.Banks()) {
    const Coverage after = n.ledger.CoverageOf(b);
    EXPECT_EQ(after.assets_scaled, cov_before[b].assets_scaled) << "bank " << b.value();
    EXPECT_EQ(after.required_scaled, cov_before[b].required_scaled) << "bank " << b.value();
    EXPECT_TRUE(after.covered());
  }

  // The sealed batch: ≤ n − 1 RESERVE → RESERVE, one reversal per non-zero DUE pair.
  std::vector<SettlementInstruction> reserve_moves;
  std::vector<Obligation> reversals;
  for (const Transfer& tr : sb.transfers) {
    EXPECT_EQ(tr.code, TransferCode::kSettlement);
    EXPECT_EQ(tr.currency, n.brl);
    const Account& d = *n.ledger.FindAccount(tr.debit);
    const Account& c = *n.ledger.FindAccount(tr.credit);
    if (d.kind == AccountKind::kReserve && c.kind == AccountKind::kReserve) {
      reserve_moves.push_back({d.bank, c.bank, tr.amount});
    } else {
      ASSERT_EQ(d.kind, AccountKind::kDueFrom) << "transfer " << tr.leg;
      ASSERT_EQ(c.kind, AccountKind::kDueTo) << "transfer " << tr.leg;
      // DUE_FROM:debtor@creditor → DUE_TO:creditor@debtor.
      EXPECT_EQ(d.counterparty, c.bank);
      EXPECT_EQ(c.counterparty, d.bank);
      reversals.push_back({d.counterparty, d.bank, tr.amount});
    }
  }
  EXPECT_LE(reserve_moves.size(), t.Banks().size() - 1);
  EXPECT_EQ(reserve_moves, rep.plan.instructions);
  std::sort(reversals.begin(), reversals.end(), [](const Obligation& x, const Obligation& y) {
    return std::pair(x.debtor, x.creditor) < std::pair(y.debtor, y.creditor);
  });
  EXPECT_EQ(reversals, expected_obs);
  EXPECT_EQ(r.legs, sb.transfers.size());
  EXPECT_EQ(sb.transfers.size(), rep.plan.instructions.size() + expected_obs.size());
  for (uint32_t i = 0; i < sb.transfers.size(); ++i) {
    EXPECT_EQ(sb.transfers[i].id, DeriveTransferId(cycle_id, i));
  }
  EXPECT_TRUE(n.ledger.OpenObligations().empty());
  ASSERT_EQ(n.ledger.cycles().size(), 1u);
  ExpectSameReport(n.ledger.cycles()[0], rep);
  n.ExpectClean();
}

TEST(RunCycle, EqualThreeCycleNetsToZeroAndMovesNoReserve) {
  ThreeBanks t;
  Network& n = t.n;
  t.Issue(n.ana_palma, 5000);
  t.Issue(n.bia_sol, 5000);
  t.Issue(t.cleo_lua, 5000);
  t.Pay(n.ana_palma, n.bia_sol, 1234);   // A owes B
  t.Pay(n.bia_sol, t.cleo_lua, 1234);    // B owes C
  t.Pay(t.cleo_lua, n.ana_palma, 1234);  // C owes A
  std::map<BankId, Amount> reserve_before;
  for (BankId b : t.Banks()) reserve_before[b] = n.Sys(b, AccountKind::kReserve);

  CycleReport rep;
  n.Begin();
  const OpResult r = n.ledger.RunCycle({n.Next()}, &rep);
  const SealedBatch sb = n.Seal();
  ASSERT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome);
  EXPECT_TRUE(rep.plan.instructions.empty());
  EXPECT_EQ(rep.plan.gross_total, Amount(3 * 1234));
  EXPECT_EQ(rep.plan.settled_total, Amount(0));
  EXPECT_EQ(rep.plan.liquidity_saved, rep.plan.gross_total);
  for (const NetPosition& p : rep.plan.positions) EXPECT_EQ(p.net, Amount(0));
  for (const Transfer& tr : sb.transfers) {
    EXPECT_NE(n.ledger.FindAccount(tr.debit)->kind, AccountKind::kReserve);
    EXPECT_NE(n.ledger.FindAccount(tr.credit)->kind, AccountKind::kReserve);
  }
  EXPECT_EQ(sb.transfers.size(), 3u);  // the three reversals only
  for (BankId b : t.Banks()) EXPECT_EQ(n.Sys(b, AccountKind::kReserve), reserve_before[b]);
  ExpectAllDueZero(n);
  n.ExpectClean();
}

TEST(RunCycle, CycleIdIsIdempotentAndASecondCycleHasNothingToSettle) {
  ThreeBanks t;
  Network& n = t.n;
  t.Issue(n.ana_palma, 10000);
  t.Pay(n.ana_palma, n.bia_sol, 2500);
  t.Pay(n.ana_palma, t.cleo_lua, 1500);

  CycleReport first;
  const RequestId cycle_id = n.Next();
  n.Begin();
  const OpResult r1 = n.ledger.RunCycle({cycle_id}, &first);
  n.Seal();
  ASSERT_EQ(r1.outcome, Outcome::kOk);
  const Snapshot after_first = Take(n.ledger);

  // The same cycle id again: kExists, the original report, nothing posted.
  CycleReport again;
  n.Begin();
  const OpResult r2 = n.ledger.RunCycle({cycle_id}, &again);
  EXPECT_EQ(n.ledger.batch_transfer_count(), 0u);
  const SealedBatch sb2 = n.Seal();
  EXPECT_EQ(r2.outcome, Outcome::kExists);
  EXPECT_EQ(r2.id, r1.id);
  EXPECT_EQ(r2.legs, r1.legs);
  EXPECT_EQ(r2.timestamp_ns, r1.timestamp_ns);
  ExpectSameReport(again, first);
  EXPECT_TRUE(sb2.transfers.empty());
  ExpectSameAccounts(after_first, n.ledger);
  EXPECT_EQ(n.ledger.cycles().size(), 1u);
  EXPECT_EQ(n.ledger.request_count(), after_first.requests);

  // A cycle id already used by another operation is refused, naming the operation.
  n.Begin();
  const RequestId pay_id = n.Next();
  ASSERT_EQ(n.ledger.Pay({pay_id, n.ana_palma, n.caio_palma, Amount(1)}).outcome, Outcome::kOk);
  const OpResult clash = n.ledger.RunCycle({pay_id});
  EXPECT_EQ(clash.outcome, Outcome::kExistsWithDifferentFields);
  EXPECT_STREQ(clash.detail, "operation");
  n.Seal();

  // A new cycle id with no new obligations succeeds with nothing to settle.
  CycleReport second;
  n.Begin();
  const OpResult r3 = n.ledger.RunCycle({n.Next()}, &second);
  const SealedBatch sb3 = n.Seal();
  ASSERT_EQ(r3.outcome, Outcome::kOk) << OutcomeName(r3.outcome);
  EXPECT_EQ(r3.id, 2u);
  EXPECT_EQ(second.number, 2u);
  EXPECT_EQ(r3.legs, 0u);
  EXPECT_TRUE(second.obligations.empty());
  EXPECT_EQ(second.plan.gross_total, Amount(0));
  EXPECT_TRUE(second.plan.instructions.empty());
  EXPECT_TRUE(sb3.transfers.empty());
  EXPECT_EQ(n.ledger.cycles().size(), 2u);
  n.ExpectClean();
}

TEST(RunCycle, ShortDebtorRefusesWholeCycleAndPostsNothing) {
  // Under a fractional policy the rules still keep RESERVE ≥ −net, so the short state is
  // built behind the ledger's back.
  ThreeBanks t(/*coverage_bp=*/5000);
  Network& n = t.n;
  t.Issue(n.ana_palma, 10000);
  t.Issue(n.bia_sol, 4000);
  t.Pay(n.ana_palma, n.bia_sol, 6000);  // A owes B 60.00
  t.Pay(n.bia_sol, t.cleo_lua, 1000);   // B owes C 10.00
  n.ExpectClean();
  ASSERT_EQ(n.Sys(n.a, AccountKind::kReserve), Amount(10000));
  // Move 50.00 of A's reserve to its vault: 50.00 left, 60.00 due.
  LedgerTestAccess::ForceMove(n.ledger, t.Reserve(n.a), n.ledger.FindBank(n.a)->vault, 5000);

  n.Begin();
  const Snapshot before = Take(n.ledger);
  const RequestId cycle_id = n.Next();
  CycleReport rep;
  const OpResult r = n.ledger.RunCycle({cycle_id}, &rep);
  EXPECT_EQ(r.outcome, Outcome::kSettlementShort);
  EXPECT_EQ(rep.short_debtors, std::vector<BankId>{n.a});
  // The report still carries the plan that could not be posted.
  EXPECT_EQ(rep.plan.gross_total, Amount(7000));
  EXPECT_EQ(rep.plan.instructions, (std::vector<SettlementInstruction>{{n.a, n.b, Amount(5000)},
                                                                       {n.a, t.c, Amount(1000)}}));
  EXPECT_EQ(n.ledger.batch_transfer_count(), 0u);
  EXPECT_EQ(n.ledger.request_count(), before.requests);
  EXPECT_EQ(n.ledger.cycles().size(), before.cycles);
  ExpectSameAccounts(before, n.ledger);
  const SealedBatch sb = n.Seal();
  EXPECT_TRUE(sb.transfers.empty());
  EXPECT_EQ(sb.bytes.size(), kBatchHeaderBytes) << "a refused cycle leaves no event";
  EXPECT_EQ(n.Due(AccountKind::kDueTo, n.a, n.b), Amount(-6000));
  EXPECT_EQ(n.Due(AccountKind::kDueFrom, n.b, n.a), Amount(6000));

  // Refusals are not recorded: once the reserve is back, the same id settles.
  LedgerTestAccess::ForceMove(n.ledger, n.ledger.FindBank(n.a)->vault, t.Reserve(n.a), 5000);
  n.Begin();
  CycleReport ok;
  const OpResult r2 = n.ledger.RunCycle({cycle_id}, &ok);
  n.Seal();
  EXPECT_EQ(r2.outcome, Outcome::kOk) << OutcomeName(r2.outcome);
  EXPECT_TRUE(ok.short_debtors.empty());
  ExpectAllDueZero(n);
  EXPECT_EQ(n.Sys(n.a, AccountKind::kReserve), Amount(10000 - 6000));
}

TEST(RunCycle, ShortDebtorIsOnlyTheShortOne) {
  // Two debtors, only one short: the report names exactly that one.
  ThreeBanks t(/*coverage_bp=*/5000);
  Network& n = t.n;
  t.Issue(n.ana_palma, 10000);
  t.Issue(n.bia_sol, 10000);
  t.Pay(n.ana_palma, t.cleo_lua, 3000);  // A owes C
  t.Pay(n.bia_sol, t.cleo_lua, 4000);    // B owes C
  LedgerTestAccess::ForceMove(n.ledger, t.Reserve(n.b), n.ledger.FindBank(n.b)->vault, 7000);
  n.Begin();
  CycleReport rep;
  EXPECT_EQ(n.ledger.RunCycle({n.Next()}, &rep).outcome, Outcome::kSettlementShort);
  EXPECT_EQ(rep.short_debtors, std::vector<BankId>{n.b});
  EXPECT_EQ(n.ledger.batch_transfer_count(), 0u);
  n.ledger.AbortBatch();
}

}  // namespace
}  // namespace ayni
