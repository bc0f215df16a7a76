// The journal (invariant 7): the hash chain of sealed batches, replay of balances from the
// journal alone, determinism, and tamper evidence — every altered byte, hash, missing
// batch, consistently re-hashed amount and truncation is caught and named.
#include "clearing/journal.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "tests/clearing/ledger_fixture.h"

namespace ayni {
namespace {

uint64_t ReadBe(const std::vector<uint8_t>& b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | b[at + i];
  return v;
}

// A network plus every batch it sealed after Build (the SealedBatch, not just the stored
// row), so tests can look at transfers, prev_hash and touched accounts.
struct History {
  Network n;
  std::vector<SealedBatch> sealed;
  size_t multi_index = 0;  // index in n.journal.batches of the batch with several commands

  SealedBatch Seal() {
    SealedBatch b = n.Seal();
    sealed.push_back(b);
    return b;
  }
  template <typename F>
  OpResult One(F&& f) {
    n.Begin();
    OpResult r = f(n.Next());
    Seal();
    EXPECT_TRUE(r.ok()) << OutcomeName(r.outcome) << " " << r.detail;
    return r;
  }

  // Every kind of event: set-up, issue, same-bank, cross-bank and mutual-credit payments,
  // a refused payment, reserve funding, distribution, redemption, limits and status
  // changes, a clearing cycle, an empty batch, and several commands in one batch.
  void Build() {
    n.Build();
    Ledger& l = n.ledger;
    One([&](RequestId r) { return l.Issue({r, n.ana_palma, Amount(20000), "deposit"}); });
    One([&](RequestId r) { return l.Issue({r, n.bia_sol, Amount(5000)}); });
    n.Begin();
    multi_index = n.journal.batches.size();
    EXPECT_EQ(l.Pay({n.Next(), n.ana_palma, n.caio_palma, Amount(1500), "feira"}).outcome,
              Outcome::kOk);
    EXPECT_EQ(l.Pay({n.Next(), n.ana_palma, n.bia_sol, Amount(3000), "cross"}).outcome,
              Outcome::kOk);
    EXPECT_EQ(l.Pay({n.Next(), n.ana_feira, n.caio_feira, Amount(2500)}).outcome, Outcome::kOk);
    EXPECT_EQ(l.Pay({n.Next(), n.caio_palma, n.ana_palma, Amount(999999)}).outcome,
              Outcome::kInsufficientFunds);
    Seal();
    One([&](RequestId r) { return l.Pay({r, n.bia_sol, n.caio_palma, Amount(700)}); });
    One([&](RequestId r) { return l.FundReserve({r, n.a, Amount(4000)}); });
    One([&](RequestId r) { return l.Distribute({r, n.caio_palma, Amount(1000)}); });
    One([&](RequestId r) { return l.Redeem({r, n.bia_sol, Amount(1234)}); });
    One([&](RequestId r) {
      return l.SetAccountLimits({r, n.caio_feira, Amount(8000), Amount(100000), "admin", "vote"});
    });
    One([&](RequestId r) { return l.RunCycle({r}); });
    One([&](RequestId r) {
      return l.SetAccountStatus({r, n.bia_sol, AccountStatus::kFrozen, "teller", "lost card"});
    });
    One([&](RequestId r) {
      return l.SetAccountStatus({r, n.bia_sol, AccountStatus::kActive, "teller", "found"});
    });
    One([&](RequestId r) { return l.Pay({r, n.caio_feira, n.ana_feira, Amount(100)}); });
    n.Begin();
    Seal();  // empty
    One([&](RequestId r) { return l.Redeem({r, n.caio_palma, Amount(500)}); });
    One([&](RequestId r) { return l.Pay({r, n.ana_palma, n.bia_sol, Amount(250)}); });
  }
};

// Re-chains `batches` from index `from` on, as a forger who knows the format would.
void Rehash(std::vector<StoredBatch>& batches, size_t from) {
  Hash256 prev{};
  for (size_t i = 0; i < batches.size(); ++i) {
    if (i >= from) batches[i].hash = Blake2b256(prev, batches[i].bytes);
    prev = batches[i].hash;
  }
}

bool HasJournalFault(const std::vector<Fault>& faults, const std::string& name, uint64_t id = 0) {
  return std::any_of(faults.begin(), faults.end(), [&](const Fault& f) {
    return f.kind == FaultKind::kJournal && f.detail.rfind(name, 0) == 0 && (id == 0 || f.id == id);
  });
}

// Where the encoding of `t` starts in `bytes` (npos when absent).
size_t FindEncoded(const std::vector<uint8_t>& bytes, const Transfer& t) {
  std::vector<uint8_t> enc;
  journal::EncodeTransfer(enc, t);
  const auto it = std::search(bytes.begin(), bytes.end(), enc.begin(), enc.end());
  return it == bytes.end() ? std::string::npos : static_cast<size_t>(it - bytes.begin());
}

// Offset of a transfer's amount inside its encoding: tag, id, request, leg, debit, credit,
// currency (journal.h).
constexpr size_t kTransferAmountOffset = 1 + 16 + 16 + 4 + 8 + 8 + 8;

// ---- The chain -------------------------------------------------------------------------

TEST(Journal, BatchesFormAHashChainFromZeros) {
  History h;
  h.Build();
  const std::vector<StoredBatch>& j = h.n.journal.batches;
  ASSERT_GT(j.size(), 10u);
  Hash256 prev{};  // 32 zero bytes
  for (size_t i = 0; i < j.size(); ++i) {
    EXPECT_EQ(j[i].sequence, i + 1);
    EXPECT_EQ(j[i].hash, Blake2b256(prev, j[i].bytes)) << "batch " << i + 1;
    prev = j[i].hash;
  }
  EXPECT_EQ(h.n.ledger.head(), j.back().hash);
  EXPECT_EQ(h.n.ledger.batch_sequence(), j.size());
  // The SealedBatch view agrees: prev_hash is the previous batch's hash.
  for (const SealedBatch& sb : h.sealed) {
    ASSERT_GE(sb.sequence, 2u);
    EXPECT_EQ(sb.prev_hash, j[sb.sequence - 2].hash) << "batch " << sb.sequence;
    EXPECT_EQ(sb.hash, Blake2b256(sb.prev_hash, sb.bytes));
    EXPECT_EQ(sb.hash, j[sb.sequence - 1].hash);
  }
}

TEST(Journal, HeaderAndTransfersAreEncodedAsDocumented) {
  History h;
  h.Build();
  for (const SealedBatch& sb : h.sealed) {
    SCOPED_TRACE("batch " + std::to_string(sb.sequence));
    ASSERT_GE(sb.bytes.size(), kBatchHeaderBytes);
    EXPECT_EQ(std::memcmp(sb.bytes.data(), "AYNB", 4), 0);
    EXPECT_EQ(ReadBe(sb.bytes, 4, 2), kJournalVersion);
    EXPECT_EQ(ReadBe(sb.bytes, 6, 8), sb.sequence);
    EXPECT_EQ(ReadBe(sb.bytes, 14, 8), sb.timestamp_ns);
    // Every transfer is in the bytes, in order, and stamped with the batch time.
    size_t from = kBatchHeaderBytes;
    for (const Transfer& t : sb.transfers) {
      EXPECT_EQ(t.timestamp_ns, sb.timestamp_ns);
      std::vector<uint8_t> enc;
      journal::EncodeTransfer(enc, t);
      const auto it = std::search(sb.bytes.begin() + static_cast<std::ptrdiff_t>(from),
                                  sb.bytes.end(), enc.begin(), enc.end());
      ASSERT_NE(it, sb.bytes.end()) << "transfer leg " << t.leg << " not in the bytes";
      from = static_cast<size_t>(it - sb.bytes.begin()) + enc.size();
    }
  }
  // Timestamps strictly increase.
  for (size_t i = 1; i < h.sealed.size(); ++i) {
    EXPECT_GT(h.sealed[i].timestamp_ns, h.sealed[i - 1].timestamp_ns);
  }
}

TEST(Journal, EmptyBatchSeals) {
  Network n;
  n.Build();
  const Hash256 before = n.ledger.head();
  const uint64_t seq = n.ledger.batch_sequence();
  n.Begin();
  const SealedBatch sb = n.Seal();
  EXPECT_EQ(sb.sequence, seq + 1);
  EXPECT_EQ(sb.prev_hash, before);
  EXPECT_EQ(sb.bytes, journal::EncodeHeader(sb.sequence, sb.timestamp_ns, 0));
  EXPECT_EQ(sb.bytes.size(), kBatchHeaderBytes);
  EXPECT_TRUE(sb.transfers.empty());
  EXPECT_TRUE(sb.touched_accounts.empty());
  EXPECT_EQ(sb.hash, Blake2b256(before, sb.bytes));
  EXPECT_NE(sb.hash, before);
  EXPECT_EQ(n.ledger.head(), sb.hash);
  const Replay r = ReplayJournal(n.journal.batches);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.batches, sb.sequence);
  EXPECT_EQ(r.head, sb.hash);
  n.ExpectClean();
}

// ---- Replay --------------------------------------------------------------------------------

TEST(Journal, ReplayReproducesEveryAccountExactly) {
  History h;
  h.Build();
  const Ledger& l = h.n.ledger;
  const Replay r = ReplayJournal(h.n.journal.batches);
  ASSERT_TRUE(r.ok()) << (r.faults.empty() ? "" : r.faults[0].detail);
  EXPECT_EQ(r.head, l.head());
  EXPECT_EQ(r.batches, l.batch_sequence());
  uint64_t transfers = 0;
  for (const SealedBatch& sb : h.sealed) transfers += sb.transfers.size();
  EXPECT_GT(transfers, 20u);
  EXPECT_EQ(r.transfers, transfers);
  ASSERT_EQ(r.accounts.size(), l.account_count());
  size_t nonzero = 0;
  for (const Account& a : l.accounts()) {
    const ReplayAccount& ra = r.accounts[a.id.value() - 1];
    SCOPED_TRACE("account " + std::to_string(a.id.value()));
    EXPECT_TRUE(ra.opened);
    EXPECT_EQ(ra.currency, a.currency);
    EXPECT_EQ(ra.kind, a.kind);
    EXPECT_EQ(ra.status, a.status);
    EXPECT_EQ(ra.balance, a.balance);
    EXPECT_EQ(ra.debits_posted, a.debits_posted);
    EXPECT_EQ(ra.credits_posted, a.credits_posted);
    if (!a.balance.zero()) ++nonzero;
  }
  EXPECT_GT(nonzero, 10u) << "the history should leave many non-zero balances";
  h.n.ExpectClean();
}

TEST(Journal, ReplayOfAPrefixStopsThere) {
  History h;
  h.Build();
  std::vector<StoredBatch> prefix(h.n.journal.batches.begin(), h.n.journal.batches.begin() + 5);
  const Replay r = ReplayJournal(prefix);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.batches, 5u);
  EXPECT_EQ(r.head, prefix.back().hash);
  // Against the ledger, a journal that stops early is a fault: the heads differ.
  EXPECT_TRUE(HasJournalFault(CheckJournal(h.n.ledger, prefix), "hash_mismatch"));
}

// ---- Determinism and rollback ------------------------------------------------------------

TEST(Journal, SameCommandsGiveByteIdenticalBatches) {
  History x, y;
  x.Build();
  y.Build();
  ASSERT_EQ(x.n.journal.batches.size(), y.n.journal.batches.size());
  for (size_t i = 0; i < x.n.journal.batches.size(); ++i) {
    EXPECT_EQ(x.n.journal.batches[i].bytes, y.n.journal.batches[i].bytes) << "batch " << i + 1;
    EXPECT_EQ(x.n.journal.batches[i].hash, y.n.journal.batches[i].hash) << "batch " << i + 1;
  }
  EXPECT_EQ(x.n.ledger.head(), y.n.ledger.head());
}

// Runs in an aborted batch a bit of everything, with request ids 900…; nothing of it may
// survive. Uses the ledger directly so the fixture's clock and request counter stay put.
void RunAndAbort(Network& n) {
  Ledger& l = n.ledger;
  l.BeginBatch(n.clock_ns + 500);
  EXPECT_EQ(l.Pay({R(900), n.ana_palma, n.caio_palma, Amount(111)}).outcome, Outcome::kOk);
  EXPECT_EQ(l.Pay({R(901), n.ana_palma, n.bia_sol, Amount(222)}).outcome, Outcome::kOk);
  EXPECT_EQ(l.Issue({R(902), n.ana_palma, Amount(333)}).outcome, Outcome::kOk);
  const OpResult m = l.CreateMember({R(903), n.a, "Dora"});
  EXPECT_EQ(m.outcome, Outcome::kOk);
  EXPECT_EQ(l.OpenAccount({R(904), MemberId(m.id), n.palma}).outcome, Outcome::kOk);
  EXPECT_EQ(l.CreateBank({R(905), "D", "Banco D"}).outcome, Outcome::kOk);
  EXPECT_EQ(l.SetAccountStatus({R(906), n.caio_feira, AccountStatus::kFrozen, "x", "y"}).outcome,
            Outcome::kOk);
  EXPECT_EQ(l.RunCycle({R(907)}).outcome, Outcome::kOk);
  EXPECT_GT(l.batch_transfer_count(), 0u);
  l.AbortBatch();
}

// The batch after an abort, the same in both networks. Reuses id 900, which the aborted
// batch used for a different payment: the abort must have forgotten it.
SealedBatch AfterAbort(Network& n) {
  n.Begin();
  EXPECT_EQ(n.ledger.Pay({R(900), n.ana_palma, n.caio_palma, Amount(50)}).outcome, Outcome::kOk);
  EXPECT_EQ(n.ledger.Pay({n.Next(), n.ana_palma, n.bia_sol, Amount(70)}).outcome, Outcome::kOk);
  EXPECT_EQ(n.ledger.CreateMember({n.Next(), n.a, "Edu"}).outcome, Outcome::kOk);
  return n.Seal();
}

TEST(Journal, AbortBatchLeavesNoTraceInTheNextBatch) {
  Network x, y;
  x.Build();
  y.Build();
  for (Network* n : {&x, &y}) {
    ASSERT_EQ(n->One([&](RequestId r) {
                 return n->ledger.Issue({r, n->ana_palma, Amount(9000)});
               }).outcome,
              Outcome::kOk);
  }
  RunAndAbort(x);
  EXPECT_EQ(x.ledger.batch_sequence(), y.ledger.batch_sequence());
  EXPECT_EQ(x.ledger.head(), y.ledger.head());
  const SealedBatch bx = AfterAbort(x);
  const SealedBatch by = AfterAbort(y);
  EXPECT_EQ(bx.sequence, by.sequence);
  EXPECT_EQ(bx.timestamp_ns, by.timestamp_ns);
  EXPECT_EQ(bx.bytes, by.bytes);
  EXPECT_EQ(bx.hash, by.hash);
  ASSERT_EQ(bx.transfers.size(), by.transfers.size());
  for (size_t i = 0; i < bx.transfers.size(); ++i) {
    EXPECT_EQ(bx.transfers[i].id, by.transfers[i].id);
    EXPECT_EQ(bx.transfers[i].amount, by.transfers[i].amount);
  }
  EXPECT_EQ(x.ledger.account_count(), y.ledger.account_count());
  EXPECT_EQ(x.ledger.member_count(), y.ledger.member_count());
  EXPECT_EQ(x.ledger.bank_count(), y.ledger.bank_count());
  EXPECT_EQ(x.ledger.request_count(), y.ledger.request_count());
  EXPECT_EQ(x.ledger.cycles().size(), y.ledger.cycles().size());
  for (size_t i = 0; i < y.ledger.account_count(); ++i) {
    const Account& ax = x.ledger.accounts()[i];
    const Account& ay = y.ledger.accounts()[i];
    EXPECT_EQ(ax.balance, ay.balance) << "account " << i + 1;
    EXPECT_EQ(ax.debits_posted, ay.debits_posted) << "account " << i + 1;
    EXPECT_EQ(ax.credits_posted, ay.credits_posted) << "account " << i + 1;
    EXPECT_EQ(ax.status, ay.status) << "account " << i + 1;
  }
  x.ExpectClean();
}

// touched_accounts tells the store which account rows to write (ledger.h: "includes
// accounts opened"); an aborted batch must not hide accounts from the next one.
TEST(Journal, AbortBatchDoesNotHideTouchedAccountsFromTheNextBatch) {
  Network x, y;
  x.Build();
  y.Build();
  for (Network* n : {&x, &y}) {
    ASSERT_EQ(n->One([&](RequestId r) {
                 return n->ledger.Issue({r, n->ana_palma, Amount(9000)});
               }).outcome,
              Outcome::kOk);
  }
  RunAndAbort(x);
  const SealedBatch bx = AfterAbort(x);
  const SealedBatch by = AfterAbort(y);
  const std::vector<AccountId> tx = SortedTouched(bx);
  EXPECT_EQ(tx, SortedTouched(by));
  // Every account a transfer of the batch moved is listed.
  for (const Transfer& t : bx.transfers) {
    EXPECT_TRUE(std::binary_search(tx.begin(), tx.end(), t.debit))
        << "debit account " << t.debit.value() << " of leg " << t.leg << " not in touched";
    EXPECT_TRUE(std::binary_search(tx.begin(), tx.end(), t.credit))
        << "credit account " << t.credit.value() << " of leg " << t.leg << " not in touched";
  }
}

TEST(Journal, RefusedCommandsLeaveNoTraceInTheBatch) {
  Network x, y;
  x.Build();
  y.Build();
  for (Network* n : {&x, &y}) {
    ASSERT_EQ(n->One([&](RequestId r) {
                 return n->ledger.SetAccountLimits(
                     {r, n->bia_sol, Amount(0), Amount(2000), "teller", "new account"});
               }).outcome,
              Outcome::kOk);
    n->Begin();
    EXPECT_EQ(n->ledger.Issue({R(500), n->ana_palma, Amount(10000)}).outcome, Outcome::kOk);
  }
  // Refused on its second leg (Bia's ceiling), after the first leg was posted.
  EXPECT_EQ(x.ledger.Pay({R(501), x.ana_palma, x.bia_sol, Amount(3000)}).outcome,
            Outcome::kExceedsCeiling);
  // Refused after all legs were posted (coverage checked on the result).
  EXPECT_EQ(x.ledger.Distribute({R(502), x.caio_palma, Amount(1)}).outcome,
            Outcome::kCoverageWouldBreak);
  // Refused before posting.
  EXPECT_EQ(x.ledger.Pay({R(503), x.caio_palma, x.ana_palma, Amount(1)}).outcome,
            Outcome::kInsufficientFunds);
  for (Network* n : {&x, &y}) {
    EXPECT_EQ(n->ledger.Pay({R(504), n->ana_palma, n->bia_sol, Amount(1500)}).outcome,
              Outcome::kOk);
  }
  const SealedBatch bx = x.Seal();
  const SealedBatch by = y.Seal();
  EXPECT_EQ(bx.bytes, by.bytes);
  EXPECT_EQ(bx.hash, by.hash);
  EXPECT_EQ(bx.transfers.size(), by.transfers.size());
  EXPECT_EQ(x.ledger.request_count(), y.ledger.request_count());
  x.ExpectClean();
}

// ---- Tamper evidence ----------------------------------------------------------------------

TEST(JournalTamper, EveryFlippedBitIsAHashMismatchNamingItsBatch) {
  History h;
  h.Build();
  const std::vector<StoredBatch>& good = h.n.journal.batches;
  ASSERT_TRUE(ReplayJournal(good).ok());
  size_t positions = 0;
  // Every byte of every batch: header and events alike. The bit flipped rotates.
  for (size_t bi = 0; bi < good.size(); ++bi) {
    std::vector<StoredBatch> bad = good;
    for (size_t pos = 0; pos < good[bi].bytes.size(); ++pos) {
      const uint8_t mask = static_cast<uint8_t>(1u << ((pos + bi) % 8));
      bad[bi].bytes[pos] ^= mask;
      const Replay r = ReplayJournal(bad);
      ++positions;
      bool named = r.faults.size() == 1 && r.faults[0].kind == JournalFaultKind::kHashMismatch &&
                   r.faults[0].batch == good[bi].sequence;
      EXPECT_TRUE(named) << "batch " << bi + 1 << " byte " << pos << " mask " << int{mask} << ": "
                         << (r.faults.empty() ? "no fault" : r.faults[0].detail);
      // Nothing from the altered batch on is trusted.
      EXPECT_EQ(r.batches, good[bi].sequence - 1);
      bad[bi].bytes[pos] ^= mask;
      if (!named) return;
    }
  }
  EXPECT_GT(positions, 1000u);
}

TEST(JournalTamper, FlippedByteIsReportedByCheckJournal) {
  History h;
  h.Build();
  std::vector<StoredBatch> bad = h.n.journal.batches;
  const size_t bi = h.multi_index;
  const size_t pos = bad[bi].bytes.size() / 2;
  bad[bi].bytes[pos] ^= 0x10;
  const std::vector<Fault> faults = CheckJournal(h.n.ledger, bad);
  ASSERT_FALSE(faults.empty());
  EXPECT_TRUE(HasJournalFault(faults, "hash_mismatch"));
  EXPECT_NE(faults[0].detail.find("batch " + std::to_string(bi + 1)), std::string::npos)
      << faults[0].detail;
}

TEST(JournalTamper, AlteredStoredHashIsAHashMismatch) {
  History h;
  h.Build();
  const std::vector<StoredBatch>& good = h.n.journal.batches;
  for (size_t bi : {size_t{0}, h.multi_index, good.size() - 1}) {
    std::vector<StoredBatch> bad = good;
    bad[bi].hash[bi % 32] ^= 0x01;
    const Replay r = ReplayJournal(bad);
    ASSERT_EQ(r.faults.size(), 1u) << "batch " << bi + 1;
    EXPECT_EQ(r.faults[0].kind, JournalFaultKind::kHashMismatch);
    EXPECT_EQ(r.faults[0].batch, bi + 1);
    EXPECT_TRUE(HasJournalFault(CheckJournal(h.n.ledger, bad), "hash_mismatch"));
  }
}

TEST(JournalTamper, MissingBatchIsASequenceGap) {
  History h;
  h.Build();
  std::vector<StoredBatch> bad = h.n.journal.batches;
  bad.erase(bad.begin() + 3);  // batch 4
  const Replay r = ReplayJournal(bad);
  ASSERT_EQ(r.faults.size(), 1u);
  EXPECT_EQ(r.faults[0].kind, JournalFaultKind::kSequenceGap);
  EXPECT_EQ(r.faults[0].batch, 5u);  // found 5 where 4 was expected
  EXPECT_NE(r.faults[0].detail.find("expected batch 4"), std::string::npos) << r.faults[0].detail;
  EXPECT_EQ(r.batches, 3u);
  EXPECT_TRUE(HasJournalFault(CheckJournal(h.n.ledger, bad), "sequence_gap"));

  // A missing first batch, a repeated batch and swapped batches are gaps too.
  std::vector<StoredBatch> no_first(h.n.journal.batches.begin() + 1, h.n.journal.batches.end());
  ASSERT_FALSE(ReplayJournal(no_first).ok());
  EXPECT_EQ(ReplayJournal(no_first).faults[0].kind, JournalFaultKind::kSequenceGap);
  std::vector<StoredBatch> repeated = h.n.journal.batches;
  repeated.insert(repeated.begin() + 5, repeated[4]);
  ASSERT_FALSE(ReplayJournal(repeated).ok());
  EXPECT_EQ(ReplayJournal(repeated).faults[0].kind, JournalFaultKind::kSequenceGap);
  std::vector<StoredBatch> swapped = h.n.journal.batches;
  std::swap(swapped[6], swapped[7]);
  ASSERT_FALSE(ReplayJournal(swapped).ok());
  EXPECT_EQ(ReplayJournal(swapped).faults[0].kind, JournalFaultKind::kSequenceGap);
}

TEST(JournalTamper, RehashedAmountChangeIsABalanceMismatch) {
  History h;
  h.Build();
  const Ledger& l = h.n.ledger;
  // The 15.00 PALMA payment Ana → Caio inside the multi-command batch.
  const SealedBatch* sb = nullptr;
  for (const SealedBatch& s : h.sealed) {
    if (s.sequence == h.multi_index + 1) sb = &s;
  }
  ASSERT_NE(sb, nullptr);
  ASSERT_FALSE(sb->transfers.empty());
  const Transfer& t = sb->transfers[0];
  ASSERT_EQ(t.debit, h.n.ana_palma);
  ASSERT_EQ(t.credit, h.n.caio_palma);
  ASSERT_EQ(t.amount, Amount(1500));

  std::vector<StoredBatch> bad = h.n.journal.batches;
  std::vector<uint8_t>& bytes = bad[h.multi_index].bytes;
  const size_t at = FindEncoded(bytes, t);
  ASSERT_NE(at, std::string::npos);
  // 1500 = 0x05DC → 1501: the low byte of the big-endian i64.
  ASSERT_EQ(bytes[at + kTransferAmountOffset + 7], 0xDC);
  bytes[at + kTransferAmountOffset + 7] = 0xDD;
  Rehash(bad, h.multi_index);

  // The chain is valid again: the journal alone cannot tell …
  const Replay r = ReplayJournal(bad);
  EXPECT_TRUE(r.ok()) << (r.faults.empty() ? "" : r.faults[0].detail);
  EXPECT_EQ(r.accounts[h.n.ana_palma.value() - 1].balance.minor(),
            l.FindAccount(h.n.ana_palma)->balance.minor() - 1);
  // … but the comparison with the ledger names both accounts.
  const std::vector<Fault> faults = CheckJournal(l, bad);
  EXPECT_TRUE(HasJournalFault(faults, "balance_mismatch", h.n.ana_palma.value()))
      << FormatFaults(faults);
  EXPECT_TRUE(HasJournalFault(faults, "balance_mismatch", h.n.caio_palma.value()))
      << FormatFaults(faults);
  for (const Fault& f : faults) {
    EXPECT_EQ(f.kind, FaultKind::kJournal);
    if (f.detail.rfind("balance_mismatch", 0) == 0) {
      EXPECT_TRUE(f.id == h.n.ana_palma.value() || f.id == h.n.caio_palma.value()) << f.detail;
      EXPECT_NE(f.detail.find("account " + std::to_string(f.id)), std::string::npos) << f.detail;
    }
  }
}

TEST(JournalTamper, RehashedTruncationIsMalformed) {
  History h;
  h.Build();
  const std::vector<StoredBatch>& good = h.n.journal.batches;
  const size_t bi = h.multi_index;
  // Cut one byte, half the events, everything but part of the header.
  for (size_t keep : {good[bi].bytes.size() - 1, (good[bi].bytes.size() + kBatchHeaderBytes) / 2,
                      kBatchHeaderBytes, size_t{10}}) {
    std::vector<StoredBatch> bad = good;
    bad[bi].bytes.resize(keep);
    Rehash(bad, bi);
    const Replay r = ReplayJournal(bad);
    ASSERT_FALSE(r.ok()) << "kept " << keep;
    EXPECT_EQ(r.faults[0].kind, JournalFaultKind::kMalformed) << "kept " << keep;
    EXPECT_EQ(r.faults[0].batch, bi + 1) << "kept " << keep;
    EXPECT_TRUE(HasJournalFault(CheckJournal(h.n.ledger, bad), "malformed"));
  }
}

TEST(JournalTamper, RehashedEventCountOrTrailingBytesAreMalformed) {
  History h;
  h.Build();
  const size_t bi = h.multi_index;
  {
    std::vector<StoredBatch> bad = h.n.journal.batches;
    bad[bi].bytes[kBatchHeaderBytes - 1] ^= 0x01;  // event count ± 1
    Rehash(bad, bi);
    const Replay r = ReplayJournal(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.faults[0].kind, JournalFaultKind::kMalformed);
    EXPECT_EQ(r.faults[0].batch, bi + 1);
  }
  {
    std::vector<StoredBatch> bad = h.n.journal.batches;
    bad[bi].bytes.push_back(0);
    Rehash(bad, bi);
    const Replay r = ReplayJournal(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.faults[0].kind, JournalFaultKind::kMalformed);
  }
  {
    // The header's sequence must agree with the stored one.
    std::vector<StoredBatch> bad = h.n.journal.batches;
    bad[bi].bytes[13] ^= 0x02;
    Rehash(bad, bi);
    const Replay r = ReplayJournal(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.faults[0].kind, JournalFaultKind::kMalformed);
  }
}

}  // namespace
}  // namespace ayni
