// Obligation set-off benchmarks (SPEC §9: 100k invoices among 10k firms, optimal, < 5 s).
//
// Each iteration is one whole ComputeSetoff run: validation, net positions, SCC reduction,
// LEMON NetworkSimplex, the invariant checks and the notices. The instance
// (bench/setoff_instance.h, seed kSeed) is generated outside the timed region. Counters:
//   invoices, firms      the instance
//   solver_invoices      invoices inside a strongly connected component (solved)
//   gross, set_off       Σ amounts and Σ set off, minor units
//   set_off_pct          set_off / gross in percent
// Optimality of the 100k instance is checked against GLPK by the `slow` test
// setoff_bench_check_test, not here: a benchmark measures and writes figures (STYLE).
//
// Run: ./build/bench/ayni_bench_setoff --benchmark_min_time=1 --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "bench/setoff_instance.h"
#include "clearing/setoff.h"

namespace ayni {
namespace {

constexpr uint64_t kSeed = 2026;

void BM_Setoff(benchmark::State& state) {
  const int firms = static_cast<int>(state.range(0));
  const int invoices = static_cast<int>(state.range(1));
  const std::vector<Invoice> instance = bench::SetoffInstance(firms, invoices, kSeed);
  CurrencySetoff totals;
  for (auto _ : state) {
    Result<SetoffResult> r = ComputeSetoff(instance);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    totals = r->currencies.at(0);
    benchmark::DoNotOptimize(r);
  }
  state.counters["invoices"] = static_cast<double>(invoices);
  state.counters["firms"] = static_cast<double>(firms);
  state.counters["solver_invoices"] = static_cast<double>(totals.solver_invoices);
  state.counters["gross"] = static_cast<double>(totals.gross.minor());
  state.counters["set_off"] = static_cast<double>(totals.set_off.minor());
  state.counters["set_off_pct"] = 100.0 * static_cast<double>(totals.set_off.minor()) /
                                  static_cast<double>(totals.gross.minor());
  state.SetItemsProcessed(state.iterations() * invoices);
}
BENCHMARK(BM_Setoff)
    ->Args({1'000, 10'000})
    ->Args({3'000, 30'000})
    ->Args({10'000, 100'000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace ayni

BENCHMARK_MAIN();
