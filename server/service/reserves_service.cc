// ReservesService: Issue, Redeem, FundReserve, Distribute, GetCoverage.
#include <string>
#include <vector>

#include "clearing/int128.h"
#include "server/api/convert.h"
#include "server/service/services.h"

namespace ayni::server::service {
namespace {

constexpr std::string_view kIssue = "/ayni.v1.ReservesService/Issue";
constexpr std::string_view kRedeem = "/ayni.v1.ReservesService/Redeem";
constexpr std::string_view kFundReserve = "/ayni.v1.ReservesService/FundReserve";
constexpr std::string_view kDistribute = "/ayni.v1.ReservesService/Distribute";
constexpr std::string_view kGetCoverage = "/ayni.v1.ReservesService/GetCoverage";

int64_t Clamp(Int128 v) {
  if (v > INT64_MAX) return INT64_MAX;
  if (v < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(v);
}

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
                               const int64_t bp = cur ? cur->policy.redemption_fee_bp : 0;
                               const int64_t fee =
                                   Clamp(static_cast<Int128>(c.amount.minor()) * bp / 10000);
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
        const Coverage c = l.CoverageOf(bank);
        v1::BankCoverage* out = reply->mutable_coverage();
        out->set_bank_id(bank.value());
        out->set_bank_code(b->code);
        out->set_reserve_minor(c.reserve.minor());
        out->set_receivables_minor(c.due_from.minor());
        out->set_payables_minor(-c.due_to.minor());
        const Int128 assets =
            static_cast<Int128>(c.reserve.minor()) + c.due_from.minor() + c.due_to.minor();
        out->set_assets_minor(Clamp(assets));
        Int128 supply = 0;
        for (const CoverageRow& row : c.currencies) {
          supply += row.supply.minor();
          v1::CurrencyCoverage* cc = out->add_currencies();
          const Currency* cur = l.FindCurrency(row.currency);
          cc->set_currency_id(row.currency.value());
          cc->set_code(cur ? cur->code : "");
          cc->set_supply_minor(row.supply.minor());
          cc->set_coverage_min_bp(row.coverage_min_bp);
          // Rounded up: the reserve must cover the whole requirement.
          cc->set_required_minor(Clamp(
              (static_cast<Int128>(row.supply.minor()) * row.coverage_min_bp + 9999) / 10000));
          const Account* f = cur ? l.FindAccount(cur->card_float) : nullptr;
          cc->set_card_float_minor(f ? f->balance.minor() : 0);
        }
        out->set_supply_minor(Clamp(supply));
        out->set_required_minor(Clamp((c.required_scaled + 9999) / 10000));
        if (supply > 0) out->set_coverage_ratio_bp(Clamp(assets * 10000 / supply));
        out->set_excess_minor(c.ExcessAtPar().minor());
        out->set_covered(c.covered());
        api::ToProto(l, reply->mutable_as_of());
        return Status::Ok();
      });
  return r;
}

}  // namespace ayni::server::service
