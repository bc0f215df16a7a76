// In-memory engine apply benchmarks (SPEC §9: ≥ 2 M transfers/s on one core).
//
// Each iteration is one ledger batch of kBatchRequestsMax (8,190) Pay commands. Commands
// are generated outside the timed region (fresh request ids every batch, so nothing is an
// idempotent retry); accounts are funded by Issue beforehand with balances and ceilings
// large enough that every payment succeeds — a refusal stops the benchmark with an error.
// items_per_second counts transfers (legs); payments_per_second counts Pay commands.
//
//   Uniform          same-currency payments among 10,000 accounts, SealBatch included
//                    (journal encoding + BLAKE2b of the batch)
//   HotAccount       every payment goes to one merchant
//   CrossBank        payer and payee at different banks: burn, mint, obligation (3 legs)
//   UniformNoSeal    as Uniform, with SealBatch outside the timed region: pure apply
//
// Run: ./build/bench/ayni_bench_engine --benchmark_min_time=1
// A benchmark measures and writes figures; it is not a test (STYLE).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "clearing/ledger.h"
#include "clearing/limits.h"
#include "clearing/outcome.h"

namespace ayni {
namespace {

constexpr int kAccountsPerBank = 10'000;
// Starting balance of every account: far beyond what any run can spend (payments are at
// most kPaymentMax, a run is a few million payments).
constexpr int64_t kStartBalance = 1'000'000'000'000;
constexpr int64_t kPaymentMax = 10'000;

// Two banks (one guaranteed currency each, default ceilings at Amount::Max()) with
// kAccountsPerBank funded member accounts each, and one merchant at bank A.
class Network {
 public:
  Network() {
    Begin();
    Must(ledger_.InitDeployment({Next(), "BRL", 100}));
    for (int i = 0; i < 2; ++i) {
      const std::string code = i == 0 ? "PALMAS" : "SOL";
      const BankId bank(Must(ledger_.CreateBank({Next(), code, code})));
      currency_[i] = CurrencyId(Must(ledger_.CreateCurrency({Next(), bank, code + "X"})));
      bank_[i] = bank;
    }
    for (int i = 0; i < 2; ++i) {
      for (int m = 0; m < kAccountsPerBank; ++m) {
        accounts_[i].push_back(Open(i, AccountKind::kMember));
        if (ledger_.batch_transfer_count() == 0 && m % 4096 == 4095) Reseal();
      }
    }
    merchant_ = Open(0, AccountKind::kMerchant);
    Reseal();
    size_t n = 0;
    for (int i = 0; i < 2; ++i) {
      for (AccountId id : accounts_[i]) {
        Must(ledger_.Issue({Next(), id, Amount(kStartBalance), ""}));
        if (++n % 4096 == 0) Reseal();
      }
    }
    ledger_.SealBatch();
  }

  Ledger& ledger() { return ledger_; }
  const std::vector<AccountId>& accounts(int bank) const { return accounts_[bank]; }
  AccountId merchant() const { return merchant_; }
  RequestId Next() { return RequestId::FromParts(0xBE7C, next_request_++); }
  void Begin() { ledger_.BeginBatch(clock_ns_ += 1'000'000); }
  bool ok() const { return ok_; }

 private:
  uint64_t Must(const OpResult& r) {
    if (r.outcome != Outcome::kOk) ok_ = false;
    return r.id;
  }
  AccountId Open(int bank, AccountKind kind) {
    const MemberId m(Must(ledger_.CreateMember({Next(), bank_[bank], "member"})));
    return AccountId(Must(ledger_.OpenAccount({Next(), m, currency_[bank], kind})));
  }
  void Reseal() {
    ledger_.SealBatch();
    Begin();
  }

  Ledger ledger_;
  uint64_t next_request_ = 1;
  uint64_t clock_ns_ = 1'000'000'000;
  BankId bank_[2];
  CurrencyId currency_[2];
  std::vector<AccountId> accounts_[2];
  AccountId merchant_;
  bool ok_ = true;
};

enum class Mix { kUniform, kHotAccount, kCrossBank };

// Fills `cmds` with one batch of payments of the given mix, fresh request ids.
void Generate(Network& net, Mix mix, std::mt19937_64& rng, std::vector<PayCmd>& cmds) {
  const auto& a = net.accounts(0);
  const auto& b = net.accounts(1);
  for (PayCmd& c : cmds) {
    c.request = net.Next();
    c.amount = Amount(1 + static_cast<int64_t>(rng() % kPaymentMax));
    c.from = a[rng() % a.size()];
    switch (mix) {
      case Mix::kUniform:
        do c.to = a[rng() % a.size()];
        while (c.to == c.from);
        break;
      case Mix::kHotAccount:
        c.to = net.merchant();
        break;
      case Mix::kCrossBank:
        c.to = b[rng() % b.size()];
        break;
    }
  }
}

void RunPayments(benchmark::State& state, Mix mix, bool time_seal) {
  Network net;
  if (!net.ok()) {
    state.SkipWithError("set-up refused a command");
    return;
  }
  std::mt19937_64 rng(42);
  std::vector<PayCmd> cmds(kBatchRequestsMax);
  uint64_t transfers = 0, payments = 0, bytes = 0;
  SealedBatch sealed;
  for (auto _ : state) {
    state.PauseTiming();
    sealed = SealedBatch();  // the previous batch is freed outside the timed region
    Generate(net, mix, rng, cmds);
    state.ResumeTiming();

    net.Begin();
    // Like the server's writer, which holds its queue: prefetch the idempotency slot a
    // few commands ahead (Ledger::PrefetchRequest).
    constexpr size_t kPrefetchAhead = 8;
    for (size_t i = 0; i < cmds.size(); ++i) {
      const PayCmd& c = cmds[i];
      if (i + kPrefetchAhead < cmds.size())
        net.ledger().PrefetchRequest(cmds[i + kPrefetchAhead].request);
      const OpResult r = net.ledger().Pay(c);
      if (r.outcome != Outcome::kOk) [[unlikely]] {
        state.SkipWithError(OutcomeName(r.outcome));  // why a payment was refused
        break;
      }
    }
    if (state.error_occurred()) break;
    transfers += net.ledger().batch_transfer_count();
    payments += cmds.size();
    if (!time_seal) state.PauseTiming();
    sealed = net.ledger().SealBatch();
    if (!time_seal) state.ResumeTiming();
    bytes += sealed.bytes.size();
  }
  state.SetItemsProcessed(static_cast<int64_t>(transfers));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));  // journal bytes
  state.counters["payments_per_second"] =
      benchmark::Counter(static_cast<double>(payments), benchmark::Counter::kIsRate);
  state.counters["legs_per_payment"] =
      payments == 0 ? 0.0 : static_cast<double>(transfers) / static_cast<double>(payments);
}

void BM_Uniform(benchmark::State& state) { RunPayments(state, Mix::kUniform, true); }
void BM_HotAccount(benchmark::State& state) { RunPayments(state, Mix::kHotAccount, true); }
void BM_CrossBank(benchmark::State& state) { RunPayments(state, Mix::kCrossBank, true); }
void BM_UniformNoSeal(benchmark::State& state) { RunPayments(state, Mix::kUniform, false); }

BENCHMARK(BM_Uniform)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HotAccount)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CrossBank)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_UniformNoSeal)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ayni

BENCHMARK_MAIN();
