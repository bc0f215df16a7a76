// ClearingService: RunInterbankCycle, GetCycle, ListCycles (reports from Ledger::cycles()).
#include <string>
#include <vector>

#include "server/api/convert.h"
#include "server/service/services.h"

namespace ayni::server::service {
namespace {

constexpr std::string_view kRunCycle = "/ayni.v1.ClearingService/RunInterbankCycle";
constexpr std::string_view kGetCycle = "/ayni.v1.ClearingService/GetCycle";
constexpr std::string_view kListCycles = "/ayni.v1.ClearingService/ListCycles";

uint32_t BanksOf(const CycleReport& c) { return static_cast<uint32_t>(c.plan.positions.size()); }

// Signs a committed cycle's report with the clearing key (SPEC §4); a refused cycle's
// plan (number 0) stays unsigned.
void Sign(const api::Signer* signer, v1::CycleReport* report) {
  if (signer == nullptr || report->number() == 0) return;
  report->clear_signature();
  v1::Signature signature;
  signer->Sign(*report, &signature);
  *report->mutable_signature() = std::move(signature);
}

}  // namespace

ServerUnaryReactor* ClearingServiceImpl::RunInterbankCycle(CallbackServerContext* ctx,
                                                           const v1::RunInterbankCycleRequest* req,
                                                           v1::RunInterbankCycleReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Result<RunCycleCmd> cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  core_.Change(
      r, *key, kRunCycle, [](const Ledger&) { return std::vector{auth::Target{}}; }, {*cmd},
      [reply, signer = core_.ctx().signer](const Ledger& l, const std::vector<CommandResult>& rs) {
        const OpResult& o = rs[0].result;
        if (Status s = api::StatusOf(o); !s.ok()) return s;
        FillOutcome(o, reply);
        const CycleReport* report = &rs[0].report;
        if (o.outcome == Outcome::kExists) {  // a retry: the original report
          for (const CycleReport& c : l.cycles()) {
            if (c.request == rs[0].report.request || c.number == o.id) report = &c;
          }
        }
        api::ToProto(*report, reply->mutable_report());
        if (o.ok()) api::ToProto(l, reply->mutable_report()->mutable_head());
        Sign(signer, reply->mutable_report());
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* ClearingServiceImpl::GetCycle(CallbackServerContext* ctx,
                                                  const v1::GetCycleRequest* req,
                                                  v1::GetCycleReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  std::optional<RequestId> by_id;
  if (req->cycle_case() == v1::GetCycleRequest::kCycleId) {
    Result<RequestId> id = api::ParseRequestId(req->cycle_id(), "cycle_id");
    if (!id.ok()) {
      Finish(r, id.status());
      return r;
    }
    by_id = *id;
  } else if (req->cycle_case() == v1::GetCycleRequest::kNumber && req->number() == 0) {
    Finish(r, Status::InvalidArgument("number: cycles are numbered from 1"));
    return r;
  } else if (req->cycle_case() == v1::GetCycleRequest::CYCLE_NOT_SET) {
    Finish(r, Status::InvalidArgument("cycle: set number, cycle_id or latest"));
    return r;
  }
  const v1::GetCycleRequest q = *req;
  core_.Query(
      r, *key, kGetCycle, [](const Ledger&) { return auth::Target{}; },
      [q, by_id, reply, signer = core_.ctx().signer](const Ledger& l) {
        const CycleReport* found = nullptr;
        for (const CycleReport& c : l.cycles()) {
          if (by_id ? c.request == *by_id
                    : (q.cycle_case() == v1::GetCycleRequest::kLatest || c.number == q.number())) {
            found = &c;
          }
        }
        if (!found) return Status::NotFound("cycle: no such committed cycle");
        api::ToProto(*found, reply->mutable_report());
        Sign(signer, reply->mutable_report());
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* ClearingServiceImpl::ListCycles(CallbackServerContext* ctx,
                                                    const v1::ListCyclesRequest* req,
                                                    v1::ListCyclesReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  const Result<uint32_t> size = PageSize(req->page_size());
  const Result<uint64_t> before = PageAfter(req->page_token());  // newest first: "before"
  if (!size.ok() || !before.ok()) {
    Finish(r, size.ok() ? before.status() : size.status());
    return r;
  }
  core_.Query(
      r, *key, kListCycles, [](const Ledger&) { return auth::Target{}; },
      [n = *size, before = *before, reply](const Ledger& l) {
        const auto& cycles = l.cycles();
        for (auto it = cycles.rbegin(); it != cycles.rend(); ++it) {
          if (before != 0 && it->number >= before) continue;
          if (static_cast<uint32_t>(reply->cycles_size()) == n) {
            reply->set_next_page_token(std::to_string(reply->cycles(n - 1).number()));
            break;
          }
          v1::CycleSummary* s = reply->add_cycles();
          s->set_cycle_id(std::string(it->request.bytes().begin(), it->request.bytes().end()));
          s->set_number(it->number);
          s->set_timestamp_ns(it->timestamp_ns);
          s->set_banks(BanksOf(*it));
          s->set_gross_total_minor(it->plan.gross_total.minor());
          s->set_settled_total_minor(it->plan.settled_total.minor());
          s->set_liquidity_saved_minor(it->plan.liquidity_saved.minor());
          s->set_transfers(
              static_cast<uint32_t>(it->plan.instructions.size() + it->obligations.size()));
        }
        return Status::Ok();
      });
  return r;
}

}  // namespace ayni::server::service
