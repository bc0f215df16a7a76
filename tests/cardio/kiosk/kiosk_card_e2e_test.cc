// The whole chain with the real binaries (label card, inside tests/cardio/card_env.sh):
// ayni-kiosk → libpcsclite → pcscd → vpcd → ayni-vcard for the card, and ayni-kiosk →
// gRPC → aynid → PostgreSQL (AYNI_TEST_PG) for the bank. A desk issues a blank card
// (TELLER key), a kiosk syncs, loads it online (KIOSK key + the card's signature), sells
// offline, loses the card after DEBIT (ayni-vcard --pull-after 54), recovers after the
// card is back, uploads, and the merchant is paid exactly once.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "ayni/v1/cards.grpc.pb.h"
#include "cardio/pcsc/pcsc_reader.h"
#include "tests/cardio/kiosk/kiosk_stack_support.h"
#include "tests/cardio/kiosk/kiosk_test_support.h"
#include "tests/cardio/virtual_card.h"
#include "tests/server/service/aynid_harness.h"

namespace {

using namespace ayni;
using namespace ayni::test_support;
using ayni::cardio::testing::Env;
using ayni::cardio::testing::VirtualCard;

class KioskCardE2eTest : public AynidFixture {
 protected:
  void TearDown() override {
    server_.reset();
    AynidFixture::TearDown();
  }
  std::unique_ptr<Aynid> server_;
  cardio::kiosk::testing::TempDir tmp_;
};

TEST_F(KioskCardE2eTest, DeskIssuesKioskLoadsSellsRecoversAndUploads) {
  ASSERT_FALSE(Env("AYNI_VCARD").empty()) << "AYNI_VCARD must name ayni-vcard";
  const std::string clearing_key = tmp_.file("clearing.key");
  server_ = std::make_unique<Aynid>(dsn_, key_file_,
                                    std::vector<std::string>{"--clearing-key-file", clearing_key});
  const std::string addr = server_->WaitListening();
  ASSERT_FALSE(addr.empty());
  Client admin(addr, ReadKey());
  const SmallNetwork net = BuildNetwork(admin, 1, 100000);
  v1::CreateMemberRequest m;
  m.set_request_id(NewId());
  m.set_bank_id(net.bank_a);
  m.set_name("feira");
  v1::CreateMemberReply mr;
  AYNI_EXPECT_OK(RPC(admin, setup, CreateMember, m, mr));
  v1::OpenAccountRequest o;
  o.set_request_id(NewId());
  o.set_member_id(mr.member_id());
  o.set_currency_id(net.cur_a);
  o.set_kind(v1::ACCOUNT_KIND_MERCHANT);
  v1::OpenAccountReply orep;
  AYNI_EXPECT_OK(RPC(admin, setup, OpenAccount, o, orep));
  const uint64_t merchant = orep.account_id();

  // ---- The desk (TELLER key) and the kiosk, each with its directory.
  const std::string teller_file = tmp_.file("teller.key");
  std::ofstream(teller_file) << NewKey(admin, v1::ROLE_TELLER, v1::SCOPE_KIND_BANK, net.bank_a)
                             << "\n";
  const std::string desk = tmp_.file("desk");
  const std::string kiosk = tmp_.file("kiosk");
  const std::string kiosk_key_file = tmp_.file("kiosk-api.key");
  KioskRun r = Kiosk(desk, "init --terminal-id 7e0000000000000000000000000000d1 --server " + addr +
                          " --key-file " + teller_file);
  ASSERT_EQ(r.code, 0) << r.out;
  r = Kiosk(kiosk, "--json init --terminal-id 7e000000000000000000000000000001 --server " + addr +
                       " --key-file " + kiosk_key_file);
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string kiosk_public = JsonField(r.out, "public key");
  ASSERT_EQ(kiosk_public.size(), 64u) << r.out;
  uint64_t kiosk_id = 0;
  {
    auto cards =
        v1::CardService::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
    v1::RegisterKioskRequest q;
    q.set_request_id(NewId());
    q.set_terminal_id(std::string("\x7e", 1) + std::string(14, '\0') + std::string("\x01", 1));
    std::string pk;
    for (size_t i = 0; i < 32; ++i) {
      pk.push_back(static_cast<char>(std::stoi(kiosk_public.substr(2 * i, 2), nullptr, 16)));
    }
    q.set_public_key(pk);
    q.set_merchant_account_id(merchant);
    q.set_label("banca 1");
    grpc::ClientContext cc;
    std::ifstream tf(teller_file);
    std::string teller;
    tf >> teller;
    cc.AddMetadata("authorization", "Bearer " + teller);
    v1::RegisterKioskReply rep;
    AYNI_EXPECT_OK(cards->RegisterKiosk(&cc, q, &rep));
    ASSERT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
    kiosk_id = rep.kiosk_id();
  }
  std::ofstream(kiosk_key_file) << NewKey(admin, v1::ROLE_KIOSK, v1::SCOPE_KIND_TERMINAL, kiosk_id)
                                << "\n";

  // ---- A blank card at the desk.
  const std::string state = tmp_.file("card.state");
  VirtualCard card(state);
  card.Insert();
  r = Kiosk(desk, "issue --account " + std::to_string(net.a[0]) +
                      " --payment-max 50 --offline-max 200 --offline-count-max 10"
                      " --balance-max 1000 --expiry 2099-01-01"
                      " --card-id 00112233445566778899aabbccddeeff");
  ASSERT_EQ(r.code, 0) << r.out;

  // ---- The kiosk: sync, an online load, offline sales, a refusal.
  r = Kiosk(kiosk, "sync");
  ASSERT_EQ(r.code, 0) << r.out;
  r = Kiosk(kiosk, "load 50");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(BalanceOf(admin, net.a[0]), 100000 - 5000);
  r = Kiosk(kiosk, "pay 12.50");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("paid 12.50"), std::string::npos) << r.out;
  r = Kiosk(kiosk, "pay 60");
  EXPECT_EQ(r.code, 2) << r.out;  // above the card's payment max
  r = Kiosk(kiosk, "--json balance");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "balance"), "37.50") << r.out;

  // ---- The card is pulled right after it executed DEBIT: unknown, then recovered.
  card.Kill();
  WaitForRemoval();  // pcscd notices a removal by polling
  VirtualCard pulled(state, {"--pull-after", "54"});
  pulled.Insert();
  r = Kiosk(kiosk, "pay 2.50");
  EXPECT_EQ(r.code, 3) << r.out;
  ASSERT_NE(r.out.find("NOT paid yet"), std::string::npos) << r.out;
  pulled.WaitExit();
  WaitForRemoval();
  VirtualCard back(state);
  back.Insert();
  r = Kiosk(kiosk, "recover");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("went through"), std::string::npos) << r.out;
  r = Kiosk(kiosk, "recover");
  EXPECT_NE(r.out.find("nothing pending"), std::string::npos) << r.out;

  // ---- Upload: the merchant is paid 12.50 + 2.50 exactly once.
  r = Kiosk(kiosk, "--json sync");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "settled"), "2") << r.out;
  EXPECT_EQ(JsonField(r.out, "loads confirmed"), "1") << r.out;
  EXPECT_EQ(BalanceOf(admin, merchant), 1500);
  r = Kiosk(kiosk, "--json status");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "receipts unsent"), "0") << r.out;
  EXPECT_EQ(JsonField(r.out, "receipts"), "3") << r.out;
}

}  // namespace
