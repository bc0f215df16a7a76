// The plumbing shared by the command families that live outside runner.cc (loans_cli.cc,
// cards_cli.cc): one command's gRPC calls with the key and deadline, transport errors and
// refusals printed the same way as runner.cc does (or as one JSON object), the request id
// of a state-changing command, and the deployment and banks read once per command.
// A Session serves one command; not thread-safe (writes to the context's streams).
#pragma once

#include <grpcpp/client_context.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ayni/v1/setup.grpc.pb.h"
#include "proto/client/output.h"
#include "server/cli/args.h"
#include "server/cli/runner.h"

namespace google::protobuf {
class Message;
}

namespace ayni::cli {

using Fields = std::vector<std::pair<std::string, std::string>>;

// A protobuf message as proto3 JSON with field names as in the .proto ("null" if it fails).
std::string ToJson(const google::protobuf::Message& m);
// "REASON_OK", … for a Reason number.
std::string ReasonName(int n);
// "2026-11-23" and "2026-11-23T19:05:34Z" for nanoseconds since the epoch; "-" for 0.
std::string DateText(uint64_t ns);
std::string TimeText(uint64_t ns);

class Session {
 protected:
  Session(const Command& c, RunContext& ctx);

  std::ostream& Out() { return *ctx_.out; }
  std::ostream& Err() { return *ctx_.err; }

  std::unique_ptr<grpc::ClientContext> Context();

  // A read: false (after printing the error) on a gRPC error.
  template <typename Fn>
  bool Call(const char* rpc, Fn fn) {
    auto cc = Context();
    grpc::Status s = fn(cc.get());
    if (s.ok()) return true;
    TransportError(rpc, s);
    return false;
  }

  // A change: as Call, and a failure says whether the outcome is unknown.
  template <typename Fn>
  bool Send(const char* rpc, Fn fn) {
    sent_ = true;
    return Call(rpc, fn);
  }

  void TransportError(const char* rpc, const grpc::Status& s);
  int Fail(int code, const std::string& message);
  // A name the server does not know (a bank code): exit 2 with a reason.
  int NotFound(const std::string& reason, const std::string& detail);
  // --request-id, else a fresh random one; the same for the rest of the command.
  std::string RequestIdBytesString();

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

  // A read's output: `human` as text or CSV, or {"command", "exit_code", "reply"} in JSON.
  int PrintRead(const std::string& reply_json, const std::string& human);
  std::string Render(const Table& t) { return csv_ ? t.RenderCsv() : t.RenderText(); }

  bool Deployment();
  int64_t Scale() const { return deployment_ ? deployment_->scale() : 100; }
  bool Banks();
  // The banks a command is about: the one named, else every bank.
  bool BanksNamed(const std::string& code, std::vector<v1::Bank>* out);
  std::string BankCode(uint64_t id);

  const Command& c_;
  RunContext& ctx_;
  const bool json_;
  const bool csv_;
  std::unique_ptr<v1::SetupService::Stub> setup_;
  std::optional<RequestIdBytes> rid_;
  bool sent_ = false;
  int exit_ = kExitOk;
  std::optional<v1::GetDeploymentReply> deployment_;
  std::optional<v1::ListBanksReply> banks_;
};

}  // namespace ayni::cli
