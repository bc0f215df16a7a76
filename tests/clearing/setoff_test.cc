// Obligation set-off (SPEC §4, issue 6): ComputeSetoff on hand-made graphs with
// hand-computed answers, every input refusal, and optimality on seeded random instances
// against two oracles that share no code with the solver (tests/clearing/setoff_oracles.h):
// exhaustive search on ≤ 5 firms, and GLPK's LP on larger graphs. Then PlanMutualCredit.
//
// The seed comes from AYNI_SEED when set, random otherwise; it is printed at the start and
// in every failure: `AYNI_SEED=<n> ctest -R setoff_test -V` replays a run.
#include "clearing/setoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/clearing/setoff_oracles.h"

namespace ayni {
namespace {

// Random instance counts (the issue's floor is 1,000 random small instances in total).
constexpr int kExhaustiveInstances = 1000;
constexpr int kLpInstances = 400;
constexpr int kMutualCreditInstances = 300;

InvoiceId Id(uint64_t n) { return InvoiceId::FromParts(0x1A7, n); }
Invoice Inv(uint64_t id, uint64_t debtor, uint64_t creditor, int64_t amount,
            uint64_t currency = 1) {
  return {Id(id), MemberId(debtor), MemberId(creditor), Amount(amount), CurrencyId(currency)};
}
SetoffResult Solve(const std::vector<Invoice>& invoices) {
  Result<SetoffResult> r = ComputeSetoff(invoices);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return SetoffResult{};
  return std::move(r).value();
}
// Expected (set off, remainder) per invoice, in input order.
void ExpectNotices(const std::vector<Invoice>& invoices, const SetoffResult& r,
                   const std::vector<std::pair<int64_t, int64_t>>& expected) {
  ASSERT_EQ(r.notices.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("invoice #" + std::to_string(i));
    EXPECT_EQ(r.notices[i].invoice, invoices[i].id);
    EXPECT_EQ(r.notices[i].set_off, Amount(expected[i].first));
    EXPECT_EQ(r.notices[i].remainder, Amount(expected[i].second));
  }
}

uint64_t SeedFromEnv() {
  if (const char* s = std::getenv("AYNI_SEED"); s != nullptr && *s != '\0') {
    return std::strtoull(s, nullptr, 10);
  }
  return std::random_device{}();
}
const uint64_t kSeed = [] {
  const uint64_t seed = SeedFromEnv();
  std::printf("setoff_test seed: AYNI_SEED=%" PRIu64 "\n", seed);
  return seed;
}();
std::string SeedNote() { return "AYNI_SEED=" + std::to_string(kSeed); }

// Checks, with arithmetic of its own, what must hold for every run: one notice per
// invoice, 0 ≤ set off ≤ amount, set off + remainder = amount, no net position changes,
// positions and totals as stated. Returns Σ remainders per currency.
std::map<uint64_t, int64_t> CheckRun(const std::vector<Invoice>& invoices, const SetoffResult& r) {
  std::map<uint64_t, int64_t> remaining, gross;
  std::map<std::pair<uint64_t, uint64_t>, int64_t> before, after, receivable, payable;
  EXPECT_EQ(r.notices.size(), invoices.size());
  if (r.notices.size() != invoices.size()) return remaining;
  for (size_t i = 0; i < invoices.size(); ++i) {
    const Invoice& inv = invoices[i];
    const SetoffNotice& n = r.notices[i];
    EXPECT_EQ(n.invoice, inv.id);
    EXPECT_GE(n.set_off.minor(), 0);
    EXPECT_LE(n.set_off.minor(), inv.amount.minor());
    EXPECT_EQ(n.set_off.minor() + n.remainder.minor(), inv.amount.minor());
    const uint64_t c = inv.currency.value();
    const auto d = std::make_pair(c, inv.debtor.value());
    const auto k = std::make_pair(c, inv.creditor.value());
    before[d] -= inv.amount.minor();
    before[k] += inv.amount.minor();
    after[d] -= n.remainder.minor();
    after[k] += n.remainder.minor();
    payable[d] += inv.amount.minor();
    receivable[k] += inv.amount.minor();
    remaining[c] += n.remainder.minor();
    gross[c] += inv.amount.minor();
  }
  EXPECT_EQ(before, after) << "a net position changed";
  EXPECT_EQ(r.positions.size(), before.size());
  for (const FirmPosition& p : r.positions) {
    const auto key = std::make_pair(p.currency.value(), p.firm.value());
    EXPECT_EQ(p.net.minor(), before[key]);
    EXPECT_EQ(p.receivable.minor(), receivable[key]);
    EXPECT_EQ(p.payable.minor(), payable[key]);
  }
  EXPECT_TRUE(std::is_sorted(
      r.positions.begin(), r.positions.end(), [](const FirmPosition& x, const FirmPosition& y) {
        return std::make_pair(x.currency, x.firm) < std::make_pair(y.currency, y.firm);
      }));
  EXPECT_EQ(r.currencies.size(), gross.size());
  for (const CurrencySetoff& t : r.currencies) {
    const uint64_t c = t.currency.value();
    EXPECT_EQ(t.gross.minor(), gross[c]);
    EXPECT_EQ(t.remaining.minor(), remaining[c]);
    EXPECT_EQ(t.set_off.minor(), gross[c] - remaining[c]);
    int64_t floor = 0;
    for (const auto& [key, net] : before) {
      if (key.first == c && net > 0) floor += net;
    }
    EXPECT_EQ(t.net_balance.minor(), floor);
    EXPECT_GE(t.remaining, t.net_balance);
  }
  return remaining;
}

// ---- Hand-made graphs ------------------------------------------------------------------

TEST(Setoff, EmptyInputIsAnEmptyResult) {
  const SetoffResult r = Solve({});
  EXPECT_TRUE(r.notices.empty());
  EXPECT_TRUE(r.currencies.empty());
  EXPECT_TRUE(r.positions.empty());
}

TEST(Setoff, ThreeCycleIsFullyCleared) {
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 100), Inv(2, 2, 3, 100), Inv(3, 3, 1, 100)};
  const SetoffResult r = Solve(inv);
  ExpectNotices(inv, r, {{100, 0}, {100, 0}, {100, 0}});
  ASSERT_EQ(r.currencies.size(), 1u);
  EXPECT_EQ(r.currencies[0],
            (CurrencySetoff{CurrencyId(1), 3, 3, Amount(300), Amount(300), Amount(0), Amount(0)}));
  ASSERT_EQ(r.positions.size(), 3u);
  EXPECT_EQ(r.positions[0],
            (FirmPosition{CurrencyId(1), MemberId(1), Amount(100), Amount(100), Amount(0)}));
  CheckRun(inv, r);
}

TEST(Setoff, UnequalThreeCycleClearsItsSmallestInvoice) {
  // 1 owes 2 100, 2 owes 3 70, 3 owes 1 50: 50 comes off each; nets −50, +30, +20.
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 100), Inv(2, 2, 3, 70), Inv(3, 3, 1, 50)};
  const SetoffResult r = Solve(inv);
  ExpectNotices(inv, r, {{50, 50}, {50, 20}, {50, 0}});
  ASSERT_EQ(r.currencies.size(), 1u);
  // 70 remains though the floor is 50: there is no invoice 1→3 to carry 20 directly.
  EXPECT_EQ(r.currencies[0], (CurrencySetoff{CurrencyId(1), 3, 3, Amount(220), Amount(150),
                                             Amount(70), Amount(50)}));
  ASSERT_EQ(r.positions.size(), 3u);
  EXPECT_EQ(r.positions[0].net, Amount(-50));
  EXPECT_EQ(r.positions[1].net, Amount(30));
  EXPECT_EQ(r.positions[2].net, Amount(20));
  CheckRun(inv, r);
}

TEST(Setoff, ChainHasNothingToClear) {
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 100), Inv(2, 2, 3, 50), Inv(3, 3, 4, 10)};
  const SetoffResult r = Solve(inv);
  ExpectNotices(inv, r, {{0, 100}, {0, 50}, {0, 10}});
  ASSERT_EQ(r.currencies.size(), 1u);
  EXPECT_EQ(r.currencies[0], (CurrencySetoff{CurrencyId(1), 3, 0, Amount(160), Amount(0),
                                             Amount(160), Amount(100)}));
  CheckRun(inv, r);
}

TEST(Setoff, OverlappingCyclesTheLongerCycleWins) {
  // The 2-cycle 1⇄2 and the 4-cycle 1→2→3→4→1 share the invoice 1→2 (10). Clearing the
  // 2-cycle cancels 20; the 4-cycle cancels 40. Only one fits: the optimum is the 4-cycle,
  // and 2→1 stays whole (a greedy that takes the shortest cycle first gets 20).
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 10), Inv(2, 2, 1, 10), Inv(3, 2, 3, 10),
                                    Inv(4, 3, 4, 10), Inv(5, 4, 1, 10)};
  const SetoffResult r = Solve(inv);
  ExpectNotices(inv, r, {{10, 0}, {0, 10}, {10, 0}, {10, 0}, {10, 0}});
  ASSERT_EQ(r.currencies.size(), 1u);
  EXPECT_EQ(r.currencies[0].set_off, Amount(40));
  EXPECT_EQ(r.currencies[0].remaining, Amount(10));
  CheckRun(inv, r);
}

TEST(Setoff, CyclesSharingAFirmAreBothCleared) {
  // A figure eight through firm 1: 1⇄2 (5 each way) and 1→3→4→1 (7 each).
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 5), Inv(2, 2, 1, 5), Inv(3, 1, 3, 7),
                                    Inv(4, 3, 4, 7), Inv(5, 4, 1, 7)};
  const SetoffResult r = Solve(inv);
  ExpectNotices(inv, r, {{5, 0}, {5, 0}, {7, 0}, {7, 0}, {7, 0}});
  CheckRun(inv, r);
}

TEST(Setoff, OverlappingCyclesShareAnInvoicesCapacity) {
  // 1→2 (10) is on 1→2→3→1 (7s) and on 1→2→4→1 (5s): both cycles together can take at
  // most 10 through 1→2, three invoices per cycle, so 30 is the most that can be set off.
  // How the 10 splits between the cycles is not unique; the total is.
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 10), Inv(2, 2, 3, 7), Inv(3, 3, 1, 7),
                                    Inv(4, 2, 4, 5), Inv(5, 4, 1, 5)};
  const SetoffResult r = Solve(inv);
  ASSERT_EQ(r.currencies.size(), 1u);
  EXPECT_EQ(r.currencies[0].set_off, Amount(30));
  EXPECT_EQ(r.notices[0].set_off, Amount(10));
  CheckRun(inv, r);
}

TEST(Setoff, TwoCurrenciesAreSolvedIndependently) {
  // Currency 1: a 3-cycle, fully cleared. Currency 2: the same firms, a cycle broken in
  // currency 2 and closed only by an invoice in currency 1, so nothing clears there.
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 40, 1), Inv(2, 2, 3, 40, 1), Inv(3, 3, 1, 40, 1),
                                    Inv(4, 2, 1, 25, 2), Inv(5, 3, 2, 25, 2), Inv(6, 1, 3, 30, 1)};
  const SetoffResult r = Solve(inv);
  // In currency 1, 1→3 (30) and 3→1 (40) also form a 2-cycle. Nets are 1: −30, 2: 0,
  // 3: +30; the least that can remain is 30, only on 1→3 (through 1→2→3 it would count
  // twice). Cancelled: 150 − 30 = 120 in currency 1, and both currency-2 invoices stay.
  ExpectNotices(inv, r, {{40, 0}, {40, 0}, {40, 0}, {0, 25}, {0, 25}, {0, 30}});
  ASSERT_EQ(r.currencies.size(), 2u);
  EXPECT_EQ(r.currencies[0], (CurrencySetoff{CurrencyId(1), 4, 4, Amount(150), Amount(120),
                                             Amount(30), Amount(30)}));
  EXPECT_EQ(r.currencies[1],
            (CurrencySetoff{CurrencyId(2), 2, 0, Amount(50), Amount(0), Amount(50), Amount(25)}));
  EXPECT_EQ(r.notices[3], (SetoffNotice{Id(4), Amount(0), Amount(25)}));
  EXPECT_EQ(r.notices[4], (SetoffNotice{Id(5), Amount(0), Amount(25)}));
  ASSERT_EQ(r.positions.size(), 6u);  // three firms in each currency
  EXPECT_EQ(r.positions[3],
            (FirmPosition{CurrencyId(2), MemberId(1), Amount(25), Amount(0), Amount(25)}));
  CheckRun(inv, r);
}

TEST(Setoff, BridgeBetweenComponentsStaysWhole) {
  // Two 3-cycles {1,2,3} and {4,5,6}, joined by 3→4 (1000): the bridge lies on no cycle,
  // so it never enters the solver and is never set off, however large.
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 9),    Inv(2, 2, 3, 9), Inv(3, 3, 1, 9),
                                    Inv(4, 3, 4, 1000), Inv(5, 4, 5, 4), Inv(6, 5, 6, 4),
                                    Inv(7, 6, 4, 6)};
  const SetoffResult r = Solve(inv);
  ExpectNotices(inv, r, {{9, 0}, {9, 0}, {9, 0}, {0, 1000}, {4, 0}, {4, 0}, {4, 2}});
  ASSERT_EQ(r.currencies.size(), 1u);
  EXPECT_EQ(r.currencies[0].solver_invoices, 6u);
  EXPECT_EQ(r.currencies[0].set_off, Amount(39));
  CheckRun(inv, r);
}

TEST(Setoff, ParallelInvoicesBetweenOnePair) {
  // 1 owes 2 on two invoices (30, 20), 2 owes 1 40: 40 clears on each side. Which of the
  // parallel invoices takes how much is the solver's choice, but it is the same every run.
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 30), Inv(2, 1, 2, 20), Inv(3, 2, 1, 40)};
  const SetoffResult r = Solve(inv);
  EXPECT_EQ(r.notices[2], (SetoffNotice{Id(3), Amount(40), Amount(0)}));
  EXPECT_EQ(r.notices[0].set_off.minor() + r.notices[1].set_off.minor(), 40);
  EXPECT_EQ(Solve(inv).notices, r.notices);
  CheckRun(inv, r);
}

TEST(Setoff, ResultDoesNotDependOnInputOrder) {
  std::vector<Invoice> inv = {Inv(1, 1, 2, 30), Inv(2, 1, 2, 20), Inv(3, 2, 1, 40),
                              Inv(4, 2, 3, 15), Inv(5, 3, 1, 15), Inv(6, 3, 2, 8)};
  const SetoffResult r = Solve(inv);
  std::map<InvoiceId, SetoffNotice> by_id;
  for (const SetoffNotice& n : r.notices) by_id[n.invoice] = n;
  std::mt19937_64 rng(kSeed);
  for (int round = 0; round < 20; ++round) {
    std::shuffle(inv.begin(), inv.end(), rng);
    const SetoffResult s = Solve(inv);
    for (const SetoffNotice& n : s.notices) EXPECT_EQ(n, by_id[n.invoice]) << SeedNote();
    EXPECT_EQ(s.currencies, r.currencies);
    EXPECT_EQ(s.positions, r.positions);
  }
}

TEST(Setoff, LargeAmountsNearTheInt64Limit) {
  // Each firm's gross stays within int64; the solver works in int64 throughout.
  const int64_t big = INT64_MAX / 2;
  const std::vector<Invoice> inv = {Inv(1, 1, 2, big), Inv(2, 2, 1, big - 7), Inv(3, 3, 4, 1)};
  const SetoffResult r = Solve(inv);
  ExpectNotices(inv, r, {{big - 7, 7}, {big - 7, 0}, {0, 1}});
  CheckRun(inv, r);
}

// ---- Refusals --------------------------------------------------------------------------

struct RefusalCase {
  const char* name;
  std::vector<Invoice> invoices;
  std::string message_part;
};

TEST(Setoff, RefusesBadInput) {
  const int64_t half = INT64_MAX / 2 + 1;
  Invoice zero_id = Inv(1, 1, 2, 5);
  zero_id.id = InvoiceId();
  const std::vector<RefusalCase> cases = {
      {"zero id", {Inv(1, 1, 2, 5), zero_id}, "invoice #1 (id 0000"},
      {"zero id", {zero_id}, "invoice id is zero"},
      {"zero debtor", {Inv(1, 0, 2, 5)}, "debtor and creditor must be set"},
      {"zero creditor", {Inv(1, 1, 0, 5)}, "debtor and creditor must be set"},
      {"zero currency", {Inv(1, 1, 2, 5, 0)}, "currency not set"},
      {"self-invoice", {Inv(1, 1, 2, 5), Inv(2, 3, 3, 5)}, "invoice #1"},
      {"self-invoice", {Inv(1, 3, 3, 5)}, "same firm 3"},
      {"zero amount", {Inv(1, 1, 2, 0)}, "amount must be > 0, got 0"},
      {"negative amount", {Inv(1, 1, 2, -4)}, "amount must be > 0, got -4"},
      {"duplicate id",
       {Inv(7, 1, 2, 5), Inv(8, 2, 3, 5), Inv(7, 3, 1, 5)},
       "invoice #2 (id " + Id(7).ToHex() + "): id repeats invoice #0"},
      {"duplicate id, other currency",
       {Inv(7, 1, 2, 5, 1), Inv(7, 1, 2, 5, 2)},
       "id repeats invoice #0"},
      {"payable overflows",
       {Inv(1, 1, 2, half), Inv(2, 1, 3, half)},
       "firm 1's gross payable in currency 1 overflows int64"},
      {"receivable overflows",
       {Inv(1, 2, 1, half), Inv(2, 3, 1, half, 1)},
       "firm 1's gross receivable in currency 1 overflows int64"},
      {"currency gross overflows",
       {Inv(1, 1, 2, half), Inv(2, 3, 4, half, 1)},
       "gross debt in currency 1 overflows int64"},
      {"second currency's gross overflows",
       {Inv(1, 1, 2, 5, 1), Inv(2, 2, 1, 5, 1), Inv(3, 1, 2, half, 2), Inv(4, 3, 4, half, 2)},
       "gross debt in currency 2 overflows int64"},
  };
  for (const RefusalCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Result<SetoffResult> r = ComputeSetoff(c.invoices);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos) << r.status().message();
  }
}

TEST(Setoff, RefusesMoreInvoicesThanTheRunsBound) {
  // kSetoffInvoicesMax itself is too large to build here; the same check with a lower bound.
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 5), Inv(2, 2, 3, 5), Inv(3, 3, 1, 5)};
  const Result<SetoffResult> r = ComputeSetoff(inv, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "a set-off run takes at most 2 invoices, got 3");
  EXPECT_TRUE(ComputeSetoff(inv, 3).ok());
}

TEST(Setoff, SameSumsInDifferentCurrenciesDoNotOverflow) {
  // Firm 1's payables would overflow if currencies were mixed; they are not.
  const int64_t half = INT64_MAX / 2 + 1;
  const std::vector<Invoice> inv = {Inv(1, 1, 2, half, 1), Inv(2, 1, 3, half, 2)};
  CheckRun(inv, Solve(inv));
}

// ---- Optimality against independent oracles --------------------------------------------

std::vector<oracle::Edge> EdgesOf(const std::vector<Invoice>& invoices, uint64_t currency) {
  std::vector<oracle::Edge> edges;
  for (const Invoice& inv : invoices) {
    if (inv.currency.value() == currency) {
      edges.push_back({inv.debtor.value(), inv.creditor.value(), inv.amount.minor()});
    }
  }
  return edges;
}

std::vector<Invoice> RandomInstance(std::mt19937_64& rng, int firms, int invoices,
                                    int64_t amount_max, int currencies) {
  std::uniform_int_distribution<int> firm(1, firms);
  std::uniform_int_distribution<int64_t> amount(1, amount_max);
  std::uniform_int_distribution<int> currency(1, currencies);
  // Ids are drawn at random so that input order and id order differ.
  std::set<uint64_t> used;
  std::vector<Invoice> out;
  while (static_cast<int>(out.size()) < invoices) {
    const int d = firm(rng);
    const int c = firm(rng);
    if (d == c) continue;
    uint64_t id = rng() | 1;
    if (!used.insert(id).second) continue;
    out.push_back(Inv(id, d, c, amount(rng), currency(rng)));
  }
  return out;
}

TEST(SetoffOptimality, MatchesExhaustiveSearchOnTinyGraphs) {
  std::mt19937_64 rng(kSeed);
  int64_t cleared_somewhere = 0;
  for (int n = 0; n < kExhaustiveInstances; ++n) {
    const int firms = std::uniform_int_distribution<int>(2, 5)(rng);
    const int count = std::uniform_int_distribution<int>(1, 7)(rng);
    const std::vector<Invoice> inv = RandomInstance(rng, firms, count, 3, 1);
    SCOPED_TRACE(SeedNote() + ", instance " + std::to_string(n));
    const SetoffResult r = Solve(inv);
    const std::map<uint64_t, int64_t> remaining = CheckRun(inv, r);
    const int64_t best = oracle::ExhaustiveMinRemaining(EdgesOf(inv, 1));
    ASSERT_EQ(remaining.at(1), best);
    if (r.currencies[0].set_off.positive()) ++cleared_somewhere;
  }
  // The instances must exercise set-off, not only empty answers.
  EXPECT_GT(cleared_somewhere, kExhaustiveInstances / 4);
}

TEST(SetoffOptimality, MatchesGlpkLinearProgram) {
  std::mt19937_64 rng(kSeed ^ 0x9E3779B97F4A7C15ull);
  for (int n = 0; n < kLpInstances; ++n) {
    const int firms = std::uniform_int_distribution<int>(3, 40)(rng);
    const int count = std::uniform_int_distribution<int>(firms, 4 * firms)(rng);
    const int currencies = std::uniform_int_distribution<int>(1, 3)(rng);
    std::vector<Invoice> inv = RandomInstance(rng, firms, count, 1'000'000, currencies);
    SCOPED_TRACE(SeedNote() + ", instance " + std::to_string(n));
    const SetoffResult r = Solve(inv);
    const std::map<uint64_t, int64_t> remaining = CheckRun(inv, r);
    for (const auto& [currency, rest] : remaining) {
      const std::optional<int64_t> lp = oracle::LpMinRemaining(EdgesOf(inv, currency));
      ASSERT_TRUE(lp.has_value());
      ASSERT_EQ(rest, *lp) << "currency " << currency;
    }
    // Same invoices in another order: the same notice for every invoice.
    std::map<InvoiceId, SetoffNotice> by_id;
    for (const SetoffNotice& s : r.notices) by_id[s.invoice] = s;
    std::shuffle(inv.begin(), inv.end(), rng);
    for (const SetoffNotice& s : Solve(inv).notices) ASSERT_EQ(s, by_id[s.invoice]);
  }
}

// ---- Mutual credit as liquidity --------------------------------------------------------

MutualCreditPlan Plan(CurrencyId currency, const std::vector<Invoice>& invoices,
                      const SetoffResult& setoff, const std::vector<MemberHeadroom>& headroom) {
  Result<MutualCreditPlan> r = PlanMutualCredit(currency, invoices, setoff, headroom);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return MutualCreditPlan{};
  return std::move(r).value();
}
MemberHeadroom Room(uint64_t member, int64_t down, std::optional<int64_t> up = std::nullopt) {
  return {MemberId(member), Amount(down), up ? std::optional<Amount>(Amount(*up)) : std::nullopt};
}

TEST(MutualCredit, ChainPaidWithinHeadroom) {
  // No cycle: set-off clears nothing. 1 may pay out 60: pays 60 of 100 to 2; 2 had no
  // room to pay, but now passes up to 60 on, and 3's ceiling takes only 30 of the 50.
  const CurrencyId mc(5);
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 100, 5), Inv(2, 2, 3, 50, 5)};
  const SetoffResult s = Solve(inv);
  const MutualCreditPlan p = Plan(mc, inv, s, {Room(1, 60), Room(2, 0), Room(3, 0, 30)});
  ASSERT_EQ(p.payments.size(), 2u);
  EXPECT_EQ(p.payments[0], (MutualCreditPayment{Id(1), MemberId(1), MemberId(2), Amount(60)}));
  EXPECT_EQ(p.payments[1], (MutualCreditPayment{Id(2), MemberId(2), MemberId(3), Amount(30)}));
  EXPECT_EQ(p.debt_before, Amount(150));
  EXPECT_EQ(p.debt_after_setoff, Amount(150));
  EXPECT_EQ(p.debt_after_mutual_credit, Amount(60));
}

TEST(MutualCredit, PaysOnlyRemaindersInTheCircleCurrencyBetweenMembers) {
  // Currency 5 holds an unequal 3-cycle (remainders 50, 20, 0) and an invoice to firm 9,
  // not a circle member; currency 6 an invoice between members.
  const CurrencyId mc(5);
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 100, 5), Inv(2, 2, 3, 70, 5), Inv(3, 3, 1, 50, 5),
                                    Inv(4, 1, 9, 10, 5), Inv(5, 2, 1, 10, 6)};
  const SetoffResult s = Solve(inv);
  const MutualCreditPlan p = Plan(mc, inv, s, {Room(1, 1000), Room(2, 1000), Room(3, 1000)});
  ASSERT_EQ(p.payments.size(), 2u);
  EXPECT_EQ(p.payments[0], (MutualCreditPayment{Id(1), MemberId(1), MemberId(2), Amount(50)}));
  EXPECT_EQ(p.payments[1], (MutualCreditPayment{Id(2), MemberId(2), MemberId(3), Amount(20)}));
  EXPECT_EQ(p.debt_before, Amount(230));
  EXPECT_EQ(p.debt_after_setoff, Amount(80));
  EXPECT_EQ(p.debt_after_mutual_credit, Amount(10));
}

TEST(MutualCredit, RefusesBadInput) {
  const std::vector<Invoice> inv = {Inv(1, 1, 2, 100, 5)};
  const SetoffResult s = Solve(inv);
  SetoffResult wrong = s;
  wrong.notices[0].remainder = Amount(99);
  const SetoffResult none;
  struct Case {
    const char* name;
    CurrencyId currency;
    const SetoffResult* setoff;
    std::vector<MemberHeadroom> headroom;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"zero currency", CurrencyId(0), &s, {}, "currency not set"},
      {"notices missing", CurrencyId(5), &none, {}, "do not match the invoices"},
      {"notice altered", CurrencyId(5), &wrong, {}, "set-off notice #0 does not match"},
      {"zero member", CurrencyId(5), &s, {Room(0, 1)}, "member id zero"},
      {"negative down", CurrencyId(5), &s, {Room(1, -1)}, "member 1: down headroom is negative"},
      {"negative up", CurrencyId(5), &s, {Room(1, 1, -1)}, "member 1: up headroom is negative"},
      {"repeated member",
       CurrencyId(5),
       &s,
       {Room(2, 1), Room(1, 1), Room(2, 3)},
       "headroom repeats member 2"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Result<MutualCreditPlan> r = PlanMutualCredit(c.currency, inv, *c.setoff, c.headroom);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos) << r.status().message();
  }
}

TEST(MutualCredit, RandomPlansStayWithinBounds) {
  std::mt19937_64 rng(kSeed ^ 0xC1BCull);
  int64_t paid_somewhere = 0;
  for (int n = 0; n < kMutualCreditInstances; ++n) {
    SCOPED_TRACE(SeedNote() + ", instance " + std::to_string(n));
    const int firms = std::uniform_int_distribution<int>(2, 12)(rng);
    const std::vector<Invoice> inv =
        RandomInstance(rng, firms, std::uniform_int_distribution<int>(1, 30)(rng), 100, 2);
    const SetoffResult s = Solve(inv);
    // Some firms are not members; some members have a ceiling.
    std::vector<MemberHeadroom> headroom;
    std::map<uint64_t, MemberHeadroom> member;
    for (int f = 1; f <= firms; ++f) {
      if (rng() % 5 == 0) continue;
      const int64_t down = static_cast<int64_t>(rng() % 150);
      std::optional<int64_t> up;
      if (rng() % 2 == 0) up = static_cast<int64_t>(rng() % 150);
      headroom.push_back(Room(f, down, up));
      member[f] = headroom.back();
    }
    std::shuffle(headroom.begin(), headroom.end(), rng);
    const MutualCreditPlan p = Plan(CurrencyId(1), inv, s, headroom);

    std::map<InvoiceId, size_t> index;
    for (size_t i = 0; i < inv.size(); ++i) index[inv[i].id] = i;
    std::map<uint64_t, int64_t> outflow;
    int64_t before = 0, after = 0, paid = 0;
    for (size_t i = 0; i < inv.size(); ++i) {
      if (inv[i].currency.value() != 1) continue;
      before += inv[i].amount.minor();
      after += s.notices[i].remainder.minor();
    }
    std::set<InvoiceId> seen;
    for (const MutualCreditPayment& pay : p.payments) {
      ASSERT_TRUE(index.count(pay.invoice));
      ASSERT_TRUE(seen.insert(pay.invoice).second);
      const size_t i = index[pay.invoice];
      EXPECT_EQ(inv[i].currency, CurrencyId(1));
      EXPECT_EQ(pay.from, inv[i].debtor);
      EXPECT_EQ(pay.to, inv[i].creditor);
      EXPECT_TRUE(pay.amount.positive());
      EXPECT_LE(pay.amount, s.notices[i].remainder);
      EXPECT_TRUE(member.count(pay.from.value()) && member.count(pay.to.value()));
      outflow[pay.from.value()] += pay.amount.minor();
      outflow[pay.to.value()] -= pay.amount.minor();
      paid += pay.amount.minor();
    }
    for (const auto& [m, out] : outflow) {
      EXPECT_LE(out, member[m].down.minor()) << "member " << m;
      if (member[m].up) {
        EXPECT_GE(out, -member[m].up->minor()) << "member " << m;
      }
    }
    EXPECT_EQ(p.debt_before.minor(), before);
    EXPECT_EQ(p.debt_after_setoff.minor(), after);
    EXPECT_EQ(p.debt_after_mutual_credit.minor(), after - paid);
    if (paid > 0) ++paid_somewhere;
  }
  EXPECT_GT(paid_somewhere, kMutualCreditInstances / 4);
}

}  // namespace
}  // namespace ayni
