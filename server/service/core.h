// The plumbing every aynid RPC handler shares (SPEC §6): authenticate, resolve the
// authorization target on the writer thread, authorize, submit to the writer, fill the
// reply from the committed results, finish.
//
//   gRPC thread:    Authenticate (in-memory registry) → convert (server/api) → Submit
//   writer thread:  precheck: targets from the ledger → Authorize → apply in the batch
//   writer thread:  Submit callback (after COMMIT) → fill the reply
//   finish thread:  Finish (gRPC serialises and sends the reply)
//
// gRPC threads never block on the writer or the database: every step after conversion is
// a callback. Each reactor is finished exactly once. A state-changing call is refused as
// a whole, before any of its commands applies, when any target is denied (BatchPay: every
// item's payer); a refused submission writes nothing.
//
// Thread-safety: Core is immutable after construction; its methods may run on any thread.
// The Ledger reference is only touched from writer-thread callbacks.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "clearing/ledger.h"
#include "clearing/status.h"
#include "server/auth/api_key.h"
#include "server/auth/pg_key_registry.h"
#include "server/auth/policy.h"
#include "server/api/bank_keys.h"
#include "server/api/signature.h"
#include "server/storage/pg_reader.h"
#include "server/service/task_thread.h"
#include "server/service/work_pool.h"
#include "server/writer/writer.h"

namespace ayni::server::service {

struct ServiceContext {
  Writer* writer = nullptr;
  const Ledger* ledger = nullptr;     // the writer's; read only on the writer thread
  auth::KeyRegistry* keys = nullptr;  // authentication's source of truth in memory
  // Write-through persistence of API keys, used only on key_thread. Both null: key
  // changes are refused with FAILED_PRECONDITION.
  auth::PgKeyStore* key_store = nullptr;
  TaskThread* key_thread = nullptr;
  // Signs reserve audits and cycle reports. Null: reports go out unsigned.
  const api::Signer* signer = nullptr;
  // Read-only database access off the gRPC and writer threads (SPEC §6): statements run
  // on read_thread with `reader`, audits on audit_thread with `audit_reader`, so a long
  // audit never delays a statement. Null: those RPCs answer UNAVAILABLE.
  TaskThread* read_thread = nullptr;
  PgReader* reader = nullptr;
  TaskThread* audit_thread = nullptr;
  PgReader* audit_reader = nullptr;
  // Sends the replies of Change and Query (gRPC's Finish: serialising the reply and
  // writing it to the socket) off the writer thread, which only builds them: the writer
  // starts its next batch instead of waiting on a socket write per call. Null, or
  // stopped: the writer thread finishes them itself.
  TaskThread* finish_thread = nullptr;
  // Cards (CardService): the banks' signing keys, and the pool that verifies card and
  // kiosk signatures and signs certificates and load tokens off the writer thread. Null:
  // CardService answers UNAVAILABLE.
  const api::BankKeys* bank_keys = nullptr;
  WorkPool* card_pool = nullptr;
  std::function<uint64_t()> now_ns;  // default: the system clock
  std::string server_version = "0.1";
};

// Finishes `r` with `s` mapped by ToGrpc (the one mapping).
void Finish(grpc::ServerUnaryReactor* r, const Status& s);
// Finish, on `thread` when it takes the task (the reply must be complete: nothing may
// touch it after this call), else at once on the calling thread.
void FinishOn(TaskThread* thread, grpc::ServerUnaryReactor* r, const Status& s);

using TargetsFn = std::function<std::vector<auth::Target>(const Ledger&)>;
using TargetFn = std::function<auth::Target(const Ledger&)>;
// Fills the reply from the committed results (all with OK status); a non-OK return is
// what the call finishes with (e.g. INVALID_ARGUMENT from api::StatusOf).
using FillFn = std::function<Status(const Ledger&, const std::vector<CommandResult>&)>;
using QueryFn = std::function<Status(const Ledger&)>;
// Continues an authorized call on the writer thread; it must finish the reactor, at once
// or later from another thread.
using ThenFn = std::function<void(const Ledger&)>;
// Takes over a committed submission on the writer thread (every command with OK status);
// it must finish the reactor, at once or later from another thread.
using ThenResultsFn = std::function<void(const Ledger&, std::vector<CommandResult>)>;

class Core {
 public:
  explicit Core(ServiceContext ctx);

  const ServiceContext& ctx() const { return ctx_; }
  uint64_t now_ns() const;

  // The caller's key, from metadata `authorization: Bearer <token>`; on failure finishes
  // `r` with UNAUTHENTICATED and returns nullopt.
  std::optional<auth::KeyRecord> Authenticate(grpc::CallbackServerContext* ctx,
                                              grpc::ServerUnaryReactor* r) const;

  // A state change: submit `commands` as one submission whose precheck authorizes every
  // target on the writer thread; fill the reply once it is committed.
  void Change(grpc::ServerUnaryReactor* r, const auth::KeyRecord& key, std::string_view method,
              TargetsFn targets, std::vector<Command> commands, FillFn fill) const;
  // Change, handing the committed results to `then` instead of finishing the call.
  void ChangeThen(grpc::ServerUnaryReactor* r, const auth::KeyRecord& key,
                  std::string_view method, TargetsFn targets, std::vector<Command> commands,
                  ThenResultsFn then) const;
  // A read: on the writer thread (between batches: committed state only), authorize the
  // target, then fill the reply.
  void Query(grpc::ServerUnaryReactor* r, const auth::KeyRecord& key, std::string_view method,
             TargetFn target, QueryFn fill) const;
  // On the writer thread, authorize the target, then hand over to `then`.
  void Authorized(grpc::ServerUnaryReactor* r, const auth::KeyRecord& key,
                  std::string_view method, TargetFn target, ThenFn then) const;
  // Runs fn on the writer thread; finishes `r` with the writer's refusal otherwise.
  void OnWriter(grpc::ServerUnaryReactor* r, ReadFn fn) const;

 private:
  ServiceContext ctx_;
};

// Targets from the ledger; zero ids when the object is unknown (then only a
// deployment-scoped key passes, and the ledger answers "not found" as data).
auth::Target AccountTarget(const Ledger& l, AccountId id);
auth::Target BankTarget(BankId id);
auth::Target MemberTarget(const Ledger& l, MemberId id);
auth::Target CircleTarget(const Ledger& l, CircleId id);

// reason, detail, timestamp_ns: the fields every state-changing reply has.
template <typename Reply>
void FillOutcome(const OpResult& o, Reply* reply) {
  reply->set_reason(static_cast<decltype(reply->reason())>(static_cast<int>(o.outcome)));
  reply->set_detail(o.detail);
  reply->set_timestamp_ns(o.timestamp_ns);
}

}  // namespace ayni::server::service
