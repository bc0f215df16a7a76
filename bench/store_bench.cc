// PgStore::Append against a real PostgreSQL: what the writer's commit of one batch costs,
// by batch size, without gRPC or the load generator around it (issue 5: profile the
// durable write path). The server's writer spends a batch's PostgreSQL time exactly here.
//
// Set-up: a database of its own (dropped and created), one bank, 10,000 funded member
// accounts and one merchant, every set-up batch appended through the store. Each
// iteration applies `size` Pay commands to the ledger (untimed), seals the batch
// (untimed), then times PgStore::Append — one PostgreSQL transaction, fsync and
// synchronous_commit as the cluster has them — and commits the batch in the ledger.
// items_per_second counts transfers; the time is the wall time of Append (manual time).
//
//   Uniform/N    payments among the 10,000 members
//   HotMerchant/N  every payment to the one merchant (one account row updated per batch)
//   TwoWriters/N   two ledgers, each with its own database and connection, appending a
//                  uniform batch of N at the same time; the time is the wall time until
//                  both have committed. Not a design aynid has (SPEC §6: one writer): it
//                  measures what two backends can do at once on this machine, the ceiling
//                  of writing batch N+1 on a second connection while batch N commits.
//
// Run (deploy/bench.sh does, against its own cluster):
//   AYNI_BENCH_PG="$(deploy/pg.sh dsn DIR)" ./build-bench/bench/ayni_bench_store
// A benchmark measures and writes figures; it is not a test (STYLE).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <pqxx/pqxx>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "clearing/ledger.h"
#include "clearing/outcome.h"
#include "server/storage/pg_store.h"

namespace ayni {
namespace {

constexpr int kMembers = 10'000;
constexpr int64_t kStartBalance = 1'000'000'000'000;
constexpr int64_t kPaymentMax = 10'000;
constexpr const char* kDatabase = "ayni_store_bench";

// A ledger and its store in a database of its own, set up once for every benchmark of the
// run: world 0 in kDatabase, world 1 (TwoWriters only) in kDatabase + "_2".
class World {
 public:
  static World& Get(int index = 0) {
    static World w0(kDatabase);
    if (index == 0) return w0;
    static World w1(std::string(kDatabase) + "_2");
    return w1;
  }
  const std::string& error() const { return error_; }
  Ledger& ledger() { return ledger_; }
  const std::vector<AccountId>& members() const { return members_; }
  AccountId merchant() const { return merchant_; }
  RequestId Next() { return RequestId::FromParts(0x5707E, next_request_++); }
  uint64_t Now() { return clock_ns_ += 1'000'000; }

  // Seals the open batch and appends it; `seconds` gets the wall time of Append alone.
  // False (and error()) if the store refused it: the batch is then aborted.
  bool Write(double* seconds = nullptr) {
    const SealedBatch b = ledger_.PrepareBatch();
    const auto t0 = std::chrono::steady_clock::now();
    const server::AppendResult r = store_->Append(b, ledger_);
    const auto t1 = std::chrono::steady_clock::now();
    if (seconds != nullptr) *seconds = std::chrono::duration<double>(t1 - t0).count();
    if (r.outcome != server::AppendOutcome::kCommitted) {
      ledger_.AbortBatch();
      error_ = "append: " + r.status.ToString();
      return false;
    }
    ledger_.CommitBatch();
    return true;
  }

 private:
  explicit World(const std::string& database) {
    const char* base = std::getenv("AYNI_BENCH_PG");
    if (base == nullptr || *base == '\0') {
      error_ = "AYNI_BENCH_PG is not set (a libpq DSN of a cluster this may create a database in)";
      return;
    }
    try {
      pqxx::connection c(base);
      pqxx::nontransaction tx(c);
      tx.exec("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
      tx.exec("CREATE DATABASE " + database);
    } catch (const std::exception& e) {
      error_ = std::string("create database: ") + e.what();
      return;
    }
    auto store = server::PgStore::Open(std::string(base) + " dbname=" + database);
    if (!store.ok()) {
      error_ = "open store: " + store.status().ToString();
      return;
    }
    store_ = std::move(store).value();
    ledger_.BeginBatch(Now());
    Must(ledger_.InitDeployment({Next(), "BRL", 100}));
    const BankId bank(Must(ledger_.CreateBank({Next(), "PALMAS", "Banco Palmas"})));
    const CurrencyId currency(Must(ledger_.CreateCurrency({Next(), bank, "PALMA"})));
    auto open = [&](AccountKind kind) {
      const MemberId m(Must(ledger_.CreateMember({Next(), bank, "member"})));
      return AccountId(Must(ledger_.OpenAccount({Next(), m, currency, kind})));
    };
    merchant_ = open(AccountKind::kMerchant);
    for (int i = 0; i < kMembers && error_.empty(); ++i) {
      const AccountId a = open(AccountKind::kMember);
      members_.push_back(a);
      Must(ledger_.Issue({Next(), a, Amount(kStartBalance), ""}));
      if (i % 2000 == 1999) {
        if (!Write()) return;
        ledger_.BeginBatch(Now());
      }
    }
    if (error_.empty()) Write();
  }

  uint64_t Must(const OpResult& r) {
    if (r.outcome != Outcome::kOk && error_.empty()) {
      error_ = std::string("set-up refused: ") + OutcomeName(r.outcome) + " " + r.detail;
    }
    return r.id;
  }

  Ledger ledger_;
  std::unique_ptr<server::PgStore> store_;
  std::vector<AccountId> members_;
  AccountId merchant_;
  uint64_t next_request_ = 1;
  uint64_t clock_ns_ = 1'000'000'000;
  std::string error_;
};

// Opens a batch in `w` and applies `size` payments to it (uniform or all to the merchant).
// False (the batch aborted, the state skipped) if the ledger refused one.
bool ApplyBatch(benchmark::State& state, World& w, std::mt19937_64& rng, size_t size, bool hot) {
  const auto& m = w.members();
  w.ledger().BeginBatch(w.Now());
  for (size_t i = 0; i < size; ++i) {
    PayCmd c;
    c.request = w.Next();
    c.amount = Amount(1 + static_cast<int64_t>(rng() % kPaymentMax));
    c.from = m[rng() % m.size()];
    if (hot) {
      c.to = w.merchant();
    } else {
      do c.to = m[rng() % m.size()];
      while (c.to == c.from);
    }
    const OpResult r = w.ledger().Pay(c);
    if (r.outcome != Outcome::kOk) {
      w.ledger().AbortBatch();
      state.SkipWithError(OutcomeName(r.outcome));
      return false;
    }
  }
  return true;
}

void RunAppend(benchmark::State& state, bool hot) {
  World& w = World::Get();
  if (!w.error().empty()) {
    state.SkipWithError(w.error().c_str());
    return;
  }
  const size_t size = static_cast<size_t>(state.range(0));
  std::mt19937_64 rng(42);
  uint64_t transfers = 0;
  for (auto _ : state) {
    if (!ApplyBatch(state, w, rng, size, hot)) break;
    transfers += w.ledger().batch_transfer_count();
    double seconds = 0;
    if (!w.Write(&seconds)) {
      state.SkipWithError(w.error().c_str());
      break;
    }
    state.SetIterationTime(seconds);
  }
  state.SetItemsProcessed(static_cast<int64_t>(transfers));
}

void BM_TwoWriters(benchmark::State& state) {
  World* w[2] = {&World::Get(0), &World::Get(1)};
  for (World* x : w) {
    if (!x->error().empty()) {
      state.SkipWithError(x->error().c_str());
      return;
    }
  }
  const size_t size = static_cast<size_t>(state.range(0));
  std::mt19937_64 rng[2] = {std::mt19937_64(42), std::mt19937_64(43)};
  uint64_t transfers = 0;
  for (auto _ : state) {
    if (!ApplyBatch(state, *w[0], rng[0], size, false)) break;
    if (!ApplyBatch(state, *w[1], rng[1], size, false)) {
      w[0]->ledger().AbortBatch();
      break;
    }
    transfers += w[0]->ledger().batch_transfer_count() + w[1]->ledger().batch_transfer_count();
    bool ok[2] = {false, false};
    const auto t0 = std::chrono::steady_clock::now();
    std::thread second([&] { ok[1] = w[1]->Write(); });
    ok[0] = w[0]->Write();
    second.join();
    const auto t1 = std::chrono::steady_clock::now();
    if (!ok[0] || !ok[1]) {
      state.SkipWithError((ok[0] ? w[1] : w[0])->error().c_str());
      break;
    }
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(transfers));
}

void BM_Uniform(benchmark::State& state) { RunAppend(state, false); }
void BM_HotMerchant(benchmark::State& state) { RunAppend(state, true); }

BENCHMARK(BM_Uniform)->Arg(1)->Arg(16)->Arg(64)->Arg(1000)->Arg(4000)->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_HotMerchant)->Arg(16)->Arg(1000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TwoWriters)->Arg(1000)->Arg(4000)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ayni

BENCHMARK_MAIN();
