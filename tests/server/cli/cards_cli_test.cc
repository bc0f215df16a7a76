// The card and kiosk commands (cards_cli.cc) against a fake CardService in this process
// (no database): the bytes each command sends, what it prints as a table, CSV and JSON,
// and its exit code — in particular that `audit cards` exits 1 on an inconsistent card
// float only, and 0 with FINDING lines for clones and gaps. The real server is driven by
// cli_cards_test.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <mutex>
#include <sstream>

#include "ayni/v1/cards.grpc.pb.h"
#include "ayni/v1/setup.grpc.pb.h"
#include "proto/client/output.h"
#include "server/cli/runner.h"

namespace ayni::cli {
namespace {

namespace v1 = ::ayni::v1;
constexpr char kToken[] = "ayni_00000000000000aa_SECRETSECRETSECRETSECRETSECRETSECRETSECRET";
constexpr char kCardHex[] = "00112233445566778899aabbccddeeff";

std::string Bytes(const std::string& hex) {
  std::string s;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    s += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return s;
}

class FakeSetup final : public v1::SetupService::Service {
 public:
  grpc::Status GetDeployment(grpc::ServerContext*, const v1::GetDeploymentRequest*,
                             v1::GetDeploymentReply* rep) override {
    rep->set_deployed(true);
    rep->set_national_code("BRL");
    rep->set_scale(100);
    return grpc::Status::OK;
  }
  grpc::Status ListBanks(grpc::ServerContext*, const v1::ListBanksRequest*,
                         v1::ListBanksReply* rep) override {
    auto* a = rep->add_banks();
    a->set_bank_id(1);
    a->set_code("PALMAS");
    return grpc::Status::OK;
  }
  grpc::Status ListCurrencies(grpc::ServerContext*, const v1::ListCurrenciesRequest*,
                              v1::ListCurrenciesReply* rep) override {
    auto* p = rep->add_currencies();
    p->set_currency_id(2);
    p->set_code("PALMA");
    p->set_scale(100);
    return grpc::Status::OK;
  }
};

v1::Card MakeCard(v1::CardBlockReason reason) {
  v1::Card c;
  c.set_card_id(Bytes(kCardHex));
  c.set_account_id(5);
  c.set_currency_id(2);
  c.set_bank_id(1);
  c.mutable_limits()->set_payment_max_minor(2000);
  c.mutable_limits()->set_offline_amount_max_minor(5000);
  c.mutable_limits()->set_offline_count_max(10);
  c.mutable_limits()->set_balance_max_minor(10000);
  c.set_expiry_s(1893456000);  // 2030-01-01
  c.set_shadow_balance_minor(725);
  c.set_max_counter(9);
  c.set_records(7);
  c.set_missing_counters(2);
  if (reason != v1::CARD_BLOCK_REASON_NONE) {
    c.set_blocked(true);
    c.set_block_reason(reason);
    c.set_block_detail("counter 4 twice");
    c.add_evidence(std::string("\x01\x01") + std::string(208, '\x07'));
    c.add_evidence(std::string("\x01\x01") + std::string(208, '\x08'));
  }
  auto* l = c.add_loads();
  l->set_load_id(Bytes("ffeeddccbbaa99887766554433221100"));
  l->set_amount_minor(1000);
  l->set_counter(3);
  l->set_state("applied");
  return c;
}

class FakeCards final : public v1::CardService::Service {
 public:
  grpc::Status RegisterKiosk(grpc::ServerContext*, const v1::RegisterKioskRequest* req,
                             v1::RegisterKioskReply* rep) override {
    std::lock_guard<std::mutex> l(mu);
    kiosk = *req;
    rpcs.push_back("RegisterKiosk");
    rep->set_reason(req->label() == "dup" ? v1::REASON_KIOSK_EXISTS : v1::REASON_OK);
    rep->set_kiosk_id(req->label() == "dup" ? 0 : 4);
    return grpc::Status::OK;
  }
  grpc::Status BlockCard(grpc::ServerContext*, const v1::BlockCardRequest* req,
                         v1::BlockCardReply* rep) override {
    std::lock_guard<std::mutex> l(mu);
    block = *req;
    rpcs.push_back("BlockCard");
    rep->set_reason(v1::REASON_OK);
    return grpc::Status::OK;
  }
  grpc::Status GetCard(grpc::ServerContext*, const v1::GetCardRequest* req,
                       v1::GetCardReply* rep) override {
    if (req->card_id() != Bytes(kCardHex)) return {grpc::StatusCode::NOT_FOUND, "no such card"};
    *rep->mutable_card() = MakeCard(v1::CARD_BLOCK_REASON_COUNTER_CONFLICT);
    return grpc::Status::OK;
  }
  grpc::Status GetDenyList(grpc::ServerContext*, const v1::GetDenyListRequest*,
                           v1::GetDenyListReply* rep) override {
    rep->add_blocked_card_ids(Bytes(kCardHex));
    auto* k = rep->add_bank_keys();
    k->set_bank_id(1);
    k->set_public_key(std::string(32, '\x11'));
    return grpc::Status::OK;
  }
  grpc::Status CardAudit(grpc::ServerContext*, const v1::CardAuditRequest* req,
                         v1::CardAuditReply* rep) override {
    std::lock_guard<std::mutex> l(mu);
    audit_bank = req->bank_id();
    rpcs.push_back("CardAudit");
    rep->set_journal_sequence(12);
    rep->set_cards(3);
    rep->set_kiosks(1);
    auto* r = rep->add_currencies();
    r->set_bank_id(1);
    r->set_currency_id(2);
    r->set_currency_code("PALMA");
    r->set_card_float_minor(1250);
    r->set_shadow_total_minor(inconsistent ? 1000 : 1150);
    r->set_pending_loads_minor(100);
    r->set_card_losses_minor(-300);
    r->set_suspense_minor(0);
    r->set_consistent(!inconsistent);
    rep->set_ok(!inconsistent);
    if (findings) {
      *rep->add_blocked_cards() = MakeCard(v1::CARD_BLOCK_REASON_CHAIN_FORK);
      auto* k = rep->add_kiosks_with_gaps();
      k->set_kiosk_id(4);
      k->set_terminal_id(std::string(16, '\x0a'));
      k->set_label("banca 3");
      k->set_receipts(8);
      k->set_max_sequence(10);
      k->set_missing(2);
      *rep->add_cards_with_gaps() = MakeCard(v1::CARD_BLOCK_REASON_NONE);
    }
    return grpc::Status::OK;
  }

  std::mutex mu;
  std::vector<std::string> rpcs;
  v1::RegisterKioskRequest kiosk;
  v1::BlockCardRequest block;
  uint64_t audit_bank = 99;
  bool inconsistent = false;
  bool findings = false;
};

class CardsCliTest : public ::testing::Test {
 protected:
  CardsCliTest() {
    grpc::ServerBuilder b;
    b.RegisterService(&setup_);
    b.RegisterService(&cards_);
    server_ = b.BuildAndStart();
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
  }
  ~CardsCliTest() override { server_->Shutdown(); }

  int Run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    auto inv = ParseArgs(args, "");
    EXPECT_TRUE(inv.ok()) << inv.status().message();
    if (!inv.ok()) return kExitUsage;
    RunContext ctx;
    ctx.channel = channel_;
    ctx.token = kToken;
    ctx.global = inv->global;
    ctx.out = &out_;
    ctx.err = &err_;
    ctx.fresh_request_id = [] {
      RequestIdBytes b{};
      b[15] = 0x2a;
      return b;
    };
    const int code = RunCommand(inv->command, ctx);
    EXPECT_EQ(out_.str().find("SECRET"), std::string::npos) << out_.str();
    EXPECT_EQ(err_.str().find("SECRET"), std::string::npos) << err_.str();
    return code;
  }
  int Run(const std::string& line) {
    std::vector<std::string> args;
    std::istringstream is(line);
    std::string w;
    while (is >> w) args.push_back(w);
    return Run(args);
  }
  static google::protobuf::Struct Json(const std::string& s) {
    google::protobuf::Struct st;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(s, &st).ok()) << s;
    return st;
  }

  FakeSetup setup_;
  FakeCards cards_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CardsCliTest, KioskRegisterSendsTheBytesAndNamesTheNextStep) {
  const std::string terminal = "0a0b0c0d0e0f10111213141516171819";
  const std::string key = std::string(62, 'a') + "01";
  EXPECT_EQ(Run({"kiosk", "register", "--terminal-id", terminal, "--public-key", key, "--merchant",
                 "12", "--label", "banca 3"}),
            kExitOk)
      << err_.str();
  EXPECT_EQ(cards_.kiosk.terminal_id(), Bytes(terminal));
  EXPECT_EQ(cards_.kiosk.public_key(), Bytes(key));
  EXPECT_EQ(cards_.kiosk.merchant_account_id(), 12u);
  EXPECT_EQ(cards_.kiosk.label(), "banca 3");
  EXPECT_EQ(cards_.kiosk.request_id(), Bytes("0000000000000000000000000000002a"));
  EXPECT_NE(out_.str().find("kiosk id"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("ayni key create kiosk terminal 4 "), std::string::npos) << out_.str();
  EXPECT_EQ(Run({"kiosk", "register", "--terminal-id", terminal, "--public-key", key, "--merchant",
                 "12", "--label", "dup"}),
            kExitRefused);
  EXPECT_NE(err_.str().find("REASON_KIOSK_EXISTS"), std::string::npos) << err_.str();
}

TEST_F(CardsCliTest, CardBlockSendsIdActorReason) {
  EXPECT_EQ(Run({"card", "block", kCardHex, "--actor", "caixa 1", "--reason", "lost"}), kExitOk);
  EXPECT_EQ(cards_.block.card_id(), Bytes(kCardHex));
  EXPECT_EQ(cards_.block.actor(), "caixa 1");
  EXPECT_EQ(cards_.block.reason(), "lost");
  EXPECT_NE(out_.str().find(kCardHex), std::string::npos) << out_.str();
}

TEST_F(CardsCliTest, CardShowAsFieldsAndJson) {
  EXPECT_EQ(Run(std::string("card show ") + kCardHex), kExitOk) << err_.str();
  const std::string o = out_.str();
  EXPECT_NE(o.find("BLOCKED (COUNTER_CONFLICT: counter 4 twice)"), std::string::npos) << o;
  EXPECT_NE(o.find("7.25 PALMA"), std::string::npos) << o;
  EXPECT_NE(o.find("PALMAS"), std::string::npos) << o;
  EXPECT_NE(o.find("2030-01-01"), std::string::npos) << o;
  EXPECT_NE(o.find("missing counters"), std::string::npos) << o;
  EXPECT_NE(o.find("evidence records: 2"), std::string::npos) << o;
  EXPECT_NE(o.find("01010707070707070707070707070707…"), std::string::npos) << o;
  EXPECT_NE(o.find("ffeeddccbbaa99887766554433221100   10.00        3  applied"), std::string::npos)
      << o;
  EXPECT_NE(o.find("applied"), std::string::npos) << o;

  EXPECT_EQ(Run(std::string("--json card show ") + kCardHex), kExitOk);
  auto j = Json(out_.str());
  EXPECT_EQ(j.fields().at("card_id").string_value(), kCardHex);
  EXPECT_EQ(j.fields().at("currency").string_value(), "PALMA");
  EXPECT_TRUE(j.fields().at("blocked").bool_value());
  ASSERT_EQ(j.fields().at("evidence_hex").list_value().values_size(), 2);
  EXPECT_EQ(j.fields().at("evidence_hex").list_value().values(0).string_value().size(), 420u);

  EXPECT_EQ(Run("card show ffeeddccbbaa99887766554433221100"), kExitTransport);
  EXPECT_NE(err_.str().find("NOT_FOUND"), std::string::npos) << err_.str();
}

TEST_F(CardsCliTest, DenyListAsTableAndCsv) {
  EXPECT_EQ(Run("card deny-list"), kExitOk);
  EXPECT_NE(out_.str().find("1 blocked cards"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find(kCardHex), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("      1  " + std::string(64, '1')), std::string::npos) << out_.str();
  EXPECT_EQ(Run("--csv card deny-list"), kExitOk);
  EXPECT_EQ(out_.str(), std::string("N,CARD_ID\n1,") + kCardHex + "\n");
}

TEST_F(CardsCliTest, AuditConsistentWithFindingsExitsZero) {
  cards_.findings = true;
  EXPECT_EQ(Run("audit cards"), kExitOk) << err_.str();
  const std::string o = out_.str();
  EXPECT_NE(o.find("card audit after batch 12: 3 cards, 1 kiosks"), std::string::npos) << o;
  EXPECT_NE(o.find("PALMAS  PALMA"), std::string::npos) << o;
  EXPECT_NE(o.find("12.50"), std::string::npos) << o;
  EXPECT_NE(o.find("-3.00"), std::string::npos) << o;
  EXPECT_NE(o.find("CONSISTENT"), std::string::npos) << o;
  EXPECT_NE(o.find("blocked cards: 1"), std::string::npos) << o;
  EXPECT_NE(o.find("CHAIN_FORK"), std::string::npos) << o;
  EXPECT_NE(o.find("kiosks with gaps: 1"), std::string::npos) << o;
  EXPECT_NE(o.find("cards with missing counters: 1"), std::string::npos) << o;
  EXPECT_NE(o.find("3 findings"), std::string::npos) << o;
  const std::string e = err_.str();
  EXPECT_EQ(e.find("FAULT"), std::string::npos) << e;
  EXPECT_NE(e.find(std::string("FINDING: card ") + kCardHex + " blocked, CHAIN_FORK"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("FINDING: kiosk 4 (banca 3): 2 receipts missing"), std::string::npos) << e;
  EXPECT_NE(e.find("2 counters not uploaded"), std::string::npos) << e;
  EXPECT_EQ(cards_.audit_bank, 0u);

  EXPECT_EQ(Run("--json audit cards --bank PALMAS"), kExitOk);
  EXPECT_EQ(cards_.audit_bank, 1u);
  auto j = Json(out_.str());
  EXPECT_TRUE(j.fields().at("ok").bool_value());
  EXPECT_EQ(j.fields().at("findings").list_value().values_size(), 3);
  EXPECT_EQ(j.fields().at("faults").list_value().values_size(), 0);
}

TEST_F(CardsCliTest, AuditInconsistentFloatExitsOne) {
  cards_.inconsistent = true;
  EXPECT_EQ(Run("audit cards"), kExitAuditFault);
  EXPECT_NE(out_.str().find("INCONSISTENT"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("FAULTS FOUND"), std::string::npos) << out_.str();
  EXPECT_NE(err_.str().find("FAULT: PALMAS PALMA: CARD_FLOAT 12.50 is not shadow balances "
                            "10.00 + pending loads 1.00"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(Run("--json audit cards"), kExitAuditFault);
  auto j = Json(out_.str());
  EXPECT_FALSE(j.fields().at("ok").bool_value());
  EXPECT_EQ(j.fields().at("exit_code").number_value(), 1);
  EXPECT_EQ(Run("--csv audit cards"), kExitAuditFault);
  EXPECT_EQ(out_.str(),
            "BANK,CURRENCY,CARD_FLOAT,SHADOW_TOTAL,PENDING_LOADS,CARD_LOSSES,SUSPENSE,VERDICT\n"
            "PALMAS,PALMA,12.50,10.00,1.00,-3.00,0.00,INCONSISTENT\n");
}

TEST_F(CardsCliTest, AuditOfAnUnknownBankIsRefusedBeforeTheAudit) {
  EXPECT_EQ(Run("audit cards --bank NOPE"), kExitRefused);
  EXPECT_NE(err_.str().find("no bank with code NOPE"), std::string::npos) << err_.str();
  EXPECT_TRUE(cards_.rpcs.empty());
}

}  // namespace
}  // namespace ayni::cli
