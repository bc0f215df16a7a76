#include "server/api/loan_convert.h"

#include <limits>
#include <set>

#include "server/api/convert.h"

namespace ayni::server::api {
namespace {

Status Invalid(std::string_view field, std::string_view what) {
  return Status::InvalidArgument(std::string(field) + ": " + std::string(what));
}

Status Id(uint64_t v, std::string_view field) {
  if (v == 0) return Invalid(field, "missing (0 is not an id)");
  return Status::Ok();
}

Status Positive(int64_t v, std::string_view field) {
  if (v <= 0) return Invalid(field, std::to_string(v) + ", must be > 0");
  return Status::Ok();
}

template <typename Req>
Result<RequestId> Common(const Req& r) {
  if (Status s = CheckFieldLimits(r); !s.ok()) return s;
  return ParseRequestId(r.request_id(), "request_id");
}

// Distinct non-zero member ids, or INVALID_ARGUMENT naming the item.
Result<std::vector<MemberId>> Members(const google::protobuf::RepeatedField<uint64_t>& ids,
                                      std::string_view field) {
  std::vector<MemberId> out;
  std::set<uint64_t> seen;
  for (int i = 0; i < ids.size(); ++i) {
    const std::string item = std::string(field) + "[" + std::to_string(i) + "]";
    if (Status s = Id(ids[i], item); !s.ok()) return s;
    if (!seen.insert(ids[i]).second)
      return Invalid(item, "repeats member " + std::to_string(ids[i]));
    out.push_back(MemberId(ids[i]));
  }
  return out;
}

const char* CodeOf(const Ledger& l, CurrencyId id) {
  const Currency* c = l.FindCurrency(id);
  return c ? c->code.c_str() : "";
}

}  // namespace

std::optional<int64_t> MinorOf(Int128 v) {
  if (v < std::numeric_limits<int64_t>::min() || v > std::numeric_limits<int64_t>::max()) {
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

Result<CreateLoanProductCmd> ToCommand(const v1::CreateLoanProductRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.bank_id(), "bank_id"); !s.ok()) return s;
  if (Status s = Id(r.currency_id(), "currency_id"); !s.ok()) return s;
  if (Status s = Positive(r.max_principal_minor(), "max_principal_minor"); !s.ok()) return s;
  return CreateLoanProductCmd{.request = *id,
                              .bank = BankId(r.bank_id()),
                              .name = r.name(),
                              .currency = CurrencyId(r.currency_id()),
                              .max_principal = Amount(r.max_principal_minor()),
                              .monthly_rate_bp = r.monthly_rate_bp(),
                              .instalments = r.instalments(),
                              .period_days = r.period_days(),
                              .grace_days = r.grace_days()};
}

Result<CreateSolidarityGroupCmd> ToCommand(const v1::CreateSolidarityGroupRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.bank_id(), "bank_id"); !s.ok()) return s;
  Result<std::vector<MemberId>> members = Members(r.member_ids(), "member_ids");
  if (!members.ok()) return members.status();
  Result<std::vector<MemberId>> liable = Members(r.liable_member_ids(), "liable_member_ids");
  if (!liable.ok()) return liable.status();
  return CreateSolidarityGroupCmd{.request = *id,
                                  .bank = BankId(r.bank_id()),
                                  .name = r.name(),
                                  .members = std::move(*members),
                                  .liable = std::move(*liable)};
}

Result<DisburseLoanCmd> ToCommand(const v1::DisburseLoanRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.product_id(), "product_id"); !s.ok()) return s;
  if ((r.member_id() == 0) == (r.group_id() == 0)) {
    return Invalid("member_id", "exactly one of member_id and group_id must be set");
  }
  if (Status s = Positive(r.principal_minor(), "principal_minor"); !s.ok()) return s;
  return DisburseLoanCmd{.request = *id,
                         .product = LoanProductId(r.product_id()),
                         .member = MemberId(r.member_id()),
                         .group = SolidarityGroupId(r.group_id()),
                         .principal = Amount(r.principal_minor()),
                         .account = AccountId(r.account_id()),
                         .memo = r.memo()};
}

Result<RepayLoanCmd> ToCommand(const v1::RepayLoanRequest& r) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.loan_id(), "loan_id"); !s.ok()) return s;
  if (Status s = Positive(r.amount_minor(), "amount_minor"); !s.ok()) return s;
  return RepayLoanCmd{.request = *id,
                      .loan = LoanId(r.loan_id()),
                      .amount = Amount(r.amount_minor()),
                      .account = AccountId(r.account_id()),
                      .memo = r.memo()};
}

Result<WriteOffLoanCmd> ToCommand(const v1::WriteOffLoanRequest& r, const std::string& actor) {
  Result<RequestId> id = Common(r);
  if (!id.ok()) return id.status();
  if (Status s = Id(r.loan_id(), "loan_id"); !s.ok()) return s;
  return WriteOffLoanCmd{
      .request = *id, .loan = LoanId(r.loan_id()), .actor = actor, .reason = r.reason()};
}

Result<LoanStatus> ToLoanStatus(v1::LoanStatus s, std::string_view field) {
  switch (s) {
    case v1::LOAN_STATUS_ACTIVE:
      return LoanStatus::kActive;
    case v1::LOAN_STATUS_REPAID:
      return LoanStatus::kRepaid;
    case v1::LOAN_STATUS_WRITTEN_OFF:
      return LoanStatus::kWrittenOff;
    default:
      return Invalid(field, "unknown value " + std::to_string(static_cast<int>(s)));
  }
}

void ToProto(const Ledger& l, const LoanProduct& p, v1::LoanProduct* out) {
  out->set_product_id(p.id.value());
  out->set_bank_id(p.bank.value());
  out->set_name(p.name);
  out->set_currency_id(p.currency.value());
  out->set_currency_code(CodeOf(l, p.currency));
  out->set_max_principal_minor(p.max_principal.minor());
  out->set_monthly_rate_bp(p.monthly_rate_bp);
  out->set_instalments(p.instalments);
  out->set_period_days(p.period_days);
  out->set_grace_days(p.grace_days);
}

void ToProto(const Ledger& l, const Loan& loan, uint64_t now_ns, bool with_schedule,
             v1::Loan* out) {
  out->set_loan_id(loan.id.value());
  out->set_product_id(loan.product.value());
  out->set_bank_id(loan.bank.value());
  out->set_currency_id(loan.currency.value());
  out->set_currency_code(CodeOf(l, loan.currency));
  out->set_member_id(loan.member.value());
  out->set_group_id(loan.group.value());
  out->set_account_id(loan.account.value());
  out->set_principal_minor(loan.principal.minor());
  out->set_monthly_rate_bp(loan.monthly_rate_bp);
  out->set_disbursed_ns(loan.disbursed_ns);
  out->set_status(static_cast<v1::LoanStatus>(static_cast<int>(loan.status)));
  out->set_principal_repaid_minor(loan.principal_repaid.minor());
  out->set_interest_paid_minor(loan.interest_paid.minor());
  out->set_written_off_minor(loan.written_off.minor());
  out->set_outstanding_minor(loan.outstanding().minor());
  const bool active = loan.status == LoanStatus::kActive;
  // Inactive loans owe nothing; an active one's payoff is what RepayLoan accepts at most
  // (interest payable + outstanding principal, each ≤ the schedule's int64 sums).
  const int64_t payable = active ? InterestPayable(loan, now_ns).minor() : 0;
  out->set_interest_payable_minor(payable);
  out->set_days_past_due(DaysPastDue(loan, now_ns));
  out->set_payoff_minor(active ? payable + loan.outstanding().minor() : 0);
  if (!with_schedule) return;
  uint32_t k = 0;
  for (const Instalment& i : loan.schedule) {
    v1::LoanInstalment* o = out->add_schedule();
    o->set_number(++k);
    o->set_due_ns(i.due_ns);
    o->set_principal_minor(i.principal.minor());
    o->set_interest_minor(i.interest.minor());
  }
}

Status ToProto(const Ledger& l, const LoanPortfolio& p, v1::GetPortfolioReply* out) {
  const Status too_big = Status::Internal("portfolio: a total does not fit int64 minor units");
  out->set_bank_id(p.bank.value());
  out->set_as_of_ns(p.now_ns);
  for (const PortfolioProductRow& row : p.products) {
    const auto v = MinorOf(row.outstanding);
    if (!v) return too_big;
    v1::PortfolioProduct* o = out->add_products();
    o->set_product_id(row.product.value());
    const LoanProduct* lp = l.FindLoanProduct(row.product);
    o->set_name(lp ? lp->name : "");
    o->set_currency_id(row.currency.value());
    o->set_currency_code(CodeOf(l, row.currency));
    o->set_active_loans(row.active_loans);
    o->set_outstanding_minor(*v);
  }
  for (const PortfolioCurrencyRow& row : p.currencies) {
    const auto v = MinorOf(row.outstanding);
    if (!v) return too_big;
    v1::PortfolioCurrency* o = out->add_currencies();
    o->set_currency_id(row.currency.value());
    o->set_currency_code(CodeOf(l, row.currency));
    o->set_active_loans(row.active_loans);
    o->set_outstanding_minor(*v);
  }
  out->set_active_loans(p.active);
  out->set_repaid_loans(p.repaid);
  out->set_written_off_loans(p.written_off);
  const auto total = MinorOf(p.outstanding);
  const auto r30 = MinorOf(p.at_risk_30);
  const auto r90 = MinorOf(p.at_risk_90);
  if (!total || !r30 || !r90) return too_big;
  out->set_outstanding_minor(*total);
  out->set_at_risk_30_minor(*r30);
  out->set_at_risk_90_minor(*r90);
  out->set_par30_bp(p.par30_bp);
  out->set_par90_bp(p.par90_bp);
  out->set_repayment_rate_bp(p.repayment_rate_bp);
  return Status::Ok();
}

}  // namespace ayni::server::api
