// CardService through a real aynid on a real PostgreSQL (SPEC §5), with cards simulated
// in-process: cardio's PurseApplet behind an AppletChannel and a PurseClient, the bytes a
// reader would carry. Covers registration and certificates, teller and kiosk loads (card
// signatures, replay), offline batches (settlement, duplicates, forged records, kiosk
// signatures, terminals), clones (counter conflict, chain fork) paid from CARD_LOSSES,
// expiry, unapplied loads, the deny-list, the card audit, the journal audit, a restart,
// malformed input and roles.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ayni/v1/cards.grpc.pb.h"
#include "cardio/applet.h"
#include "cardio/channel.h"
#include "cardio/issuer.h"
#include "cardio/purse_client.h"
#include "clearing/card/certificate.h"
#include "clearing/card/crypto.h"
#include "clearing/card/kiosk_batch.h"
#include "clearing/card/load_token.h"
#include "clearing/card/record.h"
#include "tests/cardio/card_fixture.h"
#include "tests/server/service/aynid_harness.h"

namespace {

using namespace ayni;
using namespace ayni::test_support;

// A CardService channel with its own key.
class Cards {
 public:
  Cards(const std::string& addr, std::string token)
      : service(v1::CardService::NewStub(
            grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()))),
        token_(std::move(token)) {}
  std::unique_ptr<grpc::ClientContext> Ctx() const {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("authorization", "Bearer " + token_);
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return c;
  }
  std::unique_ptr<v1::CardService::Stub> service;

 private:
  std::string token_;
};

#define CARD(cards, method, req, reply) \
  (cards).service->method((cards).Ctx().get(), (req), &(reply))

uint64_t NowS() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

template <typename T>
std::string Str(const T& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

cardio::Bytes Raw(const std::string& s) { return cardio::Bytes(s.begin(), s.end()); }

// A card: the applet, its randomness and a client over the in-memory channel.
struct SimCard {
  SimCard(uint64_t seed, CardId card_id, cardio::CardState state = {})
      : random(seed),
        applet(std::make_unique<cardio::PurseApplet>(random, std::move(state))),
        channel(std::make_unique<cardio::AppletChannel>(*applet)),
        client(std::make_unique<cardio::PurseClient>(*channel)),
        id(card_id) {
    auto s = client->Select();
    EXPECT_TRUE(s.ok() && s->ok());
  }
  cardio::SeededRandom random;
  std::unique_ptr<cardio::PurseApplet> applet;
  std::unique_ptr<cardio::AppletChannel> channel;
  std::unique_ptr<cardio::PurseClient> client;
  CardId id;
  cardio::KeyPair Key() const { return cardio::KeyPairFromSeed(applet->state().key_seed); }
};

// A kiosk as the server knows it, and its key pair.
struct Kiosk {
  TerminalId terminal;
  cardio::KeyPair key;
  uint64_t id = 0;
  uint64_t merchant = 0;
  uint32_t sequence = 0;  // receipts taken
  uint32_t batches = 0;
};

class CardsTest : public AynidFixture {
 protected:
  void Start() {
    clearing_key_ = dir_ + "/clearing.key";
    Launch();
    net_ = BuildNetwork(*admin_, 4, 100000);
    for (uint64_t bank : {net_.bank_a, net_.bank_b}) {
      v1::FundReserveRequest q;  // room for overspend paid from CARD_LOSSES
      q.set_request_id(NewId());
      q.set_bank_id(bank);
      q.set_amount_minor(1000000);
      v1::FundReserveReply rep;
      AYNI_EXPECT_OK(RPC(*admin_, reserves, FundReserve, q, rep));
    }
    teller_a_ = std::make_unique<Cards>(addr_, BankKey(v1::ROLE_TELLER, net_.bank_a));
    teller_b_ = std::make_unique<Cards>(addr_, BankKey(v1::ROLE_TELLER, net_.bank_b));
  }
  void Launch() {
    server_ = std::make_unique<Aynid>(
        dsn_, key_file_, std::vector<std::string>{"--clearing-key-file", clearing_key_});
    addr_ = server_->WaitListening();
    ASSERT_FALSE(addr_.empty());
    admin_ = std::make_unique<Client>(addr_, ReadKey());
    cards_admin_ = std::make_unique<Cards>(addr_, ReadKey());
  }
  void TearDown() override {
    server_.reset();
    ::unlink(clearing_key_.c_str());
    AynidFixture::TearDown();
  }

  std::string BankKey(v1::Role role, uint64_t bank) {
    return NewKey(role, v1::SCOPE_KIND_BANK, bank);
  }
  std::string NewKey(v1::Role role, v1::ScopeKind kind, uint64_t id) {
    v1::CreateApiKeyRequest q;
    q.set_request_id(NewId());
    q.set_role(role);
    q.mutable_scope()->set_kind(kind);
    q.mutable_scope()->set_id(id);
    q.set_label("cards test");
    v1::CreateApiKeyReply rep;
    const grpc::Status s = RPC(*admin_, setup, CreateApiKey, q, rep);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return rep.token();
  }

  uint64_t OpenMerchant(uint64_t bank, uint64_t currency) {
    v1::CreateMemberRequest m;
    m.set_request_id(NewId());
    m.set_bank_id(bank);
    m.set_name("feira");
    v1::CreateMemberReply mr;
    AYNI_EXPECT_OK(RPC(*admin_, setup, CreateMember, m, mr));
    v1::OpenAccountRequest o;
    o.set_request_id(NewId());
    o.set_member_id(mr.member_id());
    o.set_currency_id(currency);
    o.set_kind(v1::ACCOUNT_KIND_MERCHANT);
    v1::OpenAccountReply orep;
    AYNI_EXPECT_OK(RPC(*admin_, setup, OpenAccount, o, orep));
    return orep.account_id();
  }

  Kiosk RegisterKiosk(Cards& who, uint64_t merchant, uint8_t n) {
    Kiosk k;
    k.terminal = TerminalId::FromParts(0x7e00 + n, n);
    k.key = cardio::KeyPairFromSeed(cardio::testing::FilledSeed(static_cast<uint8_t>(0x60 + n)));
    k.merchant = merchant;
    v1::RegisterKioskRequest q;
    q.set_request_id(NewId());
    q.set_terminal_id(Str(k.terminal.bytes()));
    q.set_public_key(Str(k.key.public_key));
    q.set_merchant_account_id(merchant);
    q.set_label("banca " + std::to_string(n));
    v1::RegisterKioskReply rep;
    AYNI_EXPECT_OK(CARD(who, RegisterKiosk, q, rep));
    EXPECT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
    k.id = rep.kiosk_id();
    EXPECT_NE(k.id, 0u);
    return k;
  }

  std::unique_ptr<Cards> KioskClient(const Kiosk& k) {
    return std::make_unique<Cards>(addr_, NewKey(v1::ROLE_KIOSK, v1::SCOPE_KIND_TERMINAL, k.id));
  }

  v1::RegisterCardRequest CardRequest(SimCard& card, uint64_t account, uint64_t expiry_s,
                                      uint32_t offline_count_max = 20) {
    auto pk = card.client->GenerateKey(card.id);
    EXPECT_TRUE(pk.ok() && pk->ok());
    v1::RegisterCardRequest q;
    q.set_request_id(NewId());
    q.set_card_id(Str(card.id.bytes()));
    q.set_public_key(pk.ok() && pk->value ? Str(*pk->value) : std::string(32, '\0'));
    q.set_account_id(account);
    q.mutable_limits()->set_payment_max_minor(5000);
    q.mutable_limits()->set_offline_amount_max_minor(20000);
    q.mutable_limits()->set_offline_count_max(offline_count_max);
    q.mutable_limits()->set_balance_max_minor(100000);
    q.set_expiry_s(expiry_s);
    return q;
  }

  // GENERATE KEY, RegisterCard, PUT BANK KEY, PUT CERTIFICATE: the card is issued.
  v1::RegisterCardReply Issue(Cards& who, SimCard& card, uint64_t account, uint64_t expiry_s,
                              v1::RegisterCardRequest* sent = nullptr,
                              uint32_t offline_count_max = 20) {
    v1::RegisterCardRequest q = CardRequest(card, account, expiry_s, offline_count_max);
    if (sent) *sent = q;
    v1::RegisterCardReply rep;
    AYNI_EXPECT_OK(CARD(who, RegisterCard, q, rep));
    EXPECT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
    cardio::PublicKey bank{};
    if (rep.bank_public_key().size() == bank.size()) {
      std::copy(rep.bank_public_key().begin(), rep.bank_public_key().end(), bank.begin());
    }
    Result<cardio::SignedCertificate> cert = cardio::ParseSignedCertificate(Raw(rep.certificate()));
    EXPECT_TRUE(cert.ok()) << cert.status().ToString();
    if (!cert.ok()) return rep;
    EXPECT_TRUE(cardio::VerifyCertificate(*cert, bank).ok());
    auto put_bank = card.client->PutBankKey(bank);
    EXPECT_TRUE(put_bank.ok() && put_bank->ok());
    auto put_cert = card.client->PutCertificate(*cert);
    EXPECT_TRUE(put_cert.ok() && put_cert->ok());
    return rep;
  }

  struct LoadOutcome {
    grpc::Status status;
    v1::AuthorizeLoadReply reply;
    std::optional<cardio::SignedLoadToken> token;
    std::optional<cardio::SignedRecord> record;  // the card's load record, when credited
  };
  enum class Sign { kNone, kCard, kForged };
  // INITIALIZE LOAD, AuthorizeLoad by `who` (the card's signature as asked), CREDIT LOAD
  // when a token came back and `credit`.
  LoadOutcome Load(Cards& who, SimCard& card, int64_t amount, Sign sign, bool credit = true,
                   std::string request_id = "") {
    LoadOutcome out;
    auto ch = card.client->InitializeLoad(Amount(amount));
    EXPECT_TRUE(ch.ok() && ch->ok());
    if (!ch.ok() || !ch->ok()) return out;
    out.status = Authorize(who, card, amount, *ch->value, sign, &out.reply, request_id);
    if (!out.status.ok() || out.reply.load_token().empty()) return out;
    Result<cardio::SignedLoadToken> t = cardio::ParseSignedLoadToken(Raw(out.reply.load_token()));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    if (!t.ok()) return out;
    out.token = *t;
    if (!credit) return out;
    auto rec = card.client->CreditLoad(*t);
    EXPECT_TRUE(rec.ok() && rec->ok());
    if (rec.ok() && rec->ok()) out.record = *rec->value;
    return out;
  }
  grpc::Status Authorize(Cards& who, const SimCard& card, int64_t amount,
                         const cardio::LoadChallenge& ch, Sign sign, v1::AuthorizeLoadReply* rep,
                         std::string request_id = "") {
    v1::AuthorizeLoadRequest q;
    q.set_request_id(request_id.empty() ? NewId() : request_id);
    q.set_card_id(Str(card.id.bytes()));
    q.set_amount_minor(amount);
    q.set_counter(ch.counter);
    q.set_challenge(Str(ch.challenge));
    if (sign != Sign::kNone) {
      std::string sig = Str(ch.signature);
      if (sign == Sign::kForged) sig[10] = static_cast<char>(sig[10] ^ 1);
      q.set_card_signature(sig);
    }
    return CARD(who, AuthorizeLoad, q, *rep);
  }

  // INITIALIZE PURCHASE + DEBIT at `k`'s terminal.
  cardio::SignedRecord Pay(SimCard& card, Kiosk& k, int64_t amount) {
    cardio::PurchaseRequest p;
    p.terminal_id = k.terminal;
    p.terminal_sequence = ++k.sequence;
    p.terminal_time_s = NowS();
    for (size_t i = 0; i < p.nonce.size(); ++i) {
      p.nonce[i] = static_cast<uint8_t>(p.terminal_sequence * 7 + i);
    }
    p.amount = Amount(amount);
    auto quote = card.client->InitializePurchase(p);
    EXPECT_TRUE(quote.ok() && quote->ok()) << (quote.ok() ? SwValue(quote->sw) : 0);
    auto rec = card.client->Debit();
    EXPECT_TRUE(rec.ok() && rec->ok());
    return rec.ok() && rec->value ? *rec->value : cardio::SignedRecord{};
  }

  // Uploads `records` as `k`'s next batch, signed with `signer` (default: k's key), naming
  // `terminal` (default: k's).
  grpc::Status Submit(Cards& who, Kiosk& k, const std::vector<cardio::Bytes>& records,
                      v1::SubmitOfflineBatchReply* rep, const cardio::KeyPair* signer = nullptr,
                      const TerminalId* terminal = nullptr) {
    const TerminalId t = terminal ? *terminal : k.terminal;
    const uint32_t seq = ++k.batches;
    v1::SubmitOfflineBatchRequest q;
    q.set_terminal_id(Str(t.bytes()));
    q.set_batch_sequence(seq);
    for (const cardio::Bytes& r : records) q.add_records(Str(r));
    q.set_kiosk_signature(Str(cardio::SignKioskBatch(t, seq, records, signer ? *signer : k.key)));
    return CARD(who, SubmitOfflineBatch, q, *rep);
  }

  v1::Card GetCard(const CardId& id) {
    v1::GetCardRequest q;
    q.set_card_id(Str(id.bytes()));
    v1::GetCardReply rep;
    AYNI_EXPECT_OK(CARD(*cards_admin_, GetCard, q, rep));
    return rep.card();
  }
  v1::CardAuditReply Audit() {
    v1::CardAuditRequest q;
    v1::CardAuditReply rep;
    AYNI_EXPECT_OK(CARD(*cards_admin_, CardAudit, q, rep));
    return rep;
  }
  const v1::CardFloatRow* Row(const v1::CardAuditReply& a, uint64_t currency) {
    for (const v1::CardFloatRow& r : a.currencies()) {
      if (r.currency_id() == currency) return &r;
    }
    return nullptr;
  }

  std::string clearing_key_;
  std::unique_ptr<Aynid> server_;
  std::string addr_;
  std::unique_ptr<Client> admin_;
  std::unique_ptr<Cards> cards_admin_, teller_a_, teller_b_;
  SmallNetwork net_;
};

cardio::Bytes Encode(const cardio::SignedRecord& r) { return cardio::EncodeSignedRecord(r); }

// A record signed by `card`'s own key outside the applet (a clone with an extracted key).
cardio::SignedRecord Forge(const cardio::OfflineRecord& r, const cardio::KeyPair& key) {
  cardio::SignedRecord s;
  s.record = r;
  s.signature = cardio::SignWithPrefix(key, cardio::kRecordPrefix, cardio::EncodeRecordBody(r));
  return s;
}

TEST_F(CardsTest, CardsEndToEnd) {
  Start();
  const uint64_t expiry = NowS() + 365 * 86400;
  const uint64_t m1 = OpenMerchant(net_.bank_a, net_.cur_a);
  const uint64_t m2 = OpenMerchant(net_.bank_a, net_.cur_a);
  Kiosk k1 = RegisterKiosk(*teller_a_, m1, 1);
  Kiosk k2 = RegisterKiosk(*teller_a_, m2, 2);
  auto kiosk1 = KioskClient(k1);
  auto kiosk2 = KioskClient(k2);

  // ---- Registration: the certificate verifies with the bank's key; a retry answers the
  // same bytes.
  SimCard c1(1, CardId::FromParts(0xC1, 1));
  v1::RegisterCardRequest c1_req;
  const v1::RegisterCardReply c1_reg = Issue(*teller_a_, c1, net_.a[0], expiry, &c1_req);
  {
    Result<cardio::SignedCertificate> cert =
        cardio::ParseSignedCertificate(Raw(c1_reg.certificate()));
    ASSERT_TRUE(cert.ok());
    EXPECT_EQ(cert->certificate.scheme_id, net_.bank_a);
    EXPECT_EQ(cert->certificate.member_account.value(), net_.a[0]);
    EXPECT_EQ(cert->certificate.currency.value(), net_.cur_a);
    v1::RegisterCardReply again;
    AYNI_EXPECT_OK(CARD(*teller_a_, RegisterCard, c1_req, again));
    EXPECT_EQ(again.reason(), v1::REASON_EXISTS);
    EXPECT_EQ(again.certificate(), c1_reg.certificate());
    // The deny-list publishes every bank's key.
    v1::GetDenyListReply deny;
    AYNI_EXPECT_OK(CARD(*kiosk1, GetDenyList, v1::GetDenyListRequest(), deny));
    ASSERT_EQ(deny.bank_keys_size(), 2);
    EXPECT_EQ(deny.bank_keys(0).bank_id(), net_.bank_a);
    EXPECT_EQ(deny.bank_keys(0).public_key(), c1_reg.bank_public_key());
    EXPECT_NE(deny.bank_keys(1).public_key(), c1_reg.bank_public_key());
    EXPECT_EQ(deny.blocked_card_ids_size(), 0);
    EXPECT_GT(deny.timestamp_ns(), 0u);
  }

  // ---- A teller load without the card's signature; a retry answers the same token; the
  // card refuses the token a second time.
  const std::string load1_id = NewId();
  LoadOutcome l1 = Load(*teller_a_, c1, 5000, Sign::kNone, true, load1_id);
  ASSERT_TRUE(l1.status.ok()) << l1.status.error_message();
  ASSERT_EQ(l1.reply.reason(), v1::REASON_OK) << l1.reply.detail();
  ASSERT_TRUE(l1.record.has_value());
  EXPECT_EQ(BalanceOf(*admin_, net_.a[0]), 100000 - 5000);
  {
    ASSERT_TRUE(l1.token.has_value());
    EXPECT_EQ(l1.token->token.offline_amount_cap.minor(), 20000);  // the certificate's maxima
    EXPECT_EQ(l1.token->token.offline_count_cap, 20u);
    v1::AuthorizeLoadRequest q;
    q.set_request_id(load1_id);
    q.set_card_id(Str(c1.id.bytes()));
    q.set_amount_minor(5000);
    q.set_counter(l1.token->token.counter);
    q.set_challenge(Str(l1.token->token.challenge));
    v1::AuthorizeLoadReply again;
    AYNI_EXPECT_OK(CARD(*teller_a_, AuthorizeLoad, q, again));
    EXPECT_EQ(again.reason(), v1::REASON_EXISTS);
    EXPECT_EQ(again.load_token(), l1.reply.load_token());
    auto replay = c1.client->CreditLoad(*l1.token);
    ASSERT_TRUE(replay.ok());
    EXPECT_FALSE(replay->ok());
  }

  // ---- A kiosk load: refused without the card's signature and with a forged one; the
  // card-signed request loads.
  {
    auto ch = c1.client->InitializeLoad(Amount(3000));
    ASSERT_TRUE(ch.ok() && ch->ok());
    v1::AuthorizeLoadReply rep;
    grpc::Status s = Authorize(*kiosk1, c1, 3000, *ch->value, Sign::kNone, &rep);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_NE(s.error_message().find("card_signature"), std::string::npos);
    s = Authorize(*kiosk1, c1, 3000, *ch->value, Sign::kForged, &rep);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("card_signature"), std::string::npos);
    // The signed amount is bound: another amount with the card's signature is refused.
    s = Authorize(*kiosk1, c1, 3001, *ch->value, Sign::kCard, &rep);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(BalanceOf(*admin_, net_.a[0]), 100000 - 5000);
  }
  LoadOutcome l2 = Load(*kiosk1, c1, 3000, Sign::kCard);
  ASSERT_TRUE(l2.status.ok()) << l2.status.error_message();
  ASSERT_EQ(l2.reply.reason(), v1::REASON_OK) << l2.reply.detail();
  ASSERT_TRUE(l2.record.has_value());
  EXPECT_EQ(BalanceOf(*admin_, net_.a[0]), 100000 - 8000);

  // ---- Debits uploaded: settled once to the merchant; the same batch again: duplicates.
  const cardio::SignedRecord d1 = Pay(c1, k1, 1000);
  const cardio::SignedRecord d2 = Pay(c1, k1, 2000);
  const std::vector<cardio::Bytes> batch1 = {Encode(*l1.record), Encode(*l2.record), Encode(d1),
                                             Encode(d2)};
  {
    v1::SubmitOfflineBatchReply rep;
    AYNI_EXPECT_OK(Submit(*kiosk1, k1, batch1, &rep));
    ASSERT_EQ(rep.results_size(), 4);
    EXPECT_EQ(rep.results(0).status(), v1::RECEIPT_STATUS_LOAD_CONFIRMED);
    EXPECT_EQ(rep.results(1).status(), v1::RECEIPT_STATUS_LOAD_CONFIRMED);
    EXPECT_EQ(rep.results(2).status(), v1::RECEIPT_STATUS_SETTLED);
    EXPECT_EQ(rep.results(2).from_float_minor(), 1000);
    EXPECT_EQ(rep.results(3).status(), v1::RECEIPT_STATUS_SETTLED);
    EXPECT_EQ(rep.results(3).card_id(), Str(c1.id.bytes()));
    EXPECT_EQ(rep.results(3).counter(), d2.record.counter);
    EXPECT_EQ(rep.settled(), 2u);
    EXPECT_EQ(rep.loads_confirmed(), 2u);
    EXPECT_EQ(BalanceOf(*admin_, m1), 3000);
    const int64_t transfers = Count("transfers");
    v1::SubmitOfflineBatchReply dup;
    AYNI_EXPECT_OK(Submit(*kiosk1, k1, batch1, &dup));
    ASSERT_EQ(dup.results_size(), 4);
    for (const auto& r : dup.results()) EXPECT_EQ(r.status(), v1::RECEIPT_STATUS_DUPLICATE);
    EXPECT_EQ(dup.duplicates(), 4u);
    EXPECT_EQ(Count("transfers"), transfers);
    EXPECT_EQ(BalanceOf(*admin_, m1), 3000);
    EXPECT_EQ(GetCard(c1.id).shadow_balance_minor(), 5000);
  }

  // ---- A forged record is BAD_SIGNATURE and the rest of its batch settles; the real one
  // settles afterwards.
  const cardio::SignedRecord d3 = Pay(c1, k1, 500);
  {
    cardio::Bytes forged = Encode(d3);
    forged.back() ^= 1;
    const cardio::SignedRecord d4 = Pay(c1, k1, 100);
    v1::SubmitOfflineBatchReply rep;
    AYNI_EXPECT_OK(Submit(*kiosk1, k1, {forged, Encode(d4)}, &rep));
    ASSERT_EQ(rep.results_size(), 2);
    EXPECT_EQ(rep.results(0).status(), v1::RECEIPT_STATUS_REJECTED);
    EXPECT_EQ(rep.results(0).reject(), v1::RECEIPT_REJECT_BAD_SIGNATURE);
    EXPECT_EQ(rep.results(0).index(), 0u);
    EXPECT_EQ(rep.results(1).status(), v1::RECEIPT_STATUS_SETTLED);
    EXPECT_EQ(rep.rejected(), 1u);
    // Malformed: the right size, but not a record (version 0).
    cardio::Bytes junk = Encode(d3);
    junk[0] = 0;
    v1::SubmitOfflineBatchReply mal;
    AYNI_EXPECT_OK(Submit(*kiosk1, k1, {junk}, &mal));
    ASSERT_EQ(mal.results_size(), 1);
    EXPECT_EQ(mal.results(0).reject(), v1::RECEIPT_REJECT_MALFORMED);
  }

  // ---- A batch whose kiosk signature does not verify writes nothing.
  {
    const uint64_t head = Audit().journal_sequence();
    v1::SubmitOfflineBatchReply rep;
    grpc::Status s = Submit(*kiosk1, k1, {Encode(d3)}, &rep, &k2.key);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("kiosk_signature"), std::string::npos);
    EXPECT_EQ(Audit().journal_sequence(), head);
    EXPECT_EQ(BalanceOf(*admin_, m1), 3100);
    AYNI_EXPECT_OK(Submit(*kiosk1, k1, {Encode(d3)}, &rep));
    ASSERT_EQ(rep.results_size(), 1);
    EXPECT_EQ(rep.results(0).status(), v1::RECEIPT_STATUS_SETTLED);
    EXPECT_EQ(BalanceOf(*admin_, m1), 3600);
  }

  // ---- Terminals: another kiosk's record is WRONG_TERMINAL; a batch naming another
  // kiosk's terminal (or an unknown one) is PERMISSION_DENIED.
  {
    const cardio::SignedRecord at2 = Pay(c1, k2, 300);
    v1::SubmitOfflineBatchReply rep;
    AYNI_EXPECT_OK(Submit(*kiosk1, k1, {Encode(at2)}, &rep));
    ASSERT_EQ(rep.results_size(), 1);
    EXPECT_EQ(rep.results(0).reject(), v1::RECEIPT_REJECT_WRONG_TERMINAL);
    grpc::Status s = Submit(*kiosk1, k2, {Encode(at2)}, &rep);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    const TerminalId unknown = TerminalId::FromParts(0xdead, 1);
    s = Submit(*kiosk1, k1, {Encode(at2)}, &rep, nullptr, &unknown);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    AYNI_EXPECT_OK(Submit(*kiosk2, k2, {Encode(at2)}, &rep));
    ASSERT_EQ(rep.results_size(), 1);
    EXPECT_EQ(rep.results(0).status(), v1::RECEIPT_STATUS_SETTLED);
    EXPECT_EQ(BalanceOf(*admin_, m2), 300);
  }

  // ---- A card the server never registered.
  {
    SimCard stranger(9, CardId::FromParts(0x5757, 9));
    cardio::testing::Personalise(*stranger.client, cardio::testing::TestBank(), stranger.id);
    Result<cardio::SignedRecord> loaded =
        cardio::LoadCard(*stranger.client, cardio::testing::TestBank(), stranger.id,
                         {Amount(1000), cardio::testing::LoadNumber(1), Amount(20000), 10});
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    v1::SubmitOfflineBatchReply rep;
    const cardio::SignedRecord r = Pay(stranger, k1, 100);
    AYNI_EXPECT_OK(Submit(*kiosk1, k1, {Encode(r)}, &rep));
    ASSERT_EQ(rep.results_size(), 1);
    EXPECT_EQ(rep.results(0).reject(), v1::RECEIPT_REJECT_UNKNOWN_CARD);
  }

  // ---- Any card of the deployment loads at any kiosk (card of bank B, kiosk of bank A);
  // a teller of bank A cannot load it.
  SimCard cb(5, CardId::FromParts(0xCB, 5));
  Issue(*teller_b_, cb, net_.b[0], expiry);
  {
    auto ch = cb.client->InitializeLoad(Amount(500));
    ASSERT_TRUE(ch.ok() && ch->ok());
    v1::AuthorizeLoadReply rep;
    EXPECT_EQ(Authorize(*teller_a_, cb, 500, *ch->value, Sign::kCard, &rep).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    AYNI_EXPECT_OK(Authorize(*kiosk1, cb, 500, *ch->value, Sign::kCard, &rep));
    EXPECT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
    EXPECT_EQ(BalanceOf(*admin_, net_.b[0]), 100000 - 500);
  }

  // ---- A clone: two cards from one state spend the same counter. The card is blocked,
  // on the deny-list, with both records as evidence; the overspend is paid from
  // CARD_LOSSES.
  SimCard c2(2, CardId::FromParts(0xC2, 2));
  Issue(*teller_a_, c2, net_.a[1], expiry);
  LoadOutcome c2_load = Load(*teller_a_, c2, 1000, Sign::kNone);
  ASSERT_TRUE(c2_load.record.has_value());
  SimCard c2_clone(22, c2.id, c2.applet->state());
  const cardio::SignedRecord c2_d = Pay(c2, k1, 800);
  const cardio::SignedRecord c2_x = Pay(c2_clone, k1, 800);
  ASSERT_EQ(c2_d.record.counter, c2_x.record.counter);
  {
    v1::SubmitOfflineBatchReply rep;
    AYNI_EXPECT_OK(Submit(*kiosk1, k1, {Encode(*c2_load.record), Encode(c2_d)}, &rep));
    ASSERT_EQ(rep.results_size(), 2);
    EXPECT_EQ(rep.results(1).from_float_minor(), 800);
    AYNI_EXPECT_OK(Submit(*kiosk1, k1, {Encode(c2_x)}, &rep));
    ASSERT_EQ(rep.results_size(), 1);
    EXPECT_EQ(rep.results(0).status(), v1::RECEIPT_STATUS_SETTLED);
    EXPECT_EQ(rep.results(0).blocked(), v1::CARD_BLOCK_REASON_COUNTER_CONFLICT);
    EXPECT_EQ(rep.results(0).from_float_minor(), 200);
    EXPECT_EQ(rep.results(0).from_losses_minor(), 600);
    ASSERT_EQ(rep.blocked_card_ids_size(), 1);
    EXPECT_EQ(rep.blocked_card_ids(0), Str(c2.id.bytes()));
    const v1::Card card = GetCard(c2.id);
    EXPECT_TRUE(card.blocked());
    EXPECT_EQ(card.block_reason(), v1::CARD_BLOCK_REASON_COUNTER_CONFLICT);
    EXPECT_GE(card.evidence_size(), 2);
    EXPECT_EQ(card.shadow_balance_minor(), 0);
    v1::GetDenyListReply deny;
    AYNI_EXPECT_OK(CARD(*kiosk2, GetDenyList, v1::GetDenyListRequest(), deny));
    ASSERT_EQ(deny.blocked_card_ids_size(), 1);
    EXPECT_EQ(deny.blocked_card_ids(0), Str(c2.id.bytes()));
    // A blocked card takes no more loads.
    LoadOutcome refused = Load(*teller_a_, c2, 100, Sign::kNone);
    AYNI_EXPECT_OK(refused.status);
    EXPECT_EQ(refused.reply.reason(), v1::REASON_CARD_BLOCKED);
    EXPECT_TRUE(refused.reply.load_token().empty());
    const v1::CardAuditReply audit = Audit();
    const v1::CardFloatRow* row = Row(audit, net_.cur_a);
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(row->card_losses_minor(), -600);
    EXPECT_TRUE(row->consistent());
    bool listed = false;
    for (const v1::Card& b : audit.blocked_cards()) {
      if (b.card_id() == Str(c2.id.bytes())) listed = b.evidence_size() >= 2;
    }
    EXPECT_TRUE(listed);
  }

  // ---- A skip-ahead clone (a later counter claiming an earlier previous hash): CHAIN_FORK.
  SimCard c3(3, CardId::FromParts(0xC3, 3));
  Issue(*teller_a_, c3, net_.a[2], expiry);
  LoadOutcome c3_load = Load(*teller_a_, c3, 2000, Sign::kNone);
  ASSERT_TRUE(c3_load.record.has_value());
  const cardio::SignedRecord c3_d = Pay(c3, k1, 100);
  {
    cardio::OfflineRecord skip = c3_d.record;
    skip.counter = c3_d.record.counter + 3;
    skip.terminal_sequence = ++k1.sequence;
    const cardio::SignedRecord fork = Forge(skip, c3.Key());
    v1::SubmitOfflineBatchReply rep;
    AYNI_EXPECT_OK(
        Submit(*kiosk1, k1, {Encode(*c3_load.record), Encode(c3_d), Encode(fork)}, &rep));
    ASSERT_EQ(rep.results_size(), 3);
    EXPECT_EQ(rep.results(1).status(), v1::RECEIPT_STATUS_SETTLED);
    EXPECT_EQ(rep.results(2).blocked(), v1::CARD_BLOCK_REASON_CHAIN_FORK);
    const v1::Card card = GetCard(c3.id);
    EXPECT_TRUE(card.blocked());
    EXPECT_EQ(card.block_reason(), v1::CARD_BLOCK_REASON_CHAIN_FORK);
    EXPECT_GT(card.missing_counters(), 0u);
  }

  // ---- An expired certificate: a record at or after the expiry is refused.
  SimCard c4(4, CardId::FromParts(0xC4, 4));
  const uint64_t soon = NowS() + 3600;
  Issue(*teller_a_, c4, net_.a[3], soon);
  {
    LoadOutcome c4_load = Load(*teller_a_, c4, 1000, Sign::kNone);
    ASSERT_TRUE(c4_load.record.has_value());
    cardio::OfflineRecord late = c3_d.record;  // the shape of a debit, c4's fields below
    late.card_id = c4.id;
    late.scheme_id = static_cast<uint32_t>(net_.bank_a);
    late.counter = c4_load.record->record.counter + 1;
    late.amount = Amount(100);
    late.balance_after = Amount(900);
    late.terminal_sequence = ++k1.sequence;
    late.terminal_time_s = soon;
    late.last_load_id = c4_load.record->record.last_load_id;
    late.offline_amount = Amount(100);
    late.offline_count = 1;
    late.previous_hash = cardio::RecordHash(c4_load.record->record);
    v1::SubmitOfflineBatchReply rep;
    AYNI_EXPECT_OK(Submit(*kiosk1, k1, {Encode(Forge(late, c4.Key()))}, &rep));
    ASSERT_EQ(rep.results_size(), 1);
    EXPECT_EQ(rep.results(0).reject(), v1::RECEIPT_REJECT_CERTIFICATE_EXPIRED);
  }

  // ---- A load the card never applied goes back to the member once a record proves it.
  {
    const int64_t before = BalanceOf(*admin_, net_.a[0]);
    LoadOutcome unapplied = Load(*teller_a_, c1, 700, Sign::kNone, /*credit=*/false);
    ASSERT_TRUE(unapplied.token.has_value());
    EXPECT_EQ(BalanceOf(*admin_, net_.a[0]), before - 700);
    const cardio::SignedRecord after = Pay(c1, k1, 100);
    v1::SubmitOfflineBatchReply rep;
    AYNI_EXPECT_OK(Submit(*kiosk1, k1, {Encode(after)}, &rep));
    ASSERT_EQ(rep.returned_load_ids_size(), 1);
    EXPECT_EQ(rep.returned_load_ids(0), Str(unapplied.token->token.load_id.bytes()));
    EXPECT_EQ(BalanceOf(*admin_, net_.a[0]), before);
    bool returned = false;
    const v1::Card c1_now = GetCard(c1.id);
    for (const v1::CardLoad& l : c1_now.loads()) {
      if (l.load_id() == Str(unapplied.token->token.load_id.bytes())) {
        returned = l.state() == "returned";
      }
    }
    EXPECT_TRUE(returned);
  }

  // ---- Blocking by hand.
  {
    v1::BlockCardRequest q;
    q.set_request_id(NewId());
    q.set_card_id(Str(cb.id.bytes()));
    q.set_actor("teller bia");
    q.set_reason("lost at the market");
    v1::BlockCardReply rep;
    EXPECT_EQ(CARD(*teller_a_, BlockCard, q, rep).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    AYNI_EXPECT_OK(CARD(*teller_b_, BlockCard, q, rep));
    EXPECT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
    const v1::Card card = GetCard(cb.id);
    EXPECT_TRUE(card.blocked());
    EXPECT_EQ(card.block_reason(), v1::CARD_BLOCK_REASON_MANUAL);
    // Its pending load (500, never credited) went back to the member.
    EXPECT_EQ(BalanceOf(*admin_, net_.b[0]), 100000);
  }

  // ---- The card audit and the journal audit are clean after all of that.
  const v1::CardAuditReply audit = Audit();
  EXPECT_TRUE(audit.ok());
  EXPECT_EQ(audit.cards(), 5u);
  EXPECT_EQ(audit.kiosks(), 2u);
  for (const v1::CardFloatRow& r : audit.currencies()) {
    EXPECT_TRUE(r.consistent()) << r.currency_code();
    EXPECT_EQ(r.card_float_minor(), r.shadow_total_minor() + r.pending_loads_minor());
  }
  EXPECT_EQ(audit.blocked_cards_size(), 3);
  bool c3_gap = false;
  for (const v1::Card& c : audit.cards_with_gaps()) c3_gap |= c.card_id() == Str(c3.id.bytes());
  EXPECT_TRUE(c3_gap);
  {
    v1::VerifyJournalReply v;
    AYNI_EXPECT_OK(RPC(*admin_, audit, VerifyJournal, v1::VerifyJournalRequest(), v));
    EXPECT_TRUE(v.ok());
    EXPECT_EQ(v.journal_faults_size(), 0);
    EXPECT_EQ(v.invariant_faults_size(), 0);
  }
  // A bank-scoped auditor sees its own bank only.
  {
    Cards auditor_b(addr_, BankKey(v1::ROLE_AUDITOR, net_.bank_b));
    v1::CardAuditReply mine;
    AYNI_EXPECT_OK(CARD(auditor_b, CardAudit, v1::CardAuditRequest(), mine));
    EXPECT_EQ(mine.cards(), 1u);
    for (const auto& r : mine.currencies()) EXPECT_EQ(r.bank_id(), net_.bank_b);
    v1::CardAuditRequest other;
    other.set_bank_id(net_.bank_a);
    EXPECT_EQ(CARD(auditor_b, CardAudit, other, mine).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  // ---- Restart: the card book comes back from the journal; the bank keys from the
  // clearing key file (the same certificate bytes for a retry).
  const v1::Card c2_before = GetCard(c2.id);
  v1::GetDenyListReply deny_before;
  AYNI_EXPECT_OK(CARD(*cards_admin_, GetDenyList, v1::GetDenyListRequest(), deny_before));
  server_->Kill(SIGTERM);
  Launch();
  {
    const v1::CardAuditReply again = Audit();
    EXPECT_EQ(again.journal_sequence(), audit.journal_sequence());
    EXPECT_EQ(again.SerializeAsString(), audit.SerializeAsString());
    EXPECT_EQ(GetCard(c2.id).SerializeAsString(), c2_before.SerializeAsString());
    v1::GetDenyListReply deny;
    AYNI_EXPECT_OK(CARD(*cards_admin_, GetDenyList, v1::GetDenyListRequest(), deny));
    EXPECT_EQ(deny.blocked_card_ids_size(), 3);
    ASSERT_EQ(deny.bank_keys_size(), deny_before.bank_keys_size());
    for (int i = 0; i < deny.bank_keys_size(); ++i) {
      EXPECT_EQ(deny.bank_keys(i).public_key(), deny_before.bank_keys(i).public_key());
    }
    Cards teller(addr_, BankKey(v1::ROLE_TELLER, net_.bank_a));
    v1::RegisterCardReply retry;
    AYNI_EXPECT_OK(CARD(teller, RegisterCard, c1_req, retry));
    EXPECT_EQ(retry.reason(), v1::REASON_EXISTS);
    EXPECT_EQ(retry.certificate(), c1_reg.certificate());
    // The kiosk's key survives too: the same batch is still a duplicate.
    Cards k1_again(addr_, NewKey(v1::ROLE_KIOSK, v1::SCOPE_KIND_TERMINAL, k1.id));
    v1::SubmitOfflineBatchReply rep;
    AYNI_EXPECT_OK(Submit(k1_again, k1, batch1, &rep));
    EXPECT_EQ(rep.duplicates(), 4u);
  }
}

// Malformed input: INVALID_ARGUMENT naming the field, nothing written; kiosk keys only
// for registered kiosks; roles of the card calls through the real server.
TEST_F(CardsTest, InputAndRoles) {
  Start();
  const uint64_t m1 = OpenMerchant(net_.bank_a, net_.cur_a);
  Kiosk k1 = RegisterKiosk(*teller_a_, m1, 1);
  auto kiosk1 = KioskClient(k1);
  const uint64_t head = Audit().journal_sequence();
  auto expect_invalid = [](const grpc::Status& s, const std::string& field) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << field;
    EXPECT_NE(s.error_message().find(field), std::string::npos)
        << field << " → " << s.error_message();
  };

  // RegisterKiosk.
  auto kiosk_req = [&] {
    v1::RegisterKioskRequest q;
    q.set_request_id(NewId());
    q.set_terminal_id(Str(TerminalId::FromParts(9, 9).bytes()));
    q.set_public_key(Str(cardio::KeyPairFromSeed(cardio::testing::FilledSeed(9)).public_key));
    q.set_merchant_account_id(m1);
    q.set_label("banca");
    return q;
  };
  {
    v1::RegisterKioskReply rep;
    v1::RegisterKioskRequest q = kiosk_req();
    q.set_terminal_id(std::string(16, '\0'));
    expect_invalid(CARD(*teller_a_, RegisterKiosk, q, rep), "terminal_id");
    q = kiosk_req();
    q.set_public_key(std::string(31, 'k'));
    expect_invalid(CARD(*teller_a_, RegisterKiosk, q, rep), "public_key");
    q = kiosk_req();
    q.set_public_key(std::string(32, '\0'));  // a small-order point: no signature verifies
    expect_invalid(CARD(*teller_a_, RegisterKiosk, q, rep), "public_key");
    q = kiosk_req();
    q.set_label("");
    expect_invalid(CARD(*teller_a_, RegisterKiosk, q, rep), "label");
    q = kiosk_req();
    q.set_merchant_account_id(0);
    expect_invalid(CARD(*teller_a_, RegisterKiosk, q, rep), "merchant_account_id");
    // A teller of another bank may not register a kiosk for bank A's merchant.
    EXPECT_EQ(CARD(*teller_b_, RegisterKiosk, kiosk_req(), rep).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    // A member account is not a merchant: a business refusal, as data.
    q = kiosk_req();
    q.set_merchant_account_id(net_.a[0]);
    AYNI_EXPECT_OK(CARD(*teller_a_, RegisterKiosk, q, rep));
    EXPECT_NE(rep.reason(), v1::REASON_OK);
  }

  // RegisterCard.
  SimCard card(7, CardId::FromParts(0xC7, 7));
  const v1::RegisterCardRequest good = CardRequest(card, net_.a[0], NowS() + 86400);
  {
    v1::RegisterCardReply rep;
    v1::RegisterCardRequest q = good;
    q.clear_limits();
    expect_invalid(CARD(*teller_a_, RegisterCard, q, rep), "limits");
    q = good;
    q.mutable_limits()->set_payment_max_minor(0);
    expect_invalid(CARD(*teller_a_, RegisterCard, q, rep), "limits.payment_max_minor");
    q = good;
    q.mutable_limits()->set_offline_amount_max_minor(-1);
    expect_invalid(CARD(*teller_a_, RegisterCard, q, rep), "limits.offline_amount_max_minor");
    q = good;
    q.set_expiry_s(0);
    expect_invalid(CARD(*teller_a_, RegisterCard, q, rep), "expiry_s");
    q = good;
    q.set_card_id(std::string(15, 'c'));
    expect_invalid(CARD(*teller_a_, RegisterCard, q, rep), "card_id");
    q = good;
    q.set_request_id(std::string(16, '\0'));
    expect_invalid(CARD(*teller_a_, RegisterCard, q, rep), "request_id");
    EXPECT_EQ(CARD(*teller_b_, RegisterCard, good, rep).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(CARD(*kiosk1, RegisterCard, good, rep).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  // AuthorizeLoad, BlockCard, SubmitOfflineBatch, GetCard.
  {
    v1::AuthorizeLoadRequest q;
    q.set_request_id(NewId());
    q.set_card_id(good.card_id());
    q.set_amount_minor(-1);
    q.set_challenge(std::string(16, 'x'));
    v1::AuthorizeLoadReply rep;
    expect_invalid(CARD(*teller_a_, AuthorizeLoad, q, rep), "amount_minor");
    q.set_amount_minor(10);
    q.set_challenge(std::string(15, 'x'));
    expect_invalid(CARD(*teller_a_, AuthorizeLoad, q, rep), "challenge");
    q.set_challenge(std::string(16, 'x'));
    q.set_card_signature(std::string(63, 's'));
    expect_invalid(CARD(*teller_a_, AuthorizeLoad, q, rep), "card_signature");
    q.set_offline_amount_cap_minor(-5);
    q.clear_card_signature();
    expect_invalid(CARD(*teller_a_, AuthorizeLoad, q, rep), "offline_amount_cap_minor");

    v1::BlockCardRequest b;
    b.set_request_id(NewId());
    b.set_card_id(good.card_id());
    b.set_reason("stolen");
    v1::BlockCardReply brep;
    expect_invalid(CARD(*teller_a_, BlockCard, b, brep), "actor");

    v1::SubmitOfflineBatchRequest s;
    s.set_terminal_id(Str(k1.terminal.bytes()));
    s.set_kiosk_signature(std::string(64, 's'));
    v1::SubmitOfflineBatchReply srep;
    expect_invalid(CARD(*kiosk1, SubmitOfflineBatch, s, srep), "records");
    s.add_records(std::string(209, 'r'));
    expect_invalid(CARD(*kiosk1, SubmitOfflineBatch, s, srep), "records[0]");
    s.set_records(0, std::string(210, 'r'));
    s.set_kiosk_signature(std::string(63, 's'));
    expect_invalid(CARD(*kiosk1, SubmitOfflineBatch, s, srep), "kiosk_signature");
    // A teller may not upload kiosk batches.
    s.set_kiosk_signature(std::string(64, 's'));
    EXPECT_EQ(CARD(*teller_a_, SubmitOfflineBatch, s, srep).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);

    v1::GetCardRequest g;
    g.set_card_id(std::string(16, '\0'));
    v1::GetCardReply grep;
    expect_invalid(CARD(*cards_admin_, GetCard, g, grep), "card_id");
    g.set_card_id(good.card_id());
    EXPECT_EQ(CARD(*cards_admin_, GetCard, g, grep).error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(CARD(*kiosk1, GetCard, g, grep).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    v1::CardAuditReply arep;
    EXPECT_EQ(CARD(*kiosk1, CardAudit, v1::CardAuditRequest(), arep).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // Nothing above was written (the refused kiosk registration was a refusal too).
  EXPECT_EQ(Audit().journal_sequence(), head);

  // KIOSK keys: scope TERMINAL must name a registered kiosk; it lies in the bank of the
  // kiosk's merchant, so bank B's admin cannot make one.
  {
    v1::CreateApiKeyRequest q;
    q.set_request_id(NewId());
    q.set_role(v1::ROLE_KIOSK);
    q.mutable_scope()->set_kind(v1::SCOPE_KIND_TERMINAL);
    q.mutable_scope()->set_id(k1.id + 100);
    q.set_label("no such kiosk");
    v1::CreateApiKeyReply rep;
    expect_invalid(RPC(*admin_, setup, CreateApiKey, q, rep), "scope.id");
    Client admin_b(addr_, BankKey(v1::ROLE_ADMIN, net_.bank_b));
    q.mutable_scope()->set_id(k1.id);
    EXPECT_EQ(RPC(admin_b, setup, CreateApiKey, q, rep).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    Client admin_a(addr_, BankKey(v1::ROLE_ADMIN, net_.bank_a));
    q.set_request_id(NewId());
    AYNI_EXPECT_OK(RPC(admin_a, setup, CreateApiKey, q, rep));
    EXPECT_FALSE(rep.token().empty());
  }
}

// A batch large enough to be verified in several chunks across the pool: every record's
// result comes back at its own index, the one forged record among them refused alone.
TEST_F(CardsTest, LargeBatchVerifiedInParallelAnswersInOrder) {
  Start();
  const uint64_t m1 = OpenMerchant(net_.bank_a, net_.cur_a);
  Kiosk k1 = RegisterKiosk(*teller_a_, m1, 1);
  auto kiosk1 = KioskClient(k1);
  SimCard c(11, CardId::FromParts(0xCA, 11));
  Issue(*teller_a_, c, net_.a[0], NowS() + 86400, nullptr, 1000);
  LoadOutcome load = Load(*teller_a_, c, 50000, Sign::kNone);
  ASSERT_TRUE(load.record.has_value());
  std::vector<cardio::Bytes> records = {Encode(*load.record)};
  constexpr int kDebits = 400;
  for (int i = 0; i < kDebits; ++i) records.push_back(Encode(Pay(c, k1, 10)));
  constexpr size_t kForged = 250;
  records[kForged].back() ^= 0x80;
  v1::SubmitOfflineBatchReply rep;
  AYNI_EXPECT_OK(Submit(*kiosk1, k1, records, &rep));
  ASSERT_EQ(rep.results_size(), kDebits + 1);
  for (int i = 0; i <= kDebits; ++i) {
    const v1::ReceiptResult& r = rep.results(i);
    EXPECT_EQ(r.index(), static_cast<uint32_t>(i));
    EXPECT_EQ(r.counter(), static_cast<uint32_t>(i + 1));  // counters start at 1
    if (i == 0) {
      EXPECT_EQ(r.status(), v1::RECEIPT_STATUS_LOAD_CONFIRMED);
    } else if (static_cast<size_t>(i) == kForged) {
      EXPECT_EQ(r.reject(), v1::RECEIPT_REJECT_BAD_SIGNATURE);
    } else {
      EXPECT_EQ(r.status(), v1::RECEIPT_STATUS_SETTLED) << i;
    }
  }
  EXPECT_EQ(rep.settled(), static_cast<uint32_t>(kDebits - 1));
  EXPECT_EQ(rep.rejected(), 1u);
  EXPECT_EQ(BalanceOf(*admin_, m1), 10 * (kDebits - 1));
  const v1::CardAuditReply audit = Audit();
  EXPECT_TRUE(audit.ok());
  ASSERT_EQ(audit.cards_with_gaps_size(), 1);  // the forged record's counter is missing
  EXPECT_EQ(audit.cards_with_gaps(0).missing_counters(), 1u);
}

}  // namespace
