#include "server/cli/loans_cli.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>
#include <sodium.h>

#include <chrono>
#include <ctime>
#include <optional>
#include <vector>

#include "ayni/v1/loans.grpc.pb.h"
#include "ayni/v1/setup.grpc.pb.h"
#include "server/cli/amount_text.h"
#include "server/cli/output.h"

namespace ayni::cli {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;
namespace pb = google::protobuf;

std::string ToJson(const pb::Message& m) {
  pb::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  o.preserve_proto_field_names = true;
  std::string s;
  if (!pb::util::MessageToJsonString(m, &s, o).ok()) return "null";
  return s;
}

std::string ReasonName(int n) {
  const std::string& s = v1::Reason_Name(static_cast<v1::Reason>(n));
  return s.empty() ? "REASON_" + std::to_string(n) : s;
}

std::string DateText(uint64_t ns) {
  if (ns == 0) return "-";
  const time_t secs = static_cast<time_t>(ns / 1000000000u);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string TimeText(uint64_t ns) {
  if (ns == 0) return "-";
  const time_t secs = static_cast<time_t>(ns / 1000000000u);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

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

class LoanRunner {
 public:
  LoanRunner(const Command& c, RunContext& ctx)
      : c_(c),
        ctx_(ctx),
        json_(ctx.global.format == OutputFormat::kJson),
        csv_(ctx.global.format == OutputFormat::kCsv),
        setup_(v1::SetupService::NewStub(ctx.channel)),
        loans_(v1::LoanService::NewStub(ctx.channel)) {}

  int Run();

 private:
  std::ostream& Out() { return *ctx_.out; }
  std::ostream& Err() { return *ctx_.err; }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto cc = std::make_unique<grpc::ClientContext>();
    cc->AddMetadata("authorization", "Bearer " + ctx_.token);
    cc->set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(ctx_.global.timeout_s));
    return cc;
  }

  template <typename Fn>
  bool Call(const char* rpc, Fn fn) {
    auto cc = Context();
    grpc::Status s = fn(cc.get());
    if (s.ok()) return true;
    TransportError(rpc, s);
    return false;
  }

  template <typename Fn>
  bool Send(const char* rpc, Fn fn) {
    sent_ = true;
    return Call(rpc, fn);
  }

  void TransportError(const char* rpc, const grpc::Status& s) {
    exit_ = kExitTransport;
    const std::string code = GrpcCodeName(static_cast<int>(s.error_code()));
    if (json_) {
      JsonObject e;
      e.Add("rpc", rpc).Add("code", code).Add("message", s.error_message());
      JsonObject o;
      o.Add("command", c_.name);
      if (rid_) o.Add("request_id", HexOf(rid_->data(), rid_->size()));
      o.AddRaw("error", e.str()).Add("exit_code", int64_t{exit_});
      Out() << o.str() << '\n';
      return;
    }
    Err() << "error: " << rpc << ": " << code;
    if (!s.error_message().empty()) Err() << ": " << s.error_message();
    Err() << '\n';
    if (rid_ && sent_) {
      const auto c = s.error_code();
      const bool unknown = c == grpc::StatusCode::UNAVAILABLE ||
                           c == grpc::StatusCode::DEADLINE_EXCEEDED ||
                           c == grpc::StatusCode::UNKNOWN || c == grpc::StatusCode::INTERNAL ||
                           c == grpc::StatusCode::CANCELLED || c == grpc::StatusCode::ABORTED ||
                           c == grpc::StatusCode::DATA_LOSS;
      const std::string hex = HexOf(rid_->data(), rid_->size());
      if (unknown) {
        Err() << "the outcome is unknown; retry with --request-id " << hex
              << " to apply it exactly once\n";
      } else {
        Err() << "request id: " << hex << " (nothing was written)\n";
      }
    }
  }

  int Fail(int code, const std::string& message) {
    exit_ = code;
    if (json_) {
      JsonObject e;
      e.Add("message", message);
      JsonObject o;
      o.Add("command", c_.name).AddRaw("error", e.str()).Add("exit_code", int64_t{code});
      Out() << o.str() << '\n';
    } else {
      Err() << "error: " << message << '\n';
    }
    return code;
  }

  int NotFound(const std::string& reason, const std::string& detail) {
    exit_ = kExitRefused;
    if (json_) {
      JsonObject o;
      o.Add("command", c_.name)
          .Add("reason", reason)
          .Add("detail", detail)
          .Add("exit_code", int64_t{exit_});
      Out() << o.str() << '\n';
    } else {
      Err() << "refused: " << reason << ": " << detail << '\n';
    }
    return exit_;
  }

  std::string RequestIdBytesString() {
    if (!rid_) {
      if (c_.request_id) {
        rid_ = *c_.request_id;
      } else if (ctx_.fresh_request_id) {
        rid_ = ctx_.fresh_request_id();
      } else {
        RequestIdBytes b{};
        do {
          randombytes_buf(b.data(), b.size());
        } while (sodium_is_zero(b.data(), b.size()));
        rid_ = b;
      }
    }
    return std::string(reinterpret_cast<const char*>(rid_->data()), rid_->size());
  }

  // The end of every state-changing command, as in runner.cc.
  template <typename Reply>
  int Finish(const Reply& rep, Fields fields) {
    const int reason = static_cast<int>(rep.reason());
    exit_ = ExitCodeForReason(reason);
    const std::string rid = HexOf(rid_->data(), rid_->size());
    if (json_) {
      JsonObject shown;
      for (const auto& [k, v] : fields) shown.Add(k, v);
      JsonObject o;
      o.Add("command", c_.name)
          .Add("request_id", rid)
          .Add("reason", ReasonName(reason))
          .Add("detail", rep.detail())
          .Add("exit_code", int64_t{exit_})
          .AddRaw("shown", shown.str())
          .AddRaw("reply", ToJson(rep));
      Out() << o.str() << '\n';
      return exit_;
    }
    if (exit_ != kExitOk) {
      Err() << "refused: " << ReasonName(reason);
      if (!rep.detail().empty()) Err() << ": " << rep.detail();
      Err() << "\nrequest id: " << rid << " (nothing was written)\n";
      return exit_;
    }
    fields.insert(fields.begin(),
                  {"result", reason == 1 ? "already done (identical retry)" : "ok"});
    fields.emplace_back("request id", rid);
    fields.emplace_back("committed at", TimeText(rep.timestamp_ns()));
    Out() << RenderFields(fields);
    return exit_;
  }

  int PrintRead(const std::string& reply_json, const std::string& human) {
    exit_ = kExitOk;
    if (json_) {
      JsonObject o;
      o.Add("command", c_.name).Add("exit_code", int64_t{0}).AddRaw("reply", reply_json);
      Out() << o.str() << '\n';
    } else {
      Out() << human;
    }
    return exit_;
  }

  std::string Render(const Table& t) { return csv_ ? t.RenderCsv() : t.RenderText(); }

  bool Deployment() {
    if (deployment_) return true;
    v1::GetDeploymentReply rep;
    if (!Call("GetDeployment", [&](auto* cc) {
          return setup_->GetDeployment(cc, v1::GetDeploymentRequest(), &rep);
        }))
      return false;
    if (!rep.deployed()) {
      NotFound("REASON_NO_DEPLOYMENT", "run `ayni init CODE` first");
      return false;
    }
    deployment_ = rep;
    return true;
  }
  int64_t Scale() const { return deployment_ ? deployment_->scale() : 100; }

  bool Banks() {
    if (banks_) return true;
    v1::ListBanksReply rep;
    if (!Call("ListBanks",
              [&](auto* cc) { return setup_->ListBanks(cc, v1::ListBanksRequest(), &rep); }))
      return false;
    banks_ = rep;
    return true;
  }

  // The banks a command is about: the one named, else every bank.
  bool BanksNamed(const std::string& code, std::vector<v1::Bank>* out) {
    if (!Banks()) return false;
    for (const auto& b : banks_->banks()) {
      if (code.empty() || b.code() == code) out->push_back(b);
    }
    if (!code.empty() && out->empty()) {
      NotFound("REASON_BANK_NOT_FOUND", "no bank with code " + code);
      return false;
    }
    return true;
  }

  std::string BankCode(uint64_t id) {
    if (banks_) {
      for (const auto& b : banks_->banks()) {
        if (b.bank_id() == id) return b.code();
      }
    }
    return "#" + std::to_string(id);
  }

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

  const Command& c_;
  RunContext& ctx_;
  const bool json_;
  const bool csv_;
  std::unique_ptr<v1::SetupService::Stub> setup_;
  std::unique_ptr<v1::LoanService::Stub> loans_;
  std::optional<RequestIdBytes> rid_;
  bool sent_ = false;
  int exit_ = kExitOk;
  std::optional<v1::GetDeploymentReply> deployment_;
  std::optional<v1::ListBanksReply> banks_;
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
