// The idempotency table's insert tail (clearing/request_table.h).
//
// The ledger keeps every request id a bank has ever seen, so the table grows with the
// bank, and how it grows decides the worst wait of a batch. This inserts fresh random ids
// with 72-byte records (the size of the ledger's RequestRecord) one after another, times
// every run of 1,000 inserts (about one writer batch), and reports the slowest run, the
// 99.9th percentile of runs, and the insert rate. One iteration per size: the figure is a
// worst case, not an average, and a second pass would start from a warm allocator.
//
//   worst_1000_ms    slowest run of 1,000 inserts (a growth step or a page-fault burst)
//   p999_1000_ms     99.9th percentile of the runs
//   runs_over_5ms    how many runs took longer than 5 ms
//   items_per_second inserts
//
// Run: ./build-bench/bench/ayni_bench_request_table
// A benchmark measures and writes figures; it is not a test (STYLE).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "clearing/ids.h"
#include "clearing/request_table.h"

namespace ayni {
namespace {

struct Record {  // as large as Ledger::RequestRecord
  uint64_t words[9];
};
static_assert(sizeof(Record) == 72);

constexpr int64_t kRun = 1'000;

void BM_InsertTail(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::mt19937_64 rng(42);
  std::vector<RequestId> ids;
  ids.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t hi = rng() | 1;  // never the all-zero id, which marks an empty slot
    ids.push_back(RequestId::FromParts(hi, rng()));
  }
  std::vector<double> runs_ms;
  runs_ms.reserve(static_cast<size_t>(n / kRun));
  double total_s = 0;
  for (auto _ : state) {
    RequestTable<Record> table;
    Record r{};
    const auto start = std::chrono::steady_clock::now();
    auto run_start = start;
    for (int64_t i = 0; i < n; ++i) {
      r.words[0] = static_cast<uint64_t>(i);
      table.Insert(ids[static_cast<size_t>(i)], r);
      if ((i + 1) % kRun == 0) {
        const auto now = std::chrono::steady_clock::now();
        runs_ms.push_back(std::chrono::duration<double, std::milli>(now - run_start).count());
        run_start = now;
      }
    }
    total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (table.size() != static_cast<size_t>(n)) state.SkipWithError("table lost inserts");
    benchmark::DoNotOptimize(table.Find(ids.front()));
  }
  std::sort(runs_ms.begin(), runs_ms.end());
  state.counters["worst_1000_ms"] = runs_ms.back();
  state.counters["p999_1000_ms"] = runs_ms[runs_ms.size() * 999 / 1000];
  state.counters["runs_over_5ms"] = static_cast<double>(
      runs_ms.end() - std::upper_bound(runs_ms.begin(), runs_ms.end(), 5.0));
  state.counters["items_per_second"] = static_cast<double>(n) / total_s;
}
BENCHMARK(BM_InsertTail)->Arg(1 << 20)->Arg(4 << 20)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ayni

BENCHMARK_MAIN();
