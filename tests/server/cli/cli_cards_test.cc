// The card and kiosk commands through the `ayni` binary against a real `aynid` on a fresh
// PostgreSQL database from AYNI_TEST_PG (cli_fixture.h): a kiosk registered with an
// Ed25519 key made by cardio's crypto, its KIOSK key (terminal scope) reading the
// deny-list, a card registered and loaded through CardService directly (registration and
// loads need a card reader, so the CLI does not do them), `card show`, `audit cards`
// (tables, --csv, --json) before and after `card block`, the deny-list, and refusals:
// bad hex never reaches the server (exit 64), a second kiosk with the same terminal id is
// refused (exit 2), a kiosk key may not read a card and an unknown card is NOT_FOUND
// (exit 3).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>

#include "ayni/v1/cards.grpc.pb.h"
#include "clearing/card/crypto.h"
#include "cli_fixture.h"

namespace {

using namespace ayni::cli_test;
namespace v1 = ayni::v1;

std::string Hex(const std::string& b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 15];
  }
  return s;
}

std::string RandomBytes(size_t n) {
  std::string s(n, '\0');
  ayni::cardio::SystemRandom().Fill(
      std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size()));
  return s;
}

std::string PublicKeyOf(const ayni::cardio::KeyPair& k) {
  return std::string(reinterpret_cast<const char*>(k.public_key.data()), k.public_key.size());
}

ayni::cardio::KeyPair NewKeyPair() {
  ayni::cardio::KeySeed seed{};
  ayni::cardio::SystemRandom().Fill(seed);
  return ayni::cardio::KeyPairFromSeed(seed);
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class CliCardsTest : public CliFixture {
 protected:
  CliCardsTest() : CliFixture("cards") {}

  void TearDown() override {
    for (const char* f : {"/teller.key", "/kiosk.key"}) unlink((dir_ + f).c_str());
    CliFixture::TearDown();
  }

  // CardService over a plaintext loopback channel with the key in `key_path`.
  std::unique_ptr<grpc::ClientContext> Context(const std::string& key_path) {
    auto cc = std::make_unique<grpc::ClientContext>();
    cc->AddMetadata("authorization", "Bearer " + Trimmed(ReadFile(key_path)));
    cc->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return cc;
  }
  std::unique_ptr<v1::CardService::Stub> Service() {
    return v1::CardService::NewStub(
        grpc::CreateChannel(server_, grpc::InsecureChannelCredentials()));
  }
};

TEST_F(CliCardsTest, KioskCardBlockAndAudit) {
  ASSERT_EQ(Ayni({"init", "BRL", "--scale", "100"}).code, 0);
  ASSERT_EQ(Ayni({"bank", "create", "PALMAS", "Banco Palmas"}).code, 0);
  ASSERT_EQ(Ayni({"currency", "create", "PALMAS", "PALMA"}).code, 0);
  const std::string ana = Shown(Json({"member", "create", "PALMAS", "Ana"}), "member id");
  const std::string feira = Shown(Json({"member", "create", "PALMAS", "Feira"}), "member id");
  ASSERT_FALSE(ana.empty());
  ASSERT_FALSE(feira.empty());
  const std::string ana_acct = Shown(Json({"account", "open", ana, "PALMA"}), "account id");
  const std::string shop =
      Shown(Json({"account", "open", feira, "PALMA", "--merchant"}), "account id");
  ASSERT_FALSE(ana_acct.empty());
  ASSERT_FALSE(shop.empty());
  ASSERT_EQ(Ayni({"issue", ana_acct, "50.00"}).code, 0);
  const std::string teller_key = dir_ + "/teller.key";
  ASSERT_EQ(
      Ayni({"key", "create", "teller", "bank", "PALMAS", "balcao", "--token-file", teller_key})
          .code,
      0);

  // ---- kiosk register --------------------------------------------------------------------
  const ayni::cardio::KeyPair kiosk_key = NewKeyPair();
  const std::string terminal = Hex(RandomBytes(16));
  const std::string kiosk_pk = Hex(PublicKeyOf(kiosk_key));
  // Bad hex is a usage error: nothing is sent (the audit below counts no kiosk yet).
  Output o = Ayni({"kiosk", "register", "--terminal-id", terminal.substr(1), "--public-key",
                   kiosk_pk, "--merchant", shop, "--label", "banca 3"});
  EXPECT_EQ(o.code, 64) << o.out << o.err;
  EXPECT_NE(o.err.find("--terminal-id must be 32 hex digits"), std::string::npos) << o.err;
  auto audit0 = Json({"audit", "cards"});
  EXPECT_EQ(audit0.fields().at("reply").struct_value().fields().at("kiosks").string_value(), "0");

  auto kiosk = Json({"kiosk", "register", "--terminal-id", terminal, "--public-key", kiosk_pk,
                     "--merchant", shop, "--label", "feira do bairro, banca 3"});
  EXPECT_EQ(Str(kiosk, "reason"), "REASON_OK");
  const std::string kiosk_id = Shown(kiosk, "kiosk id");
  ASSERT_FALSE(kiosk_id.empty());
  EXPECT_NE(kiosk_id, "0");
  EXPECT_EQ(Shown(kiosk, "terminal id"), terminal);
  EXPECT_NE(Shown(kiosk, "next").find("ayni key create kiosk terminal " + kiosk_id),
            std::string::npos);
  // The same terminal again, as a new request: refused.
  o = Ayni({"kiosk", "register", "--terminal-id", terminal, "--public-key",
            Hex(PublicKeyOf(NewKeyPair())), "--merchant", shop, "--label", "again"});
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("REASON_KIOSK_EXISTS"), std::string::npos) << o.err;

  // The kiosk's own key, scoped to its terminal, reads the deny-list.
  const std::string kiosk_keyfile = dir_ + "/kiosk.key";
  o = Ayni(
      {"key", "create", "kiosk", "terminal", kiosk_id, "banca3", "--token-file", kiosk_keyfile});
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("ROLE_KIOSK"), std::string::npos) << o.out;
  o = Ayni({"card", "deny-list"}, kiosk_keyfile);
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("0 blocked cards"), std::string::npos) << o.out;

  // ---- a card, registered and loaded through the RPC (a reader's job) ---------------------
  const ayni::cardio::KeyPair card_key = NewKeyPair();
  const std::string card_id = RandomBytes(16);
  auto service = Service();
  {
    v1::RegisterCardRequest req;
    req.set_request_id(RandomBytes(16));
    req.set_card_id(card_id);
    req.set_public_key(PublicKeyOf(card_key));
    req.set_account_id(std::stoull(ana_acct));
    req.mutable_limits()->set_payment_max_minor(2000);
    req.mutable_limits()->set_offline_amount_max_minor(5000);
    req.mutable_limits()->set_offline_count_max(10);
    req.mutable_limits()->set_balance_max_minor(10000);
    req.set_expiry_s(static_cast<uint64_t>(time(nullptr)) + 365 * 86400);
    v1::RegisterCardReply rep;
    grpc::Status s = service->RegisterCard(Context(teller_key).get(), req, &rep);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
  }
  {
    v1::AuthorizeLoadRequest req;
    req.set_request_id(RandomBytes(16));
    req.set_card_id(card_id);
    req.set_amount_minor(1000);
    req.set_counter(0);
    req.set_challenge(RandomBytes(16));
    v1::AuthorizeLoadReply rep;
    grpc::Status s = service->AuthorizeLoad(Context(teller_key).get(), req, &rep);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
  }
  const std::string card = Hex(card_id);

  o = Ayni({"card", "show", card});
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("ACTIVE"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(ana_acct), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("loads (1, PALMA)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("pending"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("10.00"), std::string::npos) << o.out;

  // The load sits in CARD_FLOAT as a pending load: consistent.
  o = Ayni({"audit", "cards"});
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("CARD_FLOAT"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("CONSISTENT"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("INCONSISTENT"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("blocked cards: 0"), std::string::npos) << o.out;
  o = Ayni({"--csv", "audit", "cards", "--bank", "PALMAS"});
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_EQ(o.out.rfind("BANK,CURRENCY,CARD_FLOAT,SHADOW_TOTAL,PENDING_LOADS,", 0), 0u) << o.out;
  EXPECT_NE(o.out.find("PALMAS,PALMA,10.00,0.00,10.00,"), std::string::npos) << o.out;

  // ---- card block ------------------------------------------------------------------------
  o = Ayni({"card", "block", card.substr(0, 30), "--actor", "ana", "--reason", "lost"});
  EXPECT_EQ(o.code, 64) << o.out << o.err;
  auto blocked =
      Json({"card", "block", card, "--actor", "caixa 1", "--reason", "lost at the market"});
  EXPECT_EQ(Str(blocked, "reason"), "REASON_OK");
  EXPECT_EQ(Shown(blocked, "card id"), card);

  auto shown = Json({"card", "show", card});
  EXPECT_EQ(Str(shown, "card_id"), card);
  EXPECT_TRUE(shown.fields().at("blocked").bool_value());
  const auto& c = shown.fields().at("reply").struct_value().fields().at("card").struct_value();
  EXPECT_TRUE(c.fields().at("blocked").bool_value());
  EXPECT_EQ(c.fields().at("block_reason").string_value(), "CARD_BLOCK_REASON_MANUAL");
  o = Ayni({"card", "show", card});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("BLOCKED (MANUAL"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("returned"), std::string::npos) << o.out;

  o = Ayni({"card", "deny-list"}, kiosk_keyfile);
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("1 blocked cards"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(card), std::string::npos) << o.out;
  o = Ayni({"--csv", "card", "deny-list"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "N,CARD_ID\n1," + card + "\n");

  // The returned load left CARD_FLOAT; the blocked card is listed with its reason; a
  // manual block is not a finding, and the audit passes.
  auto audit = Json({"audit", "cards"});
  EXPECT_TRUE(audit.fields().at("ok").bool_value());
  EXPECT_EQ(audit.fields().at("findings").list_value().values_size(), 0);
  const auto& reply = audit.fields().at("reply").struct_value().fields();
  EXPECT_EQ(reply.at("kiosks").string_value(), "1");
  ASSERT_EQ(reply.at("currencies").list_value().values_size(), 1);
  const auto& row = reply.at("currencies").list_value().values(0).struct_value().fields();
  EXPECT_EQ(row.at("currency_code").string_value(), "PALMA");
  EXPECT_TRUE(row.at("consistent").bool_value());
  EXPECT_EQ(row.at("card_float_minor").string_value(), "0");
  ASSERT_EQ(reply.at("blocked_cards").list_value().values_size(), 1);
  o = Ayni({"audit", "cards"});
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("blocked cards: 1"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(card), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("lost at the market"), std::string::npos) << o.out;

  // The kiosk's key reads the deny-list and nothing about a member's card.
  o = Ayni({"card", "show", card}, kiosk_keyfile);
  EXPECT_EQ(o.code, 3) << o.out << o.err;
  EXPECT_NE(o.err.find("PERMISSION_DENIED"), std::string::npos) << o.err;

  o = Ayni({"card", "show", Hex(RandomBytes(16))});
  EXPECT_EQ(o.code, 3) << o.out << o.err;
  EXPECT_NE(o.err.find("NOT_FOUND"), std::string::npos) << o.err;
}

}  // namespace
