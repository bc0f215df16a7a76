// RequestTable: inserts, lookups across growth, and undo-order erasure with
// backward-shift deletion (every remaining key must stay findable), also while a grown
// table is still being filled from the old one.
#include "clearing/request_table.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ayni {
namespace {

TEST(RequestTable, FindsEveryKeyAcrossGrowthAndUndo) {
  std::mt19937_64 rng(7);
  RequestTable<uint64_t> t;
  std::vector<RequestId> keys;
  // 70,000 keys take the table past 2 MiB of slots, onto the huge-page allocation path.
  for (uint64_t i = 0; i < 70000; ++i) {
    // Half sequential (clustered hashes without a good mixer), half random.
    const RequestId k =
        i % 2 == 0 ? RequestId::FromParts(1, i) : RequestId::FromParts(rng(), rng() | 1);
    ASSERT_EQ(t.Find(k), nullptr);
    t.Insert(k, i);
    keys.push_back(k);
  }
  ASSERT_EQ(t.size(), keys.size());
  for (uint64_t i = 0; i < keys.size(); ++i) {
    const uint64_t* v = t.Find(keys[i]);
    ASSERT_NE(v, nullptr) << i;
    EXPECT_EQ(*v, i);
  }
  // Undo the newest 65,000 in reverse order, checking the survivors as we go.
  for (size_t n = keys.size(); n > 5000; --n) {
    t.Erase(keys[n - 1]);
    EXPECT_EQ(t.Find(keys[n - 1]), nullptr);
    if (n % 1000 == 0) {
      for (size_t i = 0; i + 1 < n; ++i) ASSERT_NE(t.Find(keys[i]), nullptr) << "lost key " << i;
    }
  }
  EXPECT_EQ(t.size(), 5000u);
  for (size_t i = 0; i < 5000; ++i) {
    const uint64_t* v = t.Find(keys[i]);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(*v, i);
  }
}

// Random inserts, retries of undone keys and undos of the newest inserts, against a model,
// across several growths; every key the model holds must be found with its value and
// every undone key must be absent, in particular while the old table is being drained.
TEST(RequestTable, MatchesAModelWhileGrowing) {
  std::mt19937_64 rng(11);
  RequestTable<uint64_t> t;
  std::vector<std::pair<RequestId, uint64_t>> live;  // insertion order
  std::vector<RequestId> undone;
  std::unordered_set<RequestId> undone_set;
  uint64_t next_value = 1;
  size_t erased_while_growing = 0, checks_while_growing = 0, growths_undone = 0;
  auto check = [&] {
    ASSERT_EQ(t.size(), live.size());
    for (const auto& [k, v] : live) {
      const uint64_t* found = t.Find(k);
      ASSERT_NE(found, nullptr);
      ASSERT_EQ(*found, v);
    }
    for (const RequestId& k : undone) {
      if (undone_set.count(k) != 0) {
        ASSERT_EQ(t.Find(k), nullptr);
      }
    }
    if (t.growing()) ++checks_while_growing;
  };
  auto undo_newest = [&] {
    t.Erase(live.back().first);
    ASSERT_EQ(t.Find(live.back().first), nullptr);
    undone.push_back(live.back().first);
    undone_set.insert(live.back().first);
    live.pop_back();
  };
  for (int step = 0; step < 400000; ++step) {
    const uint64_t dice = rng() % 100;
    if (dice < 97 || live.empty()) {
      RequestId k = RequestId::FromParts(rng(), rng() | 1);
      if (dice < 4 && !undone.empty()) {  // a retry of a request whose batch was undone
        const RequestId retry = undone[rng() % undone.size()];
        if (undone_set.erase(retry) != 0) k = retry;
      }
      ASSERT_EQ(t.Find(k), nullptr);
      const bool was_growing = t.growing();
      t.Insert(k, next_value);
      live.emplace_back(k, next_value++);
      // This insert started a growth: undo it and some inserted before it, which are in
      // the old table only (or also moved), as when the batch that grew the table fails.
      if (!was_growing && t.growing()) {
        ++growths_undone;
        for (size_t n = 2 + rng() % 30; n > 0; --n) ASSERT_NO_FATAL_FAILURE(undo_newest());
        check();
      }
    } else {  // undo the newest 1–16 inserts, newest first
      for (size_t n = 1 + rng() % 16; n > 0 && !live.empty(); --n) {
        if (t.growing()) ++erased_while_growing;
        ASSERT_NO_FATAL_FAILURE(undo_newest());
      }
    }
    // Check everything often while the old table is drained, rarely otherwise.
    if (step % (t.growing() ? 997 : 20011) == 0) check();
  }
  check();
  // The paths this test is for were taken.
  EXPECT_GT(erased_while_growing, 100u);
  EXPECT_GE(growths_undone, 8u);  // 1,024 slots to past 2^19
  EXPECT_GT(checks_while_growing, 5u);
  EXPECT_GT(live.size(), 200000u);  // past 2 MiB of slots: the mapped, prefaulted tables
}

TEST(RequestTable, UnknownKeyIsAbsent) {
  RequestTable<int> t;
  EXPECT_EQ(t.Find(RequestId::FromParts(9, 9)), nullptr);
  t.Insert(RequestId::FromParts(9, 9), 3);
  EXPECT_EQ(*t.Find(RequestId::FromParts(9, 9)), 3);
  EXPECT_EQ(t.Find(RequestId::FromParts(9, 8)), nullptr);
}

}  // namespace
}  // namespace ayni
