#include "cardio/kiosk/grpc_card_server.h"

#include <grpcpp/client_context.h>

#include <chrono>
#include <utility>

#include "ayni/v1/cards.grpc.pb.h"
#include "proto/client/output.h"

namespace ayni::cardio::kiosk {

namespace {

template <typename Span>
std::string Str(const Span& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}
Bytes BytesOf(const std::string& s) { return Bytes(s.begin(), s.end()); }

// "" for OK/EXISTS, else "REASON_…: detail".
template <typename Reply>
std::string Refusal(const Reply& r) {
  if (r.reason() == v1::REASON_OK || r.reason() == v1::REASON_EXISTS) return "";
  std::string name = v1::Reason_Name(r.reason());
  if (name.empty()) name = "REASON_" + std::to_string(static_cast<int>(r.reason()));
  return r.detail().empty() ? name : name + ": " + r.detail();
}

class GrpcCardServer final : public CardServer {
 public:
  GrpcCardServer(std::shared_ptr<grpc::ChannelInterface> channel, std::string key, int timeout_s)
      : service_(v1::CardService::NewStub(channel)), key_(std::move(key)), timeout_s_(timeout_s) {}

  Result<RegisterCardAnswer> RegisterCard(const RegisterCardCall& c) override {
    v1::RegisterCardRequest req;
    req.set_request_id(Str(c.request_id));
    req.set_card_id(Str(c.card_id.bytes()));
    req.set_public_key(Str(c.public_key));
    req.set_account_id(c.account_id);
    v1::CardLimits* l = req.mutable_limits();
    l->set_payment_max_minor(c.limits.payment_max.minor());
    l->set_offline_amount_max_minor(c.limits.offline_amount_max.minor());
    l->set_offline_count_max(c.limits.offline_count_max);
    l->set_balance_max_minor(c.limits.balance_max.minor());
    req.set_expiry_s(c.expiry_s);
    v1::RegisterCardReply rep;
    if (Status st =
            Call("RegisterCard", [&](auto* cc) { return service_->RegisterCard(cc, req, &rep); });
        !st.ok()) {
      return st;
    }
    return RegisterCardAnswer{Refusal(rep), BytesOf(rep.certificate()),
                              BytesOf(rep.bank_public_key())};
  }

  Result<AuthorizeLoadAnswer> AuthorizeLoad(const AuthorizeLoadCall& c) override {
    v1::AuthorizeLoadRequest req;
    req.set_request_id(Str(c.load_id.bytes()));
    req.set_card_id(Str(c.card_id.bytes()));
    req.set_amount_minor(c.amount.minor());
    req.set_counter(c.counter);
    req.set_challenge(Str(c.challenge));
    req.set_card_signature(Str(c.card_signature));
    if (c.offline_amount_cap) req.set_offline_amount_cap_minor(c.offline_amount_cap->minor());
    if (c.offline_count_cap) req.set_offline_count_cap(*c.offline_count_cap);
    v1::AuthorizeLoadReply rep;
    if (Status st =
            Call("AuthorizeLoad", [&](auto* cc) { return service_->AuthorizeLoad(cc, req, &rep); });
        !st.ok()) {
      return st;
    }
    return AuthorizeLoadAnswer{Refusal(rep), BytesOf(rep.load_token())};
  }

  Result<BatchAnswer> SubmitOfflineBatch(const BatchCall& c) override {
    v1::SubmitOfflineBatchRequest req;
    req.set_terminal_id(Str(c.terminal_id.bytes()));
    req.set_batch_sequence(c.batch_sequence);
    for (const Bytes& r : c.records) req.add_records(Str(r));
    req.set_kiosk_signature(Str(c.kiosk_signature));
    v1::SubmitOfflineBatchReply rep;
    if (Status st = Call("SubmitOfflineBatch",
                         [&](auto* cc) { return service_->SubmitOfflineBatch(cc, req, &rep); });
        !st.ok()) {
      return st;
    }
    BatchAnswer a;
    for (const v1::ReceiptResult& r : rep.results()) {
      const int status = static_cast<int>(r.status());
      a.results.push_back({r.index(),
                           status >= 0 && status <= 4 ? static_cast<ReceiptVerdict>(status)
                                                      : ReceiptVerdict::kUnspecified,
                           static_cast<uint8_t>(r.reject())});
    }
    a.settled = rep.settled();
    a.loads_confirmed = rep.loads_confirmed();
    a.duplicates = rep.duplicates();
    a.rejected = rep.rejected();
    return a;
  }

  Result<DenyList> GetDenyList() override {
    v1::GetDenyListReply rep;
    if (Status st = Call(
            "GetDenyList",
            [&](auto* cc) { return service_->GetDenyList(cc, v1::GetDenyListRequest(), &rep); });
        !st.ok()) {
      return st;
    }
    DenyList d;
    d.server_ns = rep.timestamp_ns();
    for (const std::string& id : rep.blocked_card_ids()) {
      if (id.size() != 16) return Status::DataLoss("GetDenyList: a card id is not 16 bytes");
      CardId::Bytes b{};
      std::copy(id.begin(), id.end(), b.begin());
      d.blocked_cards.push_back(CardId(b));
    }
    for (const v1::BankKey& k : rep.bank_keys()) {
      if (k.public_key().size() != 32) {
        return Status::DataLoss("GetDenyList: a bank key is not 32 bytes");
      }
      BankKeyEntry e;
      e.bank_id = k.bank_id();
      std::copy(k.public_key().begin(), k.public_key().end(), e.public_key.begin());
      d.bank_keys.push_back(e);
    }
    return d;
  }

 private:
  template <typename Fn>
  Status Call(const char* rpc, Fn fn) {
    grpc::ClientContext cc;
    cc.AddMetadata("authorization", "Bearer " + key_);
    cc.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_s_));
    const grpc::Status s = fn(&cc);
    if (s.ok()) return Status::Ok();
    std::string m = std::string(rpc) + ": " + cli::GrpcCodeName(static_cast<int>(s.error_code()));
    if (!s.error_message().empty()) m += ": " + s.error_message();
    return Status::Unavailable(m);
  }

  std::unique_ptr<v1::CardService::Stub> service_;
  std::string key_;
  int timeout_s_;
};

}  // namespace

std::unique_ptr<CardServer> MakeGrpcCardServer(std::shared_ptr<grpc::ChannelInterface> channel,
                                               std::string api_key, int timeout_s) {
  return std::make_unique<GrpcCardServer>(std::move(channel), std::move(api_key), timeout_s);
}

}  // namespace ayni::cardio::kiosk
