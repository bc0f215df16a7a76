// Offline receipt settlement benchmarks (SPEC §9: "offline receipts verified and settled:
// at the Ed25519 verification limit (≈ 15–18k/s per core with libsodium), using both
// cores").
//
//   BM_VerifyRecords/threads:N   parse + verify the card's Ed25519 signature of signed
//                                records (210 bytes each), N threads sharing the work the
//                                way aynid splits a batch; items/s is records verified.
//   BM_SettleOffline/B           the ledger's SettleOffline for batches of B verified debit
//                                receipts from 1,000 cards at 10 kiosks, one ledger batch
//                                per kiosk batch (BeginBatch … SealBatch, journal bytes
//                                included); items/s is receipts settled.
// Records are made outside the timed region by signing directly with each card's key, as
// the applet does. Every receipt of a run must come back SETTLED, or the run fails.
//
// Run: ./build/bench/ayni_bench_offline --benchmark_min_time=1 --benchmark_repetitions=3
//        --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "clearing/card/crypto.h"
#include "clearing/card/record.h"
#include "clearing/ledger.h"

namespace ayni {
namespace {

using cardio::KeyPair;

cardio::KeySeed SeedFor(uint64_t n) {
  cardio::KeySeed s{};
  for (int i = 0; i < 8; ++i) s[i] = static_cast<uint8_t>(n >> (8 * i));
  s[31] = 0xCA;
  return s;
}

struct Card {
  CardId id;
  KeyPair key;
  uint32_t counter = 0;
  Amount balance;
  cardio::Sha256Digest last_hash{};
  LoadId last_load;
};

// The next debit record of `card` at `terminal`, signed by the card.
cardio::SignedRecord NextDebit(Card& card, const TerminalId& terminal, uint32_t sequence,
                               Amount amount) {
  cardio::OfflineRecord r;
  r.type = cardio::RecordType::kDebit;
  r.scheme_id = 1;
  r.card_id = card.id;
  r.counter = ++card.counter;
  r.amount = amount;
  card.balance = Amount(card.balance.minor() - amount.minor());
  r.balance_after = card.balance;
  r.terminal_id = terminal;
  r.terminal_sequence = sequence;
  r.terminal_nonce[0] = static_cast<uint8_t>(sequence);
  r.terminal_time_s = 1767225600;
  r.last_load_id = card.last_load;
  r.offline_amount = amount;
  r.offline_count = 1;
  r.previous_hash = card.last_hash;
  card.last_hash = cardio::RecordHash(r);
  const cardio::Bytes body = cardio::EncodeRecordBody(r);
  return {r, cardio::SignWithPrefix(card.key, cardio::kRecordPrefix, body)};
}

OfflineReceipt ToReceipt(const cardio::SignedRecord& s) {
  return cardio::ToOfflineReceipt(s, cardio::EncodeSignedRecord(s));
}

void BM_VerifyRecords(benchmark::State& state) {
  constexpr int kCards = 64;
  constexpr int kRecords = 4096;
  std::vector<Card> cards(kCards);
  for (int i = 0; i < kCards; ++i) {
    cards[i].id = CardId::FromParts(0xCA5D, static_cast<uint64_t>(i + 1));
    cards[i].key = cardio::KeyPairFromSeed(SeedFor(static_cast<uint64_t>(i + 1)));
    cards[i].balance = Amount(1'000'000'000);
  }
  const TerminalId terminal = TerminalId::FromParts(0x7E, 1);
  std::vector<cardio::Bytes> records;
  std::vector<const cardio::PublicKey*> keys;
  for (int i = 0; i < kRecords; ++i) {
    Card& c = cards[static_cast<size_t>(i % kCards)];
    records.push_back(cardio::EncodeSignedRecord(
        NextDebit(c, terminal, static_cast<uint32_t>(i + 1), Amount(100))));
    keys.push_back(&c.key.public_key);
  }
  // Each thread takes every thread_count-th record, as a split batch would.
  size_t i = static_cast<size_t>(state.thread_index());
  const size_t step = static_cast<size_t>(state.threads());
  int64_t verified = 0;
  for (auto _ : state) {
    Result<cardio::SignedRecord> r = cardio::ParseSignedRecord(records[i]);
    if (!r.ok() || !cardio::VerifyRecordSignature(*r, *keys[i])) {
      state.SkipWithError("a record did not verify");
      return;
    }
    ++verified;
    i += step;
    if (i >= records.size()) i = static_cast<size_t>(state.thread_index());
  }
  state.SetItemsProcessed(verified);
}
BENCHMARK(BM_VerifyRecords)->Threads(1)->Threads(2)->UseRealTime();

// A deployment with one bank and currency, 10 kiosks for 10 merchants, and 1,000 cards
// each loaded with 1,000,000.00 (the load record applied), ready for debits.
struct Network {
  Ledger ledger;
  std::vector<Card> cards;
  std::vector<KioskId> kiosks;
  std::vector<TerminalId> terminals;
  uint64_t requests = 0;

  RequestId Next() { return RequestId::FromParts(0xBE7C, ++requests); }

  bool Build(int card_count, int kiosk_count) {
    ledger.BeginBatch(1);
    bool ok = ledger.InitDeployment({Next(), "BRL", 100}).ok();
    ok = ok && ledger.CreateBank({Next(), "PALMAS", "Banco Palmas"}).ok();
    const BankId bank(1);
    OpResult cur = ledger.CreateCurrency({Next(), bank, "PALMA"});
    ok = ok && cur.ok();
    const CurrencyId palma(cur.id);
    const OpResult reserve = ledger.FundReserve({Next(), bank, Amount(1'000'000'000'000'000), {}, {}});
    ok = ok && reserve.ok();
    for (int k = 0; ok && k < kiosk_count; ++k) {
      const OpResult m = ledger.CreateMember({Next(), bank, "merchant " + std::to_string(k)});
      const OpResult a = ledger.OpenAccount({Next(), MemberId(m.id), palma, AccountKind::kMerchant});
      RegisterKioskCmd kc;
      kc.request = Next();
      kc.terminal = TerminalId::FromParts(0x7E, static_cast<uint64_t>(k + 1));
      kc.public_key[0] = static_cast<uint8_t>(k + 1);
      kc.public_key[1] = 0x7E;
      kc.merchant = AccountId(a.id);
      kc.label = "kiosk " + std::to_string(k);
      const OpResult kr = ledger.RegisterKiosk(kc);
      ok = m.ok() && a.ok() && kr.ok();
      kiosks.push_back(KioskId(kr.id));
      terminals.push_back(kc.terminal);
    }
    for (int c = 0; ok && c < card_count; ++c) {
      Card card;
      card.id = CardId::FromParts(0xCA5D, static_cast<uint64_t>(c + 1));
      card.key = cardio::KeyPairFromSeed(SeedFor(static_cast<uint64_t>(c + 1)));
      const OpResult m = ledger.CreateMember({Next(), bank, "member " + std::to_string(c)});
      const OpResult a = ledger.OpenAccount({Next(), MemberId(m.id), palma, AccountKind::kMember});
      const Amount loaded(100'000'000);
      const OpResult issue = ledger.Issue({Next(), AccountId(a.id), loaded, {}});
      RegisterCardCmd rc;
      rc.request = Next();
      rc.card = card.id;
      std::copy(card.key.public_key.begin(), card.key.public_key.end(), rc.public_key.begin());
      rc.account = AccountId(a.id);
      rc.limits = {Amount(1'000'000), Amount(100'000'000), 1'000'000, Amount(100'000'000)};
      rc.expiry_s = 1893456000;
      const OpResult reg = ledger.RegisterCard(rc);
      AuthorizeCardLoadCmd load;
      load.request = Next();
      load.card = card.id;
      load.amount = loaded;
      load.counter = 0;
      load.offline_amount_cap = Amount(100'000'000);
      load.offline_count_cap = 1'000'000;
      const OpResult lr = ledger.AuthorizeCardLoad(load);
      ok = m.ok() && a.ok() && issue.ok() && reg.ok() && lr.ok();
      // The card applied it: its load record confirms the load.
      cardio::OfflineRecord r;
      r.type = cardio::RecordType::kLoad;
      r.scheme_id = 1;
      r.card_id = card.id;
      r.counter = ++card.counter;
      r.amount = loaded;
      r.balance_after = loaded;
      r.terminal_nonce = load.challenge;
      r.last_load_id = LoadId(load.request.bytes());
      r.previous_hash = card.last_hash;
      card.last_hash = cardio::RecordHash(r);
      card.balance = loaded;
      card.last_load = r.last_load_id;
      const cardio::SignedRecord s{
          r, cardio::SignWithPrefix(card.key, cardio::kRecordPrefix, cardio::EncodeRecordBody(r))};
      SettleOfflineReport report;
      ok = ok && ledger.SettleOffline({kiosks[0], {ToReceipt(s)}}, &report).ok() &&
           report.loads_confirmed == 1;
      cards.push_back(card);
    }
    ledger.SealBatch();
    return ok;
  }
};

void BM_SettleOffline(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  Network net;
  if (!net.Build(1000, 10)) {
    state.SkipWithError("could not build the network");
    return;
  }
  // Pre-made batches: each kiosk's receipts, round-robin over the cards.
  constexpr size_t kBatches = 64;
  std::vector<SettleOfflineCmd> batches;
  size_t card = 0;
  uint32_t sequence = 0;
  for (size_t b = 0; b < kBatches; ++b) {
    const size_t k = b % net.kiosks.size();
    SettleOfflineCmd cmd{net.kiosks[k], {}};
    for (size_t i = 0; i < batch; ++i) {
      Card& c = net.cards[card++ % net.cards.size()];
      cmd.receipts.push_back(ToReceipt(NextDebit(c, net.terminals[k], ++sequence, Amount(7))));
    }
    batches.push_back(std::move(cmd));
  }
  uint64_t now = 1'000'000;
  size_t next = 0;
  int64_t settled = 0;
  for (auto _ : state) {
    if (next == batches.size()) {
      state.PauseTiming();
      state.SkipWithError("ran out of pre-made batches: lower --benchmark_min_time");
      break;
    }
    net.ledger.BeginBatch(++now);
    SettleOfflineReport report;
    const OpResult r = net.ledger.SettleOffline(batches[next++], &report);
    SealedBatch sealed = net.ledger.SealBatch();
    benchmark::DoNotOptimize(sealed);
    if (!r.ok() || report.settled != batch) {
      state.SkipWithError("a receipt did not settle");
      return;
    }
    settled += static_cast<int64_t>(report.settled);
  }
  state.SetItemsProcessed(settled);
}
BENCHMARK(BM_SettleOffline)->Arg(100)->Arg(1000)->Iterations(60);

}  // namespace
}  // namespace ayni

BENCHMARK_MAIN();
