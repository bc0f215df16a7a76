#include "server/cli/runner.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/client_context.h>
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <vector>

#include "ayni/v1/audit.grpc.pb.h"
#include "ayni/v1/clearing.grpc.pb.h"
#include "ayni/v1/ledger.grpc.pb.h"
#include "ayni/v1/reserves.grpc.pb.h"
#include "ayni/v1/setoff.grpc.pb.h"
#include "ayni/v1/setup.grpc.pb.h"
#include "clearing/amount_text.h"
#include "clearing/dates.h"
#include "clearing/int128.h"
#include "proto/client/output.h"
#include "server/api/signature.h"
#include "server/cli/cards_cli.h"
#include "server/cli/loans_cli.h"

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

std::string TimeText(uint64_t ns) {
  if (ns == 0) return "-";
  const time_t secs = static_cast<time_t>(ns / 1000000000u);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string HeadText(const v1::JournalHead& h) {
  if (h.sequence() == 0 && h.hash().empty()) return "-";
  std::string hash = HexOf(reinterpret_cast<const uint8_t*>(h.hash().data()), h.hash().size());
  return "batch " + std::to_string(h.sequence()) + " " + hash.substr(0, 16) +
         (hash.empty() ? "" : "…");
}

std::string Short(const std::string& s) { return s.empty() ? "-" : s; }

std::string AccountKindName(v1::AccountKind k) {
  std::string s = v1::AccountKind_Name(k);
  return s.rfind("ACCOUNT_KIND_", 0) == 0 ? s.substr(13) : s;
}
std::string AccountStatusName(v1::AccountStatus k) {
  std::string s = v1::AccountStatus_Name(k);
  return s.rfind("ACCOUNT_STATUS_", 0) == 0 ? s.substr(15) : s;
}
std::string CurrencyKindName(v1::CurrencyKind k) {
  std::string s = v1::CurrencyKind_Name(k);
  return s.rfind("CURRENCY_KIND_", 0) == 0 ? s.substr(14) : s;
}

class Runner {
 public:
  Runner(const Command& c, RunContext& ctx)
      : c_(c),
        ctx_(ctx),
        json_(ctx.global.format == OutputFormat::kJson),
        csv_(ctx.global.format == OutputFormat::kCsv),
        setup_(v1::SetupService::NewStub(ctx.channel)),
        ledger_(v1::LedgerService::NewStub(ctx.channel)),
        reserves_(v1::ReservesService::NewStub(ctx.channel)),
        clearing_(v1::ClearingService::NewStub(ctx.channel)),
        audit_(v1::AuditService::NewStub(ctx.channel)),
        setoff_(v1::SetoffService::NewStub(ctx.channel)) {}

  int Run();

 private:
  // ---- plumbing -------------------------------------------------------------------------
  std::unique_ptr<grpc::ClientContext> Context() {
    auto cc = std::make_unique<grpc::ClientContext>();
    cc->AddMetadata("authorization", "Bearer " + ctx_.token);
    cc->set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(ctx_.global.timeout_s));
    return cc;
  }

  // Makes one unary call; on a transport error prints it and returns false (exit_ set).
  template <typename Fn>
  bool Call(const char* rpc, Fn fn) {
    auto cc = Context();
    grpc::Status s = fn(cc.get());
    if (s.ok()) return true;
    TransportError(rpc, s);
    return false;
  }

  // A state-changing call: once sent, a transport error may leave its outcome unknown.
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
    if (s.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      Err() << " (this server does not serve " << rpc << " yet)";
    }
    Err() << '\n';
    if (rid_ && sent_) {
      // Codes where the server may have committed before the reply was lost; the others
      // are answered before anything is written.
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

  // A failure before or around the RPC that is not the server's (usage, local files).
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
      if (code == kExitUsage) Err() << "(ayni --help shows every command)\n";
    }
    return code;
  }

  // A business "not found" found by the CLI itself while resolving a code.
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

  std::ostream& Out() { return *ctx_.out; }
  std::ostream& Err() { return *ctx_.err; }

  const RequestIdBytes& RequestId() {
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
    return *rid_;
  }
  std::string RequestIdBytesString() {
    const auto& r = RequestId();
    return std::string(reinterpret_cast<const char*>(r.data()), r.size());
  }

  // The end of every state-changing command: prints the outcome, returns the exit code.
  template <typename Reply>
  int Finish(const Reply& rep, Fields fields, const std::string& reply_json = "") {
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
          .AddRaw("reply", reply_json.empty() ? ToJson(rep) : reply_json);
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

  // ---- lookups --------------------------------------------------------------------------
  bool Deployment(v1::GetDeploymentReply* out) {
    if (deployment_) {
      *out = *deployment_;
      return true;
    }
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
    *out = rep;
    return true;
  }

  bool Banks() {
    if (banks_) return true;
    v1::ListBanksReply rep;
    if (!Call("ListBanks",
              [&](auto* cc) { return setup_->ListBanks(cc, v1::ListBanksRequest(), &rep); }))
      return false;
    banks_ = rep;
    return true;
  }

  bool BankByCode(const std::string& code, v1::Bank* out) {
    if (!Banks()) return false;
    for (const auto& b : banks_->banks()) {
      if (b.code() == code) {
        *out = b;
        return true;
      }
    }
    NotFound("REASON_BANK_NOT_FOUND", "no bank with code " + code);
    return false;
  }

  std::string BankCode(uint64_t id) {
    if (banks_) {
      for (const auto& b : banks_->banks()) {
        if (b.bank_id() == id) return b.code();
      }
    }
    return id == 0 ? "-" : "#" + std::to_string(id);
  }

  bool Currencies() {
    if (currencies_) return true;
    v1::ListCurrenciesReply rep;
    if (!Call("ListCurrencies", [&](auto* cc) {
          return setup_->ListCurrencies(cc, v1::ListCurrenciesRequest(), &rep);
        }))
      return false;
    currencies_ = rep;
    return true;
  }

  std::string CurrencyCode(uint64_t id) {
    if (currencies_) {
      for (const auto& c : currencies_->currencies()) {
        if (c.currency_id() == id) return c.code();
      }
    }
    return "#" + std::to_string(id);
  }

  bool Account(uint64_t id, v1::Account* out) {
    v1::GetAccountRequest req;
    req.set_account_id(id);
    v1::GetAccountReply rep;
    if (!Call("GetAccount", [&](auto* cc) { return ledger_->GetAccount(cc, req, &rep); })) {
      return false;
    }
    *out = rep.account();
    return true;
  }

  // Parses c_.amount (or `text`) at `scale`; on failure prints a usage error.
  std::optional<int64_t> Amount(const std::string& text, int64_t scale, AmountSign sign,
                                const char* what, const std::string& code) {
    auto r = ParseAmount(text, scale, sign, what, code);
    if (!r.ok()) {
      Fail(kExitUsage, r.status().message());
      return std::nullopt;
    }
    return *r;
  }

  // ---- commands -------------------------------------------------------------------------
  int Init();
  int BankCreate();
  int BankList();
  int CurrencyCreate();
  int CurrencyList();
  int CircleCreate();
  int CircleAddMember();
  int MemberCreate();
  int AccountOpen();
  int AccountShow();
  int AccountList();
  int AccountStatus(v1::AccountStatus status);
  int AccountLimits();
  int AccountAmount();  // issue, redeem, distribute
  int Pay();
  int FundReserve();
  int Coverage();
  int ClearingRun();
  int ClearingShow();
  int ClearingList();
  int AuditReserves();
  int AuditJournal();
  int KeyCreate();
  int KeyList();
  int KeyRevoke();
  int ShowStatus();
  int CircleList();
  int AccountStatement();

  std::string CycleText(const v1::CycleReport& r, int64_t scale, const std::string& code);

  // Invoices and set-off (SetoffService).
  int InvoiceRegister();
  int InvoiceDecision(bool confirm);
  int InvoiceList();
  int SetoffRun();
  int SetoffShow();
  std::string SetoffText(const v1::SetoffReport& r);
  Table NoticesTable(const v1::SetoffReport& r);
  bool CurrencyByCode(const std::string& code, v1::Currency* out);

  const Command& c_;
  RunContext& ctx_;
  const bool json_;
  const bool csv_;
  std::unique_ptr<v1::SetupService::Stub> setup_;
  std::unique_ptr<v1::LedgerService::Stub> ledger_;
  std::unique_ptr<v1::ReservesService::Stub> reserves_;
  std::unique_ptr<v1::ClearingService::Stub> clearing_;
  std::unique_ptr<v1::AuditService::Stub> audit_;
  std::unique_ptr<v1::SetoffService::Stub> setoff_;
  std::optional<RequestIdBytes> rid_;
  bool sent_ = false;  // a state-changing request went out (its outcome may be unknown)
  int exit_ = kExitOk;
  std::optional<v1::GetDeploymentReply> deployment_;
  std::optional<v1::ListBanksReply> banks_;
  std::optional<v1::ListCurrenciesReply> currencies_;
};

int Runner::Init() {
  v1::InitDeploymentRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_national_code(c_.code);
  req.set_scale(c_.scale);
  v1::InitDeploymentReply rep;
  if (!Send("InitDeployment", [&](auto* cc) { return setup_->InitDeployment(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"national currency", c_.code},
                      {"currency id", std::to_string(rep.national_currency_id())},
                      {"scale", std::to_string(c_.scale == 0 ? 100 : c_.scale)}});
}

int Runner::BankCreate() {
  v1::CreateBankRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_code(c_.code);
  req.set_name(c_.text);
  v1::CreateBankReply rep;
  if (!Send("CreateBank", [&](auto* cc) { return setup_->CreateBank(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"bank", c_.code}, {"bank id", std::to_string(rep.bank_id())}});
}

int Runner::BankList() {
  if (!Banks() || !Currencies()) return exit_;
  Table t({"ID", "CODE", "NAME", "CURRENCIES"}, {true, false, false, false});
  for (const auto& b : banks_->banks()) {
    std::string cur;
    for (uint64_t id : b.issued_currency_ids()) {
      if (!cur.empty()) cur += ' ';
      cur += CurrencyCode(id);
    }
    t.AddRow({std::to_string(b.bank_id()), b.code(), b.name(), Short(cur)});
  }
  return PrintRead(ToJson(*banks_), Render(t));
}

int Runner::CurrencyCreate() {
  v1::Bank bank;
  if (!BankByCode(c_.bank_code, &bank)) return exit_;
  v1::CreateCurrencyRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_bank_id(bank.bank_id());
  req.set_code(c_.code);
  if (c_.coverage_bp) req.set_coverage_min_bp(*c_.coverage_bp);
  if (c_.fee_bp) req.set_redemption_fee_bp(*c_.fee_bp);
  v1::CreateCurrencyReply rep;
  if (!Send("CreateCurrency", [&](auto* cc) { return setup_->CreateCurrency(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"currency", c_.code},
                      {"currency id", std::to_string(rep.currency_id())},
                      {"issuer", c_.bank_code},
                      {"coverage minimum", FormatBasisPoints(c_.coverage_bp.value_or(10000))},
                      {"redemption fee", FormatBasisPoints(c_.fee_bp.value_or(200))}});
}

int Runner::CurrencyList() {
  v1::ListCurrenciesRequest req;
  if (!Banks()) return exit_;
  if (!c_.bank_code.empty()) {
    v1::Bank bank;
    if (!BankByCode(c_.bank_code, &bank)) return exit_;
    req.set_bank_id(bank.bank_id());
  }
  v1::ListCurrenciesReply rep;
  if (!Call("ListCurrencies", [&](auto* cc) { return setup_->ListCurrencies(cc, req, &rep); })) {
    return exit_;
  }
  Table t({"ID", "CODE", "KIND", "SCALE", "BANK", "CIRCLE", "COVERAGE_MIN", "FEE",
           "DEFAULT_CREDIT_LIMIT", "DEFAULT_CEILING"},
          {true, false, false, true, false, true, true, true, true, true});
  for (const auto& cur : rep.currencies()) {
    const bool national = cur.kind() == v1::CURRENCY_KIND_NATIONAL;
    const bool guaranteed = cur.kind() == v1::CURRENCY_KIND_GUARANTEED;
    t.AddRow({std::to_string(cur.currency_id()), cur.code(), CurrencyKindName(cur.kind()),
              std::to_string(cur.scale()), national ? "-" : BankCode(cur.issuer_bank_id()),
              cur.circle_id() ? std::to_string(cur.circle_id()) : "-",
              guaranteed ? FormatBasisPoints(cur.coverage_min_bp()) : "-",
              guaranteed ? FormatBasisPoints(cur.redemption_fee_bp()) : "-",
              national ? "-" : FormatAmount(cur.default_credit_limit_minor(), cur.scale(), ""),
              national ? "-" : FormatCeiling(cur.default_ceiling_minor(), cur.scale(), "")});
  }
  return PrintRead(ToJson(rep), Render(t));
}

int Runner::CircleCreate() {
  v1::Bank bank;
  if (!BankByCode(c_.bank_code, &bank)) return exit_;
  const int64_t scale = c_.scale == 0 ? 100 : c_.scale;
  auto limit = Amount(c_.amount, scale, AmountSign::kNonNegative, "--credit-limit", c_.code);
  if (!limit) return exit_;
  v1::CreateCircleRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_bank_id(bank.bank_id());
  req.set_code(c_.code);
  req.set_name(c_.text);
  req.set_scale(scale);
  req.set_default_credit_limit_minor(*limit);
  v1::CreateCircleReply rep;
  if (!Send("CreateCircle", [&](auto* cc) { return setup_->CreateCircle(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"circle", c_.code},
                      {"circle id", std::to_string(rep.circle_id())},
                      {"currency id", std::to_string(rep.currency_id())},
                      {"credit limit", FormatAmount(*limit, scale, c_.code)}});
}

int Runner::CircleAddMember() {
  v1::AddCircleMemberRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_circle_id(c_.id);
  req.set_member_id(c_.other_id);
  req.set_admin(c_.flag);
  v1::AddCircleMemberReply rep;
  if (!Send("AddCircleMember", [&](auto* cc) { return setup_->AddCircleMember(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"circle id", std::to_string(c_.id)},
                      {"member id", std::to_string(c_.other_id)},
                      {"admin", c_.flag ? "yes" : "no"}});
}

int Runner::MemberCreate() {
  v1::Bank bank;
  if (!BankByCode(c_.bank_code, &bank)) return exit_;
  v1::CreateMemberRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_bank_id(bank.bank_id());
  req.set_name(c_.text);
  v1::CreateMemberReply rep;
  if (!Send("CreateMember", [&](auto* cc) { return setup_->CreateMember(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"member", c_.text},
                      {"member id", std::to_string(rep.member_id())},
                      {"bank", c_.bank_code}});
}

int Runner::AccountOpen() {
  if (!Currencies()) return exit_;
  uint64_t currency_id = 0;
  for (const auto& cur : currencies_->currencies()) {
    if (cur.code() == c_.currency_code) currency_id = cur.currency_id();
  }
  if (currency_id == 0) {
    return NotFound("REASON_CURRENCY_NOT_FOUND", "no currency with code " + c_.currency_code);
  }
  v1::OpenAccountRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_member_id(c_.id);
  req.set_currency_id(currency_id);
  req.set_kind(c_.flag ? v1::ACCOUNT_KIND_MERCHANT : v1::ACCOUNT_KIND_MEMBER);
  v1::OpenAccountReply rep;
  if (!Send("OpenAccount", [&](auto* cc) { return setup_->OpenAccount(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"account id", std::to_string(rep.account_id())},
                      {"member id", std::to_string(c_.id)},
                      {"currency", c_.currency_code},
                      {"kind", c_.flag ? "MERCHANT" : "MEMBER"}});
}

int Runner::AccountShow() {
  v1::Account a;
  if (!Account(c_.id, &a)) return exit_;
  Banks();  // for the bank code; a failure here only costs the code
  exit_ = kExitOk;
  const std::string& code = a.currency_code();
  Fields f = {
      {"account id", std::to_string(a.account_id())},
      {"bank", BankCode(a.bank_id())},
      {"currency", code},
      {"kind", AccountKindName(a.kind())},
      {"owner member id", a.owner_member_id() ? std::to_string(a.owner_member_id()) : "-"},
      {"status", AccountStatusName(a.status())},
      {"balance", FormatAmount(a.balance_minor(), a.scale(), code)},
      {"credit limit", FormatAmount(a.credit_limit_minor(), a.scale(), code)},
      {"ceiling", FormatCeiling(a.ceiling_minor(), a.scale(), code)},
      {"debits posted", FormatAmount(a.debits_posted_minor(), a.scale(), code)},
      {"credits posted", FormatAmount(a.credits_posted_minor(), a.scale(), code)},
      {"as of", HeadText(a.as_of())},
  };
  if (a.counterparty_bank_id())
    f.insert(f.begin() + 4, {"counterparty", BankCode(a.counterparty_bank_id())});
  return PrintRead(ToJson(a), RenderFields(f));
}

int Runner::AccountList() {
  if (!Banks()) return exit_;
  std::vector<uint64_t> bank_ids;
  if (!c_.bank_code.empty()) {
    v1::Bank bank;
    if (!BankByCode(c_.bank_code, &bank)) return exit_;
    bank_ids.push_back(bank.bank_id());
  } else if (c_.member_filter != 0) {
    bank_ids.push_back(0);
  } else {
    for (const auto& b : banks_->banks()) bank_ids.push_back(b.bank_id());
  }
  v1::ListAccountsReply all;
  for (uint64_t bank_id : bank_ids) {
    std::string token;
    do {
      v1::ListAccountsRequest req;
      req.set_bank_id(bank_id);
      req.set_member_id(c_.member_filter);
      req.set_page_size(1000);
      req.set_page_token(token);
      v1::ListAccountsReply rep;
      if (!Call("ListAccounts", [&](auto* cc) { return ledger_->ListAccounts(cc, req, &rep); })) {
        return exit_;
      }
      for (auto& a : *rep.mutable_accounts()) *all.add_accounts() = std::move(a);
      token = rep.next_page_token();
    } while (!token.empty());
  }
  Table t(
      {"ID", "BANK", "KIND", "OWNER", "CURRENCY", "STATUS", "BALANCE", "CREDIT_LIMIT", "CEILING"},
      {true, false, false, true, false, false, true, true, true});
  for (const auto& a : all.accounts()) {
    std::string kind = AccountKindName(a.kind());
    if (a.counterparty_bank_id()) kind += ":" + BankCode(a.counterparty_bank_id());
    t.AddRow({std::to_string(a.account_id()), BankCode(a.bank_id()), kind,
              a.owner_member_id() ? std::to_string(a.owner_member_id()) : "-", a.currency_code(),
              AccountStatusName(a.status()), FormatAmount(a.balance_minor(), a.scale(), ""),
              FormatAmount(a.credit_limit_minor(), a.scale(), ""),
              FormatCeiling(a.ceiling_minor(), a.scale(), "")});
  }
  return PrintRead(ToJson(all), Render(t));
}

int Runner::AccountStatus(v1::AccountStatus status) {
  v1::SetAccountStatusRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_account_id(c_.id);
  req.set_status(status);
  req.set_actor(c_.actor);
  req.set_reason(c_.reason);
  v1::SetAccountStatusReply rep;
  if (!Send("SetAccountStatus", [&](auto* cc) { return setup_->SetAccountStatus(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"account id", std::to_string(c_.id)},
                      {"status", AccountStatusName(status)},
                      {"actor", c_.actor}});
}

int Runner::AccountLimits() {
  v1::Account a;
  if (!Account(c_.id, &a)) return exit_;
  auto limit =
      Amount(c_.amount, a.scale(), AmountSign::kNonNegative, "--credit-limit", a.currency_code());
  if (!limit) return exit_;
  std::optional<int64_t> ceiling;
  if (c_.ceiling) {
    ceiling =
        Amount(*c_.ceiling, a.scale(), AmountSign::kNonNegative, "--ceiling", a.currency_code());
    if (!ceiling) return exit_;
  }
  v1::SetAccountLimitsRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_account_id(c_.id);
  req.set_credit_limit_minor(*limit);
  if (ceiling) req.set_ceiling_minor(*ceiling);
  req.set_actor(c_.actor);
  req.set_reason(c_.reason);
  v1::SetAccountLimitsReply rep;
  if (!Send("SetAccountLimits", [&](auto* cc) { return setup_->SetAccountLimits(cc, req, &rep); }))
    return exit_;
  return Finish(
      rep, {{"account id", std::to_string(c_.id)},
            {"credit limit", FormatAmount(*limit, a.scale(), a.currency_code())},
            {"ceiling", ceiling ? FormatAmount(*ceiling, a.scale(), a.currency_code()) : "none"}});
}

int Runner::AccountAmount() {
  v1::Account a;
  if (!Account(c_.id, &a)) return exit_;
  const std::string& code = a.currency_code();
  auto amount = Amount(c_.amount, a.scale(), AmountSign::kPositive, "AMOUNT", code);
  if (!amount) return exit_;
  Fields f = {{"account id", std::to_string(c_.id)},
              {"amount", FormatAmount(*amount, a.scale(), code)}};
  if (c_.verb == Verb::kIssue) {
    v1::IssueRequest req;
    req.set_request_id(RequestIdBytesString());
    req.set_account_id(c_.id);
    req.set_amount_minor(*amount);
    req.set_memo(c_.memo);
    v1::IssueReply rep;
    if (!Send("Issue", [&](auto* cc) { return reserves_->Issue(cc, req, &rep); })) return exit_;
    return Finish(rep, f);
  }
  if (c_.verb == Verb::kDistribute) {
    v1::DistributeRequest req;
    req.set_request_id(RequestIdBytesString());
    req.set_account_id(c_.id);
    req.set_amount_minor(*amount);
    req.set_memo(c_.memo);
    v1::DistributeReply rep;
    if (!Send("Distribute", [&](auto* cc) { return reserves_->Distribute(cc, req, &rep); }))
      return exit_;
    return Finish(rep, f);
  }
  v1::GetDeploymentReply d;
  if (!Deployment(&d)) return exit_;
  v1::RedeemRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_account_id(c_.id);
  req.set_amount_minor(*amount);
  req.set_memo(c_.memo);
  v1::RedeemReply rep;
  if (!Send("Redeem", [&](auto* cc) { return reserves_->Redeem(cc, req, &rep); })) return exit_;
  f.emplace_back("fee", FormatAmount(rep.fee_minor(), d.scale(), d.national_code()));
  f.emplace_back("paid out", FormatAmount(rep.paid_out_minor(), d.scale(), d.national_code()));
  return Finish(rep, f);
}

int Runner::Pay() {
  v1::Account a;
  if (!Account(c_.id, &a)) return exit_;
  const std::string& code = a.currency_code();
  auto amount = Amount(c_.amount, a.scale(), AmountSign::kPositive, "AMOUNT", code);
  if (!amount) return exit_;
  v1::PayRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_from_account_id(c_.id);
  req.set_to_account_id(c_.other_id);
  req.set_amount_minor(*amount);
  req.set_memo(c_.memo);
  v1::PayReply rep;
  if (!Send("Pay", [&](auto* cc) { return ledger_->Pay(cc, req, &rep); })) return exit_;
  return Finish(rep, {{"from account", std::to_string(c_.id)},
                      {"to account", std::to_string(c_.other_id)},
                      {"amount", FormatAmount(*amount, a.scale(), code)},
                      {"cross bank", rep.cross_bank() ? "yes" : "no"},
                      {"legs", std::to_string(rep.transfer_ids_size())}});
}

int Runner::FundReserve() {
  v1::GetDeploymentReply d;
  if (!Deployment(&d)) return exit_;
  v1::Bank bank;
  if (!BankByCode(c_.bank_code, &bank)) return exit_;
  auto amount = Amount(c_.amount, d.scale(), AmountSign::kPositive, "AMOUNT", d.national_code());
  if (!amount) return exit_;
  v1::FundReserveRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_bank_id(bank.bank_id());
  req.set_amount_minor(*amount);
  req.set_source(c_.flag ? v1::FUND_SOURCE_FEES : v1::FUND_SOURCE_VAULT);
  req.set_memo(c_.memo);
  v1::FundReserveReply rep;
  if (!Send("FundReserve", [&](auto* cc) { return reserves_->FundReserve(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"bank", c_.bank_code},
                      {"amount", FormatAmount(*amount, d.scale(), d.national_code())},
                      {"source", c_.flag ? "FEES" : "VAULT"}});
}

// One table row per bank (national amounts), for `coverage` and the fallback audit.
void AddCoverageRow(Table& t, const v1::BankCoverage& cv, int64_t scale, const std::string& code) {
  t.AddRow(
      {cv.bank_code(), FormatAmount(cv.reserve_minor(), scale, code),
       FormatAmount(cv.receivables_minor(), scale, code),
       FormatAmount(cv.payables_minor(), scale, code), FormatAmount(cv.assets_minor(), scale, code),
       FormatAmount(cv.supply_minor(), scale, code), FormatAmount(cv.required_minor(), scale, code),
       cv.has_coverage_ratio_bp() ? FormatBasisPoints(cv.coverage_ratio_bp()) : "-",
       FormatAmount(cv.excess_minor(), scale, code), cv.covered() ? "COVERED" : "UNDER"});
}

int Runner::Coverage() {
  v1::GetDeploymentReply d;
  if (!Deployment(&d) || !Banks()) return exit_;
  std::vector<uint64_t> ids;
  if (!c_.bank_code.empty()) {
    v1::Bank bank;
    if (!BankByCode(c_.bank_code, &bank)) return exit_;
    ids.push_back(bank.bank_id());
  } else {
    for (const auto& b : banks_->banks()) ids.push_back(b.bank_id());
  }
  Table t({"BANK", "RESERVE", "RECEIVABLES", "PAYABLES", "ASSETS", "SUPPLY", "REQUIRED", "RATIO",
           "EXCESS", "VERDICT"},
          {false, true, true, true, true, true, true, true, true, false});
  std::vector<std::string> json;
  for (uint64_t id : ids) {
    v1::GetCoverageRequest req;
    req.set_bank_id(id);
    v1::GetCoverageReply rep;
    if (!Call("GetCoverage", [&](auto* cc) { return reserves_->GetCoverage(cc, req, &rep); })) {
      return exit_;
    }
    AddCoverageRow(t, rep.coverage(), d.scale(), d.national_code());
    json.push_back(ToJson(rep));
  }
  std::string human = Render(t);
  return PrintRead(JsonArray(json), human);
}

std::string Runner::CycleText(const v1::CycleReport& r, int64_t scale, const std::string& code) {
  Fields f = {
      {"cycle", std::to_string(r.number())},
      {"cycle id",
       HexOf(reinterpret_cast<const uint8_t*>(r.cycle_id().data()), r.cycle_id().size())},
      {"time", TimeText(r.timestamp_ns())},
      {"obligations", std::to_string(r.obligations_size())},
      {"gross", FormatAmount(r.gross_total_minor(), scale, code)},
      {"settled", FormatAmount(r.settled_total_minor(), scale, code)},
      {"liquidity saved", FormatAmount(r.liquidity_saved_minor(), scale, code) + " (" +
                              FormatBasisPoints(r.liquidity_saved_bp()) + ")"},
      {"transfers", std::to_string(r.transfers())},
      {"journal head", HeadText(r.head())},
      {"signed by", r.signature().key_name().empty() ? "-" : r.signature().key_name()},
  };
  std::string s = RenderFields(f);
  if (r.positions_size() > 0) {
    Table p({"BANK", "RECEIVABLE", "PAYABLE", "NET"}, {false, true, true, true});
    for (const auto& np : r.positions()) {
      p.AddRow({BankCode(np.bank_id()), FormatAmount(np.receivable_minor(), scale, code),
                FormatAmount(np.payable_minor(), scale, code),
                FormatAmount(np.net_minor(), scale, code)});
    }
    s += "\nnet positions:\n" + p.RenderText();
  }
  if (r.instructions_size() > 0) {
    Table i({"FROM", "TO", "AMOUNT"}, {false, false, true});
    for (const auto& in : r.instructions()) {
      i.AddRow({BankCode(in.from_bank_id()), BankCode(in.to_bank_id()),
                FormatAmount(in.amount_minor(), scale, code)});
    }
    s += "\nsettlement (RESERVE → RESERVE):\n" + i.RenderText();
  }
  if (r.short_debtor_bank_ids_size() > 0) {
    s += "\nshort net debtors:";
    for (uint64_t id : r.short_debtor_bank_ids()) s += " " + BankCode(id);
    s += '\n';
  }
  return s;
}

int Runner::ClearingRun() {
  v1::GetDeploymentReply d;
  if (!Deployment(&d) || !Banks()) return exit_;
  v1::RunInterbankCycleRequest req;
  req.set_request_id(RequestIdBytesString());
  v1::RunInterbankCycleReply rep;
  if (!Send("RunInterbankCycle",
            [&](auto* cc) { return clearing_->RunInterbankCycle(cc, req, &rep); }))
    return exit_;
  const int reason = static_cast<int>(rep.reason());
  if (!json_ && rep.has_report() && (reason == 85 || ExitCodeForReason(reason) == kExitOk)) {
    std::ostream& os = ExitCodeForReason(reason) == kExitOk ? Out() : Err();
    os << CycleText(rep.report(), d.scale(), d.national_code()) << '\n';
  }
  return Finish(rep, {{"cycle", std::to_string(rep.report().number())}});
}

int Runner::ClearingShow() {
  v1::GetDeploymentReply d;
  if (!Deployment(&d) || !Banks()) return exit_;
  v1::GetCycleRequest req;
  if (c_.cycle_number) {
    req.set_number(*c_.cycle_number);
  } else {
    req.set_latest(true);
  }
  v1::GetCycleReply rep;
  if (!Call("GetCycle", [&](auto* cc) { return clearing_->GetCycle(cc, req, &rep); })) {
    return exit_;
  }
  return PrintRead(ToJson(rep), CycleText(rep.report(), d.scale(), d.national_code()));
}

int Runner::ClearingList() {
  v1::GetDeploymentReply d;
  if (!Deployment(&d)) return exit_;
  v1::ListCyclesReply all;
  std::string token;
  do {
    v1::ListCyclesRequest req;
    req.set_page_size(1000);
    req.set_page_token(token);
    v1::ListCyclesReply rep;
    if (!Call("ListCycles", [&](auto* cc) { return clearing_->ListCycles(cc, req, &rep); })) {
      return exit_;
    }
    for (auto& cy : *rep.mutable_cycles()) *all.add_cycles() = std::move(cy);
    token = rep.next_page_token();
  } while (!token.empty());
  const std::string& code = d.national_code();
  Table t({"CYCLE", "TIME", "BANKS", "GROSS", "SETTLED", "SAVED", "TRANSFERS"},
          {true, false, true, true, true, true, true});
  for (const auto& cy : all.cycles()) {
    t.AddRow({std::to_string(cy.number()), TimeText(cy.timestamp_ns()), std::to_string(cy.banks()),
              FormatAmount(cy.gross_total_minor(), d.scale(), code),
              FormatAmount(cy.settled_total_minor(), d.scale(), code),
              FormatAmount(cy.liquidity_saved_minor(), d.scale(), code),
              std::to_string(cy.transfers())});
  }
  return PrintRead(ToJson(all), Render(t));
}

int Runner::AuditReserves() {
  v1::GetDeploymentReply d;
  if (!Deployment(&d) || !Banks()) return exit_;
  uint64_t bank_id = 0;
  if (!c_.bank_code.empty()) {
    v1::Bank bank;
    if (!BankByCode(c_.bank_code, &bank)) return exit_;
    bank_id = bank.bank_id();
  }
  const int64_t scale = d.scale();
  const std::string& code = d.national_code();
  Table t({"BANK", "CURRENCY", "SUPPLY", "RESERVE", "RECEIVABLES", "PAYABLES", "LOANS", "ASSETS",
           "REQUIRED", "MIN", "RATIO", "EXCESS", "CARD_FLOAT", "PAR30", "VERDICT", "SOCIAL_LOANS"},
          {false, false, true, true, true, true, true, true, true, true, true, true, true, true,
           false, true});
  auto currency_rows = [&](const v1::BankCoverage& cv) {
    for (const auto& cc : cv.currencies()) {
      t.AddRow({cv.bank_code(), cc.code(), FormatAmount(cc.supply_minor(), scale, ""), "", "", "",
                "", "", FormatAmount(cc.required_minor(), scale, ""),
                FormatBasisPoints(cc.coverage_min_bp()), "", "",
                FormatAmount(cc.card_float_minor(), scale, ""), "", "", ""});
    }
  };
  std::vector<std::string> faults;
  v1::ReserveAuditRequest req;
  req.set_bank_id(bank_id);
  v1::ReserveAuditReply rep;
  if (!Call("ReserveAudit", [&](auto* cc) { return audit_->ReserveAudit(cc, req, &rep); })) {
    return exit_;
  }
  // The signed payload is the audit (server/api/signature.h): check the signature, then
  // that the figures shown are the ones signed.
  std::string signer = "unsigned";
  if (!rep.has_signature()) {
    faults.push_back("the audit is not signed");
  } else if (Status v = server::api::VerifySignature(rep.signature()); !v.ok()) {
    faults.push_back("the audit's " + v.message());
  } else {
    v1::ReserveAuditReply unsigned_reply = rep;
    unsigned_reply.clear_signature();
    v1::ReserveAuditReply signed_reply;
    if (!signed_reply.ParseFromString(rep.signature().payload()) ||
        signed_reply.SerializeAsString() != unsigned_reply.SerializeAsString()) {
      faults.push_back("the audit's figures differ from the ones its signature covers");
    } else {
      const std::string& pk = rep.signature().public_key();
      signer = rep.signature().key_name() + " key " +
               HexOf(reinterpret_cast<const uint8_t*>(pk.data()), pk.size());
    }
  }
  const std::string source = "computed by the server at " + HeadText(rep.head()) +
                             "; signed by " + signer;
  for (const auto& b : rep.banks()) {
    const auto& cv = b.coverage();
    t.AddRow({cv.bank_code(), "(all)", FormatAmount(cv.supply_minor(), scale, ""),
              FormatAmount(cv.reserve_minor(), scale, ""),
              FormatAmount(cv.receivables_minor(), scale, ""),
              FormatAmount(cv.payables_minor(), scale, ""),
              FormatAmount(b.loans_outstanding_minor(), scale, ""),
              FormatAmount(cv.assets_minor(), scale, ""),
              FormatAmount(cv.required_minor(), scale, ""),
              FormatBasisPoints(b.required_min_bp()),
              cv.has_coverage_ratio_bp() ? FormatBasisPoints(cv.coverage_ratio_bp()) : "-",
              FormatAmount(cv.excess_minor(), scale, ""),
              FormatAmount(b.card_float_minor(), scale, ""),
              b.has_par30_bp() ? FormatBasisPoints(b.par30_bp()) : "-",
              b.verdict() == v1::VERDICT_COVERED ? "COVERED" : "UNDER-COVERED",
              FormatAmount(b.social_loans_outstanding_minor(), scale, "")});
    currency_rows(cv);
    if (b.verdict() != v1::VERDICT_COVERED) {
      faults.push_back(cv.bank_code() + " under-covered" +
                       (b.detail().empty() ? "" : ": " + b.detail()));
    }
  }
  if (rep.verdict() != v1::VERDICT_COVERED && faults.empty()) {
    faults.push_back("the audit's overall verdict is " + v1::Verdict_Name(rep.verdict()));
  }
  const std::string reply_json = ToJson(rep);

  exit_ = faults.empty() ? kExitOk : kExitAuditFault;
  if (json_) {
    std::vector<std::string> fj;
    for (const auto& f : faults) fj.push_back(JsonQuote(f));
    JsonObject o;
    o.Add("command", c_.name)
        .Add("source", source)
        .Add("currency", code)
        .Add("verdict", rep.verdict() == v1::VERDICT_COVERED ? "COVERED" : "UNDER_COVERED")
        .Add("ok", faults.empty())
        .AddRaw("faults", JsonArray(fj))
        .Add("exit_code", int64_t{exit_})
        .AddRaw("reply", reply_json);
    Out() << o.str() << '\n';
    return exit_;
  }
  if (csv_) {
    Out() << t.RenderCsv();
  } else {
    Out() << "reserve audit, amounts in " << code << "\nsource: " << source << "\n\n"
          << t.RenderText();
    Out() << "\nverdict: " << (faults.empty() ? "every bank COVERED" : "FAULTS FOUND") << '\n';
  }
  for (const auto& f : faults) Err() << "FAULT: " << f << '\n';
  return exit_;
}

int Runner::AuditJournal() {
  v1::VerifyJournalRequest req;
  req.set_memory_only(c_.flag);
  v1::VerifyJournalReply rep;
  if (!Call("VerifyJournal", [&](auto* cc) { return audit_->VerifyJournal(cc, req, &rep); })) {
    return exit_;
  }
  std::vector<std::string> faults;
  for (const auto& f : rep.journal_faults()) {
    std::string s = v1::JournalFaultKind_Name(f.kind());
    if (f.batch_sequence()) s += " batch " + std::to_string(f.batch_sequence());
    if (f.account_id()) s += " account " + std::to_string(f.account_id());
    if (!f.detail().empty()) s += ": " + f.detail();
    faults.push_back(s);
  }
  for (const auto& f : rep.invariant_faults()) {
    std::string s = v1::InvariantFaultKind_Name(f.kind());
    if (f.id()) s += " id " + std::to_string(f.id());
    if (!f.detail().empty()) s += ": " + f.detail();
    faults.push_back(s);
  }
  if (!rep.ok() && faults.empty()) faults.push_back("the server reports the journal not ok");
  exit_ = faults.empty() ? kExitOk : kExitAuditFault;
  if (json_) {
    std::vector<std::string> fj;
    for (const auto& f : faults) fj.push_back(JsonQuote(f));
    JsonObject o;
    o.Add("command", c_.name)
        .Add("ok", faults.empty())
        .AddRaw("faults", JsonArray(fj))
        .Add("exit_code", int64_t{exit_})
        .AddRaw("reply", ToJson(rep));
    Out() << o.str() << '\n';
    return exit_;
  }
  Out() << RenderFields({{"batches replayed", std::to_string(rep.batches())},
                         {"transfers replayed", std::to_string(rep.transfers())},
                         {"accounts compared", std::to_string(rep.accounts())},
                         {"replayed head", HeadText(rep.replayed_head())},
                         {"server head", HeadText(rep.server_head())},
                         {"verdict", faults.empty() ? "OK" : "FAULTS FOUND"}});
  for (const auto& f : faults) Err() << "FAULT: " << f << '\n';
  return exit_;
}

int Runner::KeyCreate() {
  uint64_t scope_id = 0;
  if (c_.scope_kind != 1) {
    if (IsDecimalSyntax(c_.scope_ref) && c_.scope_ref.find('.') == std::string::npos) {
      scope_id = std::stoull(c_.scope_ref);
    } else {
      v1::Bank bank;
      if (!BankByCode(c_.scope_ref, &bank)) return exit_;
      scope_id = bank.bank_id();
    }
  }
  if (!c_.token_file.empty()) {
    // Create the file before minting, so a key is never made that cannot be kept.
    const int fd = ::open(c_.token_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Fail(kExitLocal, "cannot create " + c_.token_file + " (it must not exist yet)");
    }
    ::close(fd);
  }
  v1::CreateApiKeyRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_role(static_cast<v1::Role>(c_.role));
  req.mutable_scope()->set_kind(static_cast<v1::ScopeKind>(c_.scope_kind));
  req.mutable_scope()->set_id(scope_id);
  req.set_label(c_.text);
  v1::CreateApiKeyReply rep;
  if (!Send("CreateApiKey", [&](auto* cc) { return setup_->CreateApiKey(cc, req, &rep); }))
    return exit_;
  std::string token = rep.token();
  Fields f = {{"key id", std::to_string(rep.key_id())},
              {"role", v1::Role_Name(req.role())},
              {"scope", v1::ScopeKind_Name(req.scope().kind()) +
                            (scope_id ? " " + std::to_string(scope_id) : "")},
              {"label", c_.text}};
  if (!c_.token_file.empty()) {
    rep.clear_token();
    if (!token.empty()) {
      const int fd = ::open(c_.token_file.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
      const std::string line = token + "\n";
      const bool ok =
          fd >= 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
      if (fd >= 0) ::close(fd);
      sodium_memzero(token.data(), token.size());
      if (!ok) return Fail(kExitLocal, "could not write the token to " + c_.token_file);
      f.emplace_back("token", "written to " + c_.token_file + " (mode 0600)");
    }
  } else if (!token.empty() && !json_) {
    f.emplace_back("token", token + "  (shown once; the server keeps only its hash)");
  }
  if (rep.reason() == v1::REASON_EXISTS) {
    f.emplace_back("token", "not available on a retry: revoke this key and create another");
  }
  return Finish(rep, f);
}

int Runner::KeyList() {
  v1::ListApiKeysReply all;
  uint64_t bank_id = 0;
  if (!c_.bank_code.empty()) {
    v1::Bank bank;
    if (!BankByCode(c_.bank_code, &bank)) return exit_;
    bank_id = bank.bank_id();
  }
  std::string page;
  do {
    v1::ListApiKeysRequest req;
    req.set_bank_id(bank_id);
    req.set_include_revoked(c_.include_revoked);
    req.set_page_size(1000);
    req.set_page_token(page);
    v1::ListApiKeysReply rep;
    if (!Call("ListApiKeys", [&](auto* cc) { return setup_->ListApiKeys(cc, req, &rep); })) {
      return exit_;
    }
    for (auto& k : *rep.mutable_keys()) *all.add_keys() = std::move(k);
    page = rep.next_page_token();
  } while (!page.empty());
  Table t({"ID", "ROLE", "SCOPE", "LABEL", "PREFIX", "CREATED", "LAST_USED", "STATE"},
          {true, false, false, false, false, false, false, false});
  for (const auto& k : all.keys()) {
    std::string role = v1::Role_Name(k.role());
    if (role.rfind("ROLE_", 0) == 0) role = role.substr(5);
    std::string scope = v1::ScopeKind_Name(k.scope().kind());
    if (scope.rfind("SCOPE_KIND_", 0) == 0) scope = scope.substr(11);
    if (k.scope().id()) scope += " " + std::to_string(k.scope().id());
    t.AddRow({std::to_string(k.key_id()), role, scope, k.label(), k.token_prefix(),
              TimeText(k.created_at_ns()), TimeText(k.last_used_at_ns()),
              k.revoked() ? "revoked" : "active"});
  }
  return PrintRead(ToJson(all), Render(t));
}

int Runner::KeyRevoke() {
  v1::RevokeApiKeyRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_key_id(c_.id);
  req.set_actor(c_.actor);
  req.set_reason(c_.reason);
  v1::RevokeApiKeyReply rep;
  if (!Send("RevokeApiKey", [&](auto* cc) { return setup_->RevokeApiKey(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"key id", std::to_string(c_.id)}, {"revoked by", c_.actor}});
}

int Runner::ShowStatus() {
  v1::GetDeploymentReply d;
  if (!Call("GetDeployment",
            [&](auto* cc) { return setup_->GetDeployment(cc, v1::GetDeploymentRequest(), &d); }))
    return exit_;
  Fields f = {{"server", ctx_.global.server},
              {"server version", Short(d.server_version())},
              {"deployed", d.deployed() ? "yes" : "no (run ayni init CODE)"}};
  if (d.deployed()) {
    f.emplace_back("national currency",
                   d.national_code() + " (scale " + std::to_string(d.scale()) + ")");
    f.emplace_back("banks", std::to_string(d.bank_count()));
    f.emplace_back("currencies", std::to_string(d.currency_count()));
    f.emplace_back("circles", std::to_string(d.circle_count()));
    f.emplace_back("members", std::to_string(d.member_count()));
    f.emplace_back("accounts", std::to_string(d.account_count()));
    f.emplace_back("journal head", HeadText(d.head()));
    f.emplace_back("committed at", TimeText(d.head().timestamp_ns()));
  }
  return PrintRead(ToJson(d), RenderFields(f));
}

int Runner::CircleList() {
  if (!Banks()) return exit_;
  v1::ListCirclesRequest req;
  if (!c_.bank_code.empty()) {
    v1::Bank bank;
    if (!BankByCode(c_.bank_code, &bank)) return exit_;
    req.set_bank_id(bank.bank_id());
  }
  v1::ListCirclesReply rep;
  if (!Call("ListCircles", [&](auto* cc) { return setup_->ListCircles(cc, req, &rep); })) {
    return exit_;
  }
  Table t({"ID", "CODE", "NAME", "BANK", "CURRENCY_ID", "MEMBERS", "ADMINS"},
          {true, false, false, false, true, true, true});
  for (const auto& ci : rep.circles()) {
    t.AddRow({std::to_string(ci.circle_id()), ci.code(), ci.name(), BankCode(ci.bank_id()),
              std::to_string(ci.currency_id()), std::to_string(ci.member_count()),
              std::to_string(ci.admin_count())});
  }
  return PrintRead(ToJson(rep), Render(t));
}

int Runner::AccountStatement() {
  v1::StatementReply all;
  std::string page;
  do {
    v1::StatementRequest req;
    req.set_account_id(c_.id);
    req.set_page_size(1000);
    req.set_page_token(page);
    v1::StatementReply rep;
    if (!Call("Statement", [&](auto* cc) { return ledger_->Statement(cc, req, &rep); })) {
      return exit_;
    }
    *all.mutable_account() = rep.account();
    for (auto& e : *rep.mutable_entries()) *all.add_entries() = std::move(e);
    page = rep.next_page_token();
  } while (!page.empty());
  const v1::Account& a = all.account();
  const std::string& code = a.currency_code();
  Table t({"TIME", "BATCH", "CODE", "COUNTERPARTY", "AMOUNT", "BALANCE", "MEMO"},
          {false, true, false, true, true, true, false});
  for (const auto& e : all.entries()) {
    std::string kind = v1::TransferCode_Name(e.transfer().code());
    if (kind.rfind("TRANSFER_CODE_", 0) == 0) kind = kind.substr(14);
    t.AddRow({TimeText(e.transfer().timestamp_ns()), std::to_string(e.transfer().batch_sequence()),
              kind, std::to_string(e.counterparty_account_id()),
              FormatAmount(e.delta_minor(), a.scale(), ""),
              FormatAmount(e.balance_after_minor(), a.scale(), ""), e.transfer().memo()});
  }
  std::string human;
  if (!csv_) {
    human = "account " + std::to_string(a.account_id()) + ", balance " +
            FormatAmount(a.balance_minor(), a.scale(), code) + ", amounts in " + code + "\n\n";
  }
  human += Render(t);
  return PrintRead(ToJson(all), human);
}

// ---- Invoices and set-off ---------------------------------------------------------------

namespace {

std::string IdHex(const std::string& bytes) {
  return HexOf(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::string BytesOf(const RequestIdBytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string InvoiceStatusName(v1::InvoiceStatus s) {
  std::string n = v1::InvoiceStatus_Name(s);
  return n.rfind("INVOICE_STATUS_", 0) == 0 ? n.substr(15) : n;
}

// "−25%" style share of `part` in `whole`, rounded down; "-" for an empty whole.
std::string Percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "-";
  return std::to_string(static_cast<int64_t>(static_cast<Int128>(part) * 100 / whole)) + "%";
}

}  // namespace

bool Runner::CurrencyByCode(const std::string& code, v1::Currency* out) {
  if (!Currencies()) return false;
  for (const auto& cur : currencies_->currencies()) {
    if (cur.code() == code) {
      *out = cur;
      return true;
    }
  }
  NotFound("REASON_CURRENCY_NOT_FOUND", "no currency with code " + code);
  return false;
}

int Runner::InvoiceRegister() {
  v1::Currency cur;
  if (!CurrencyByCode(c_.currency_code, &cur)) return exit_;
  const auto amount = Amount(c_.amount, cur.scale(), AmountSign::kPositive, "AMOUNT", cur.code());
  if (!amount) return exit_;
  v1::RegisterInvoiceRequest req;
  req.set_request_id(RequestIdBytesString());
  if (c_.invoice_id) req.set_invoice_id(BytesOf(*c_.invoice_id));
  req.set_debtor_member_id(c_.id);
  req.set_creditor_member_id(c_.other_id);
  req.set_currency_id(cur.currency_id());
  req.set_amount_minor(*amount);
  req.set_due_day(c_.day.value_or(0));
  req.set_reference(c_.reference);
  v1::RegisterInvoiceReply rep;
  if (!Send("RegisterInvoice", [&](auto* cc) { return setoff_->RegisterInvoice(cc, req, &rep); }))
    return exit_;
  const v1::Invoice& inv = rep.invoice();
  return Finish(rep, {{"invoice", IdHex(inv.invoice_id())},
                      {"debtor", std::to_string(inv.debtor_member_id())},
                      {"creditor", std::to_string(inv.creditor_member_id())},
                      {"amount", FormatAmount(inv.amount_minor(), inv.scale(), inv.currency_code())},
                      {"due", FormatDay(inv.due_day())},
                      {"status", InvoiceStatusName(inv.status())}});
}

int Runner::InvoiceDecision(bool confirm) {
  if (confirm) {
    v1::ConfirmInvoiceRequest req;
    req.set_request_id(RequestIdBytesString());
    req.set_invoice_id(BytesOf(*c_.invoice_id));
    v1::ConfirmInvoiceReply rep;
    if (!Send("ConfirmInvoice", [&](auto* cc) { return setoff_->ConfirmInvoice(cc, req, &rep); }))
      return exit_;
    return Finish(rep, {{"invoice", IdHex(req.invoice_id())},
                        {"status", InvoiceStatusName(rep.invoice().status())}});
  }
  v1::DisputeInvoiceRequest req;
  req.set_request_id(RequestIdBytesString());
  req.set_invoice_id(BytesOf(*c_.invoice_id));
  req.set_reason(c_.reason);
  v1::DisputeInvoiceReply rep;
  if (!Send("DisputeInvoice", [&](auto* cc) { return setoff_->DisputeInvoice(cc, req, &rep); }))
    return exit_;
  return Finish(rep, {{"invoice", IdHex(req.invoice_id())},
                      {"status", InvoiceStatusName(rep.invoice().status())}});
}

int Runner::InvoiceList() {
  v1::ListInvoicesReply all;
  std::string token;
  do {
    v1::ListInvoicesRequest req;
    req.set_member_id(c_.member_filter);
    req.set_status(static_cast<v1::InvoiceStatus>(c_.invoice_status));
    req.set_open_only(c_.open_only);
    req.set_page_size(1000);
    req.set_page_token(token);
    v1::ListInvoicesReply rep;
    if (!Call("ListInvoices", [&](auto* cc) { return setoff_->ListInvoices(cc, req, &rep); })) {
      return exit_;
    }
    for (auto& inv : *rep.mutable_invoices()) *all.add_invoices() = std::move(inv);
    token = rep.next_page_token();
  } while (!token.empty());
  Table t({"INVOICE", "DEBTOR", "CREDITOR", "CURRENCY", "AMOUNT", "REMAINDER", "DUE", "STATUS",
           "REFERENCE"},
          {false, true, true, false, true, true, false, false, false});
  for (const auto& inv : all.invoices()) {
    t.AddRow({IdHex(inv.invoice_id()), std::to_string(inv.debtor_member_id()),
              std::to_string(inv.creditor_member_id()), inv.currency_code(),
              FormatAmount(inv.amount_minor(), inv.scale(), ""),
              FormatAmount(inv.remainder_minor(), inv.scale(), ""), FormatDay(inv.due_day()),
              InvoiceStatusName(inv.status()), inv.reference()});
  }
  return PrintRead(ToJson(all), Render(t));
}

Table Runner::NoticesTable(const v1::SetoffReport& r) {
  std::map<uint64_t, std::pair<std::string, int64_t>> cur;  // id → code, scale
  for (const auto& c : r.currencies()) cur[c.currency_id()] = {c.currency_code(), c.scale()};
  Table t({"INVOICE", "DEBTOR", "CREDITOR", "CURRENCY", "BEFORE", "SET OFF", "MUTUAL CREDIT",
           "REMAINDER"},
          {false, true, true, false, true, true, true, true});
  for (const auto& n : r.notices()) {
    const auto& [code, scale] = cur[n.currency_id()];
    t.AddRow({IdHex(n.invoice_id()), std::to_string(n.debtor_member_id()),
              std::to_string(n.creditor_member_id()), code,
              FormatAmount(n.before_minor(), scale, ""), FormatAmount(n.set_off_minor(), scale, ""),
              FormatAmount(n.mutual_credit_minor(), scale, ""),
              FormatAmount(n.remainder_minor(), scale, "")});
  }
  return t;
}

std::string Runner::SetoffText(const v1::SetoffReport& r) {
  std::string s = r.dry_run() ? "set-off DRY RUN (nothing written)"
                              : "set-off run " + std::to_string(r.number()) + " (" +
                                    IdHex(r.run_id()) + ", " + TimeText(r.timestamp_ns()) + ")";
  s += ": cut-off " + FormatDay(r.cutoff_day()) + ", " +
       (r.currency_id() == 0 ? std::string("every currency") : "currency #" +
                                                                   std::to_string(r.currency_id())) +
       ", mutual credit " + (r.use_mutual_credit() ? "yes" : "no") + ", " +
       std::to_string(r.notices_size()) + " invoice(s), " + std::to_string(r.payments()) +
       " mutual-credit payment(s)\n\n";
  Table t({"CURRENCY", "INVOICES", "GROSS", "SET OFF", "AFTER SET-OFF", "MUTUAL CREDIT",
           "REMAINING", "NET FLOOR"},
          {false, true, true, true, true, true, true, true});
  for (const auto& c : r.currencies()) {
    t.AddRow({c.currency_code(), std::to_string(c.invoices()),
              FormatAmount(c.gross_minor(), c.scale(), ""),
              FormatAmount(c.set_off_minor(), c.scale(), ""),
              FormatAmount(c.after_setoff_minor(), c.scale(), ""),
              FormatAmount(c.mutual_credit_minor(), c.scale(), ""),
              FormatAmount(c.remaining_minor(), c.scale(), ""),
              FormatAmount(c.net_balance_minor(), c.scale(), "")});
  }
  s += t.RenderText();
  for (const auto& c : r.currencies()) {
    s += "net internal debt " + c.currency_code() + ": before " +
         FormatAmount(c.gross_minor(), c.scale(), "") + ", after set-off " +
         FormatAmount(c.after_setoff_minor(), c.scale(), "") + " (-" +
         Percent(c.set_off_minor(), c.gross_minor()) + "), after mutual credit " +
         FormatAmount(c.remaining_minor(), c.scale(), "") + " (-" +
         Percent(c.gross_minor() - c.remaining_minor(), c.gross_minor()) + ")\n";
  }
  s += "\n" + NoticesTable(r).RenderText();
  if (!r.dry_run()) s += "journal head: " + HeadText(r.head()) + "\n";
  return s;
}

int Runner::SetoffRun() {
  v1::RunSetoffRequest req;
  if (!c_.currency_code.empty()) {
    v1::Currency cur;
    if (!CurrencyByCode(c_.currency_code, &cur)) return exit_;
    req.set_currency_id(cur.currency_id());
  }
  const uint64_t now_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  req.set_request_id(RequestIdBytesString());
  req.set_cutoff_day(c_.day.value_or(DayOfNs(now_ns)));
  req.set_use_mutual_credit(c_.mutual_credit);
  req.set_dry_run(c_.dry_run);
  v1::RunSetoffReply rep;
  if (!Send("RunSetoff", [&](auto* cc) { return setoff_->RunSetoff(cc, req, &rep); }))
    return exit_;
  const bool ok = ExitCodeForReason(static_cast<int>(rep.reason())) == kExitOk;
  if (csv_ && ok) {
    exit_ = kExitOk;
    Out() << NoticesTable(rep.report()).RenderCsv();
    return exit_;
  }
  if (!json_ && ok) Out() << SetoffText(rep.report()) << '\n';
  if (c_.dry_run) return Finish(rep, {{"dry run", "yes: nothing was written"}});
  return Finish(rep, {{"run", std::to_string(rep.report().number())}});
}

int Runner::SetoffShow() {
  v1::GetSetoffRunRequest req;
  if (c_.run_id) {
    req.set_run_id(BytesOf(*c_.run_id));
  } else if (c_.run_number) {
    req.set_number(*c_.run_number);
  } else {
    req.set_latest(true);
  }
  v1::GetSetoffRunReply rep;
  if (!Call("GetSetoffRun", [&](auto* cc) { return setoff_->GetSetoffRun(cc, req, &rep); })) {
    return exit_;
  }
  if (csv_) return PrintRead(ToJson(rep), NoticesTable(rep.report()).RenderCsv());
  return PrintRead(ToJson(rep), SetoffText(rep.report()));
}

int Runner::Run() {
  switch (c_.verb) {
    case Verb::kInit:
      return Init();
    case Verb::kBankCreate:
      return BankCreate();
    case Verb::kBankList:
      return BankList();
    case Verb::kCurrencyCreate:
      return CurrencyCreate();
    case Verb::kCurrencyList:
      return CurrencyList();
    case Verb::kCircleCreate:
      return CircleCreate();
    case Verb::kCircleAddMember:
      return CircleAddMember();
    case Verb::kMemberCreate:
      return MemberCreate();
    case Verb::kAccountOpen:
      return AccountOpen();
    case Verb::kAccountShow:
      return AccountShow();
    case Verb::kAccountList:
      return AccountList();
    case Verb::kAccountFreeze:
      return AccountStatus(v1::ACCOUNT_STATUS_FROZEN);
    case Verb::kAccountUnfreeze:
      return AccountStatus(v1::ACCOUNT_STATUS_ACTIVE);
    case Verb::kAccountClose:
      return AccountStatus(v1::ACCOUNT_STATUS_CLOSED);
    case Verb::kAccountLimits:
      return AccountLimits();
    case Verb::kIssue:
    case Verb::kRedeem:
    case Verb::kDistribute:
      return AccountAmount();
    case Verb::kPay:
      return Pay();
    case Verb::kFundReserve:
      return FundReserve();
    case Verb::kCoverage:
      return Coverage();
    case Verb::kClearingRun:
      return ClearingRun();
    case Verb::kClearingShow:
      return ClearingShow();
    case Verb::kClearingList:
      return ClearingList();
    case Verb::kAuditReserves:
      return AuditReserves();
    case Verb::kAuditJournal:
      return AuditJournal();
    case Verb::kKeyCreate:
      return KeyCreate();
    case Verb::kKeyList:
      return KeyList();
    case Verb::kKeyRevoke:
      return KeyRevoke();
    case Verb::kStatus:
      return ShowStatus();
    case Verb::kCircleList:
      return CircleList();
    case Verb::kAccountStatement:
      return AccountStatement();
    case Verb::kInvoiceRegister:
      return InvoiceRegister();
    case Verb::kInvoiceConfirm:
      return InvoiceDecision(true);
    case Verb::kInvoiceDispute:
      return InvoiceDecision(false);
    case Verb::kInvoiceList:
      return InvoiceList();
    case Verb::kSetoffRun:
      return SetoffRun();
    case Verb::kSetoffShow:
      return SetoffShow();
    case Verb::kLoanProductCreate:
    case Verb::kLoanProductList:
    case Verb::kLoanGroupCreate:
    case Verb::kLoanDisburse:
    case Verb::kLoanRepay:
    case Verb::kLoanWriteOff:
    case Verb::kLoanShow:
    case Verb::kLoanList:
    case Verb::kLoanPortfolio:
      return RunLoanCommand(c_, ctx_);
    case Verb::kKioskRegister:
    case Verb::kCardBlock:
    case Verb::kCardShow:
    case Verb::kCardDenyList:
    case Verb::kAuditCards:
      return RunCardCommand(c_, ctx_);
  }
  return Fail(kExitUsage, "unknown command");
}

}  // namespace

int RunCommand(const Command& command, RunContext& ctx) {
  AYNI_CHECK(ctx.out != nullptr && ctx.err != nullptr && ctx.channel != nullptr);
  Runner r(command, ctx);
  return r.Run();
}

}  // namespace ayni::cli
