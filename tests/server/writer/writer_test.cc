// Tests of the batching writer (SPEC §6 write path) against a scripted in-memory Store.
#include "server/writer/writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "clearing/hash.h"
#include "clearing/invariants.h"
#include "clearing/journal.h"
#include "tests/clearing/ledger_fixture.h"

namespace ayni::server {
namespace {

// A latch the store can stop on, so a test can look at the world while the writer is
// inside Append (or LastBatch).
class Gate {
 public:
  void Arm() {
    std::lock_guard g(m_);
    armed_ = true;
  }
  // Called by the store: blocks when armed, until Release().
  void Pass() {
    std::unique_lock g(m_);
    if (!armed_) return;
    armed_ = false;
    blocked_ = true;
    cv_.notify_all();
    cv_.wait(g, [&] { return released_; });
    released_ = false;
    blocked_ = false;
  }
  void WaitUntilBlocked() {
    std::unique_lock g(m_);
    cv_.wait(g, [&] { return blocked_; });
  }
  void Release() {
    std::lock_guard g(m_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool armed_ = false, blocked_ = false, released_ = false;
};

// Records appended batches as a database would, with scripted failures.
class FakeStore : public Store {
 public:
  enum class Mode {
    kCommit,
    kNotCommitted,
    kUnknownCommitted,     // commits, then says kUnknown (connection lost during COMMIT)
    kUnknownNotCommitted,  // does not commit, says kUnknown
  };

  explicit FakeStore(std::vector<StoredBatch> initial) : batches_(std::move(initial)) {
    for (const StoredBatch& b : batches_) {
      transfer_counts_.push_back(0);
      timestamps_.push_back(0);
      (void)b;
    }
  }

  Gate append_gate, last_sequence_gate;

  void Script(std::vector<Mode> modes) {
    std::lock_guard g(m_);
    script_.insert(script_.end(), modes.begin(), modes.end());
  }
  void FailLastSequence(int times) {
    std::lock_guard g(m_);
    fail_last_sequence_ = times;
  }
  // LastBatch reports a sequence this much more than the truth (another writer, or lost data).
  void SkewLastSequence(int64_t skew) {
    std::lock_guard g(m_);
    skew_ = skew;
  }

  AppendResult Append(const SealedBatch& batch, const Ledger& ledger) override {
    append_gate.Pass();
    std::lock_guard g(m_);
    ++append_calls_;
    // What a database with a unique sequence and a chained hash would enforce.
    const uint64_t last = batches_.empty() ? 0 : batches_.back().sequence;
    EXPECT_EQ(batch.sequence, last + 1);
    const Hash256 prev = batches_.empty() ? Hash256{} : batches_.back().hash;
    EXPECT_TRUE(batch.prev_hash == prev) << "batch " << batch.sequence << " does not chain";
    EXPECT_TRUE(ledger.batch_prepared());
    Mode mode = Mode::kCommit;
    if (!script_.empty()) {
      mode = script_.front();
      script_.pop_front();
    }
    if (mode == Mode::kCommit || mode == Mode::kUnknownCommitted) {
      batches_.push_back({batch.sequence, batch.bytes, batch.hash});
      transfer_counts_.push_back(batch.transfers.size());
      timestamps_.push_back(batch.timestamp_ns);
      for (const Transfer& t : batch.transfers) ++transfer_seen_[t.id];
    }
    switch (mode) {
      case Mode::kCommit:
        return {AppendOutcome::kCommitted, Status::Ok()};
      case Mode::kNotCommitted:
        return {AppendOutcome::kNotCommitted, Status::Unavailable("fake: connection refused")};
      case Mode::kUnknownCommitted:
      case Mode::kUnknownNotCommitted:
        return {AppendOutcome::kUnknown, Status::Unavailable("fake: lost during COMMIT")};
    }
    return {};
  }

  Result<StoreHead> LastBatch() override {
    last_sequence_gate.Pass();
    std::lock_guard g(m_);
    ++last_sequence_calls_;
    if (fail_last_sequence_ > 0) {
      --fail_last_sequence_;
      return Status::Unavailable("fake: database down");
    }
    StoreHead head;
    if (!batches_.empty()) {
      head.sequence = batches_.back().sequence;
      head.hash = batches_.back().hash;
    }
    head.sequence = static_cast<uint64_t>(static_cast<int64_t>(head.sequence) + skew_);
    if (other_batch_) head.hash[0] ^= 0xFF;
    return head;
  }
  // LastBatch reports another batch than the one stored under the same number (what a
  // late COMMIT of a lost session followed by a new batch would look like).
  void ReportOtherBatch() {
    std::lock_guard g(m_);
    other_batch_ = true;
  }

  Result<std::vector<StoredBatch>> LoadJournal() override {
    std::lock_guard g(m_);
    return batches_;
  }

  std::vector<StoredBatch> batches() const {
    std::lock_guard g(m_);
    return batches_;
  }
  std::vector<size_t> transfer_counts() const {
    std::lock_guard g(m_);
    return transfer_counts_;
  }
  std::vector<uint64_t> timestamps() const {
    std::lock_guard g(m_);
    return timestamps_;
  }
  std::unordered_map<TransferId, int> transfer_seen() const {
    std::lock_guard g(m_);
    return transfer_seen_;
  }
  int append_calls() const {
    std::lock_guard g(m_);
    return append_calls_;
  }
  int last_sequence_calls() const {
    std::lock_guard g(m_);
    return last_sequence_calls_;
  }

 private:
  mutable std::mutex m_;
  std::vector<StoredBatch> batches_;
  std::vector<size_t> transfer_counts_;  // per batch (0 for the initial ones)
  std::vector<uint64_t> timestamps_;
  std::unordered_map<TransferId, int> transfer_seen_;
  std::deque<Mode> script_;
  int fail_last_sequence_ = 0;
  int64_t skew_ = 0;
  bool other_batch_ = false;
  int append_calls_ = 0;
  int last_sequence_calls_ = 0;
};

// Collects replies; counts calls per submission so a second call is caught.
class Inbox {
 public:
  struct Slot {
    int calls = 0;
    std::vector<CommandResult> results;
  };
  size_t Send(Writer& w, std::vector<Command> commands) {
    size_t i;
    {
      std::lock_guard g(m_);
      i = slots_.size();
      slots_.emplace_back();
    }
    w.Submit(std::move(commands), [this, i](std::vector<CommandResult> r) {
      std::lock_guard g(m_);
      ++slots_[i].calls;
      slots_[i].results = std::move(r);
      ++received_;
      cv_.notify_all();
    });
    return i;
  }
  void WaitFor(size_t n) {
    std::unique_lock g(m_);
    cv_.wait(g, [&] { return received_ >= n; });
  }
  size_t received() const {
    std::lock_guard g(m_);
    return received_;
  }
  Slot Get(size_t i) const {
    std::lock_guard g(m_);
    return slots_[i];
  }
  size_t size() const {
    std::lock_guard g(m_);
    return slots_.size();
  }

 private:
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<Slot> slots_;
  size_t received_ = 0;
};

// What must not change when a batch is not committed.
struct Snapshot {
  std::vector<Account> accounts;
  size_t banks = 0, members = 0, requests = 0;
  uint64_t sequence = 0;
  Hash256 head{};
  static Snapshot Of(const Ledger& l) {
    Snapshot s;
    s.accounts.assign(l.accounts().begin(), l.accounts().end());
    s.banks = l.bank_count();
    s.members = l.member_count();
    s.requests = l.request_count();
    s.sequence = l.batch_sequence();
    s.head = l.head();
    return s;
  }
};
void ExpectSame(const Snapshot& a, const Snapshot& b) {
  ASSERT_EQ(a.accounts.size(), b.accounts.size());
  for (size_t i = 0; i < a.accounts.size(); ++i) {
    EXPECT_EQ(a.accounts[i].balance, b.accounts[i].balance) << "account " << i + 1;
    EXPECT_EQ(a.accounts[i].debits_posted, b.accounts[i].debits_posted) << "account " << i + 1;
    EXPECT_EQ(a.accounts[i].credits_posted, b.accounts[i].credits_posted) << "account " << i + 1;
  }
  EXPECT_EQ(a.banks, b.banks);
  EXPECT_EQ(a.members, b.members);
  EXPECT_EQ(a.requests, b.requests);
  EXPECT_EQ(a.sequence, b.sequence);
  EXPECT_TRUE(a.head == b.head);
}

RequestId Q(uint64_t n) { return RequestId::FromParts(0xB2, n); }
PayCmd Pay(RequestId r, AccountId from, AccountId to, int64_t amount) {
  return PayCmd{r, from, to, Amount(amount)};
}

constexpr int64_t kFunding = 10'000'000;

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    net.Build();
    for (AccountId a : {net.ana_palma, net.caio_palma, net.bia_sol}) {
      const OpResult r = net.One([&](RequestId id) {
        return net.ledger.Issue({id, a, Amount(kFunding)});
      });
      ASSERT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
    }
    store = std::make_unique<FakeStore>(net.journal.batches);
    initial_batches = net.journal.batches.size();
  }
  void TearDown() override {
    if (writer) writer->Stop();
  }
  void StartWriter(WriterOptions options = {}) {
    if (!options.now_ns) options.now_ns = [this] { return clock_ns += 1000; };
    options.resolve_backoff_initial_ms = 1;
    options.resolve_backoff_max_ms = 4;
    writer = std::make_unique<Writer>(net.ledger, *store, std::move(options));
    ASSERT_TRUE(writer->Start().ok());
  }
  RequestId Next() { return Q(next_request++); }
  Snapshot Snap() {
    Snapshot s;
    EXPECT_TRUE(writer->ReadAndWait([&](const Ledger& l) { s = Snapshot::Of(l); }).ok());
    return s;
  }
  int64_t BalanceOf(AccountId id) {
    int64_t b = 0;
    EXPECT_TRUE(
        writer->ReadAndWait([&](const Ledger& l) { b = l.FindAccount(id)->balance.minor(); }).ok());
    return b;
  }
  // Invariants and the journal (as the fake store holds it) against the ledger.
  void ExpectClean() {
    const std::vector<StoredBatch> batches = store->batches();
    ASSERT_TRUE(writer
                    ->ReadAndWait([&](const Ledger& l) {
                      const auto faults = CheckInvariants(l);
                      EXPECT_TRUE(faults.empty()) << FormatFaults(faults);
                      const auto jfaults = CheckJournal(l, batches);
                      EXPECT_TRUE(jfaults.empty()) << FormatFaults(jfaults);
                      EXPECT_EQ(l.batch_sequence(), batches.back().sequence);
                      EXPECT_TRUE(l.head() == batches.back().hash);
                    })
                    .ok());
  }
  std::vector<Command> SomeWork() {
    return {Pay(Next(), net.ana_palma, net.caio_palma, 100),
            IssueOp{{Next(), net.bia_sol, Amount(500)}}, CreateMemberCmd{Next(), net.a, "Dora"},
            CreateBankCmd{Next(), "C", "Banco Terceiro"},
            Pay(Next(), net.ana_palma, net.bia_sol, 250)};  // across banks: three legs
  }

  Network net;
  std::unique_ptr<FakeStore> store;
  std::unique_ptr<Writer> writer;
  size_t initial_batches = 0;
  std::atomic<uint64_t> clock_ns{5'000'000'000'000};
  uint64_t next_request = 1;
};

void ExpectAll(const std::vector<CommandResult>& results, Outcome outcome) {
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_TRUE(results[i].status.ok()) << i << ": " << results[i].status.ToString();
    EXPECT_EQ(results[i].result.outcome, outcome)
        << i << ": " << OutcomeName(results[i].result.outcome) << " " << results[i].result.detail;
  }
}
void ExpectAllStatus(const std::vector<CommandResult>& results, StatusCode code) {
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].status.code(), code) << i << ": " << results[i].status.ToString();
  }
}

TEST_F(WriterTest, RepliesOnlyAfterAppendCommitted) {
  StartWriter();
  store->append_gate.Arm();
  Inbox inbox;
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 100)});
  store->append_gate.WaitUntilBlocked();
  EXPECT_EQ(inbox.received(), 0u) << "replied before the batch was durable";
  store->append_gate.Release();
  inbox.WaitFor(1);
  const Inbox::Slot s = inbox.Get(0);
  EXPECT_EQ(s.calls, 1);
  ASSERT_EQ(s.results.size(), 1u);
  ExpectAll(s.results, Outcome::kOk);
  EXPECT_EQ(s.results[0].result.legs, 1u);
  EXPECT_EQ(store->batches().size(), initial_batches + 1);
  EXPECT_EQ(BalanceOf(net.caio_palma), kFunding + 100);
  const WriterStats st = writer->stats();
  EXPECT_EQ(st.batches_committed, 1u);
  EXPECT_EQ(st.commands_committed, 1u);
  EXPECT_EQ(st.last_batch_commands, 1u);
  EXPECT_EQ(st.last_sequence, initial_batches + 1);
  ExpectClean();
}

TEST_F(WriterTest, ReadsNeverSeeUncommittedEffects) {
  StartWriter();
  const int64_t before = BalanceOf(net.caio_palma);
  store->append_gate.Arm();
  Inbox inbox;
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 100)});
  store->append_gate.WaitUntilBlocked();
  std::atomic<bool> ran{false};
  std::atomic<int64_t> seen{0};
  ASSERT_TRUE(writer
                  ->Read([&](const Ledger& l) {
                    seen = l.FindAccount(net.caio_palma)->balance.minor();
                    ran = true;
                  })
                  .ok());
  EXPECT_FALSE(ran.load()) << "a read ran while a batch was being written";
  store->append_gate.Release();
  inbox.WaitFor(1);
  EXPECT_EQ(BalanceOf(net.caio_palma), before + 100);  // queued after the read: runs after it
  EXPECT_TRUE(ran.load());
  EXPECT_EQ(seen.load(), before + 100);
}

TEST_F(WriterTest, NotCommittedLeavesLedgerAsBeforeAndRetrySucceeds) {
  StartWriter();
  const Snapshot before = Snap();
  store->Script({FakeStore::Mode::kNotCommitted});
  const std::vector<Command> work = SomeWork();
  const std::vector<CommandResult> failed = writer->SubmitAndWait(work);
  ASSERT_EQ(failed.size(), work.size());
  ExpectAllStatus(failed, StatusCode::kUnavailable);
  ExpectSame(before, Snap());
  EXPECT_EQ(store->batches().size(), initial_batches);
  EXPECT_EQ(writer->stats().batches_not_committed, 1u);

  // Same request ids again: evaluated anew (kOk), not kExists.
  const std::vector<CommandResult> ok = writer->SubmitAndWait(work);
  ExpectAll(ok, Outcome::kOk);
  EXPECT_EQ(store->batches().size(), initial_batches + 1);
  EXPECT_EQ(BalanceOf(net.caio_palma), kFunding + 100);
  ExpectClean();
}

TEST_F(WriterTest, UnknownThenCommittedResolvesToCommittedOnce) {
  StartWriter();
  store->Script({FakeStore::Mode::kUnknownCommitted});
  Inbox inbox;
  const std::vector<Command> work = SomeWork();
  inbox.Send(*writer, work);
  inbox.WaitFor(1);
  const Inbox::Slot s = inbox.Get(0);
  ExpectAll(s.results, Outcome::kOk);
  EXPECT_EQ(store->append_calls(), 1) << "an unknown outcome must never be re-appended";
  EXPECT_GE(store->last_sequence_calls(), 1);
  const WriterStats st = writer->stats();
  EXPECT_EQ(st.batches_unknown, 1u);
  EXPECT_EQ(st.batches_committed, 1u);
  ExpectClean();
  ExpectAll(writer->SubmitAndWait(work), Outcome::kExists);
  EXPECT_EQ(inbox.Get(0).calls, 1);
  EXPECT_EQ(store->batches().size(), initial_batches + 1);
}

TEST_F(WriterTest, UnknownThenNotCommittedAborts) {
  StartWriter();
  const Snapshot before = Snap();
  store->Script({FakeStore::Mode::kUnknownNotCommitted});
  const std::vector<Command> work = SomeWork();
  ExpectAllStatus(writer->SubmitAndWait(work), StatusCode::kUnavailable);
  ExpectSame(before, Snap());
  EXPECT_EQ(store->append_calls(), 1);
  EXPECT_EQ(writer->stats().batches_unknown, 1u);
  EXPECT_EQ(writer->stats().batches_not_committed, 1u);
  ExpectAll(writer->SubmitAndWait(work), Outcome::kOk);
  ExpectClean();
}

// The resolving read fails three times, then answers: the submitter heard UNAVAILABLE
// at the first failure (its outcome unknown), the batch resolves as committed, and the
// retry answers kExists without a second append.
TEST_F(WriterTest, UnknownIsResolvedAfterLastSequenceFails) {
  StartWriter();
  store->Script({FakeStore::Mode::kUnknownCommitted});
  store->FailLastSequence(3);
  const std::vector<Command> work = {Pay(Next(), net.ana_palma, net.caio_palma, 7)};
  ExpectAllStatus(writer->SubmitAndWait(work), StatusCode::kUnavailable);
  while (writer->stats().batches_committed == 0) std::this_thread::yield();
  EXPECT_EQ(store->last_sequence_calls(), 4);
  ExpectAll(writer->SubmitAndWait(work), Outcome::kExists);
  EXPECT_EQ(store->append_calls(), 1);
  EXPECT_EQ(BalanceOf(net.caio_palma), kFunding + 7);
  ExpectClean();
}

// The database does not answer while an unknown COMMIT outcome is resolved: the batch's
// own submitters and the work behind it are answered UNAVAILABLE at once, not held for
// the whole outage; once the database answers, the batch resolves (here: it did commit),
// a retry of its request answers kExists, and work flows again.
TEST_F(WriterTest, WhileTheDatabaseIsUnreachableNewWorkIsAnsweredUnavailable) {
  WriterOptions options;
  options.resolve_backoff_initial_ms = 1;
  options.resolve_backoff_max_ms = 2;
  StartWriter(std::move(options));
  const Snapshot before = Snap();
  store->Script({FakeStore::Mode::kUnknownCommitted});
  store->FailLastSequence(200);
  Inbox inbox;
  const std::vector<Command> in_doubt = {Pay(Next(), net.ana_palma, net.caio_palma, 7)};
  const size_t first = inbox.Send(*writer, in_doubt);
  while (store->last_sequence_calls() < 2) std::this_thread::yield();
  const size_t refused = inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  inbox.WaitFor(2);  // both at once, while the database still does not answer
  EXPECT_LT(store->last_sequence_calls(), 200);
  ExpectAllStatus(inbox.Get(first).results, StatusCode::kUnavailable);
  EXPECT_NE(inbox.Get(first).results[0].status.message().find("not known yet"), std::string::npos)
      << inbox.Get(first).results[0].status.message();
  ExpectAllStatus(inbox.Get(refused).results, StatusCode::kUnavailable);
  EXPECT_NE(inbox.Get(refused).results[0].status.message().find("nothing of this request"),
            std::string::npos);
  EXPECT_EQ(writer->Read([](const Ledger&) {}).code(), StatusCode::kUnavailable);
  EXPECT_GE(writer->stats().refused_unreachable, 2u);
  // Once the database answers: the in-doubt batch did commit, so its retry is kExists
  // (answered once, never applied twice), and new work commits.
  while (writer->stats().batches_committed == 0) std::this_thread::yield();
  ExpectAll(writer->SubmitAndWait(in_doubt), Outcome::kExists);
  ExpectAll(writer->SubmitAndWait({Pay(Next(), net.caio_palma, net.ana_palma, 1)}), Outcome::kOk);
  EXPECT_EQ(inbox.Get(first).calls, 1);
  EXPECT_EQ(store->append_calls(), 2);
  EXPECT_NE(Snap().sequence, before.sequence);
  EXPECT_EQ(BalanceOf(net.caio_palma), kFunding + 7 - 1);  // the 7 once, the refused 1 never
  ExpectClean();
}

TEST_F(WriterTest, WhileResolvingSubmissionsQueueUpToTheBound) {
  WriterOptions options;
  options.queue_commands_max = 4;
  StartWriter(std::move(options));
  store->Script({FakeStore::Mode::kUnknownNotCommitted});
  store->last_sequence_gate.Arm();
  Inbox inbox;
  const size_t first = inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  store->last_sequence_gate.WaitUntilBlocked();
  for (int i = 0; i < 4; ++i) inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  const size_t over = inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  // Refused at the door, at once.
  ASSERT_EQ(inbox.received(), 1u);
  ExpectAllStatus(inbox.Get(over).results, StatusCode::kResourceExhausted);
  store->last_sequence_gate.Release();
  inbox.WaitFor(6);
  ExpectAllStatus(inbox.Get(first).results, StatusCode::kUnavailable);
  for (size_t i = first + 1; i < over; ++i) ExpectAll(inbox.Get(i).results, Outcome::kOk);
  EXPECT_EQ(writer->stats().refused_queue_full, 1u);
  EXPECT_EQ(writer->stats().last_batch_commands, 4u);  // the queued ones, grouped
  ExpectClean();
}

TEST_F(WriterTest, StoreThatMovedUnderUsStopsTheWriter) {
  StartWriter();
  const Snapshot before = Snap();
  store->Script({FakeStore::Mode::kUnknownNotCommitted});
  store->SkewLastSequence(+5);
  ExpectAllStatus(writer->SubmitAndWait(SomeWork()), StatusCode::kUnavailable);
  EXPECT_FALSE(writer->health().ok());
  ExpectAllStatus(writer->SubmitAndWait({Pay(Next(), net.ana_palma, net.caio_palma, 1)}),
                  StatusCode::kUnavailable);
  EXPECT_EQ(writer->Read([](const Ledger&) {}).code(), StatusCode::kUnavailable);
  writer->Stop();
  ExpectSame(before, Snapshot::Of(net.ledger));
  EXPECT_EQ(store->append_calls(), 1);
}

// The sequence number matches but the hash does not: some other batch committed under
// it. The writer must not take it for its own.
TEST_F(WriterTest, SameSequenceOtherBatchIsDivergence) {
  StartWriter();
  const Snapshot before = Snap();
  store->Script({FakeStore::Mode::kUnknownCommitted});
  store->ReportOtherBatch();
  ExpectAllStatus(writer->SubmitAndWait(SomeWork()), StatusCode::kUnavailable);
  EXPECT_FALSE(writer->health().ok());
  writer->Stop();
  ExpectSame(before, Snapshot::Of(net.ledger));
}

TEST_F(WriterTest, RetriesAcrossBatchesAnswerExists) {
  StartWriter();
  const RequestId id = Next();
  const std::vector<CommandResult> first =
      writer->SubmitAndWait({Pay(id, net.ana_palma, net.caio_palma, 42)});
  ExpectAll(first, Outcome::kOk);
  const int appends = store->append_calls();
  for (int i = 0; i < 3; ++i) {
    const std::vector<CommandResult> again =
        writer->SubmitAndWait({Pay(id, net.ana_palma, net.caio_palma, 42)});
    ExpectAll(again, Outcome::kExists);
    EXPECT_EQ(again[0].result.timestamp_ns, first[0].result.timestamp_ns);
  }
  const std::vector<CommandResult> other =
      writer->SubmitAndWait({Pay(id, net.ana_palma, net.caio_palma, 43)});
  ExpectAll(other, Outcome::kExistsWithDifferentFields);
  // Retries and refusals change nothing: nothing to make durable.
  EXPECT_EQ(store->append_calls(), appends);
  EXPECT_EQ(writer->stats().batches_without_effect, 4u);
  EXPECT_EQ(BalanceOf(net.caio_palma), kFunding + 42);
  ExpectClean();
}

TEST_F(WriterTest, RefusalsAreAnsweredWithoutAppending) {
  StartWriter();
  const Snapshot before = Snap();
  const std::vector<CommandResult> r =
      writer->SubmitAndWait({Pay(Next(), net.ana_palma, net.caio_palma, kFunding + 1),
                             Pay(Next(), net.ana_palma, net.ana_palma, 1),
                             Pay(RequestId(), net.ana_palma, net.caio_palma, 1)});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].result.outcome, Outcome::kInsufficientFunds);
  EXPECT_EQ(r[1].result.outcome, Outcome::kSameAccount);
  EXPECT_EQ(r[2].result.outcome, Outcome::kRequestIdZero);
  ExpectAllStatus(r, StatusCode::kOk);
  EXPECT_EQ(store->append_calls(), 0);
  ExpectSame(before, Snap());
}

TEST_F(WriterTest, PrecheckRefusesItsWholeSubmissionAndSeesTheBatchSoFar) {
  StartWriter();
  const Snapshot before = Snap();
  std::promise<std::vector<CommandResult>> refused;
  writer->Submit(
      {Pay(Next(), net.ana_palma, net.caio_palma, 1), Pay(Next(), net.caio_palma, net.ana_palma, 2)},
      [&](std::vector<CommandResult> r) { refused.set_value(std::move(r)); },
      [](const Ledger&) { return Status(StatusCode::kPermissionDenied, "not yours"); });
  const std::vector<CommandResult> r = refused.get_future().get();
  ASSERT_EQ(r.size(), 2u);
  ExpectAllStatus(r, StatusCode::kPermissionDenied);
  EXPECT_EQ(r[0].status.message(), "not yours");
  EXPECT_EQ(store->append_calls(), 0);
  ExpectSame(before, Snap());

  // In one batch, a later submission's precheck sees the earlier one's effect.
  const int64_t caio_before = before.accounts.at(net.caio_palma.value() - 1).balance.minor();
  store->append_gate.Arm();
  Inbox inbox;
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  store->append_gate.WaitUntilBlocked();
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 5)});
  std::promise<int64_t> seen;
  writer->Submit({Pay(Next(), net.caio_palma, net.ana_palma, 1)}, [](std::vector<CommandResult>) {},
                 [&, caio = net.caio_palma](const Ledger& l) {
                   seen.set_value(l.FindAccount(caio)->balance.minor());
                   return Status::Ok();
                 });
  store->append_gate.Release();
  EXPECT_EQ(seen.get_future().get(), caio_before + 1 + 5);
  inbox.WaitFor(2);
}

TEST_F(WriterTest, GroupCommitGroupsWhatArrivesDuringAWrite) {
  StartWriter();
  store->append_gate.Arm();
  Inbox inbox;
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  store->append_gate.WaitUntilBlocked();
  for (int i = 0; i < 100; ++i) {
    inbox.Send(*writer, {Pay(Next(), i % 2 ? net.ana_palma : net.caio_palma,
                             i % 2 ? net.caio_palma : net.ana_palma, 1 + i)});
  }
  store->append_gate.Release();
  inbox.WaitFor(101);
  for (size_t i = 0; i < 101; ++i) {
    EXPECT_EQ(inbox.Get(i).calls, 1);
    ExpectAll(inbox.Get(i).results, Outcome::kOk);
  }
  const std::vector<size_t> counts = store->transfer_counts();
  ASSERT_EQ(counts.size(), initial_batches + 2);
  EXPECT_EQ(counts[initial_batches], 1u);
  EXPECT_EQ(counts[initial_batches + 1], 100u);
  const WriterStats st = writer->stats();
  EXPECT_EQ(st.batches_committed, 2u);
  EXPECT_EQ(st.last_batch_submissions, 100u);
  EXPECT_EQ(st.last_batch_commands, 100u);
  ExpectClean();
}

TEST_F(WriterTest, SubmissionsAreNeverSplitAcrossBatches) {
  StartWriter();
  auto many = [&](size_t n) {
    std::vector<Command> v;
    for (size_t i = 0; i < n; ++i) v.push_back(Pay(Next(), net.ana_palma, net.caio_palma, 1));
    return v;
  };
  store->append_gate.Arm();
  Inbox inbox;
  inbox.Send(*writer, many(1));
  store->append_gate.WaitUntilBlocked();
  inbox.Send(*writer, many(5000));
  inbox.Send(*writer, many(5000));  // does not fit beside the first 5,000
  inbox.Send(*writer, many(100));   // but this fits beside the second
  store->append_gate.Release();
  inbox.WaitFor(4);
  for (size_t i = 0; i < 4; ++i) ExpectAll(inbox.Get(i).results, Outcome::kOk);
  const std::vector<size_t> counts = store->transfer_counts();
  ASSERT_EQ(counts.size(), initial_batches + 3);
  EXPECT_EQ(counts[initial_batches], 1u);
  EXPECT_EQ(counts[initial_batches + 1], 5000u);
  EXPECT_EQ(counts[initial_batches + 2], 5100u);
  ExpectClean();
}

TEST_F(WriterTest, FullBatchPayIsOneBatchAndLargerIsRefused) {
  StartWriter();
  std::vector<Command> full;
  for (size_t i = 0; i < kBatchRequestsMax; ++i) {
    full.push_back(Pay(Next(), net.ana_palma, net.bia_sol, 1));  // three legs each
  }
  const std::vector<CommandResult> r = writer->SubmitAndWait(full);
  ASSERT_EQ(r.size(), kBatchRequestsMax);
  ExpectAll(r, Outcome::kOk);
  std::vector<size_t> counts = store->transfer_counts();
  ASSERT_EQ(counts.size(), initial_batches + 1);
  EXPECT_EQ(counts.back(), kBatchRequestsMax * 3);

  std::vector<Command> over;
  for (size_t i = 0; i <= kBatchRequestsMax; ++i) {
    over.push_back(Pay(Next(), net.ana_palma, net.caio_palma, 1));
  }
  Inbox inbox;
  inbox.Send(*writer, std::move(over));
  ASSERT_EQ(inbox.received(), 1u) << "an oversized submission is refused at once";
  const Inbox::Slot s = inbox.Get(0);
  ASSERT_EQ(s.results.size(), kBatchRequestsMax + 1);
  ExpectAllStatus(s.results, StatusCode::kInvalidArgument);
  EXPECT_EQ(store->batches().size(), initial_batches + 1);
  EXPECT_EQ(writer->stats().refused_too_large, 1u);
  ExpectClean();
}

TEST_F(WriterTest, ClearingCycleIsBatchedAlone) {
  StartWriter();
  ExpectAll(writer->SubmitAndWait({Pay(Next(), net.ana_palma, net.bia_sol, 3000)}), Outcome::kOk);
  store->append_gate.Arm();
  Inbox inbox;
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  store->append_gate.WaitUntilBlocked();
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 2)});
  const size_t cycle = inbox.Send(*writer, {RunCycleCmd{Next()}});
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 3)});
  store->append_gate.Release();
  inbox.WaitFor(4);
  for (size_t i = 0; i < 4; ++i) ExpectAll(inbox.Get(i).results, Outcome::kOk);
  const CommandResult c = inbox.Get(cycle).results.at(0);
  EXPECT_EQ(c.report.number, 1u);
  EXPECT_FALSE(c.report.obligations.empty());
  EXPECT_EQ(c.report.plan.settled_total, Amount(3000));
  const std::vector<size_t> counts = store->transfer_counts();
  ASSERT_EQ(counts.size(), initial_batches + 5);  // pay, pay, pay, cycle, pay
  EXPECT_EQ(counts[initial_batches + 2], 1u);
  EXPECT_EQ(counts[initial_batches + 4], 1u);
  ExpectClean();
}

// A set-off run may post many mutual-credit payments: like a cycle it goes alone in its
// batch, and its report comes back with its result.
TEST_F(WriterTest, SetoffRunIsBatchedAlone) {
  StartWriter();
  RegisterInvoiceCmd inv{Next(), InvoiceId(), net.ana, net.caio, net.feira, Amount(1500), 20000,
                         "NF-1"};
  const InvoiceId id(inv.request.bytes());
  ExpectAll(writer->SubmitAndWait({inv, ConfirmInvoiceCmd{Next(), id}}), Outcome::kOk);
  store->append_gate.Arm();
  Inbox inbox;
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  store->append_gate.WaitUntilBlocked();
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 2)});
  const size_t run = inbox.Send(*writer, {RunSetoffCmd{Next(), 20000, CurrencyId(), true}});
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 3)});
  store->append_gate.Release();
  inbox.WaitFor(4);
  for (size_t i = 0; i < 4; ++i) ExpectAll(inbox.Get(i).results, Outcome::kOk);
  const CommandResult c = inbox.Get(run).results.at(0);
  EXPECT_EQ(c.setoff.number, 1u);
  ASSERT_EQ(c.setoff.notices.size(), 1u);
  EXPECT_EQ(c.setoff.notices[0].mutual_credit, Amount(1500));
  const std::vector<size_t> counts = store->transfer_counts();
  ASSERT_EQ(counts.size(), initial_batches + 5);  // invoices, pay, pay, set-off, pay
  EXPECT_EQ(counts[initial_batches + 3], 1u);      // the one mutual-credit payment
  EXPECT_EQ(counts[initial_batches + 4], 1u);
  ExpectClean();
}

// A kiosk batch may settle up to kOfflineBatchMax records: it goes alone in its batch too,
// and the ledger's per-record report comes back with its result.
TEST_F(WriterTest, OfflineBatchIsBatchedAloneWithItsReport) {
  StartWriter();
  const std::vector<CommandResult> m =
      writer->SubmitAndWait({OpenAccountCmd{Next(), net.caio, net.palma, AccountKind::kMerchant}});
  ASSERT_EQ(m.at(0).result.outcome, Outcome::kOk);
  RegisterKioskCmd kiosk{Next(), TerminalId::FromParts(7, 7), {}, AccountId(m[0].result.id),
                         "banca 7"};
  kiosk.public_key.fill(0x11);
  const std::vector<CommandResult> k = writer->SubmitAndWait({kiosk});
  ASSERT_EQ(k.at(0).result.outcome, Outcome::kOk);
  const size_t batches_before = store->batches().size();
  SettleOfflineCmd settle;
  settle.kiosk = KioskId(k[0].result.id);
  settle.receipts.resize(1);
  settle.receipts[0].card = CardId::FromParts(0xdead, 1);  // unknown: no effect
  settle.receipts[0].counter = 1;
  store->append_gate.Arm();
  Inbox inbox;
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  store->append_gate.WaitUntilBlocked();
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 2)});
  const size_t offline = inbox.Send(*writer, {settle});
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 3)});
  store->append_gate.Release();
  inbox.WaitFor(4);
  for (size_t i = 0; i < 4; ++i) ExpectAll(inbox.Get(i).results, Outcome::kOk);
  const CommandResult c = inbox.Get(offline).results.at(0);
  ASSERT_EQ(c.offline.receipts.size(), 1u);
  EXPECT_EQ(c.offline.receipts[0].reject, ReceiptReject::kUnknownCard);
  EXPECT_EQ(c.offline.rejected, 1u);
  // pay 1; pay 2 alone (the batch behind it is cut at the kiosk batch, which wrote
  // nothing); pay 3 alone.
  EXPECT_EQ(store->batches().size(), batches_before + 3);
  ExpectClean();
}

TEST_F(WriterTest, InjectedClockStampsBatches) {
  WriterOptions options;
  const uint64_t fixed = 9'000'000'000'000;
  options.now_ns = [fixed] { return fixed; };
  StartWriter(std::move(options));
  const std::vector<CommandResult> a =
      writer->SubmitAndWait({Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  const std::vector<CommandResult> b =
      writer->SubmitAndWait({Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  EXPECT_EQ(a[0].result.timestamp_ns, fixed);
  EXPECT_EQ(b[0].result.timestamp_ns, fixed + 1);  // strictly increasing
  const std::vector<uint64_t> ts = store->timestamps();
  EXPECT_EQ(ts[initial_batches], fixed);
  EXPECT_EQ(ts[initial_batches + 1], fixed + 1);
}

TEST_F(WriterTest, StopAnswersQueuedWorkAndRefusesLater) {
  StartWriter();
  store->append_gate.Arm();
  Inbox inbox;
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 100)});
  store->append_gate.WaitUntilBlocked();
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 200)});
  inbox.Send(*writer, SomeWork());
  std::thread stopper([&] { writer->Stop(); });
  // Wait (on an event, not a clock) until Stop has closed the door: a probe is then
  // refused on the calling thread.
  for (;;) {
    const size_t before = inbox.received();
    const size_t probe = inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
    if (inbox.received() > before && inbox.Get(probe).calls == 1) break;
    std::this_thread::yield();
  }
  store->append_gate.Release();
  stopper.join();
  const size_t sent = inbox.size();
  ASSERT_EQ(inbox.received(), sent) << "every submission answered by Stop";
  ExpectAll(inbox.Get(0).results, Outcome::kOk);
  for (size_t i = 1; i < sent; ++i) {
    EXPECT_EQ(inbox.Get(i).calls, 1);
    ExpectAllStatus(inbox.Get(i).results, StatusCode::kUnavailable);
  }
  EXPECT_EQ(store->batches().size(), initial_batches + 1);
  EXPECT_EQ(net.ledger.FindAccount(net.caio_palma)->balance, Amount(kFunding + 100));
  EXPECT_FALSE(net.ledger.batch_open());
  EXPECT_EQ(writer->Read([](const Ledger&) {}).code(), StatusCode::kUnavailable);
  ExpectAllStatus(writer->SubmitAndWait({Pay(Next(), net.ana_palma, net.caio_palma, 1)}),
                  StatusCode::kUnavailable);
  const auto jfaults = CheckJournal(net.ledger, store->batches());
  EXPECT_TRUE(jfaults.empty()) << FormatFaults(jfaults);
}

TEST_F(WriterTest, StopGivesUpAnUnresolvableOutcome) {
  StartWriter();
  store->Script({FakeStore::Mode::kUnknownCommitted});
  store->FailLastSequence(1'000'000);
  Inbox inbox;
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  while (store->last_sequence_calls() < 2) std::this_thread::yield();
  writer->Stop();
  ASSERT_EQ(inbox.received(), 1u);
  ExpectAllStatus(inbox.Get(0).results, StatusCode::kUnavailable);
  EXPECT_FALSE(writer->health().ok()) << "the ledger must be reloaded from the store";
  EXPECT_FALSE(net.ledger.batch_open());
}

TEST_F(WriterTest, DoorRefusalsBeforeStartAndTwiceStarted) {
  writer = std::make_unique<Writer>(net.ledger, *store);
  ExpectAllStatus(writer->SubmitAndWait({Pay(Next(), net.ana_palma, net.caio_palma, 1)}),
                  StatusCode::kUnavailable);
  EXPECT_EQ(writer->Read([](const Ledger&) {}).code(), StatusCode::kUnavailable);
  ASSERT_TRUE(writer->Start().ok());
  EXPECT_EQ(writer->Start().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(writer->SubmitAndWait({}).empty());
  ExpectAll(writer->SubmitAndWait({Pay(Next(), net.ana_palma, net.caio_palma, 1)}), Outcome::kOk);
}

TEST_F(WriterTest, ThrowingCallbackDoesNotStopTheWriter) {
  StartWriter();
  std::atomic<int> calls{0};
  writer->Submit({Pay(Next(), net.ana_palma, net.caio_palma, 1)}, [&](std::vector<CommandResult>) {
    ++calls;
    throw std::runtime_error("client bug");
  });
  ExpectAll(writer->SubmitAndWait({Pay(Next(), net.ana_palma, net.caio_palma, 1)}), Outcome::kOk);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(writer->stats().callback_exceptions, 1u);
  EXPECT_EQ(BalanceOf(net.caio_palma), kFunding + 2);
}

TEST_F(WriterTest, StopFromACallbackClosesTheDoor) {
  StartWriter();
  std::promise<void> stopped;
  writer->Submit({Pay(Next(), net.ana_palma, net.caio_palma, 1)},
                 [&](std::vector<CommandResult> r) {
                   ExpectAll(r, Outcome::kOk);
                   writer->Stop();  // on the writer thread: must not self-join
                   stopped.set_value();
                 });
  stopped.get_future().wait();
  Inbox inbox;
  inbox.Send(*writer, {Pay(Next(), net.ana_palma, net.caio_palma, 1)});
  ASSERT_EQ(inbox.received(), 1u) << "refused at the door once stopped";
  ExpectAllStatus(inbox.Get(0).results, StatusCode::kUnavailable);
  writer->Stop();  // joins
  EXPECT_EQ(net.ledger.FindAccount(net.caio_palma)->balance, Amount(kFunding + 1));
}

TEST_F(WriterTest, ConcurrentSubmittersGetExactlyOneReplyEach) {
  StartWriter();
  constexpr int kThreads = 8;
  constexpr int kPaymentsPerThread = 2000;
  const AccountId accounts[] = {net.ana_palma, net.caio_palma, net.bia_sol};
  Inbox inbox;
  std::vector<std::vector<std::pair<size_t, std::vector<RequestId>>>> sent(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(1234 + t);
      int made = 0;
      while (made < kPaymentsPerThread) {
        const int n = std::min<int>(1 + static_cast<int>(rng() % 16), kPaymentsPerThread - made);
        std::vector<Command> cmds;
        std::vector<RequestId> ids;
        for (int i = 0; i < n; ++i, ++made) {
          const RequestId id = RequestId::FromParts(0xC0 + t, made + 1);
          const size_t f = rng() % 3;
          const AccountId from = accounts[f];
          const AccountId to = accounts[(f + 1 + rng() % 2) % 3];
          cmds.push_back(Pay(id, from, to, 1 + static_cast<int64_t>(rng() % 1000)));
          ids.push_back(id);
        }
        sent[t].push_back({inbox.Send(*writer, std::move(cmds)), std::move(ids)});
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const size_t submissions = inbox.size();
  inbox.WaitFor(submissions);

  const std::unordered_map<TransferId, int> seen = store->transfer_seen();
  size_t legs_ok = 0, answered = 0;
  for (const auto& per_thread : sent) {
    for (const auto& [slot, ids] : per_thread) {
      const Inbox::Slot s = inbox.Get(slot);
      ASSERT_EQ(s.calls, 1);
      ASSERT_EQ(s.results.size(), ids.size());
      for (size_t i = 0; i < ids.size(); ++i) {
        const CommandResult& r = s.results[i];
        ASSERT_TRUE(r.status.ok()) << r.status.ToString();
        ++answered;
        ASSERT_EQ(r.result.outcome, Outcome::kOk) << OutcomeName(r.result.outcome);
        legs_ok += r.result.legs;
        for (uint32_t leg = 0; leg < r.result.legs; ++leg) {
          auto it = seen.find(DeriveTransferId(ids[i], leg));
          ASSERT_TRUE(it != seen.end()) << "acknowledged payment missing from the store";
          EXPECT_EQ(it->second, 1) << "payment stored twice";
        }
      }
    }
  }
  EXPECT_EQ(answered, static_cast<size_t>(kThreads * kPaymentsPerThread));
  EXPECT_EQ(seen.size(), legs_ok) << "the store holds transfers nobody was told about";
  const WriterStats st = writer->stats();
  EXPECT_EQ(st.commands_committed, static_cast<uint64_t>(kThreads * kPaymentsPerThread));
  EXPECT_LE(st.batches_committed, submissions);
  ExpectClean();

  // And the journal alone gives the same balances.
  const std::vector<StoredBatch> batches = store->batches();
  const Replay replay = ReplayJournal(batches);
  ASSERT_TRUE(replay.ok());
  ASSERT_TRUE(writer
                  ->ReadAndWait([&](const Ledger& l) {
                    ASSERT_EQ(replay.accounts.size(), l.account_count());
                    for (const Account& a : l.accounts()) {
                      EXPECT_EQ(replay.accounts[a.id.value() - 1].balance, a.balance);
                    }
                  })
                  .ok());
}

}  // namespace
}  // namespace ayni::server
