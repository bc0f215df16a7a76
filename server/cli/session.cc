#include "server/cli/session.h"

#include <google/protobuf/util/json_util.h>
#include <sodium.h>

#include <chrono>
#include <ctime>

namespace ayni::cli {

std::string ToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  o.preserve_proto_field_names = true;
  std::string s;
  if (!google::protobuf::util::MessageToJsonString(m, &s, o).ok()) return "null";
  return s;
}

std::string ReasonName(int n) {
  const std::string& s = v1::Reason_Name(static_cast<v1::Reason>(n));
  return s.empty() ? "REASON_" + std::to_string(n) : s;
}

namespace {

std::string FormatTime(uint64_t ns, const char* format) {
  if (ns == 0) return "-";
  const time_t secs = static_cast<time_t>(ns / 1000000000u);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string DateText(uint64_t ns) { return FormatTime(ns, "%Y-%m-%d"); }
std::string TimeText(uint64_t ns) { return FormatTime(ns, "%Y-%m-%dT%H:%M:%SZ"); }

Session::Session(const Command& c, RunContext& ctx)
    : c_(c),
      ctx_(ctx),
      json_(ctx.global.format == OutputFormat::kJson),
      csv_(ctx.global.format == OutputFormat::kCsv),
      setup_(v1::SetupService::NewStub(ctx.channel)) {}

std::unique_ptr<grpc::ClientContext> Session::Context() {
  auto cc = std::make_unique<grpc::ClientContext>();
  cc->AddMetadata("authorization", "Bearer " + ctx_.token);
  cc->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(ctx_.global.timeout_s));
  return cc;
}

void Session::TransportError(const char* rpc, const grpc::Status& s) {
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

int Session::Fail(int code, const std::string& message) {
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

int Session::NotFound(const std::string& reason, const std::string& detail) {
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

std::string Session::RequestIdBytesString() {
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

int Session::PrintRead(const std::string& reply_json, const std::string& human) {
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

bool Session::Deployment() {
  if (deployment_) return true;
  v1::GetDeploymentReply rep;
  if (!Call("GetDeployment",
            [&](auto* cc) { return setup_->GetDeployment(cc, v1::GetDeploymentRequest(), &rep); }))
    return false;
  if (!rep.deployed()) {
    NotFound("REASON_NO_DEPLOYMENT", "run `ayni init CODE` first");
    return false;
  }
  deployment_ = rep;
  return true;
}

bool Session::Banks() {
  if (banks_) return true;
  v1::ListBanksReply rep;
  if (!Call("ListBanks",
            [&](auto* cc) { return setup_->ListBanks(cc, v1::ListBanksRequest(), &rep); }))
    return false;
  banks_ = rep;
  return true;
}

bool Session::BanksNamed(const std::string& code, std::vector<v1::Bank>* out) {
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

std::string Session::BankCode(uint64_t id) {
  if (banks_) {
    for (const auto& b : banks_->banks()) {
      if (b.bank_id() == id) return b.code();
    }
  }
  return "#" + std::to_string(id);
}

}  // namespace ayni::cli
