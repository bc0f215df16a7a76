// Issue 4's card scenarios through the real stack (label card, inside tests/cardio/card_env.sh):
// PostgreSQL (AYNI_TEST_PG), aynid, pcscd + vpcd and ayni-vcard (AYNI_VCARD) in one private
// namespace, driven by the ayni-kiosk binary through libpcsclite, and by this test through
// gRPC where a scenario needs bytes no honest kiosk sends (forged, re-uploaded, misdirected
// batches) or a raw card exchange (a replayed load token).
//
// Every test starts its own aynid on a fresh database, a bank desk (TELLER key) and one
// registered kiosk; most issue and load one card. Each asserts the server's outcome (GetCard,
// CardAudit, account balances) or ayni-kiosk's --json output, and TearDown asserts that the
// books are clean: CardAudit consistent (CARD_FLOAT = shadow balances + pending loads) and
// VerifyJournal without faults.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ayni/v1/cards.grpc.pb.h"
#include "cardio/applet.h"
#include "cardio/kiosk/kiosk.h"
#include "cardio/kiosk/receipt_log.h"
#include "cardio/pcsc/pcsc_reader.h"
#include "cardio/purse_client.h"
#include "cardio/vcard/state_file.h"
#include "clearing/card/kiosk_batch.h"
#include "clearing/card/load_token.h"
#include "clearing/card/record.h"
#include "tests/cardio/kiosk/kiosk_stack_support.h"
#include "tests/cardio/kiosk/kiosk_test_support.h"
#include "tests/cardio/virtual_card.h"
#include "tests/server/service/aynid_harness.h"

namespace {

using namespace ayni;
using namespace ayni::test_support;
using ayni::cardio::testing::Env;
using ayni::cardio::testing::VirtualCard;
namespace kiosk = ayni::cardio::kiosk;
using ayni::cardio::Bytes;
using ayni::cardio::KeyPair;
using ayni::cardio::Signature;

constexpr const char* kCardHex = "00112233445566778899aabbccddeeff";
constexpr const char* kReader = "Virtual PCD 00 00";
// What member account A0 is issued; IssueCard loads 50.00 of it onto the card.
constexpr int64_t kDeposit = 100000;

std::string Str(const std::array<uint8_t, 16>& b) { return std::string(b.begin(), b.end()); }

// One registered kiosk: its directory, terminal, merchant account and API key.
struct KioskInfo {
  std::string dir;
  TerminalId terminal;
  uint64_t kiosk_id = 0;
  uint64_t merchant = 0;
  std::string api_key;
};

class CardStackTest : public AynidFixture {
 protected:
  void SetUp() override {
    AynidFixture::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_FALSE(Env("AYNI_VCARD").empty()) << "AYNI_VCARD must name ayni-vcard";
    server_ = std::make_unique<Aynid>(
        dsn_, key_file_,
        std::vector<std::string>{"--clearing-key-file", tmp_.file("clearing.key")});
    addr_ = server_->WaitListening();
    ASSERT_FALSE(addr_.empty());
    admin_ = std::make_unique<Client>(addr_, ReadKey());
    cards_service_ =
        v1::CardService::NewStub(grpc::CreateChannel(addr_, grpc::InsecureChannelCredentials()));
    net_ = BuildNetwork(*admin_, 1, kDeposit);
    teller_ = NewKey(*admin_, v1::ROLE_TELLER, v1::SCOPE_KIND_BANK, net_.bank_a);
    const std::string teller_file = tmp_.file("teller.key");
    std::ofstream(teller_file) << teller_ << "\n";
    desk_ = tmp_.file("desk");
    const KioskRun r =
        Kiosk(desk_, "init --terminal-id 7e0000000000000000000000000000d1 --server " + addr_ +
                         " --key-file " + teller_file);
    ASSERT_EQ(r.code, 0) << r.out;
    AddKiosk("01", &kiosk_);
    ready_ = !HasFatalFailure();
  }

  void TearDown() override {
    if (ready_) ExpectBooksClean();
    const bool had_cards = !cards_.empty();
    cards_.clear();  // kills every card still in the reader
    if (had_cards) WaitForRemoval();
    server_.reset();
    AynidFixture::TearDown();
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) const {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("authorization", "Bearer " + token);
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return c;
  }

  // A MERCHANT account at bank A, a kiosk directory with terminal 7e…SUFFIX registered for
  // it, and the kiosk's API key (role KIOSK, scoped to it) in its key file.
  void AddKiosk(const std::string& suffix, KioskInfo* k) {
    v1::CreateMemberRequest m;
    m.set_request_id(NewId());
    m.set_bank_id(net_.bank_a);
    m.set_name("feira " + suffix);
    v1::CreateMemberReply mr;
    AYNI_EXPECT_OK(RPC(*admin_, setup, CreateMember, m, mr));
    v1::OpenAccountRequest o;
    o.set_request_id(NewId());
    o.set_member_id(mr.member_id());
    o.set_currency_id(net_.cur_a);
    o.set_kind(v1::ACCOUNT_KIND_MERCHANT);
    v1::OpenAccountReply orep;
    AYNI_EXPECT_OK(RPC(*admin_, setup, OpenAccount, o, orep));
    k->merchant = orep.account_id();
    k->dir = tmp_.file("kiosk" + suffix);
    const std::string key_file = tmp_.file("kiosk" + suffix + "-api.key");
    const std::string terminal_hex =
        "7e00000000000000000000000000" + std::string(4 - suffix.size(), '0') + suffix;
    k->terminal = *TerminalId::FromHex(terminal_hex);
    KioskRun r = Kiosk(k->dir, "--json init --terminal-id " + terminal_hex + " --server " + addr_ +
                                   " --key-file " + key_file);
    ASSERT_EQ(r.code, 0) << r.out;
    Result<KeyPair> key = kiosk::ReadKioskKey(k->dir);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    v1::RegisterKioskRequest q;
    q.set_request_id(NewId());
    q.set_terminal_id(Str(k->terminal.bytes()));
    q.set_public_key(std::string(key->public_key.begin(), key->public_key.end()));
    q.set_merchant_account_id(k->merchant);
    q.set_label("banca " + suffix);
    v1::RegisterKioskReply rep;
    AYNI_EXPECT_OK(cards_service_->RegisterKiosk(Ctx(teller_).get(), q, &rep));
    ASSERT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
    k->kiosk_id = rep.kiosk_id();
    k->api_key = NewKey(*admin_, v1::ROLE_KIOSK, v1::SCOPE_KIND_TERMINAL, k->kiosk_id);
    std::ofstream(key_file) << k->api_key << "\n";
  }

  // Starts ayni-vcard on `state` (a card in the reader).
  VirtualCard& Insert(const std::string& state, std::vector<std::string> extra = {}) {
    cards_.push_back(std::make_unique<VirtualCard>(state, std::move(extra)));
    cards_.back()->Insert();
    return *cards_.back();
  }
  // Takes the card out (a clean stop, its state saved) and waits until pcscd saw it go.
  void Remove(VirtualCard& card) {
    EXPECT_EQ(card.Stop(), 0);
    WaitForRemoval();
  }

  // The desk issues card kCardHex on member account A0 (payment max 50, offline 200 in 10,
  // balance max 1000), the kiosk syncs (bank keys) and loads it online with `load` (ARGS of
  // `ayni-kiosk load`). The card stays in the reader.
  VirtualCard& IssueCard(const std::string& load = "50", const std::string& expiry = "2099-01-01") {
    VirtualCard& card = Insert(state_);
    KioskRun r = Kiosk(desk_, "issue --account " + std::to_string(net_.a[0]) +
                                  " --payment-max 50 --offline-max 200 --offline-count-max 10"
                                  " --balance-max 1000 --expiry " +
                                  expiry + " --card-id " + kCardHex);
    EXPECT_EQ(r.code, 0) << r.out;
    r = Kiosk(kiosk_.dir, "sync");
    EXPECT_EQ(r.code, 0) << r.out;
    r = Kiosk(kiosk_.dir, "load " + load);
    EXPECT_EQ(r.code, 0) << r.out;
    return card;
  }

  v1::Card GetCard() {
    v1::GetCardRequest q;
    q.set_card_id(Str(CardId::FromHex(kCardHex)->bytes()));
    v1::GetCardReply rep;
    AYNI_EXPECT_OK(cards_service_->GetCard(admin_->Ctx().get(), q, &rep));
    return rep.card();
  }
  v1::CardAuditReply Audit() {
    v1::CardAuditRequest q;
    v1::CardAuditReply rep;
    AYNI_EXPECT_OK(cards_service_->CardAudit(admin_->Ctx().get(), q, &rep));
    return rep;
  }
  // Bank A's row of the card audit.
  v1::CardFloatRow FloatRow() {
    const v1::CardAuditReply audit = Audit();
    for (const v1::CardFloatRow& row : audit.currencies()) {
      if (row.currency_id() == net_.cur_a) return row;
    }
    ADD_FAILURE() << "no card audit row for currency " << net_.cur_a;
    return {};
  }
  v1::VerifyJournalReply Verify() {
    v1::VerifyJournalRequest q;
    v1::VerifyJournalReply rep;
    AYNI_EXPECT_OK(RPC(*admin_, audit, VerifyJournal, q, rep));
    return rep;
  }
  void ExpectBooksClean() {
    const v1::CardAuditReply a = Audit();
    EXPECT_TRUE(a.ok()) << a.DebugString();
    for (const v1::CardFloatRow& row : a.currencies()) {
      EXPECT_TRUE(row.consistent()) << row.DebugString();
      EXPECT_EQ(row.card_float_minor(), row.shadow_total_minor() + row.pending_loads_minor())
          << row.DebugString();
    }
    const v1::VerifyJournalReply v = Verify();
    EXPECT_TRUE(v.ok()) << v.DebugString();
  }

  // The records in a kiosk's receipt log (ayni-kiosk must not be running), in log order.
  std::vector<kiosk::Receipt> Receipts(const KioskInfo& k) {
    std::vector<std::string> warnings;
    Result<kiosk::ReceiptLog> log = kiosk::ReceiptLog::Open(kiosk::ReceiptsPath(k.dir), &warnings);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    if (!log.ok()) return {};
    return log->receipts();
  }
  // The first debit record in the kiosk's log.
  Bytes FirstDebit(const KioskInfo& k) {
    for (const kiosk::Receipt& r : Receipts(k)) {
      if (r.record.record.type == cardio::RecordType::kDebit) return r.bytes;
    }
    ADD_FAILURE() << "no debit in " << k.dir;
    return {};
  }
  // SubmitOfflineBatch for `terminal`, the batch signed with `key`, called with API key
  // `token`.
  grpc::Status Submit(const std::string& token, const TerminalId& terminal,
                      const std::vector<Bytes>& records, const KeyPair& key, uint32_t sequence,
                      v1::SubmitOfflineBatchReply* rep) {
    v1::SubmitOfflineBatchRequest q;
    q.set_terminal_id(Str(terminal.bytes()));
    q.set_batch_sequence(sequence);
    for (const Bytes& b : records) q.add_records(std::string(b.begin(), b.end()));
    const Signature sig = cardio::SignKioskBatch(terminal, sequence, records, key);
    q.set_kiosk_signature(std::string(sig.begin(), sig.end()));
    return cards_service_->SubmitOfflineBatch(Ctx(token).get(), q, rep);
  }
  KeyPair KeyOf(const KioskInfo& k) {
    Result<KeyPair> key = kiosk::ReadKioskKey(k.dir);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return key.ok() ? *key : KeyPair{};
  }

  std::unique_ptr<Aynid> server_;
  std::string addr_;
  std::unique_ptr<Client> admin_;
  std::unique_ptr<v1::CardService::Stub> cards_service_;
  SmallNetwork net_;
  std::string teller_;
  std::string desk_;
  KioskInfo kiosk_;
  kiosk::testing::TempDir tmp_;
  const std::string state_ = tmp_.file("card.state");
  std::vector<std::unique_ptr<VirtualCard>> cards_;
  bool ready_ = false;
};

// 1. An offline payment: receipt, sync, SETTLED once, the merchant paid from CARD_FLOAT.
TEST_F(CardStackTest, PaymentSettlesOnceFromCardFloat) {
  IssueCard();
  EXPECT_EQ(BalanceOf(*admin_, net_.a[0]), kDeposit - 5000);
  KioskRun r = Kiosk(kiosk_.dir, "--json pay 12.50");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "amount"), "12.50") << r.out;
  EXPECT_EQ(JsonField(r.out, "card balance after"), "37.50") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 0);  // offline: nothing at the bank yet
  r = Kiosk(kiosk_.dir, "--json sync");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "settled"), "1") << r.out;
  EXPECT_EQ(JsonField(r.out, "loads confirmed"), "1") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 1250);
  const v1::Card c = GetCard();
  EXPECT_EQ(c.shadow_balance_minor(), 3750);
  EXPECT_EQ(c.records(), 2u);
  EXPECT_FALSE(c.blocked());
  const v1::CardFloatRow row = FloatRow();
  EXPECT_EQ(row.card_float_minor(), 3750);
  EXPECT_EQ(row.card_losses_minor(), 0);
  r = Kiosk(kiosk_.dir, "--json sync");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "settled"), "0") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 1250);
}

// 2. More than the purse holds: the card refuses, nothing is queued or paid.
TEST_F(CardStackTest, InsufficientBalanceRefusedNothingQueued) {
  IssueCard("20");
  KioskRun r = Kiosk(kiosk_.dir, "pay 30");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("insufficient balance"), std::string::npos) << r.out;
  r = Kiosk(kiosk_.dir, "--json status");
  EXPECT_EQ(JsonField(r.out, "receipts"), "1") << r.out;  // the load only
  r = Kiosk(kiosk_.dir, "--json sync");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "settled"), "0") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 0);
  EXPECT_EQ(GetCard().shadow_balance_minor(), 2000);
}

// 3a. One payment above the certificate's payment max: refused by the kiosk; the max
// itself passes.
TEST_F(CardStackTest, PaymentMaxRefused) {
  IssueCard();
  KioskRun r = Kiosk(kiosk_.dir, "pay 50.01");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("above the card's payment limit of 50.00"), std::string::npos) << r.out;
  r = Kiosk(kiosk_.dir, "--json status");
  EXPECT_EQ(JsonField(r.out, "receipts"), "1") << r.out;
  r = Kiosk(kiosk_.dir, "pay 50");
  EXPECT_EQ(r.code, 0) << r.out;
  r = Kiosk(kiosk_.dir, "--json sync");
  EXPECT_EQ(JsonField(r.out, "settled"), "1") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 5000);
}

// 3b. The load's offline amount cap (30.00): the card refuses the payment that passes it.
TEST_F(CardStackTest, OfflineAmountCapRefused) {
  IssueCard("50 --offline-cap 30");
  KioskRun r = Kiosk(kiosk_.dir, "pay 20");
  ASSERT_EQ(r.code, 0) << r.out;
  r = Kiosk(kiosk_.dir, "pay 15");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("must go online"), std::string::npos) << r.out;
  r = Kiosk(kiosk_.dir, "--json status");
  EXPECT_EQ(JsonField(r.out, "receipts"), "2") << r.out;
  r = Kiosk(kiosk_.dir, "--json sync");
  EXPECT_EQ(JsonField(r.out, "settled"), "1") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 2000);
  EXPECT_EQ(GetCard().shadow_balance_minor(), 3000);
}

// 3c. The load's offline count cap (2 payments): the third is refused by the card.
TEST_F(CardStackTest, OfflineCountCapRefused) {
  IssueCard("50 --offline-count 2");
  for (int i = 0; i < 2; ++i) {
    const KioskRun r = Kiosk(kiosk_.dir, "pay 1");
    ASSERT_EQ(r.code, 0) << r.out;
  }
  KioskRun r = Kiosk(kiosk_.dir, "pay 1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("must go online"), std::string::npos) << r.out;
  r = Kiosk(kiosk_.dir, "--json status");
  EXPECT_EQ(JsonField(r.out, "receipts"), "3") << r.out;
  r = Kiosk(kiosk_.dir, "--json sync");
  EXPECT_EQ(JsonField(r.out, "settled"), "2") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 200);
}

// 4. The card is pulled right after it executed DEBIT; back in the reader, `recover` stores
// the one receipt, which settles once.
TEST_F(CardStackTest, CardPulledMidPaymentRecoveredOnce) {
  VirtualCard& card = IssueCard();
  Remove(card);
  VirtualCard& pulled = Insert(state_, {"--pull-after", "54"});
  KioskRun r = Kiosk(kiosk_.dir, "pay 2.50");
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.out.find("NOT paid yet"), std::string::npos) << r.out;
  pulled.WaitExit();
  WaitForRemoval();
  Insert(state_);
  r = Kiosk(kiosk_.dir, "recover");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("went through"), std::string::npos) << r.out;
  r = Kiosk(kiosk_.dir, "recover");
  EXPECT_NE(r.out.find("nothing pending"), std::string::npos) << r.out;
  r = Kiosk(kiosk_.dir, "--json status");
  EXPECT_EQ(JsonField(r.out, "receipts"), "2") << r.out;
  r = Kiosk(kiosk_.dir, "--json sync");
  EXPECT_EQ(JsonField(r.out, "settled"), "1") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 250);
  EXPECT_EQ(GetCard().shadow_balance_minor(), 4750);
}

// 5. The kiosk dies after the card signed (AYNI_KIOSK_FAULT), before the receipt is on
// disk; the card's next contact stores it; two syncs settle it once.
TEST_F(CardStackTest, KioskKilledAfterDebitSyncedOnce) {
  IssueCard();
  KioskRun r = Kiosk(kiosk_.dir, "pay 5", "AYNI_KIOSK_FAULT=exit-after-debit ");
  EXPECT_EQ(r.code, 70) << r.out;
  r = Kiosk(kiosk_.dir, "--json status");
  EXPECT_EQ(JsonField(r.out, "receipts"), "1") << r.out;  // the debit is not stored yet
  r = Kiosk(kiosk_.dir, "recover");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("went through"), std::string::npos) << r.out;
  r = Kiosk(kiosk_.dir, "--json sync");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "settled"), "1") << r.out;
  r = Kiosk(kiosk_.dir, "--json sync");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "settled"), "0") << r.out;
  EXPECT_EQ(JsonField(r.out, "duplicates"), "0") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 500);
  const v1::Card c = GetCard();
  EXPECT_EQ(c.records(), 2u);
  EXPECT_EQ(c.shadow_balance_minor(), 4500);
  r = Kiosk(kiosk_.dir, "--json balance");
  EXPECT_EQ(JsonField(r.out, "balance"), "45.00") << r.out;
}

// 6. The same records uploaded again, through the RPC and by a kiosk whose log lost its
// marks: all DUPLICATE, no new transfer, the merchant paid once.
TEST_F(CardStackTest, DuplicateUploadChangesNothing) {
  IssueCard();
  KioskRun r = Kiosk(kiosk_.dir, "pay 5");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string log = kiosk::ReceiptsPath(kiosk_.dir);
  std::filesystem::copy_file(log, tmp_.file("receipts.before-sync"));
  r = Kiosk(kiosk_.dir, "--json sync");
  EXPECT_EQ(JsonField(r.out, "settled"), "1") << r.out;
  ASSERT_EQ(BalanceOf(*admin_, kiosk_.merchant), 500);
  const uint64_t transfers = Verify().transfers();
  EXPECT_GT(transfers, 0u);

  std::vector<Bytes> records;
  for (const kiosk::Receipt& rc : Receipts(kiosk_)) records.push_back(rc.bytes);
  ASSERT_EQ(records.size(), 2u);
  v1::SubmitOfflineBatchReply rep;
  AYNI_EXPECT_OK(Submit(kiosk_.api_key, kiosk_.terminal, records, KeyOf(kiosk_), 50, &rep));
  EXPECT_EQ(rep.duplicates(), 2u) << rep.DebugString();
  EXPECT_EQ(rep.settled(), 0u) << rep.DebugString();
  for (const v1::ReceiptResult& res : rep.results()) {
    EXPECT_EQ(res.status(), v1::RECEIPT_STATUS_DUPLICATE) << res.DebugString();
  }

  std::filesystem::copy_file(tmp_.file("receipts.before-sync"), log,
                             std::filesystem::copy_options::overwrite_existing);
  r = Kiosk(kiosk_.dir, "--json sync");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "settled"), "0") << r.out;
  EXPECT_EQ(JsonField(r.out, "duplicates"), "2") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 500);
  EXPECT_EQ(BalanceOf(*admin_, net_.a[0]), kDeposit - 5000);
  EXPECT_EQ(Verify().transfers(), transfers);
  EXPECT_EQ(GetCard().shadow_balance_minor(), 4500);
}

// 7. A record whose card signature was altered, in a correctly kiosk-signed batch:
// BAD_SIGNATURE, nothing settled; the genuine record still settles afterwards.
TEST_F(CardStackTest, ForgedRecordSignatureRejected) {
  IssueCard();
  KioskRun r = Kiosk(kiosk_.dir, "pay 5");
  ASSERT_EQ(r.code, 0) << r.out;
  Bytes forged = FirstDebit(kiosk_);
  ASSERT_EQ(forged.size(), cardio::kRecordSize);
  forged[cardio::kRecordSize - 10] ^= 0x01;  // inside the signature
  const uint64_t transfers = Verify().transfers();
  v1::SubmitOfflineBatchReply rep;
  AYNI_EXPECT_OK(Submit(kiosk_.api_key, kiosk_.terminal, {forged}, KeyOf(kiosk_), 90, &rep));
  ASSERT_EQ(rep.results_size(), 1) << rep.DebugString();
  EXPECT_EQ(rep.results(0).status(), v1::RECEIPT_STATUS_REJECTED);
  EXPECT_EQ(rep.results(0).reject(), v1::RECEIPT_REJECT_BAD_SIGNATURE);
  EXPECT_EQ(rep.settled(), 0u);
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 0);
  EXPECT_EQ(Verify().transfers(), transfers);
  EXPECT_FALSE(GetCard().blocked());

  r = Kiosk(kiosk_.dir, "--json sync");
  EXPECT_EQ(JsonField(r.out, "settled"), "1") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 500);
}

// 8. A copy of the card's state run as a second card: both sign the same counter. The
// upload finds the conflict, blocks the card with both records as evidence, pays the
// overspend from CARD_LOSSES, and the kiosk refuses the card once it has the deny-list.
TEST_F(CardStackTest, ClonedCardSameCounterBlocked) {
  VirtualCard& card = IssueCard();
  Remove(card);
  const std::string clone_state = tmp_.file("clone.state");
  std::filesystem::copy_file(state_, clone_state);
  Insert(state_);
  KioskRun r = Kiosk(kiosk_.dir, "--json pay 40");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string counter = JsonField(r.out, "card counter");
  Remove(*cards_.back());
  Insert(clone_state);
  r = Kiosk(kiosk_.dir, "--json pay 40");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "card counter"), counter) << r.out;  // the same counter
  Remove(*cards_.back());

  r = Kiosk(kiosk_.dir, "--json sync");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "deny-list"), "1 card(s)") << r.out;
  const v1::Card c = GetCard();
  EXPECT_TRUE(c.blocked());
  EXPECT_EQ(c.block_reason(), v1::CARD_BLOCK_REASON_COUNTER_CONFLICT);
  EXPECT_GE(c.evidence_size(), 2) << c.DebugString();
  EXPECT_EQ(c.shadow_balance_minor(), 0);
  // 80.00 spent from a 50.00 purse: 50.00 from the float, 30.00 from CARD_LOSSES.
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 8000);
  const v1::CardFloatRow row = FloatRow();
  EXPECT_EQ(row.card_float_minor(), 0);
  EXPECT_EQ(row.card_losses_minor(), -3000);
  bool listed = false;
  const v1::CardAuditReply audit = Audit();
  for (const v1::Card& b : audit.blocked_cards()) listed |= b.card_id() == c.card_id();
  EXPECT_TRUE(listed);

  Insert(state_);
  r = Kiosk(kiosk_.dir, "pay 1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("deny-list"), std::string::npos) << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 8000);
}

// 9. A clone that skips ahead: the card's state copied (its key extracted), and a record
// signed with that key for counter + 6 on the same previous hash as the genuine card's next
// record. ayni-vcard refuses to run such a state (its last record must hash to its chain),
// so the clone's record is signed here and uploaded by the kiosk that took it, as kiosk A
// would: CHAIN_FORK, the card blocked with both records as evidence.
TEST_F(CardStackTest, ClonedCardSkippingAheadIsChainFork) {
  VirtualCard& card = IssueCard();
  Remove(card);
  Result<std::optional<cardio::CardState>> loaded = cardio::LoadCardState(state_);
  ASSERT_TRUE(loaded.ok() && loaded->has_value()) << loaded.status().ToString();
  const std::optional<cardio::CardState>& copied = *loaded;

  Insert(state_);
  KioskRun r = Kiosk(kiosk_.dir, "pay 10");
  ASSERT_EQ(r.code, 0) << r.out;
  Remove(*cards_.back());
  Result<cardio::SignedRecord> genuine = cardio::ParseSignedRecord(FirstDebit(kiosk_));
  ASSERT_TRUE(genuine.ok()) << genuine.status().ToString();
  ASSERT_EQ(genuine->record.counter, copied->counter + 1);
  ASSERT_EQ(genuine->record.previous_hash, copied->last_hash);
  r = Kiosk(kiosk_.dir, "--json sync");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "settled"), "1") << r.out;
  EXPECT_FALSE(GetCard().blocked());

  cardio::SignedRecord ahead = *genuine;
  ahead.record.counter = copied->counter + 6;
  ahead.record.terminal_sequence += 1;
  ahead.record.terminal_nonce[0] ^= 0xff;
  ahead.record.previous_hash = copied->last_hash;  // the same as the genuine next record
  ahead.signature =
      cardio::SignWithPrefix(cardio::KeyPairFromSeed(copied->key_seed), cardio::kRecordPrefix,
                             cardio::EncodeRecordBody(ahead.record));
  v1::SubmitOfflineBatchReply rep;
  AYNI_EXPECT_OK(Submit(kiosk_.api_key, kiosk_.terminal, {cardio::EncodeSignedRecord(ahead)},
                        KeyOf(kiosk_), 100, &rep));
  ASSERT_EQ(rep.results_size(), 1) << rep.DebugString();
  EXPECT_EQ(rep.results(0).blocked(), v1::CARD_BLOCK_REASON_CHAIN_FORK) << rep.DebugString();
  const v1::Card c = GetCard();
  EXPECT_TRUE(c.blocked());
  EXPECT_EQ(c.block_reason(), v1::CARD_BLOCK_REASON_CHAIN_FORK) << c.DebugString();
  EXPECT_GE(c.evidence_size(), 2) << c.DebugString();
  r = Kiosk(kiosk_.dir, "--json sync");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(JsonField(r.out, "deny-list"), "1 card(s)") << r.out;
}

// 10. Kiosk B uploads a record kiosk A took: WRONG_TERMINAL, nobody paid; A's own upload
// then settles it to A's merchant.
TEST_F(CardStackTest, OtherKiosksRecordIsWrongTerminal) {
  KioskInfo b;
  AddKiosk("02", &b);
  ASSERT_FALSE(HasFatalFailure());
  IssueCard();
  KioskRun r = Kiosk(kiosk_.dir, "pay 5");
  ASSERT_EQ(r.code, 0) << r.out;
  v1::SubmitOfflineBatchReply rep;
  AYNI_EXPECT_OK(Submit(b.api_key, b.terminal, {FirstDebit(kiosk_)}, KeyOf(b), 1, &rep));
  ASSERT_EQ(rep.results_size(), 1) << rep.DebugString();
  EXPECT_EQ(rep.results(0).status(), v1::RECEIPT_STATUS_REJECTED);
  EXPECT_EQ(rep.results(0).reject(), v1::RECEIPT_REJECT_WRONG_TERMINAL);
  EXPECT_EQ(BalanceOf(*admin_, b.merchant), 0);
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 0);
  EXPECT_EQ(GetCard().records(), 0u);
  r = Kiosk(kiosk_.dir, "--json sync");
  EXPECT_EQ(JsonField(r.out, "settled"), "1") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 500);
  EXPECT_EQ(BalanceOf(*admin_, b.merchant), 0);
  EXPECT_EQ(GetCard().shadow_balance_minor(), 4500);
}

// 11. A load token applied once, then sent again with CREDIT LOAD through PC/SC: the card
// refuses it and its balance stays; the member paid for one load.
TEST_F(CardStackTest, ReplayedLoadTokenRefusedByCard) {
  IssueCard();
  auto reader = cardio::PcscReader::Open();
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_TRUE((*reader)->WaitForCard(kReader, 15000).ok());
  ASSERT_TRUE((*reader)->Connect(kReader).ok());
  cardio::PurseClient card(**reader);
  auto sel = card.Select();
  ASSERT_TRUE(sel.ok() && sel->ok());
  auto challenge = card.InitializeLoad(Amount(1000));
  ASSERT_TRUE(challenge.ok() && challenge->ok());
  v1::AuthorizeLoadRequest q;
  q.set_request_id(NewId());
  q.set_card_id(Str(CardId::FromHex(kCardHex)->bytes()));
  q.set_amount_minor(1000);
  q.set_counter(challenge->value->counter);
  q.set_challenge(
      std::string(challenge->value->challenge.begin(), challenge->value->challenge.end()));
  q.set_card_signature(
      std::string(challenge->value->signature.begin(), challenge->value->signature.end()));
  v1::AuthorizeLoadReply rep;
  AYNI_EXPECT_OK(cards_service_->AuthorizeLoad(Ctx(teller_).get(), q, &rep));
  ASSERT_EQ(rep.reason(), v1::REASON_OK) << rep.detail();
  const std::string& tb = rep.load_token();
  Result<cardio::SignedLoadToken> token = cardio::ParseSignedLoadToken(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(tb.data()), tb.size()));
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto applied = card.CreditLoad(*token);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  ASSERT_TRUE(applied->ok()) << cardio::SwName(applied->sw);
  auto before = card.GetBalance();
  ASSERT_TRUE(before.ok() && before->ok());
  EXPECT_EQ(before->value->balance.minor(), 6000);

  // Right after the load: no challenge is pending (6985).
  auto replay = card.CreditLoad(*token);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_EQ(replay->sw, cardio::Sw::kConditionsOfUse) << cardio::SwName(replay->sw);
  // With a fresh challenge pending, the old token is for another counter and challenge
  // (6982).
  auto fresh = card.InitializeLoad(Amount(1000));
  ASSERT_TRUE(fresh.ok() && fresh->ok());
  replay = card.CreditLoad(*token);
  ASSERT_TRUE(replay.ok()) << replay.status().ToString();
  EXPECT_EQ(replay->sw, cardio::Sw::kSecurityStatus) << cardio::SwName(replay->sw);
  auto after = card.GetBalance();
  ASSERT_TRUE(after.ok() && after->ok());
  EXPECT_EQ(after->value->balance.minor(), 6000);
  EXPECT_EQ(after->value->counter, before->value->counter);
  (*reader)->Disconnect();
  EXPECT_EQ(BalanceOf(*admin_, net_.a[0]), kDeposit - 5000 - 1000);
}

// 12. A card whose certificate expired: the kiosk refuses it offline, nothing queued.
TEST_F(CardStackTest, ExpiredCertificateRefusedOffline) {
  const uint64_t expiry = static_cast<uint64_t>(std::time(nullptr)) + 4;
  IssueCard("50", std::to_string(expiry));
  KioskRun r = Kiosk(kiosk_.dir, "pay 1");
  ASSERT_EQ(r.code, 0) << r.out;  // still valid
  while (static_cast<uint64_t>(std::time(nullptr)) <= expiry) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  r = Kiosk(kiosk_.dir, "pay 1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("expired"), std::string::npos) << r.out;
  r = Kiosk(kiosk_.dir, "--json status");
  EXPECT_EQ(JsonField(r.out, "receipts"), "2") << r.out;
  r = Kiosk(kiosk_.dir, "--json sync");
  EXPECT_EQ(JsonField(r.out, "settled"), "1") << r.out;  // the sale made before expiry
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 100);
}

// 13. A batch from a terminal the bank never registered: refused as a whole, nothing
// written; the genuine kiosk's upload then settles the record.
TEST_F(CardStackTest, UnknownKioskBatchRefused) {
  IssueCard();
  KioskRun r = Kiosk(kiosk_.dir, "pay 5");
  ASSERT_EQ(r.code, 0) << r.out;
  const TerminalId unknown = *TerminalId::FromHex("7e0000000000000000000000000000ff");
  cardio::KeySeed seed{};
  seed.fill(0x5a);
  const KeyPair stranger = cardio::KeyPairFromSeed(seed);
  const uint64_t transfers = Verify().transfers();
  for (const std::string& token :
       {kiosk_.api_key, NewKey(*admin_, v1::ROLE_ADMIN, v1::SCOPE_KIND_BANK, net_.bank_a)}) {
    v1::SubmitOfflineBatchReply rep;
    const grpc::Status s = Submit(token, unknown, {FirstDebit(kiosk_)}, stranger, 1, &rep);
    EXPECT_TRUE(s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
                s.error_code() == grpc::StatusCode::NOT_FOUND)
        << s.error_code() << " " << s.error_message();
  }
  EXPECT_EQ(Verify().transfers(), transfers);
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 0);
  EXPECT_EQ(GetCard().records(), 0u);
  r = Kiosk(kiosk_.dir, "--json sync");
  EXPECT_EQ(JsonField(r.out, "settled"), "1") << r.out;
  EXPECT_EQ(BalanceOf(*admin_, kiosk_.merchant), 500);
}

}  // namespace
