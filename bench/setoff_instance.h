// The seeded set-off instance of the benchmark (SPEC §9: 100k invoices among 10k firms),
// shared with the test that checks its optimality against GLPK once.
//
// A producer network rather than a uniform random graph: every firm buys from a few
// regular suppliers (2 to 6), most of them near it in a ring of sectors/towns (firm
// indices within ±50) and some anywhere; a tenth of the firms are shops that buy but
// supply nobody, so their invoices lie on no cycle and the SCC reduction has work to do.
// Invoices go from a uniformly chosen buyer to one of its suppliers; amounts are spread
// over orders of magnitude (a uniform number of digits 1..6, then uniform within it),
// capped at 1,000,000 minor units. Integer arithmetic only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "clearing/setoff.h"

namespace ayni::bench {

inline constexpr int64_t kSetoffAmountMax = 1'000'000;

inline std::vector<Invoice> SetoffInstance(int firms, int invoices, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int shops = firms / 10;  // firms [0, shops) supply nobody
  const int producers = firms - shops;
  const auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  std::vector<std::vector<int>> suppliers(static_cast<size_t>(firms));
  for (int f = 0; f < firms; ++f) {
    const int k = static_cast<int>(uniform(2, 6));
    while (static_cast<int>(suppliers[f].size()) < k) {
      int s;
      if (uniform(0, 9) < 7) {  // a nearby producer
        s = shops + static_cast<int>((f + uniform(-50, 50) + 2 * static_cast<int64_t>(producers)) %
                                     producers);
      } else {
        s = shops + static_cast<int>(uniform(0, producers - 1));
      }
      if (s != f && std::find(suppliers[f].begin(), suppliers[f].end(), s) == suppliers[f].end()) {
        suppliers[f].push_back(s);
      }
    }
  }
  std::vector<Invoice> out;
  out.reserve(static_cast<size_t>(invoices));
  for (int n = 0; n < invoices; ++n) {
    const int debtor = static_cast<int>(uniform(0, firms - 1));
    const std::vector<int>& from = suppliers[debtor];
    const int creditor =
        from[static_cast<size_t>(uniform(0, static_cast<int64_t>(from.size()) - 1))];
    int64_t p = 1;
    for (int64_t d = uniform(1, 6); d > 1; --d) p *= 10;  // 10^(digits−1)
    const int64_t amount = std::min(uniform(p, 10 * p - 1), kSetoffAmountMax);
    out.push_back({InvoiceId::FromParts(seed, static_cast<uint64_t>(n) + 1),
                   MemberId(static_cast<uint64_t>(debtor) + 1),
                   MemberId(static_cast<uint64_t>(creditor) + 1), Amount(amount), CurrencyId(1)});
  }
  return out;
}

}  // namespace ayni::bench
