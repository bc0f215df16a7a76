// LoanService (issue 7): loan products, solidarity groups, disbursement, repayment,
// write-off, loans with their schedule, listings and a bank's portfolio. The loan book's
// rules are the ledger core's (docs/loans.md); this file only converts, authorizes by the
// bank that owns the product, group or loan, and reads at the server's clock.
#include <algorithm>
#include <string>
#include <vector>

#include "clearing/portfolio.h"
#include "server/api/convert.h"
#include "server/api/loan_convert.h"
#include "server/service/services.h"

namespace ayni::server::service {
namespace {

constexpr std::string_view kCreateLoanProduct = "/ayni.v1.LoanService/CreateLoanProduct";
constexpr std::string_view kListLoanProducts = "/ayni.v1.LoanService/ListLoanProducts";
constexpr std::string_view kCreateSolidarityGroup = "/ayni.v1.LoanService/CreateSolidarityGroup";
constexpr std::string_view kDisburseLoan = "/ayni.v1.LoanService/DisburseLoan";
constexpr std::string_view kRepayLoan = "/ayni.v1.LoanService/RepayLoan";
constexpr std::string_view kWriteOffLoan = "/ayni.v1.LoanService/WriteOffLoan";
constexpr std::string_view kGetLoan = "/ayni.v1.LoanService/GetLoan";
constexpr std::string_view kListLoans = "/ayni.v1.LoanService/ListLoans";
constexpr std::string_view kGetPortfolio = "/ayni.v1.LoanService/GetPortfolio";

// Zero bank for an unknown object: only a deployment-scoped key passes, and the ledger
// answers "not found" as data.
auth::Target ProductTarget(const Ledger& l, LoanProductId id) {
  const LoanProduct* p = l.FindLoanProduct(id);
  return auth::Target{.bank = p ? p->bank : BankId()};
}

auth::Target LoanTarget(const Ledger& l, LoanId id) {
  const Loan* loan = l.FindLoan(id);
  return auth::Target{.bank = loan ? loan->bank : BankId()};
}

// Is `m` liable for `loan`: its borrower, or a member of the borrowing group.
bool Liable(const Ledger& l, const Loan& loan, MemberId m) {
  if (loan.member == m) return true;
  if (!loan.group.valid()) return false;
  const SolidarityGroup* g = l.FindGroup(loan.group);
  return g && std::binary_search(g->members.begin(), g->members.end(), m);
}

// The one shape of every state-changing LoanService call: convert, authorize on the
// writer thread by `target`, submit, and fill reason/detail/timestamp plus `extra`.
template <typename Reply, typename Cmd, typename TargetOf, typename Extra>
void Submit(const Core& core, ServerUnaryReactor* r, const auth::KeyRecord& key,
            std::string_view method, Result<Cmd> cmd, Reply* reply, TargetOf target_of,
            Extra extra) {
  if (!cmd.ok()) {
    Finish(r, cmd.status());
    return;
  }
  const Cmd c = *cmd;
  core.Change(
      r, key, method, [c, target_of](const Ledger& l) { return std::vector{target_of(l, c)}; }, {c},
      [c, reply, extra](const Ledger& l, const std::vector<CommandResult>& rs) {
        const OpResult& o = rs[0].result;
        if (Status s = api::StatusOf(o); !s.ok()) return s;
        FillOutcome(o, reply);
        extra(l, c, o, reply);
        return Status::Ok();
      });
}

}  // namespace

ServerUnaryReactor* LoanServiceImpl::CreateLoanProduct(CallbackServerContext* ctx,
                                                       const v1::CreateLoanProductRequest* req,
                                                       v1::CreateLoanProductReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Submit(
      core_, r, *key, kCreateLoanProduct, api::ToCommand(*req), reply,
      [](const Ledger&, const CreateLoanProductCmd& c) { return BankTarget(c.bank); },
      [](const Ledger&, const CreateLoanProductCmd&, const OpResult& o,
         v1::CreateLoanProductReply* out) { out->set_product_id(o.ok() ? o.id : 0); });
  return r;
}

ServerUnaryReactor* LoanServiceImpl::ListLoanProducts(CallbackServerContext* ctx,
                                                      const v1::ListLoanProductsRequest* req,
                                                      v1::ListLoanProductsReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  if (req->bank_id() == 0) {
    Finish(r, Status::InvalidArgument("bank_id: missing (0 is not an id)"));
    return r;
  }
  const BankId bank(req->bank_id());
  core_.Query(
      r, *key, kListLoanProducts, [bank](const Ledger&) { return BankTarget(bank); },
      [bank, reply](const Ledger& l) {
        if (!l.FindBank(bank)) {
          return Status::NotFound("bank " + std::to_string(bank.value()) + ": unknown");
        }
        for (const LoanProduct& p : l.loan_products()) {
          if (p.bank != bank) continue;
          if (reply->products_size() == 1000) break;
          api::ToProto(l, p, reply->add_products());
        }
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* LoanServiceImpl::CreateSolidarityGroup(
    CallbackServerContext* ctx, const v1::CreateSolidarityGroupRequest* req,
    v1::CreateSolidarityGroupReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Submit(
      core_, r, *key, kCreateSolidarityGroup, api::ToCommand(*req), reply,
      [](const Ledger&, const CreateSolidarityGroupCmd& c) { return BankTarget(c.bank); },
      [](const Ledger&, const CreateSolidarityGroupCmd&, const OpResult& o,
         v1::CreateSolidarityGroupReply* out) { out->set_group_id(o.ok() ? o.id : 0); });
  return r;
}

ServerUnaryReactor* LoanServiceImpl::DisburseLoan(CallbackServerContext* ctx,
                                                  const v1::DisburseLoanRequest* req,
                                                  v1::DisburseLoanReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Submit(
      core_, r, *key, kDisburseLoan, api::ToCommand(*req), reply,
      [](const Ledger& l, const DisburseLoanCmd& c) { return ProductTarget(l, c.product); },
      [](const Ledger& l, const DisburseLoanCmd& c, const OpResult& o, v1::DisburseLoanReply* out) {
        if (const LoanProduct* p = l.FindLoanProduct(c.product)) {
          const Currency* cur = l.FindCurrency(p->currency);
          out->set_currency_code(cur ? cur->code : "");
        }
        out->set_loan_id(o.ok() ? o.id : 0);
        out->set_legs(o.ok() ? o.legs : 0);
      });
  return r;
}

ServerUnaryReactor* LoanServiceImpl::RepayLoan(CallbackServerContext* ctx,
                                               const v1::RepayLoanRequest* req,
                                               v1::RepayLoanReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  Submit(
      core_, r, *key, kRepayLoan, api::ToCommand(*req), reply,
      [](const Ledger& l, const RepayLoanCmd& c) { return LoanTarget(l, c.loan); },
      [](const Ledger& l, const RepayLoanCmd& c, const OpResult& o, v1::RepayLoanReply* out) {
        out->set_legs(o.ok() ? o.legs : 0);
        if (!o.ok()) return;
        if (const Loan* loan = l.FindLoan(c.loan)) {
          api::ToProto(l, *loan, o.timestamp_ns, false, out->mutable_loan());
        }
      });
  return r;
}

ServerUnaryReactor* LoanServiceImpl::WriteOffLoan(CallbackServerContext* ctx,
                                                  const v1::WriteOffLoanRequest* req,
                                                  v1::WriteOffLoanReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  // The journal names the key that wrote the loan off.
  const std::string actor = "key " + std::to_string(key->key_id.value());
  Submit(
      core_, r, *key, kWriteOffLoan, api::ToCommand(*req, actor), reply,
      [](const Ledger& l, const WriteOffLoanCmd& c) { return LoanTarget(l, c.loan); },
      [](const Ledger&, const WriteOffLoanCmd&, const OpResult& o, v1::WriteOffLoanReply* out) {
        out->set_legs(o.ok() ? o.legs : 0);
      });
  return r;
}

ServerUnaryReactor* LoanServiceImpl::GetLoan(CallbackServerContext* ctx,
                                             const v1::GetLoanRequest* req,
                                             v1::GetLoanReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  if (req->loan_id() == 0) {
    Finish(r, Status::InvalidArgument("loan_id: missing (0 is not an id)"));
    return r;
  }
  const LoanId id(req->loan_id());
  core_.Query(
      r, *key, kGetLoan, [id](const Ledger& l) { return LoanTarget(l, id); },
      [id, reply, core = &core_](const Ledger& l) {
        const uint64_t now = core->now_ns();
        const Loan* loan = l.FindLoan(id);
        if (!loan) return Status::NotFound("loan " + std::to_string(id.value()) + ": unknown");
        api::ToProto(l, *loan, now, true, reply->mutable_loan());
        reply->set_as_of_ns(now);
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* LoanServiceImpl::ListLoans(CallbackServerContext* ctx,
                                               const v1::ListLoansRequest* req,
                                               v1::ListLoansReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  const Result<uint32_t> size = PageSize(req->page_size());
  const Result<uint64_t> after = PageAfter(req->page_token());
  if (!size.ok() || !after.ok()) {
    Finish(r, size.ok() ? after.status() : size.status());
    return r;
  }
  if (req->bank_id() == 0) {
    Finish(r, Status::InvalidArgument("bank_id: missing (0 is not an id)"));
    return r;
  }
  const Result<LoanStatus> status = api::ToLoanStatus(req->status(), "status");
  if (!status.ok()) {
    Finish(r, status.status());
    return r;
  }
  const v1::ListLoansRequest q = *req;
  core_.Query(
      r, *key, kListLoans, [bank = q.bank_id()](const Ledger&) { return BankTarget(BankId(bank)); },
      [q, n = *size, after = *after, status = *status, reply, core = &core_](const Ledger& l) {
        const uint64_t now = core->now_ns();
        reply->set_as_of_ns(now);
        for (const Loan& loan : l.loans()) {
          if (loan.id.value() <= after) continue;
          if (loan.bank.value() != q.bank_id()) continue;
          if (!q.any_status() && loan.status != status) continue;
          if (q.group_id() != 0 && loan.group.value() != q.group_id()) continue;
          if (q.member_id() != 0 && !Liable(l, loan, MemberId(q.member_id()))) continue;
          if (static_cast<uint32_t>(reply->loans_size()) == n) {
            reply->set_next_page_token(
                std::to_string(reply->loans(reply->loans_size() - 1).loan_id()));
            break;
          }
          api::ToProto(l, loan, now, false, reply->add_loans());
        }
        return Status::Ok();
      });
  return r;
}

ServerUnaryReactor* LoanServiceImpl::GetPortfolio(CallbackServerContext* ctx,
                                                  const v1::GetPortfolioRequest* req,
                                                  v1::GetPortfolioReply* reply) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  const auto key = core_.Authenticate(ctx, r);
  if (!key) return r;
  if (req->bank_id() == 0) {
    Finish(r, Status::InvalidArgument("bank_id: missing (0 is not an id)"));
    return r;
  }
  const BankId bank(req->bank_id());
  core_.Query(
      r, *key, kGetPortfolio, [bank](const Ledger&) { return BankTarget(bank); },
      [bank, reply, core = &core_](const Ledger& l) {
        const uint64_t now = core->now_ns();
        if (!l.FindBank(bank)) {
          return Status::NotFound("bank " + std::to_string(bank.value()) + ": unknown");
        }
        return api::ToProto(l, PortfolioOf(l, bank, now), reply);
      });
  return r;
}

}  // namespace ayni::server::service
