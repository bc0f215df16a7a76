// RequestTable: inserts, lookups across growth, and undo-order erasure with
// backward-shift deletion (every remaining key must stay findable).
#include "clearing/request_table.h"

#include <gtest/gtest.h>

#include <random>
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

TEST(RequestTable, UnknownKeyIsAbsent) {
  RequestTable<int> t;
  EXPECT_EQ(t.Find(RequestId::FromParts(9, 9)), nullptr);
  t.Insert(RequestId::FromParts(9, 9), 3);
  EXPECT_EQ(*t.Find(RequestId::FromParts(9, 9)), 3);
  EXPECT_EQ(t.Find(RequestId::FromParts(9, 8)), nullptr);
}

}  // namespace
}  // namespace ayni
