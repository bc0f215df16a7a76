// Writer: the batching writer of SPEC §6 ("Write path").
//
// One Writer owns one Ledger and one Store while it runs. Its single thread is the only
// code that touches the ledger: it groups queued submissions into ledger batches, makes
// each batch durable with Store::Append, and only then answers the submitters. Reads run
// on the same thread between batches, so they never see effects that are not committed.
//
//   Writer w(ledger, store);           // ledger already restored from store.LoadJournal()
//   w.Start();
//   w.Submit({PayCmd{...}}, [](std::vector<CommandResult> r) { ... });   // any thread
//   w.Read([](const Ledger& l) { ... });                                  // any thread
//   w.Stop();
//
// Batch outcome → what submitters get:
//   Append kCommitted            CommitBatch; every command's OpResult (kOk, kExists, refusals).
//   Append kNotCommitted         AbortBatch (memory exactly as before); UNAVAILABLE to all.
//   Append kUnknown              resolved by READING Store::LastBatch() (retried with
//                                bounded backoff while it fails), never by re-appending:
//                                this very batch (sequence AND hash) → as committed; its
//                                predecessor → as not committed; anything else (e.g. another
//                                batch under the same number) → the store moved under us (another
//                                writer?): abort, answer UNAVAILABLE, and refuse all further
//                                work (health() says why; the process must reload).
//                                While the read fails (the database is down), the batch's
//                                own submitters are answered UNAVAILABLE "outcome unknown"
//                                at once instead of waiting out the outage: a retry with
//                                the same request ids, once it is back, answers kExists if
//                                the batch did commit and applies it if it did not.
//   Batch with no effect at all  (every command refused or an identical retry) nothing is
//                                appended; the answers are given at once.
// A non-OK CommandResult::status means "not acknowledged": retrying the same request ids
// is safe, because commands are idempotent by request id (a retry of something that did
// commit answers kExists).
//
// Thread-safety: Submit, Read, ReadAndWait, SubmitAndWait, stats and health are safe from
// any thread. Callbacks and read functions run on the writer thread (except refusals at
// the door, see Submit); they must be short and must not block on the writer.
// Ownership: the Ledger and the Store are borrowed and must outlive the Writer; nobody
// else may touch the ledger between Start() and Stop().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "clearing/ledger.h"
#include "clearing/limits.h"
#include "clearing/status.h"
#include "server/storage/store.h"

namespace ayni::server {

// Issue, Redeem and Distribute share AccountAmountCmd; these tell them apart.
struct IssueOp {
  AccountAmountCmd cmd;
};
struct RedeemOp {
  AccountAmountCmd cmd;
};
struct DistributeOp {
  AccountAmountCmd cmd;
};

using Command = std::variant<InitDeploymentCmd, CreateBankCmd, CreateCurrencyCmd, CreateCircleCmd,
                             CreateMemberCmd, AddCircleMemberCmd, OpenAccountCmd, PayCmd, IssueOp,
                             RedeemOp, DistributeOp, FundReserveCmd, SetAccountStatusCmd,
                             SetAccountLimitsCmd, RunCycleCmd,
                             // Invoices and set-off (clearing/invoices.h).
                             RegisterInvoiceCmd, ConfirmInvoiceCmd, DisputeInvoiceCmd,
                             RunSetoffCmd,
                             // Microcredit (clearing/loans.h).
                             CreateLoanProductCmd, CreateSolidarityGroupCmd, DisburseLoanCmd,
                             RepayLoanCmd, WriteOffLoanCmd,
                             // Cards and kiosks (clearing/cards.h).
                             RegisterKioskCmd, RegisterCardCmd, AuthorizeCardLoadCmd,
                             BlockCardCmd, SettleOfflineCmd>;

// The command's request id; a zero id for SettleOfflineCmd, which is deduplicated per
// record instead (clearing/cards.h).
const RequestId& RequestOf(const Command& c);

struct CommandResult {
  OpResult result;     // meaningful only when status is OK
  CycleReport report;  // RunCycleCmd only (empty otherwise)
  SetoffRun setoff;    // RunSetoffCmd only (empty otherwise)
  SettleOfflineReport offline;  // SettleOfflineCmd only (empty otherwise)
  // Non-OK: the command was not acknowledged (UNAVAILABLE, RESOURCE_EXHAUSTED,
  // INVALID_ARGUMENT for an oversized submission); retrying the same request id is safe.
  Status status;
};

using SubmitCallback = std::function<void(std::vector<CommandResult>)>;
// Runs on the writer thread right before a submission's commands are applied, on the
// ledger as the batch has it so far; a non-OK status refuses the whole submission (every
// command gets that status, nothing of it is applied). For checks that need the ledger,
// such as authorization, without a round trip through Read first.
using Precheck = std::function<Status(const Ledger&)>;
using ReadFn = std::function<void(const Ledger&)>;

// Queued commands (not yet in a batch) beyond which Submit answers RESOURCE_EXHAUSTED:
// eight full batches. Enough that a burst of BatchPays queues behind the batch being
// written instead of bouncing, while memory (≈ 100 bytes a command, ≈ 7 MB) and the wait of
// the last one queued (eight commits) stay bounded — also while the database is away and
// an unknown commit outcome is being resolved.
inline constexpr size_t kWriterQueueCommandsMax = 8 * kBatchRequestsMax;
// Queued read functions beyond which Read answers RESOURCE_EXHAUSTED. Reads are served
// between batches, all at once; this bounds that pause and the queue's memory.
inline constexpr size_t kWriterQueueReadsMax = 4096;
// How a few commands ahead the writer hints the idempotency table (Ledger::PrefetchRequest).
inline constexpr size_t kWriterPrefetchDistance = 8;

struct WriterOptions {
  // Batch timestamps (Ledger::BeginBatch). Default: the system clock, ns since the epoch.
  std::function<uint64_t()> now_ns;
  // Backoff between LastBatch() attempts while resolving an unknown outcome: doubles
  // from initial up to max (the database may be down for a while).
  uint32_t resolve_backoff_initial_ms = 10;
  uint32_t resolve_backoff_max_ms = 1000;
  // May only lower the bounds above (tests use small ones).
  size_t queue_commands_max = kWriterQueueCommandsMax;
  size_t queue_reads_max = kWriterQueueReadsMax;
};

// Simple counters; a consistent copy comes from Writer::stats().
struct WriterStats {
  uint64_t batches_committed = 0;
  uint64_t batches_not_committed = 0;   // answered UNAVAILABLE (incl. unknown → not committed)
  uint64_t batches_unknown = 0;         // Append said kUnknown (then resolved by reading)
  uint64_t batches_without_effect = 0;  // nothing to append: answered at once
  uint64_t commands_committed = 0;      // commands in committed batches, whatever their outcome
  uint64_t last_batch_commands = 0;     // of the last committed batch
  uint64_t last_batch_submissions = 0;
  uint64_t last_sequence = 0;        // ledger head after the last committed batch
  uint64_t refused_queue_full = 0;   // submissions answered RESOURCE_EXHAUSTED
  uint64_t refused_too_large = 0;    // submissions answered INVALID_ARGUMENT
  uint64_t refused_stopped = 0;      // submissions answered UNAVAILABLE without a batch
  // Submissions and reads answered UNAVAILABLE because the database did not answer while
  // the outcome of a COMMIT was being resolved (none of them was applied).
  uint64_t refused_unreachable = 0;
  uint64_t callback_exceptions = 0;  // a callback or read function threw (swallowed)
  // Where committed batches spend the writer's time (steady clock, cumulative): applying
  // and sealing in memory, Store::Append (the database transaction, COMMIT included), and
  // answering the submissions.
  uint64_t apply_ns = 0, append_ns = 0, deliver_ns = 0;
};

class Writer {
 public:
  Writer(Ledger& ledger, Store& store, WriterOptions options = {});
  ~Writer();  // Stop()
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Starts the thread. FAILED_PRECONDITION if already started or the ledger has an open
  // batch; INTERNAL if the thread cannot be created.
  Status Start();
  // Finishes the batch being written (giving up on an unresolved unknown outcome: its
  // commands get UNAVAILABLE and health() says the ledger must be reloaded), answers every
  // queued submission UNAVAILABLE, runs the queued reads, and joins. Idempotent. From the
  // writer thread (a callback) it only closes the door; the destructor joins.
  void Stop();

  // Queues commands that go into ONE ledger batch, in order. `done` is called exactly
  // once with one result per command: on the writer thread after the batch's outcome is
  // known, or at once on the calling thread when refused at the door (INVALID_ARGUMENT:
  // more than kBatchRequestsMax commands; RESOURCE_EXHAUSTED: queue full; UNAVAILABLE:
  // not running). An empty submission is answered at once with no results.
  void Submit(std::vector<Command> commands, SubmitCallback done, Precheck precheck = {});

  // Queues `fn` to run on the writer thread between batches. OK: fn will be called
  // exactly once. Otherwise (UNAVAILABLE: not running; RESOURCE_EXHAUSTED: too many
  // queued) it never will be.
  [[nodiscard]] Status Read(ReadFn fn);

  // Blocking conveniences for tests and tools. Called from the writer thread itself (in a
  // callback) ReadAndWait runs fn inline and SubmitAndWait answers FAILED_PRECONDITION.
  [[nodiscard]] Status ReadAndWait(const ReadFn& fn);
  std::vector<CommandResult> SubmitAndWait(std::vector<Command> commands);

  WriterStats stats() const;
  // OK while the ledger matches the store; otherwise why it no longer does.
  Status health() const;

 private:
  struct Pending {
    std::vector<Command> commands;
    SubmitCallback done;
    Precheck precheck;
    bool has_cycle = false;  // a cycle, set-off run or kiosk batch: batched alone
  };
  enum class Resolution : uint8_t { kCommitted, kNotCommitted, kDiverged, kGaveUp };

  void Run();
  // Takes from the queue what goes in the next batch (caller holds mu_).
  void TakeBatch(std::vector<Pending>& batch);
  void WriteBatch(std::vector<Pending>& batch);
  void ApplyAll(std::vector<Pending>& batch, std::vector<std::vector<CommandResult>>& results);
  // `waiting`: the batch's submitters, answered UNAVAILABLE when the read fails.
  Resolution Resolve(const SealedBatch& batch, std::vector<Pending>& waiting);
  void AnswerAll(std::vector<Pending>& batch, const Status& status);
  void Deliver(SubmitCallback& done, std::vector<CommandResult> results);
  void RunReads(std::deque<ReadFn>& reads);
  static std::vector<CommandResult> Failed(size_t n, const Status& status);

  Ledger& ledger_;
  Store& store_;
  WriterOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;   // guarded by mu_
  size_t queued_commands_ = 0;  // guarded by mu_
  std::deque<ReadFn> reads_;    // guarded by mu_
  bool running_ = false;        // guarded by mu_: Submit/Read accepted
  // The database did not answer the last attempt to resolve an unknown COMMIT outcome:
  // new work is refused at the door, and queued work answered, UNAVAILABLE (guarded by mu_).
  bool store_unreachable_ = false;
  bool stop_ = false;           // guarded by mu_
  Status health_;               // guarded by mu_
  WriterStats stats_;           // guarded by mu_
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{};
  std::mutex stop_mu_;  // serialises Start/Stop
};

}  // namespace ayni::server
