#include "server/writer/writer.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <future>
#include <string>
#include <utility>

#include "clearing/check.h"
#include "clearing/journal.h"

namespace ayni::server {
namespace {

uint64_t SystemNowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Runs one command against the ledger; the only place that knows which Ledger method
// each command type calls.
struct Apply {
  Ledger& l;
  CommandResult& out;
  void operator()(const InitDeploymentCmd& c) { out.result = l.InitDeployment(c); }
  void operator()(const CreateBankCmd& c) { out.result = l.CreateBank(c); }
  void operator()(const CreateCurrencyCmd& c) { out.result = l.CreateCurrency(c); }
  void operator()(const CreateCircleCmd& c) { out.result = l.CreateCircle(c); }
  void operator()(const CreateMemberCmd& c) { out.result = l.CreateMember(c); }
  void operator()(const AddCircleMemberCmd& c) { out.result = l.AddCircleMember(c); }
  void operator()(const OpenAccountCmd& c) { out.result = l.OpenAccount(c); }
  void operator()(const PayCmd& c) { out.result = l.Pay(c); }
  void operator()(const IssueOp& c) { out.result = l.Issue(c.cmd); }
  void operator()(const RedeemOp& c) { out.result = l.Redeem(c.cmd); }
  void operator()(const DistributeOp& c) { out.result = l.Distribute(c.cmd); }
  void operator()(const FundReserveCmd& c) { out.result = l.FundReserve(c); }
  void operator()(const SetAccountStatusCmd& c) { out.result = l.SetAccountStatus(c); }
  void operator()(const SetAccountLimitsCmd& c) { out.result = l.SetAccountLimits(c); }
  void operator()(const RunCycleCmd& c) { out.result = l.RunCycle(c, &out.report); }
  void operator()(const RegisterInvoiceCmd& c) { out.result = l.RegisterInvoice(c); }
  void operator()(const ConfirmInvoiceCmd& c) { out.result = l.ConfirmInvoice(c); }
  void operator()(const DisputeInvoiceCmd& c) { out.result = l.DisputeInvoice(c); }
  void operator()(const RunSetoffCmd& c) { out.result = l.RunSetoff(c, &out.setoff); }
  void operator()(const CreateLoanProductCmd& c) { out.result = l.CreateLoanProduct(c); }
  void operator()(const CreateSolidarityGroupCmd& c) { out.result = l.CreateSolidarityGroup(c); }
  void operator()(const DisburseLoanCmd& c) { out.result = l.DisburseLoan(c); }
  void operator()(const RepayLoanCmd& c) { out.result = l.RepayLoan(c); }
  void operator()(const WriteOffLoanCmd& c) { out.result = l.WriteOffLoan(c); }
  void operator()(const RegisterKioskCmd& c) { out.result = l.RegisterKiosk(c); }
  void operator()(const RegisterCardCmd& c) { out.result = l.RegisterCard(c); }
  void operator()(const AuthorizeCardLoadCmd& c) { out.result = l.AuthorizeCardLoad(c); }
  void operator()(const BlockCardCmd& c) { out.result = l.BlockCard(c); }
  void operator()(const SettleOfflineCmd& c) { out.result = l.SettleOffline(c, &out.offline); }
};

struct RequestOfVisitor {
  const RequestId& operator()(const IssueOp& c) const { return c.cmd.request; }
  const RequestId& operator()(const RedeemOp& c) const { return c.cmd.request; }
  const RequestId& operator()(const DistributeOp& c) const { return c.cmd.request; }
  const RequestId& operator()(const SettleOfflineCmd&) const {
    static const RequestId kNone;
    return kNone;
  }
  template <typename C>
  const RequestId& operator()(const C& c) const {
    return c.request;
  }
};

Status ResourceExhausted(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m));
}

Status Unreachable() {
  return Status::Unavailable(
      "the database is not answering (the writer is resolving whether its last COMMIT took "
      "effect); nothing of this request was applied: retry");
}

}  // namespace

const RequestId& RequestOf(const Command& c) { return std::visit(RequestOfVisitor{}, c); }

Writer::Writer(Ledger& ledger, Store& store, WriterOptions options)
    : ledger_(ledger), store_(store), options_(std::move(options)) {
  if (!options_.now_ns) options_.now_ns = SystemNowNs;
  options_.queue_commands_max = std::min(options_.queue_commands_max, kWriterQueueCommandsMax);
  options_.queue_reads_max = std::clamp<size_t>(options_.queue_reads_max, 1, kWriterQueueReadsMax);
  options_.resolve_backoff_max_ms =
      std::max(options_.resolve_backoff_max_ms, options_.resolve_backoff_initial_ms);
}

Writer::~Writer() { Stop(); }

Status Writer::Start() {
  std::lock_guard stop_lock(stop_mu_);
  {
    std::lock_guard lk(mu_);
    if (running_ || stop_) return Status::FailedPrecondition("writer already started");
    if (ledger_.batch_open()) return Status::FailedPrecondition("ledger has an open batch");
    running_ = true;
  }
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::exception& e) {
    std::lock_guard lk(mu_);
    running_ = false;
    return Status::Internal(std::string("cannot start the writer thread: ") + e.what());
  }
  return Status::Ok();
}

void Writer::Stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
    running_ = false;
  }
  cv_.notify_all();
  // From a callback on the writer thread: the door is closed and the thread ends after
  // this batch; joining itself is impossible, so the destructor (or another Stop) joins.
  if (std::this_thread::get_id() == thread_id_.load()) return;
  std::lock_guard stop_lock(stop_mu_);
  if (thread_.joinable()) thread_.join();
}

// ---- Door: any thread ------------------------------------------------------------------

std::vector<CommandResult> Writer::Failed(size_t n, const Status& status) {
  std::vector<CommandResult> r(n);
  for (CommandResult& c : r) c.status = status;
  return r;
}

void Writer::Submit(std::vector<Command> commands, SubmitCallback done, Precheck precheck) {
  const size_t n = commands.size();
  Status refusal;
  if (n == 0) {
    Deliver(done, {});
    return;
  }
  if (n > kBatchRequestsMax) {
    refusal =
        Status::InvalidArgument("a submission holds at most " + std::to_string(kBatchRequestsMax) +
                                " commands, got " + std::to_string(n));
  }
  Pending p;
  p.has_cycle = std::any_of(commands.begin(), commands.end(), [](const Command& c) {
    // A set-off run may post many mutual-credit payments, and a kiosk batch up to
    // kOfflineBatchMax settlements: each goes alone, like a cycle.
    return std::holds_alternative<RunCycleCmd>(c) || std::holds_alternative<RunSetoffCmd>(c) ||
           std::holds_alternative<SettleOfflineCmd>(c);
  });
  p.commands = std::move(commands);
  p.done = std::move(done);
  p.precheck = std::move(precheck);
  {
    std::lock_guard lk(mu_);
    if (!refusal.ok()) {
      ++stats_.refused_too_large;
    } else if (!running_ || !health_.ok()) {
      ++stats_.refused_stopped;
      refusal = Status::Unavailable(health_.ok() ? "writer not running"
                                                 : "writer stopped: " + health_.message());
    } else if (store_unreachable_) {
      ++stats_.refused_unreachable;
      refusal = Unreachable();
    } else if (queued_commands_ > 0 && queued_commands_ + n > options_.queue_commands_max) {
      // An empty queue always takes one submission, so a lowered bound never starves one.
      ++stats_.refused_queue_full;
      refusal = ResourceExhausted("writer queue full (" + std::to_string(queued_commands_) +
                                  " commands waiting)");
    } else {
      queued_commands_ += n;
      queue_.push_back(std::move(p));
    }
  }
  if (refusal.ok()) {
    cv_.notify_one();
    return;
  }
  Deliver(p.done, Failed(n, refusal));
}

Status Writer::Read(ReadFn fn) {
  {
    std::lock_guard lk(mu_);
    if (!running_) return Status::Unavailable("writer not running");
    if (!health_.ok()) return Status::Unavailable("writer stopped: " + health_.message());
    if (store_unreachable_) {
      ++stats_.refused_unreachable;
      return Unreachable();
    }
    if (reads_.size() >= options_.queue_reads_max) {
      return ResourceExhausted("too many reads waiting for the writer");
    }
    reads_.push_back(std::move(fn));
  }
  cv_.notify_one();
  return Status::Ok();
}

Status Writer::ReadAndWait(const ReadFn& fn) {
  if (std::this_thread::get_id() == thread_id_.load()) {
    // Callbacks and reads run between batches: the ledger holds committed state only.
    fn(ledger_);
    return Status::Ok();
  }
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  Status s = Read([&](const Ledger& l) {
    struct Signal {
      std::mutex& m;
      std::condition_variable& cv;
      bool& finished;
      ~Signal() {
        std::lock_guard g(m);
        finished = true;
        cv.notify_one();
      }
    } signal{m, cv, finished};
    fn(l);
  });
  if (!s.ok()) return s;
  std::unique_lock lk(m);
  cv.wait(lk, [&] { return finished; });
  return Status::Ok();
}

std::vector<CommandResult> Writer::SubmitAndWait(std::vector<Command> commands) {
  if (std::this_thread::get_id() == thread_id_.load()) {
    return Failed(commands.size(),
                  Status::FailedPrecondition("SubmitAndWait on the writer thread would deadlock"));
  }
  std::promise<std::vector<CommandResult>> promise;
  std::future<std::vector<CommandResult>> future = promise.get_future();
  Submit(std::move(commands),
         [&promise](std::vector<CommandResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

WriterStats Writer::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

Status Writer::health() const {
  std::lock_guard lk(mu_);
  return health_;
}

// ---- The writer thread -------------------------------------------------------------------

void Writer::Run() {
  thread_id_.store(std::this_thread::get_id());
  std::vector<Pending> batch;
  std::deque<ReadFn> reads;
  bool stopping = false;
  while (!stopping) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty() || !reads_.empty(); });
      reads.swap(reads_);
      stopping = stop_;
    }
    // Reads first: what they submit (e.g. after looking something up) joins this batch
    // instead of waiting a whole commit for the next one.
    RunReads(reads);
    if (!stopping) {
      std::lock_guard lk(mu_);
      TakeBatch(batch);
    }
    if (!batch.empty()) WriteBatch(batch);
    batch.clear();
  }
  // Stop(): answer what is still queued; serve the reads already promised.
  std::deque<Pending> left;
  {
    std::lock_guard lk(mu_);
    left.swap(queue_);
    queued_commands_ = 0;
    reads.swap(reads_);
    stats_.refused_stopped += left.size();
  }
  for (Pending& p : left) {
    Deliver(p.done, Failed(p.commands.size(), Status::Unavailable("writer stopping")));
  }
  RunReads(reads);
}

void Writer::TakeBatch(std::vector<Pending>& batch) {
  // A submission is never split. A clearing cycle may post more transfers than any other
  // command (limits.h), so a submission with one is batched alone: the commands around it
  // can then never be refused kBatchFull because of it.
  size_t n = 0;
  while (!queue_.empty()) {
    Pending& p = queue_.front();
    if (!batch.empty() &&
        (n + p.commands.size() > kBatchRequestsMax || p.has_cycle || batch.front().has_cycle)) {
      break;
    }
    n += p.commands.size();
    queued_commands_ -= p.commands.size();
    batch.push_back(std::move(p));
    queue_.pop_front();
  }
}

void Writer::ApplyAll(std::vector<Pending>& batch,
                      std::vector<std::vector<CommandResult>>& results) {
  std::vector<const Command*> flat;
  for (const Pending& p : batch) {
    for (const Command& c : p.commands) flat.push_back(&c);
  }
  results.resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) results[i].resize(batch[i].commands.size());
  for (size_t i = 0; i < flat.size() && i < kWriterPrefetchDistance; ++i) {
    ledger_.PrefetchRequest(RequestOf(*flat[i]));
  }
  size_t k = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].precheck) {
      Status s;
      try {
        s = batch[i].precheck(ledger_);
      } catch (...) {
        s = Status::Internal("precheck threw");
      }
      if (!s.ok()) {
        results[i] = Failed(batch[i].commands.size(), s);
        k += batch[i].commands.size();
        continue;
      }
    }
    for (size_t j = 0; j < batch[i].commands.size(); ++j, ++k) {
      if (k + kWriterPrefetchDistance < flat.size()) {
        ledger_.PrefetchRequest(RequestOf(*flat[k + kWriterPrefetchDistance]));
      }
      std::visit(Apply{ledger_, results[i][j]}, batch[i].commands[j]);
    }
  }
}

void Writer::WriteBatch(std::vector<Pending>& batch) {
  const size_t requests_before = ledger_.request_count();
  const auto t0 = std::chrono::steady_clock::now();
  ledger_.BeginBatch(options_.now_ns());
  std::vector<std::vector<CommandResult>> results;
  ApplyAll(batch, results);
  SealedBatch sealed = ledger_.PrepareBatch();

  // Nothing changed (every command refused, or an identical retry answered kExists):
  // the answers rest on committed state only, so there is nothing to make durable.
  if (sealed.bytes.size() == kBatchHeaderBytes && ledger_.request_count() == requests_before) {
    ledger_.AbortBatch();
    {
      std::lock_guard lk(mu_);
      ++stats_.batches_without_effect;
    }
    for (size_t i = 0; i < batch.size(); ++i) Deliver(batch[i].done, std::move(results[i]));
    return;
  }

  const auto t1 = std::chrono::steady_clock::now();
  AppendResult appended;
  try {
    appended = store_.Append(sealed, ledger_);
  } catch (const std::exception& e) {
    // A store must not throw; if one does, whether it committed is not known.
    appended = {AppendOutcome::kUnknown,
                Status::Internal(std::string("Append threw: ") + e.what())};
  } catch (...) {
    appended = {AppendOutcome::kUnknown, Status::Internal("Append threw")};
  }

  const auto t2 = std::chrono::steady_clock::now();
  Resolution resolution = Resolution::kNotCommitted;
  switch (appended.outcome) {
    case AppendOutcome::kCommitted:
      resolution = Resolution::kCommitted;
      break;
    case AppendOutcome::kNotCommitted:
      resolution = Resolution::kNotCommitted;
      break;
    case AppendOutcome::kUnknown: {
      {
        std::lock_guard lk(mu_);
        ++stats_.batches_unknown;
      }
      resolution = Resolve(sealed, batch);
      {
        std::lock_guard lk(mu_);
        store_unreachable_ = false;
      }
      break;
    }
  }

  switch (resolution) {
    case Resolution::kCommitted: {
      ledger_.CommitBatch();
      AYNI_CHECK(ledger_.batch_sequence() == sealed.sequence);
      AYNI_CHECK(ledger_.head() == sealed.hash);
      size_t commands = 0;
      for (const Pending& p : batch) commands += p.commands.size();
      {
        std::lock_guard lk(mu_);
        ++stats_.batches_committed;
        stats_.commands_committed += commands;
        stats_.last_batch_commands = commands;
        stats_.last_batch_submissions = batch.size();
        stats_.last_sequence = sealed.sequence;
      }
      for (size_t i = 0; i < batch.size(); ++i) Deliver(batch[i].done, std::move(results[i]));
      const auto t3 = std::chrono::steady_clock::now();
      auto ns = [](auto d) {
        return static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
      };
      std::lock_guard lk(mu_);
      stats_.apply_ns += ns(t1 - t0);
      stats_.append_ns += ns(t2 - t1);
      stats_.deliver_ns += ns(t3 - t2);
      return;
    }
    case Resolution::kNotCommitted: {
      ledger_.AbortBatch();
      {
        std::lock_guard lk(mu_);
        ++stats_.batches_not_committed;
      }
      const std::string why = appended.status.ok() ? "" : ": " + appended.status.message();
      AnswerAll(batch, Status::Unavailable("batch not committed" + why));
      return;
    }
    case Resolution::kDiverged:
    case Resolution::kGaveUp: {
      // The ledger in memory may no longer match the store; undo the batch and stop
      // taking work. The process must reload the ledger from the store.
      ledger_.AbortBatch();
      const std::string why = resolution == Resolution::kDiverged
                                  ? "store's last sequence is neither this batch nor the one "
                                    "before it (another writer?)"
                                  : "commit outcome unknown when stopping";
      std::deque<Pending> left;
      {
        std::lock_guard lk(mu_);
        ++stats_.batches_not_committed;
        health_ = Status::Unavailable(why + "; reload the ledger from the store");
        left.swap(queue_);
        queued_commands_ = 0;
        stats_.refused_stopped += left.size();
      }
      const Status status = Status::Unavailable("commit outcome unknown (" + why +
                                                "); retry with the same request ids");
      AnswerAll(batch, status);
      for (Pending& p : left) Deliver(p.done, Failed(p.commands.size(), status));
      return;
    }
  }
}

Writer::Resolution Writer::Resolve(const SealedBatch& batch, std::vector<Pending>& waiting) {
  AYNI_CHECK(batch.sequence >= 1);
  uint32_t backoff_ms = options_.resolve_backoff_initial_ms;
  for (;;) {
    Result<StoreHead> last = [&]() -> Result<StoreHead> {
      try {
        return store_.LastBatch();
      } catch (...) {
        return Status::Internal("LastBatch threw");
      }
    }();
    if (last.ok()) {
      // By hash, not by number: only *this* batch at its sequence counts as committed.
      if (last->sequence == batch.sequence && last->hash == batch.hash) {
        return Resolution::kCommitted;
      }
      if (last->sequence == batch.sequence - 1 && last->hash == batch.prev_hash) {
        return Resolution::kNotCommitted;
      }
      return Resolution::kDiverged;
    }
    // The database does not answer: what waits behind this batch was never applied, so
    // it is answered UNAVAILABLE now (a retry is safe) instead of waiting out the outage;
    // new work is refused at the door until the outcome is known.
    std::deque<Pending> refused;
    {
      std::lock_guard lk(mu_);
      store_unreachable_ = true;
      refused.swap(queue_);
      queued_commands_ = 0;
      stats_.refused_unreachable += refused.size();
    }
    for (Pending& p : refused) Deliver(p.done, Failed(p.commands.size(), Unreachable()));
    // This batch's own submitters too (once; Deliver answers each at most once): their
    // outcome is not known, and a retry with the same ids is exactly-once either way.
    AnswerAll(waiting,
              Status::Unavailable("the database is not answering and whether this request's batch "
                                  "committed is not known yet: retry with the same request id (a "
                                  "retry answers EXISTS if it did)"));
    std::unique_lock lk(mu_);
    if (stop_) return Resolution::kGaveUp;
    // Woken early by Stop(): one more attempt, then give up.
    cv_.wait_for(lk, std::chrono::milliseconds(backoff_ms), [&] { return stop_; });
    backoff_ms = std::min(backoff_ms * 2, options_.resolve_backoff_max_ms);
  }
}

void Writer::AnswerAll(std::vector<Pending>& batch, const Status& status) {
  for (Pending& p : batch) Deliver(p.done, Failed(p.commands.size(), status));
}

void Writer::Deliver(SubmitCallback& done, std::vector<CommandResult> results) {
  if (!done) return;
  try {
    done(std::move(results));
  } catch (...) {
    std::lock_guard lk(mu_);
    ++stats_.callback_exceptions;
  }
  done = nullptr;
}

void Writer::RunReads(std::deque<ReadFn>& reads) {
  for (ReadFn& fn : reads) {
    try {
      fn(ledger_);
    } catch (...) {
      std::lock_guard lk(mu_);
      ++stats_.callback_exceptions;
    }
  }
  reads.clear();
}

}  // namespace ayni::server
