#include "server/cli/loans_cli.h"

#include <optional>
#include <vector>

#include "ayni/v1/loans.grpc.pb.h"
#include "clearing/amount_text.h"
#include "proto/client/output.h"
#include "server/cli/session.h"

namespace ayni::cli {
namespace {

std::string StatusText(v1::LoanStatus s) {
  switch (s) {
    case v1::LOAN_STATUS_ACTIVE:
      return "ACTIVE";
    case v1::LOAN_STATUS_REPAID:
      return "REPAID";
    case v1::LOAN_STATUS_WRITTEN_OFF:
      return "WRITTEN-OFF";
    default:
      return "#" + std::to_string(static_cast<int>(s));
  }
}

std::string Borrower(const v1::Loan& l) {
  return l.group_id() != 0 ? "group " + std::to_string(l.group_id())
                           : "member " + std::to_string(l.member_id());
}

class LoanRunner : public Session {
 public:
  LoanRunner(const Command& c, RunContext& ctx)
      : Session(c, ctx), loans_(v1::LoanService::NewStub(ctx.channel)) {}

  int Run();

 private:
  std::optional<int64_t> Amount(const std::string& text, const char* what,
                                const std::string& code) {
    auto r = ParseAmount(text, Scale(), AmountSign::kPositive, what, code);
    if (!r.ok()) {
      Fail(kExitUsage, r.status().message());
      return std::nullopt;
    }
    return *r;
  }

  std::string Money(int64_t minor, const std::string& code) {
    return FormatAmount(minor, Scale(), code);
  }

  int ProductCreate();
  int ProductList();
  int GroupCreate();
  int Disburse();
  int Repay();
  int WriteOff();
  int Show();
  int List();
  int Portfolio();

  std::unique_ptr<v1::LoanService::Stub> loans_;
};

int LoanRunner::ProductCreate() {
  std::vector<v1::Bank> banks;
  if (!Deployment() || !BanksNamed(c_.bank_code, &banks)) return exit_;
  uint64_t currency = 0;
  if (c_.currency_code == deployment_->national_code()) {
    currency = deployment_->national_currency_id();
  } else {
    v1::ListCurrenciesReply cs;
    if (!Call("ListCurrencies", [&](auto* cc) {
          return setup_->ListCurrencies(cc, v1::ListCurrenciesRequest(), &cs);
        }))
      return exit_;
    for (const auto& cur : cs.currencies()) {
      if (cur.code() == c_.currency_code) currency = cur.currency_id();
    }
    if (currency == 0) {
      return NotFound("REASON_CURRENCY_NOT_FOUND", "no currency with code " + c_.currency_code);
    }
  }
  auto max = Amount(c_.loan.max_principal, "--max", c_.currency_code);
  if (!max) return exit_;
  v1::CreateLoanProductRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_bank_id(banks[0].bank_id());
  req.set_name(c_.text);
  req.set_currency_id(currency);
  req.set_max_principal_minor(*max);
  req.set_monthly_rate_bp(c_.loan.rate_bp);
  req.set_instalments(c_.loan.instalments);
  req.set_period_days(c_.loan.period_days);
  req.set_grace_days(c_.loan.grace_days);
  v1::CreateLoanProductReply rep;
  if (!Send("CreateLoanProduct",
            [&](auto* cc) { return loans_->CreateLoanProduct(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"product id", std::to_string(rep.product_id())},
                      {"bank", c_.bank_code},
                      {"name", c_.text},
                      {"max principal", Money(*max, c_.currency_code)},
                      {"monthly rate", FormatBasisPoints(c_.loan.rate_bp)},
                      {"instalments", std::to_string(c_.loan.instalments) + " × " +
                                          std::to_string(c_.loan.period_days) + " days"},
                      {"grace", std::to_string(c_.loan.grace_days) + " days"}});
}

int LoanRunner::ProductList() {
  std::vector<v1::Bank> banks;
  if (!Deployment() || !BanksNamed(c_.bank_code, &banks)) return exit_;
  Table t({"PRODUCT", "BANK", "NAME", "CURRENCY", "MAX_PRINCIPAL", "MONTHLY_RATE", "INSTALMENTS",
           "PERIOD_DAYS", "GRACE_DAYS"},
          {true, false, false, false, true, true, true, true, true});
  std::vector<std::string> json;
  for (const auto& b : banks) {
    v1::ListLoanProductsRequest req;
    req.set_bank_id(b.bank_id());
    v1::ListLoanProductsReply rep;
    if (!Call("ListLoanProducts",
              [&](auto* cc) { return loans_->ListLoanProducts(cc, req, &rep); }))
      return exit_;
    for (const auto& p : rep.products()) {
      t.AddRow({std::to_string(p.product_id()), b.code(), p.name(), p.currency_code(),
                Money(p.max_principal_minor(), ""), FormatBasisPoints(p.monthly_rate_bp()),
                std::to_string(p.instalments()), std::to_string(p.period_days()),
                std::to_string(p.grace_days())});
      json.push_back(ToJson(p));
    }
  }
  return PrintRead("{\"products\":" + JsonArray(json) + "}", Render(t));
}

int LoanRunner::GroupCreate() {
  std::vector<v1::Bank> banks;
  if (!BanksNamed(c_.bank_code, &banks)) return exit_;
  v1::CreateSolidarityGroupRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_bank_id(banks[0].bank_id());
  req.set_name(c_.text);
  std::string members, liable;
  for (uint64_t m : c_.loan.members) {
    req.add_member_ids(m);
    members += (members.empty() ? "" : ", ") + std::to_string(m);
  }
  for (uint64_t m : c_.loan.liable) {
    req.add_liable_member_ids(m);
    liable += (liable.empty() ? "" : ", ") + std::to_string(m);
  }
  v1::CreateSolidarityGroupReply rep;
  if (!Send("CreateSolidarityGroup",
            [&](auto* cc) { return loans_->CreateSolidarityGroup(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"group id", std::to_string(rep.group_id())},
                      {"bank", c_.bank_code},
                      {"name", c_.text},
                      {"members", members},
                      {"jointly liable", liable}});
}

int LoanRunner::Disburse() {
  if (!Deployment()) return exit_;
  auto amount = Amount(c_.amount, "AMOUNT", "");
  if (!amount) return exit_;
  v1::DisburseLoanRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_product_id(c_.id);
  req.set_member_id(c_.loan.member);
  req.set_group_id(c_.loan.group);
  req.set_principal_minor(*amount);
  req.set_account_id(c_.loan.account);
  req.set_memo(c_.memo);
  v1::DisburseLoanReply rep;
  if (!Send("DisburseLoan", [&](auto* cc) { return loans_->DisburseLoan(cc, req, &rep); }))
    return exit_;
  const std::string borrower = c_.loan.group != 0 ? "group " + std::to_string(c_.loan.group)
                                                  : "member " + std::to_string(c_.loan.member);
  return Finish(rep, {{"loan id", std::to_string(rep.loan_id())},
                      {"product id", std::to_string(c_.id)},
                      {"borrower", borrower},
                      {"principal", Money(*amount, rep.currency_code())},
                      {"legs", std::to_string(rep.legs())}});
}

int LoanRunner::Repay() {
  if (!Deployment()) return exit_;
  v1::GetLoanRequest g;
  g.set_loan_id(c_.id);
  v1::GetLoanReply loan;
  if (!Call("GetLoan", [&](auto* cc) { return loans_->GetLoan(cc, g, &loan); })) return exit_;
  const std::string code = loan.loan().currency_code();
  auto amount = Amount(c_.amount, "AMOUNT", code);
  if (!amount) return exit_;
  v1::RepayLoanRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_loan_id(c_.id);
  req.set_amount_minor(*amount);
  req.set_account_id(c_.loan.account);
  req.set_memo(c_.memo);
  v1::RepayLoanReply rep;
  if (!Send("RepayLoan", [&](auto* cc) { return loans_->RepayLoan(cc, req, &rep); })) return exit_;
  const v1::Loan& l = rep.loan();
  return Finish(rep, {{"loan id", std::to_string(c_.id)},
                      {"amount", Money(*amount, code)},
                      {"interest paid (total)", Money(l.interest_paid_minor(), code)},
                      {"principal repaid (total)", Money(l.principal_repaid_minor(), code)},
                      {"outstanding", Money(l.outstanding_minor(), code)},
                      {"status", StatusText(l.status())}});
}

int LoanRunner::WriteOff() {
  v1::WriteOffLoanRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_loan_id(c_.id);
  req.set_reason(c_.reason);
  v1::WriteOffLoanReply rep;
  if (!Send("WriteOffLoan", [&](auto* cc) { return loans_->WriteOffLoan(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"loan id", std::to_string(c_.id)}, {"reason", c_.reason}});
}

int LoanRunner::Show() {
  if (!Deployment()) return exit_;
  v1::GetLoanRequest req;
  req.set_loan_id(c_.id);
  v1::GetLoanReply rep;
  if (!Call("GetLoan", [&](auto* cc) { return loans_->GetLoan(cc, req, &rep); })) return exit_;
  const v1::Loan& l = rep.loan();
  const std::string& code = l.currency_code();
  Table t({"N", "DUE", "PRINCIPAL", "INTEREST"}, {true, false, true, true});
  for (const auto& i : l.schedule()) {
    t.AddRow({std::to_string(i.number()), DateText(i.due_ns()), Money(i.principal_minor(), ""),
              Money(i.interest_minor(), "")});
  }
  if (csv_) return PrintRead(ToJson(rep), t.RenderCsv());
  const std::string fields =
      RenderFields({{"loan id", std::to_string(l.loan_id())},
                    {"product id", std::to_string(l.product_id())},
                    {"borrower", Borrower(l)},
                    {"status", StatusText(l.status())},
                    {"disbursed", TimeText(l.disbursed_ns())},
                    {"principal", Money(l.principal_minor(), code)},
                    {"monthly rate", FormatBasisPoints(l.monthly_rate_bp())},
                    {"principal repaid", Money(l.principal_repaid_minor(), code)},
                    {"interest paid", Money(l.interest_paid_minor(), code)},
                    {"written off", Money(l.written_off_minor(), code)},
                    {"outstanding", Money(l.outstanding_minor(), code)},
                    {"interest payable now", Money(l.interest_payable_minor(), code)},
                    {"payoff now", Money(l.payoff_minor(), code)},
                    {"days past due", std::to_string(l.days_past_due())},
                    {"as of", TimeText(rep.as_of_ns())}});
  return PrintRead(ToJson(rep), fields + "\nschedule (" + code + ")\n" + t.RenderText());
}

int LoanRunner::List() {
  std::vector<v1::Bank> banks;
  if (!Deployment() || !BanksNamed(c_.bank_code, &banks)) return exit_;
  Table t({"LOAN", "PRODUCT", "BORROWER", "CURRENCY", "PRINCIPAL", "OUTSTANDING", "PAYABLE_NOW",
           "DAYS_PAST_DUE", "STATUS"},
          {true, true, false, false, true, true, true, true, false});
  std::vector<std::string> json;
  v1::ListLoansRequest req;
  req.set_bank_id(banks[0].bank_id());
  req.set_member_id(c_.loan.member);
  req.set_group_id(c_.loan.group);
  req.set_any_status(!c_.loan.status.has_value());
  req.set_status(static_cast<v1::LoanStatus>(c_.loan.status.value_or(0)));
  for (int page = 0; page < 10000; ++page) {
    v1::ListLoansReply rep;
    if (!Call("ListLoans", [&](auto* cc) { return loans_->ListLoans(cc, req, &rep); }))
      return exit_;
    for (const auto& l : rep.loans()) {
      t.AddRow({std::to_string(l.loan_id()), std::to_string(l.product_id()), Borrower(l),
                l.currency_code(), Money(l.principal_minor(), ""), Money(l.outstanding_minor(), ""),
                Money(l.payoff_minor(), ""), std::to_string(l.days_past_due()),
                StatusText(l.status())});
      json.push_back(ToJson(l));
    }
    if (rep.next_page_token().empty()) break;
    req.set_page_token(rep.next_page_token());
  }
  return PrintRead("{\"loans\":" + JsonArray(json) + "}", Render(t));
}

int LoanRunner::Portfolio() {
  std::vector<v1::Bank> banks;
  if (!Deployment() || !BanksNamed(c_.bank_code, &banks)) return exit_;
  Table t({"BANK", "PRODUCT", "NAME", "CURRENCY", "ACTIVE", "OUTSTANDING", "PAR30", "PAR90",
           "REPAYMENT_RATE"},
          {false, true, false, false, true, true, true, true, true});
  std::vector<std::string> json;
  for (const auto& b : banks) {
    v1::GetPortfolioRequest req;
    req.set_bank_id(b.bank_id());
    v1::GetPortfolioReply rep;
    if (!Call("GetPortfolio", [&](auto* cc) { return loans_->GetPortfolio(cc, req, &rep); }))
      return exit_;
    for (const auto& p : rep.products()) {
      t.AddRow({b.code(), std::to_string(p.product_id()), p.name(), p.currency_code(),
                std::to_string(p.active_loans()), Money(p.outstanding_minor(), ""), "", "", ""});
    }
    t.AddRow({b.code(), "(all)", "", deployment_->national_code(),
              std::to_string(rep.active_loans()), Money(rep.outstanding_minor(), ""),
              FormatBasisPoints(rep.par30_bp()), FormatBasisPoints(rep.par90_bp()),
              FormatBasisPoints(rep.repayment_rate_bp())});
    json.push_back(ToJson(rep));
  }
  return PrintRead("{\"banks\":" + JsonArray(json) + "}", Render(t));
}

int LoanRunner::Run() {
  switch (c_.verb) {
    case Verb::kLoanProductCreate:
      return ProductCreate();
    case Verb::kLoanProductList:
      return ProductList();
    case Verb::kLoanGroupCreate:
      return GroupCreate();
    case Verb::kLoanDisburse:
      return Disburse();
    case Verb::kLoanRepay:
      return Repay();
    case Verb::kLoanWriteOff:
      return WriteOff();
    case Verb::kLoanShow:
      return Show();
    case Verb::kLoanList:
      return List();
    case Verb::kLoanPortfolio:
      return Portfolio();
    default:
      return Fail(kExitUsage, "not a loans command");
  }
}

}  // namespace

bool IsLoanVerb(Verb v) {
  switch (v) {
    case Verb::kLoanProductCreate:
    case Verb::kLoanProductList:
    case Verb::kLoanGroupCreate:
    case Verb::kLoanDisburse:
    case Verb::kLoanRepay:
    case Verb::kLoanWriteOff:
    case Verb::kLoanShow:
    case Verb::kLoanList:
    case Verb::kLoanPortfolio:
      return true;
    default:
      return false;
  }
}

int RunLoanCommand(const Command& command, RunContext& ctx) {
  LoanRunner r(command, ctx);
  return r.Run();
}

}  // namespace ayni::cli
