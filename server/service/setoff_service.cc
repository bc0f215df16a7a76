// SetoffService: RegisterInvoice, ConfirmInvoice, DisputeInvoice, ListInvoices, RunSetoff,
// GetSetoffRun.
#include "server/service/setoff_service.h"

#include <string>
#include <vector>

#include "server/api/convert.h"
#include "server/api/setoff_convert.h"
#include "server/service/services.h"

namespace ayni::server::service {
namespace {

constexpr std::string_view kRegister = "/ayni.v1.SetoffService/RegisterInvoice";
constexpr std::string_view kConfirm = "/ayni.v1.SetoffService/ConfirmInvoice";
constexpr std::string_view kDispute = "/ayni.v1.SetoffService/DisputeInvoice";
constexpr std::string_view kList = "/ayni.v1.SetoffService/ListInvoices";
constexpr std::string_view kRun = "/ayni.v1.SetoffService/RunSetoff";
constexpr std::string_view kGetRun = "/ayni.v1.SetoffService/GetSetoffRun";

// The member's bank, and the caller's own account when a MEMBER key's account belongs to
// `member` (docs/roles.md): the debtor answering for itself, a member reading its own.
auth::Target ActingFor(const Ledger& l, const auth::KeyRecord& key, MemberId member) {
  auth::Target t = MemberTarget(l, member);
  if (key.scope.kind == auth::ScopeKind::kAccount) {
    const Account* a = l.FindAccount(AccountId(key.scope.id));
    if (a != nullptr && member.valid() && a->owner == member) t.account = a->id;
  }
  return t;
}

MemberId DebtorOf(const Ledger& l, const InvoiceId& id) {
  const InvoiceRecord* inv = l.FindInvoice(id);
  return inv != nullptr ? inv->debtor : MemberId();
}

// Fills the reason and, when committed, the invoice as it is now.
template <typename Reply>
Status FillInvoice(const Ledger& l, const OpResult& o, const InvoiceId& id, Reply* reply) {
  if (Status s = api::StatusOf(o); !s.ok()) return s;
  FillOutcome(o, reply);
  if (o.ok()) {
    if (const InvoiceRecord* inv = l.FindInvoice(id))
      api::ToProto(*inv, l, reply->mutable_invoice());
  }
  return Status::Ok();
}

}  // namespace

ServerUnaryReactor* SetoffServiceImpl::RegisterInvoice(CallbackServerContext* ctx,
                                                       const v1::RegisterInvoiceRequest* req,
                                                       v1::RegisterInvoiceReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Result<RegisterInvoiceCmd> cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  const MemberId creditor = cmd->creditor;
  const InvoiceId id = cmd->invoice.zero() ? InvoiceId(cmd->request.bytes()) : cmd->invoice;
  core_.Change(
      r, *key, kRegister,
      [creditor](const Ledger& l) { return std::vector{MemberTarget(l, creditor)}; }, {*cmd},
      [reply, id](const Ledger& l, const std::vector<CommandResult>& rs) {
        const OpResult& o = rs[0].result;
        // A retry answers the invoice its request registered, whatever id this one names.
        InvoiceId found = id;
        if (o.outcome == Outcome::kExists && o.id >= 1 && o.id <= l.invoices().size()) {
          found = l.invoices()[o.id - 1].id;
        }
        return FillInvoice(l, o, found, reply);
      });
  return r;
}

ServerUnaryReactor* SetoffServiceImpl::ConfirmInvoice(CallbackServerContext* ctx,
                                                      const v1::ConfirmInvoiceRequest* req,
                                                      v1::ConfirmInvoiceReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Result<ConfirmInvoiceCmd> cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  const InvoiceId id = cmd->invoice;
  core_.Change(
      r, *key, kConfirm,
      [k = *key, id](const Ledger& l) { return std::vector{ActingFor(l, k, DebtorOf(l, id))}; },
      {*cmd},
      [reply, id](const Ledger& l, const std::vector<CommandResult>& rs) {
        return FillInvoice(l, rs[0].result, id, reply);
      });
  return r;
}

ServerUnaryReactor* SetoffServiceImpl::DisputeInvoice(CallbackServerContext* ctx,
                                                      const v1::DisputeInvoiceRequest* req,
                                                      v1::DisputeInvoiceReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Result<DisputeInvoiceCmd> cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  const InvoiceId id = cmd->invoice;
  core_.Change(
      r, *key, kDispute,
      [k = *key, id](const Ledger& l) { return std::vector{ActingFor(l, k, DebtorOf(l, id))}; },
      {*cmd},
      [reply, id](const Ledger& l, const std::vector<CommandResult>& rs) {
        return FillInvoice(l, rs[0].result, id, reply);
      });
  return r;
}

ServerUnaryReactor* SetoffServiceImpl::ListInvoices(CallbackServerContext* ctx,
                                                    const v1::ListInvoicesRequest* req,
                                                    v1::ListInvoicesReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  if (Status s = api::CheckFieldLimits(*req); !s.ok()) {
    Finish(r, s);
    return r;
  }
  const Result<uint32_t> size = PageSize(req->page_size());
  const Result<uint64_t> after = PageAfter(req->page_token());  // a position: index + 1
  if (!size.ok() || !after.ok()) {
    Finish(r, size.ok() ? after.status() : size.status());
    return r;
  }
  const MemberId member(req->member_id());
  const auto status = static_cast<uint8_t>(req->status());
  const bool open_only = req->open_only();
  core_.Query(
      r, *key, kList, [k = *key, member](const Ledger& l) { return ActingFor(l, k, member); },
      [n = *size, after = *after, member, status, open_only, reply](const Ledger& l) {
        const auto invoices = l.invoices();
        for (uint64_t i = after; i < invoices.size(); ++i) {
          const InvoiceRecord& inv = invoices[i];
          if (member.valid() && inv.debtor != member && inv.creditor != member) continue;
          if (status != 0 && static_cast<uint8_t>(inv.status) != status) continue;
          if (open_only && !inv.remainder.positive()) continue;
          if (static_cast<uint32_t>(reply->invoices_size()) == n) {
            reply->set_next_page_token(std::to_string(i));
            break;
          }
          api::ToProto(inv, l, reply->add_invoices());
        }
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* SetoffServiceImpl::RunSetoff(CallbackServerContext* ctx,
                                                 const v1::RunSetoffRequest* req,
                                                 v1::RunSetoffReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Result<RunSetoffCmd> cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  const auto everyone = [](const Ledger&) { return auth::Target{}; };
  if (req->dry_run()) {
    // A read on the writer thread: the same computation, nothing queued for a batch.
    core_.Query(r, *key, kRun, everyone, [c = *cmd, reply](const Ledger& l) {
      SetoffRun run;
      const OpResult o = l.DryRunSetoff(c, &run);
      if (Status s = api::StatusOf(o); !s.ok()) return s;
      FillOutcome(o, reply);
      if (o.outcome == Outcome::kOk) api::ToProto(run, true, l, reply->mutable_report());
      return Status::Ok();
    });
    return r;
  }
  core_.Change(
      r, *key, kRun, [everyone](const Ledger& l) { return std::vector{everyone(l)}; }, {*cmd},
      [reply](const Ledger& l, const std::vector<CommandResult>& rs) {
        const OpResult& o = rs[0].result;
        if (Status s = api::StatusOf(o); !s.ok()) return s;
        FillOutcome(o, reply);
        if (o.ok()) api::ToProto(rs[0].setoff, false, l, reply->mutable_report());
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* SetoffServiceImpl::GetSetoffRun(CallbackServerContext* ctx,
                                                    const v1::GetSetoffRunRequest* req,
                                                    v1::GetSetoffRunReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  std::optional<RequestId> by_id;
  if (req->run_case() == v1::GetSetoffRunRequest::kRunId) {
    Result<RequestId> id = api::ParseRequestId(req->run_id(), "run_id");
    if (!id.ok()) {
      Finish(r, id.status());
      return r;
    }
    by_id = *id;
  } else if (req->run_case() == v1::GetSetoffRunRequest::kNumber && req->number() == 0) {
    Finish(r, Status::InvalidArgument("number: runs are numbered from 1"));
    return r;
  } else if (req->run_case() == v1::GetSetoffRunRequest::RUN_NOT_SET) {
    Finish(r, Status::InvalidArgument("run: set run_id, number or latest"));
    return r;
  }
  const uint64_t number = req->run_case() == v1::GetSetoffRunRequest::kNumber ? req->number() : 0;
  core_.Query(
      r, *key, kGetRun, [](const Ledger&) { return auth::Target{}; },
      [by_id, number, reply](const Ledger& l) {
        const auto& runs = l.setoff_runs();
        const SetoffRun* found = nullptr;
        if (by_id) {
          found = l.FindSetoffRun(*by_id);
        } else if (number != 0) {
          if (number <= runs.size()) found = &runs[number - 1];
        } else if (!runs.empty()) {
          found = &runs.back();
        }
        if (found == nullptr) return Status::NotFound("run: no such committed set-off run");
        api::ToProto(*found, false, l, reply->mutable_report());
        return Status::Ok();
      });
  return r;
}

}  // namespace ayni::server::service
