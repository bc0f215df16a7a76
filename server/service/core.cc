#include "server/service/core.h"

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include "server/service/grpc_status.h"

namespace ayni::server::service {

void Finish(grpc::ServerUnaryReactor* r, const Status& s) { r->Finish(ToGrpc(s)); }

void FinishOn(TaskThread* thread, grpc::ServerUnaryReactor* r, const Status& s) {
  grpc::Status g = ToGrpc(s);
  if (thread != nullptr && thread->Post([r, g] { r->Finish(g); })) return;
  r->Finish(g);
}

Core::Core(ServiceContext ctx) : ctx_(std::move(ctx)) {}

uint64_t Core::now_ns() const {
  if (ctx_.now_ns) return ctx_.now_ns();
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::optional<auth::KeyRecord> Core::Authenticate(grpc::CallbackServerContext* ctx,
                                                  grpc::ServerUnaryReactor* r) const {
  const auto& md = ctx->client_metadata();
  const auto it = md.find("authorization");
  if (it == md.end()) {
    Finish(r, Status(StatusCode::kUnauthenticated,
                     "missing metadata `authorization: Bearer <API key>`"));
    return std::nullopt;
  }
  const std::string_view value(it->second.data(), it->second.size());
  Result<std::string_view> token = auth::BearerToken(value);
  if (!token.ok()) {
    Finish(r, Status(StatusCode::kUnauthenticated, token.status().message()));
    return std::nullopt;
  }
  Result<auth::KeyRecord> key = auth::Authenticate(*ctx_.keys, *token, now_ns());
  if (!key.ok()) {
    Finish(r, key.status());
    return std::nullopt;
  }
  return std::move(key).value();
}

void Core::OnWriter(grpc::ServerUnaryReactor* r, ReadFn fn) const {
  if (Status s = ctx_.writer->Read(std::move(fn)); !s.ok()) Finish(r, s);
}

void Core::Change(grpc::ServerUnaryReactor* r, const auth::KeyRecord& key, std::string_view method,
                  TargetsFn targets, std::vector<Command> commands, FillFn fill) const {
  ChangeThen(r, key, method, std::move(targets), std::move(commands),
             [r, fill = std::move(fill), finish = ctx_.finish_thread](
                 const Ledger& l, std::vector<CommandResult> results) {
               FinishOn(finish, r, fill(l, results));
             });
}

void Core::ChangeThen(grpc::ServerUnaryReactor* r, const auth::KeyRecord& key,
                      std::string_view method, TargetsFn targets, std::vector<Command> commands,
                      ThenResultsFn then) const {
  // Authorization runs in the writer's own pass, right before the commands apply: no
  // extra trip through the writer's queue.
  const Ledger* ledger = ctx_.ledger;
  ctx_.writer->Submit(
      std::move(commands),
      [r, then = std::move(then), ledger,
       finish = ctx_.finish_thread](std::vector<CommandResult> results) {
        for (const CommandResult& c : results) {
          if (!c.status.ok()) {
            FinishOn(finish, r, c.status);
            return;
          }
        }
        then(*ledger, std::move(results));
      },
      [key, method, targets = std::move(targets)](const Ledger& l) {
        for (const auth::Target& t : targets(l)) {
          if (auth::Decision d = auth::Authorize(key, method, t); !d.allowed()) return d.status();
        }
        return Status::Ok();
      });
}

void Core::Authorized(grpc::ServerUnaryReactor* r, const auth::KeyRecord& key,
                      std::string_view method, TargetFn target, ThenFn then) const {
  OnWriter(r,
           [r, key, method, target = std::move(target), then = std::move(then)](const Ledger& l) {
             if (auth::Decision d = auth::Authorize(key, method, target(l)); !d.allowed()) {
               Finish(r, d.status());
               return;
             }
             then(l);
           });
}

void Core::Query(grpc::ServerUnaryReactor* r, const auth::KeyRecord& key, std::string_view method,
                 TargetFn target, QueryFn fill) const {
  Authorized(r, key, method, std::move(target),
             [r, fill = std::move(fill), finish = ctx_.finish_thread](const Ledger& l) {
               FinishOn(finish, r, fill(l));
             });
}

auth::Target AccountTarget(const Ledger& l, AccountId id) {
  const Account* a = l.FindAccount(id);
  return auth::Target{.bank = a ? a->bank : BankId(), .account = id};
}

auth::Target BankTarget(BankId id) { return auth::Target{.bank = id}; }

auth::Target MemberTarget(const Ledger& l, MemberId id) {
  const Member* m = l.FindMember(id);
  return auth::Target{.bank = m ? m->bank : BankId()};
}

auth::Target CircleTarget(const Ledger& l, CircleId id) {
  const Circle* c = l.FindCircle(id);
  return auth::Target{.bank = c ? c->bank : BankId()};
}

}  // namespace ayni::server::service
