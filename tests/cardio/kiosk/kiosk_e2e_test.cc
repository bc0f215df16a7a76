// ayni-kiosk's library against a real aynid on a real PostgreSQL (SPEC §5): the kiosk's
// gRPC edge (grpc_card_server.cc), its offline checks and receipt log, the server's
// verification of the card-signed load request and of the kiosk's batch signature. The
// card is cardio's applet in-process (the bytes a reader would carry; tests/cardio's
// pcsc test covers the reader itself). Issue at the bank desk (TELLER key), a kiosk load
// (KIOSK key + the card's signature), offline payments, a card pulled after DEBIT,
// upload with a lost reply (re-uploaded as DUPLICATE), the deny-list and the card audit.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "ayni/v1/cards.grpc.pb.h"
#include "cardio/applet.h"
#include "cardio/kiosk/grpc_card_server.h"
#include "cardio/kiosk/kiosk.h"
#include "cardio/purse_client.h"
#include "tests/cardio/kiosk/kiosk_test_support.h"
#include "tests/server/service/aynid_harness.h"

namespace {

using namespace ayni;
using namespace ayni::test_support;
using cardio::kiosk::CardServer;
using cardio::kiosk::Kiosk;
using cardio::kiosk::Outcome;

uint64_t NowS() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

template <typename T>
std::string Str(const T& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

std::string Field(const Outcome& o, const std::string& key) {
  for (const auto& [k, v] : o.fields) {
    if (k == key) return v;
  }
  return "(no field " + key + ")";
}

// The real server, whose answer to one upload is lost after the server committed it: a
// kiosk crash between upload and marking, as the kiosk sees it.
class LosingServer final : public CardServer {
 public:
  explicit LosingServer(CardServer& real) : real_(real) {}
  Result<cardio::kiosk::RegisterCardAnswer> RegisterCard(
      const cardio::kiosk::RegisterCardCall& c) override {
    return real_.RegisterCard(c);
  }
  Result<cardio::kiosk::AuthorizeLoadAnswer> AuthorizeLoad(
      const cardio::kiosk::AuthorizeLoadCall& c) override {
    return real_.AuthorizeLoad(c);
  }
  Result<cardio::kiosk::BatchAnswer> SubmitOfflineBatch(
      const cardio::kiosk::BatchCall& c) override {
    Result<cardio::kiosk::BatchAnswer> a = real_.SubmitOfflineBatch(c);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return Status::Unavailable("SubmitOfflineBatch: UNAVAILABLE: the answer was lost");
  }
  Result<cardio::kiosk::DenyList> GetDenyList() override { return real_.GetDenyList(); }

 private:
  CardServer& real_;
};

class KioskE2eTest : public AynidFixture {
 protected:
  void TearDown() override {
    kiosk_.reset();
    server_.reset();
    ::unlink(clearing_key_.c_str());
    AynidFixture::TearDown();
  }

  std::string NewKey(v1::Role role, v1::ScopeKind kind, uint64_t id) {
    v1::CreateApiKeyRequest q;
    q.set_request_id(NewId());
    q.set_role(role);
    q.mutable_scope()->set_kind(kind);
    q.mutable_scope()->set_id(id);
    q.set_label("kiosk e2e");
    v1::CreateApiKeyReply rep;
    const grpc::Status s = RPC(*admin_, setup, CreateApiKey, q, rep);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return rep.token();
  }

  std::unique_ptr<CardServer> Service(const std::string& token) {
    return cardio::kiosk::MakeGrpcCardServer(
        grpc::CreateChannel(addr_, grpc::InsecureChannelCredentials()), token, 30);
  }

  std::string clearing_key_;
  std::unique_ptr<Aynid> server_;
  std::string addr_;
  std::unique_ptr<Client> admin_;
  cardio::kiosk::testing::TempDir dir_;
  std::unique_ptr<Kiosk> kiosk_;
};

TEST_F(KioskE2eTest, IssueLoadPayRecoverSyncAndDenyList) {
  clearing_key_ = dir_.file("clearing.key");
  server_ = std::make_unique<Aynid>(dsn_, key_file_,
                                    std::vector<std::string>{"--clearing-key-file", clearing_key_});
  addr_ = server_->WaitListening();
  ASSERT_FALSE(addr_.empty());
  admin_ = std::make_unique<Client>(addr_, ReadKey());
  const SmallNetwork net = BuildNetwork(*admin_, 1, 100000);
  const uint64_t member = net.a[0];

  // The merchant and its kiosk, registered by the bank with the kiosk's own key.
  v1::CreateMemberRequest m;
  m.set_request_id(NewId());
  m.set_bank_id(net.bank_a);
  m.set_name("feira");
  v1::CreateMemberReply mr;
  AYNI_EXPECT_OK(RPC(*admin_, setup, CreateMember, m, mr));
  v1::OpenAccountRequest o;
  o.set_request_id(NewId());
  o.set_member_id(mr.member_id());
  o.set_currency_id(net.cur_a);
  o.set_kind(v1::ACCOUNT_KIND_MERCHANT);
  v1::OpenAccountReply orep;
  AYNI_EXPECT_OK(RPC(*admin_, setup, OpenAccount, o, orep));
  const uint64_t merchant = orep.account_id();

  const std::string kiosk_dir = dir_.file("kiosk");
  cardio::SeededRandom kiosk_random(5);
  Result<cardio::KeyPair> kiosk_key = cardio::kiosk::CreateKioskKey(kiosk_dir, kiosk_random);
  ASSERT_TRUE(kiosk_key.ok()) << kiosk_key.status().ToString();
  const TerminalId terminal = TerminalId::FromParts(0x7e00, 1);
  const std::string teller_token = NewKey(v1::ROLE_TELLER, v1::SCOPE_KIND_BANK, net.bank_a);
  auto cards =
      v1::CardService::NewStub(grpc::CreateChannel(addr_, grpc::InsecureChannelCredentials()));
  uint64_t kiosk_id = 0;
  {
    v1::RegisterKioskRequest q;
    q.set_request_id(NewId());
    q.set_terminal_id(Str(terminal.bytes()));
    q.set_public_key(Str(kiosk_key->public_key));
    q.set_merchant_account_id(merchant);
    q.set_label("banca 1");
    grpc::ClientContext cc;
    cc.AddMetadata("authorization", "Bearer " + teller_token);
    v1::RegisterKioskReply rep;
    AYNI_EXPECT_OK(cards->RegisterKiosk(&cc, q, &rep));
    ASSERT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
    kiosk_id = rep.kiosk_id();
  }
  std::unique_ptr<CardServer> desk = Service(teller_token);
  std::unique_ptr<CardServer> online =
      Service(NewKey(v1::ROLE_KIOSK, v1::SCOPE_KIND_TERMINAL, kiosk_id));

  cardio::kiosk::KioskIdentity id;
  id.terminal_id = terminal;
  id.kiosk_id = kiosk_id;
  id.merchant_account = merchant;
  auto open = [&] {
    kiosk_.reset();
    Result<std::unique_ptr<Kiosk>> k = Kiosk::Open(kiosk_dir, id, *kiosk_key, kiosk_random);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    kiosk_ = std::move(k).value();
  };
  open();

  // ---- The bank desk issues a blank card for the member.
  cardio::SeededRandom card_random(9);
  cardio::PurseApplet applet(card_random);
  cardio::kiosk::testing::PullableChannel channel(applet);
  cardio::PurseClient card(channel);
  const uint64_t now = NowS();
  cardio::kiosk::IssueTerms terms;
  terms.card_id = CardId::FromParts(0xCA4D, 1);
  terms.account_id = member;
  terms.limits = {Amount(5000), Amount(20000), 10, Amount(100000)};
  terms.expiry_s = now + 365 * 86400;
  Result<Outcome> issued = kiosk_->Issue(card, *desk, terms);
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  ASSERT_FALSE(issued->refused) << issued->message;
  ASSERT_EQ(applet.state().lifecycle, cardio::Lifecycle::kIssued);

  // ---- Offline sales need a sync first; the sync brings the banks' keys.
  Result<Outcome> early = kiosk_->Pay(card, Amount(100), now);
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->refused);
  Result<Outcome> first_sync = kiosk_->Sync(*online, now);
  ASSERT_TRUE(first_sync.ok()) << first_sync.status().ToString();
  EXPECT_EQ(kiosk_->state().bank_keys.size(), 2u);

  // ---- A kiosk load: the card signs the request, the KIOSK key alone could not.
  Result<Outcome> load = kiosk_->Load(card, *online, Amount(5000), {}, now);
  ASSERT_TRUE(load.ok()) << load.status().ToString();
  ASSERT_FALSE(load->refused) << load->message;
  EXPECT_EQ(applet.state().balance, Amount(5000));
  EXPECT_EQ(BalanceOf(*admin_, member), 100000 - 5000);

  // ---- Offline payments, one with the card pulled after DEBIT, recovered.
  for (int64_t amount : {1250, 250}) {
    Result<Outcome> paid = kiosk_->Pay(card, Amount(amount), now);
    ASSERT_TRUE(paid.ok()) << paid.status().ToString();
    ASSERT_FALSE(paid->refused) << paid->message;
  }
  channel.PullAt(cardio::kInsDebit, /*after_execution=*/true);
  ASSERT_EQ(kiosk_->Pay(card, Amount(500), now).status().code(), StatusCode::kUnavailable);
  open();  // a restart before the card comes back
  Result<Outcome> recovered = kiosk_->Recover(card, now);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  ASSERT_EQ(recovered->notes.size(), 1u);
  EXPECT_NE(recovered->notes[0].find("went through"), std::string::npos);
  EXPECT_EQ(kiosk_->receipts().Unsent().size(), 4u);  // the load record and three debits

  // ---- Upload: the answer is lost once; the re-upload is DUPLICATE; each settles once.
  LosingServer losing(*online);
  ASSERT_FALSE(kiosk_->Sync(losing, now).ok());
  EXPECT_EQ(kiosk_->receipts().Unsent().size(), 4u);
  EXPECT_EQ(BalanceOf(*admin_, merchant), 1250 + 250 + 500);
  Result<Outcome> sync = kiosk_->Sync(*online, now);
  ASSERT_TRUE(sync.ok()) << sync.status().ToString();
  EXPECT_EQ(Field(*sync, "duplicates"), "4");
  EXPECT_EQ(Field(*sync, "rejected"), "0");
  EXPECT_TRUE(kiosk_->receipts().Unsent().empty());
  EXPECT_EQ(BalanceOf(*admin_, merchant), 1250 + 250 + 500);
  EXPECT_EQ(BalanceOf(*admin_, member), 100000 - 5000);

  // ---- A fresh receipt settles (not a duplicate).
  ASSERT_FALSE(kiosk_->Pay(card, Amount(100), now)->refused);
  Result<Outcome> sync2 = kiosk_->Sync(*online, now);
  ASSERT_TRUE(sync2.ok());
  EXPECT_EQ(Field(*sync2, "settled"), "1");
  EXPECT_EQ(BalanceOf(*admin_, merchant), 2100);

  // ---- The card audit agrees: float = shadow balances + pending loads.
  {
    grpc::ClientContext cc;
    cc.AddMetadata("authorization", "Bearer " + ReadKey());
    v1::CardAuditReply audit;
    AYNI_EXPECT_OK(cards->CardAudit(&cc, v1::CardAuditRequest(), &audit));
    EXPECT_TRUE(audit.ok());
    for (const v1::CardFloatRow& r : audit.currencies()) {
      if (r.currency_id() == net.cur_a) {
        EXPECT_EQ(r.card_float_minor(), 5000 - 2100);
      }
    }
  }

  // ---- Blocked by the bank: after the next sync the kiosk refuses the card offline.
  {
    v1::BlockCardRequest q;
    q.set_request_id(NewId());
    q.set_card_id(Str(terms.card_id->bytes()));
    q.set_actor("teller bia");
    q.set_reason("lost at the market");
    grpc::ClientContext cc;
    cc.AddMetadata("authorization", "Bearer " + teller_token);
    v1::BlockCardReply rep;
    AYNI_EXPECT_OK(cards->BlockCard(&cc, q, &rep));
    ASSERT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
  }
  ASSERT_TRUE(kiosk_->Sync(*online, now).ok());
  Result<Outcome> blocked = kiosk_->Pay(card, Amount(100), now);
  ASSERT_TRUE(blocked.ok());
  EXPECT_TRUE(blocked->refused);
  EXPECT_NE(blocked->message.find("deny-list"), std::string::npos) << blocked->message;

  // ---- The ayni-kiosk binary on the same directory: kiosk.conf, the API key file, the
  // channel, sync and status as JSON (no card needed).
  kiosk_.reset();  // releases the directory lock
  const std::string key_path = dir_.file("kiosk-api.key");
  {
    std::ofstream key(key_path);
    key << NewKey(v1::ROLE_KIOSK, v1::SCOPE_KIND_TERMINAL, kiosk_id) << "\n";
    std::ofstream conf(cardio::kiosk::ConfigPath(kiosk_dir));
    conf << "terminal_id = " << terminal.ToHex() << "\nkiosk_id = " << kiosk_id
         << "\nserver = " << addr_ << "\napi_key_file = " << key_path << "\n";
  }
  auto run = [&](const std::string& args, std::string* out) {
    FILE* f =
        ::popen((std::string(AYNI_KIOSK_PATH) + " --dir " + kiosk_dir + " --json " + args + " 2>&1")
                    .c_str(),
                "r");
    if (f == nullptr) return -1;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out->append(buf, n);
    const int status = ::pclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  std::string out;
  EXPECT_EQ(run("sync", &out), 0) << out;
  EXPECT_NE(out.find("\"command\":\"sync\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"deny-list\":\"1 card(s)\""), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(run("status", &out), 0) << out;
  EXPECT_NE(out.find("\"receipts unsent\":\"0\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"kiosk id\":\"" + std::to_string(kiosk_id) + "\""), std::string::npos)
      << out;
}

}  // namespace
