// ReservesService: Issue, Redeem, FundReserve, Distribute, GetCoverage.
#include <string>
#include <vector>

#include "server/api/convert.h"
#include "server/service/services.h"

namespace ayni::server::service {
namespace {

constexpr std::string_view kIssue = "/ayni.v1.ReservesService/Issue";
constexpr std::string_view kRedeem = "/ayni.v1.ReservesService/Redeem";
constexpr std::string_view kFundReserve = "/ayni.v1.ReservesService/FundReserve";
constexpr std::string_view kDistribute = "/ayni.v1.ReservesService/Distribute";
constexpr std::string_view kGetCoverage = "/ayni.v1.ReservesService/GetCoverage";

// The money operations on one member account share everything but the command type.
template <typename Op, typename Req, typename Reply, typename Extra>
ServerUnaryReactor* AccountOp(const Core& core, std::string_view method, CallbackServerContext* ctx,
                              const Req* req, Reply* reply, Extra extra) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core.Authenticate(ctx, r);
  if (!key) return r;
  Result<AccountAmountCmd> cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  const AccountAmountCmd c = *cmd;
  core.Change(
      r, *key, method, [c](const Ledger& l) { return std::vector{AccountTarget(l, c.account)}; },
      {Op{c}},
      [c, reply, extra](const Ledger& l, const std::vector<CommandResult>& rs) {
        const OpResult& o = rs[0].result;
        if (Status s = api::StatusOf(o); !s.ok()) return s;
        FillOutcome(o, reply);
        reply->set_legs(o.ok() ? o.legs : 0);
        if (o.ok()) extra(l, c, reply);
        return Status::Ok();
      });
  return r;
}

struct NoExtra {
  template <typename Reply>
  void operator()(const Ledger&, const AccountAmountCmd&, Reply*) const {}
};

}  // namespace

ServerUnaryReactor* ReservesServiceImpl::Issue(CallbackServerContext* ctx,
                                               const v1::IssueRequest* req, v1::IssueReply* reply) {
  return AccountOp<IssueOp>(core_, kIssue, ctx, req, reply, NoExtra{});
}

ServerUnaryReactor* ReservesServiceImpl::Redeem(CallbackServerContext* ctx,
                                                const v1::RedeemRequest* req,
                                                v1::RedeemReply* reply) {
  return AccountOp<RedeemOp>(core_, kRedeem, ctx, req, reply,
                             [](const Ledger& l, const AccountAmountCmd& c, v1::RedeemReply* out) {
                               // The ledger's fee: amount × fee_bp / 10000, rounded down (model.h
                               // CurrencyPolicy).
                               const Account* a = l.FindAccount(c.account);
                               const Currency* cur = a ? l.FindCurrency(a->currency) : nullptr;
                               const int32_t bp = cur ? cur->policy.redemption_fee_bp : 0;
                               const int64_t fee = c.amount.FeeFloor(bp).minor();
                               out->set_fee_minor(fee);
                               out->set_paid_out_minor(c.amount.minor() - fee);
                             });
}

ServerUnaryReactor* ReservesServiceImpl::Distribute(CallbackServerContext* ctx,
                                                    const v1::DistributeRequest* req,
                                                    v1::DistributeReply* reply) {
  return AccountOp<DistributeOp>(core_, kDistribute, ctx, req, reply, NoExtra{});
}

ServerUnaryReactor* ReservesServiceImpl::FundReserve(CallbackServerContext* ctx,
                                                     const v1::FundReserveRequest* req,
                                                     v1::FundReserveReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Result<FundReserveCmd> cmd = api::ToCommand(*req);
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return r;
  }
  const FundReserveCmd c = *cmd;
  core_.Change(
      r, *key, kFundReserve, [c](const Ledger&) { return std::vector{BankTarget(c.bank)}; }, {c},
      [reply](const Ledger&, const std::vector<CommandResult>& rs) {
        const OpResult& o = rs[0].result;
        if (Status s = api::StatusOf(o); !s.ok()) return s;
        FillOutcome(o, reply);
        reply->set_legs(o.ok() ? o.legs : 0);
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* ReservesServiceImpl::GetCoverage(CallbackServerContext* ctx,
                                                     const v1::GetCoverageRequest* req,
                                                     v1::GetCoverageReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  if (req->bank_id() == 0) {
    Finish(r, Status::InvalidArgument("bank_id: must be non-zero"));
    return r;
  }
  const BankId bank(req->bank_id());
  core_.Query(
      r, *key, kGetCoverage, [bank](const Ledger&) { return BankTarget(bank); },
      [bank, reply](const Ledger& l) {
        const Bank* b = l.FindBank(bank);
        if (!b) return Status::NotFound("bank " + std::to_string(bank.value()) + ": unknown");
        api::ToProto(l, *b, reply->mutable_coverage());
        api::ToProto(l, reply->mutable_as_of());
        return Status::Ok();
      });
  return r;
}

}  // namespace ayni::server::service
