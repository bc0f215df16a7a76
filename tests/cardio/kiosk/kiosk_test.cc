// The kiosk end to end without hardware or server: the purse applet in-process behind the
// same APDUs as a reader, and a fake CardService holding the bank key. Covers the offline
// checks and their refusals, durability before "paid", recovery of a pulled card exactly
// once, batch upload and marking (with a lost reply), card-signed loads and card issue.
#include "cardio/kiosk/kiosk.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cardio/applet.h"
#include "cardio/channel.h"
#include "clearing/card/kiosk_batch.h"
#include "clearing/card/load_request.h"
#include "tests/cardio/card_fixture.h"
#include "tests/cardio/kiosk/kiosk_test_support.h"

namespace ayni::cardio::kiosk {
namespace {

using cardio::testing::kExpiry;
using cardio::testing::kNow;
using cardio::testing::TestBank;
using cardio::testing::TestCardId;
using cardio::testing::TestTerminal;

// The bank's CardService as far as the kiosk can tell: certifies cards, checks the card's
// load request, settles each record once, serves the deny-list.
class FakeCardService final : public CardServer {
 public:
  Result<RegisterCardAnswer> RegisterCard(const RegisterCardCall& c) override {
    Certificate cert;
    cert.scheme_id = 1;
    cert.card_id = c.card_id;
    cert.card_public_key = c.public_key;
    cert.member_account = AccountId(c.account_id);
    cert.currency = CurrencyId(7);
    cert.limits = c.limits;
    cert.expiry_s = c.expiry_s;
    card_keys[c.card_id] = c.public_key;
    return RegisterCardAnswer{"", EncodeSignedCertificate(IssueCertificate(cert, bank)),
                              Bytes(bank.public_key.begin(), bank.public_key.end())};
  }

  Result<AuthorizeLoadAnswer> AuthorizeLoad(const AuthorizeLoadCall& c) override {
    loads.push_back(c);
    if (!refuse_load.empty()) return AuthorizeLoadAnswer{refuse_load, {}};
    auto key = card_keys.find(c.card_id);
    if (key == card_keys.end() ||
        !VerifyLoadRequestSignature({c.card_id, c.counter, c.challenge, c.amount}, c.card_signature,
                                    key->second)) {
      return AuthorizeLoadAnswer{"REASON_CARD_SIGNATURE_INVALID", {}};
    }
    LoadToken t;
    t.card_id = c.card_id;
    t.counter = c.counter;
    t.challenge = c.challenge;
    t.amount = c.amount;
    t.load_id = c.load_id;
    t.offline_amount_cap = c.offline_amount_cap.value_or(Amount(20000));
    t.offline_count_cap = c.offline_count_cap.value_or(10);
    return AuthorizeLoadAnswer{"", EncodeSignedLoadToken(SignLoadToken(t, bank))};
  }

  Result<BatchAnswer> SubmitOfflineBatch(const BatchCall& c) override {
    if (!VerifyKioskBatch(c.terminal_id, c.batch_sequence, c.records, c.kiosk_signature,
                          kiosk_key)) {
      return Status::Unavailable("SubmitOfflineBatch: INVALID_ARGUMENT: kiosk signature");
    }
    batches.push_back(c);
    BatchAnswer a;
    for (uint32_t i = 0; i < c.records.size(); ++i) {
      const Result<SignedRecord> r = ParseSignedRecord(c.records[i]);
      BatchResult res{i, ReceiptVerdict::kSettled, 0};
      if (reject_counter && r->record.counter == *reject_counter) {
        res.verdict = ReceiptVerdict::kRejected;
        res.reject = 2;
      } else if (!settled.insert(c.records[i]).second) {
        res.verdict = ReceiptVerdict::kDuplicate;
      } else if (r->record.type == RecordType::kLoad) {
        res.verdict = ReceiptVerdict::kLoadConfirmed;
      }
      a.results.push_back(res);
    }
    if (lose_batch_reply) return Status::Unavailable("SubmitOfflineBatch: UNAVAILABLE: reply lost");
    return a;
  }

  Result<DenyList> GetDenyList() override {
    return DenyList{kNow * 1'000'000'000ull, blocked, {{1, deny_list_bank_key}}};
  }

  KeyPair bank = TestBank();
  PublicKey deny_list_bank_key = TestBank().public_key;
  PublicKey kiosk_key{};
  std::map<CardId, PublicKey> card_keys;
  std::set<Bytes> settled;
  std::vector<BatchCall> batches;
  std::vector<AuthorizeLoadCall> loads;
  std::vector<CardId> blocked;
  std::optional<uint32_t> reject_counter;
  bool lose_batch_reply = false;
  std::string refuse_load;
};

class KioskTest : public ::testing::Test {
 protected:
  KioskTest() : applet_(card_random_), channel_(applet_), card_(channel_) {
    server_.kiosk_key = kiosk_key_.public_key;
  }

  // The card: personalised by the test bank, loaded with `amount` (caps 20000 / 10 unless
  // given).
  void IssueCard(Amount amount, Amount amount_cap = Amount(20000), uint32_t count_cap = 10) {
    cert_ = cardio::testing::Personalise(card_, server_.bank);
    server_.card_keys[TestCardId()] = cert_.certificate.card_public_key;
    Result<SignedRecord> load =
        LoadCard(card_, server_.bank, TestCardId(),
                 {amount, cardio::testing::LoadNumber(1), amount_cap, count_cap});
    ASSERT_TRUE(load.ok()) << load.status().ToString();
  }

  void OpenKiosk(OfflinePolicy policy = {}) {
    kiosk_.reset();  // releases the directory lock first
    KioskIdentity id;
    id.terminal_id = TestTerminal();
    id.kiosk_id = 3;
    id.merchant_account = 77;
    id.policy = policy;
    Result<std::unique_ptr<Kiosk>> k = Kiosk::Open(dir_.path(), id, kiosk_key_, kiosk_random_);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    kiosk_ = std::move(k).value();
  }

  void SyncOk(uint64_t now = kNow) {
    Result<Outcome> o = kiosk_->Sync(server_, now);
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    ASSERT_FALSE(o->refused);
  }

  Amount CardBalance() { return applet_.state().balance; }

  Outcome PayOutcome(int64_t minor, uint64_t now = kNow) {
    Result<Outcome> o = kiosk_->Pay(card_, Amount(minor), now);
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    return o.ok() ? *o : Outcome{};
  }

  std::vector<Receipt> ReceiptsOnDisk() {
    std::vector<std::string> w;
    Result<ReceiptLog> log = ReceiptLog::Open(ReceiptsPath(dir_.path()), &w);
    EXPECT_TRUE(log.ok());
    return log.ok() ? log->receipts() : std::vector<Receipt>{};
  }

  testing::TempDir dir_;
  SeededRandom card_random_{11};
  SeededRandom kiosk_random_{12};
  KeyPair kiosk_key_ = KeyPairFromSeed(cardio::testing::FilledSeed(0x4B));
  PurseApplet applet_;
  testing::PullableChannel channel_;
  PurseClient card_;
  SignedCertificate cert_;
  FakeCardService server_;
  std::unique_ptr<Kiosk> kiosk_;
};

TEST_F(KioskTest, PaysOfflineAndTheReceiptIsOnDiskWhenItSaysPaid) {
  IssueCard(Amount(10000));
  OpenKiosk();
  SyncOk();
  const Outcome o = PayOutcome(1250);
  ASSERT_FALSE(o.refused) << o.message;
  EXPECT_EQ(o.message, "paid 12.50");
  EXPECT_EQ(CardBalance(), Amount(8750));
  const std::vector<Receipt> disk = ReceiptsOnDisk();
  ASSERT_EQ(disk.size(), 1u);
  EXPECT_EQ(disk[0].state, ReceiptState::kUnsent);
  EXPECT_EQ(disk[0].record, *applet_.state().last_record);
  EXPECT_TRUE(CheckRecordAgainstCertificate(disk[0].record, cert_.certificate).ok());
  EXPECT_EQ(disk[0].record.record.terminal_id, TestTerminal());
  EXPECT_EQ(disk[0].record.record.terminal_sequence, 1u);
  EXPECT_EQ(kiosk_->state().terminal_sequence, 1u);
  EXPECT_TRUE(kiosk_->state().pending.empty());
  // A second payment uses the next terminal sequence; the state survives a restart.
  ASSERT_FALSE(PayOutcome(100).refused);
  OpenKiosk();
  EXPECT_EQ(kiosk_->state().terminal_sequence, 2u);
  EXPECT_EQ(kiosk_->receipts().Unsent().size(), 2u);
}

// Every offline refusal: the card is not debited and nothing is stored.
TEST_F(KioskTest, OfflineRefusals) {
  IssueCard(Amount(10000), Amount(20000), 2);
  auto expect_refused = [&](const char* name, int64_t minor, uint64_t now, const char* part) {
    SCOPED_TRACE(name);
    const Amount before = CardBalance();
    const size_t receipts = kiosk_->receipts().receipts().size();
    const Outcome o = PayOutcome(minor, now);
    EXPECT_TRUE(o.refused);
    EXPECT_NE(o.message.find(part), std::string::npos) << o.message;
    EXPECT_EQ(CardBalance(), before);
    EXPECT_EQ(kiosk_->receipts().receipts().size(), receipts);
  };
  OpenKiosk();
  expect_refused("never synced", 100, kNow, "go online: sync first (no deny-list yet)");

  server_.deny_list_bank_key = KeyPairFromSeed(cardio::testing::FilledSeed(0x99)).public_key;
  SyncOk();
  expect_refused("unknown bank", 100, kNow, "not signed by any bank");
  server_.deny_list_bank_key = server_.bank.public_key;

  SyncOk();
  expect_refused("deny-list too old", 100, kNow + 24 * 3600 + 1, "deny-list is 1d 0h 0m");
  OpenKiosk({UINT64_MAX, UINT64_MAX});  // a policy that never asks to go online
  expect_refused("expired certificate", 100, kExpiry, "expired");
  OpenKiosk();
  expect_refused("above the payment max", 5001, kNow, "payment limit");

  server_.blocked = {TestCardId()};
  SyncOk();
  expect_refused("on the deny-list", 100, kNow, "deny-list");
  server_.blocked.clear();
  SyncOk();

  ASSERT_FALSE(PayOutcome(9000 - 4500).refused);  // 4500
  ASSERT_FALSE(PayOutcome(4500).refused);         // two payments: the load's count cap
  expect_refused("card says go online", 100, kNow, "must go online");
  // The oldest unsent receipt too old (with a patient deny-list policy).
  OpenKiosk({100 * 86400, 72 * 3600});
  expect_refused("unsent too old", 100, kNow + 72 * 3600 + 1, "oldest receipt");
}

TEST_F(KioskTest, InsufficientBalanceIsTheCardsRefusal) {
  IssueCard(Amount(300));
  OpenKiosk();
  SyncOk();
  const Outcome o = PayOutcome(301);
  EXPECT_TRUE(o.refused);
  EXPECT_NE(o.message.find("insufficient balance"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("9110"), std::string::npos);
  EXPECT_EQ(kiosk_->state().terminal_sequence, 0u);  // the card signed nothing
  EXPECT_TRUE(kiosk_->receipts().receipts().empty());
}

TEST_F(KioskTest, CardPulledAfterDebitIsRecoveredExactlyOnce) {
  IssueCard(Amount(10000));
  OpenKiosk();
  SyncOk();
  channel_.PullAt(kInsDebit, /*after_execution=*/true);
  Result<Outcome> o = kiosk_->Pay(card_, Amount(700), kNow);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(o.status().message().find("NOT paid yet"), std::string::npos);
  EXPECT_EQ(CardBalance(), Amount(9300));  // the card did debit
  EXPECT_TRUE(ReceiptsOnDisk().empty());
  ASSERT_EQ(kiosk_->state().pending.size(), 1u);

  OpenKiosk();  // a restart in between: the pending purchase is on disk
  ASSERT_EQ(kiosk_->state().pending.size(), 1u);
  Result<Outcome> r = kiosk_->Recover(card_, kNow + 60);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->notes.size(), 1u);
  EXPECT_NE(r->notes[0].find("went through"), std::string::npos) << r->notes[0];
  EXPECT_TRUE(kiosk_->state().pending.empty());
  ASSERT_EQ(ReceiptsOnDisk().size(), 1u);
  EXPECT_EQ(ReceiptsOnDisk()[0].record, *applet_.state().last_record);

  Result<Outcome> again = kiosk_->Recover(card_, kNow + 120);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(again->message.find("nothing pending"), std::string::npos);
  EXPECT_EQ(ReceiptsOnDisk().size(), 1u);
}

TEST_F(KioskTest, CardPulledBeforeDebitDidNotPay) {
  IssueCard(Amount(10000));
  OpenKiosk();
  SyncOk();
  channel_.PullAt(kInsDebit, /*after_execution=*/false);
  ASSERT_FALSE(kiosk_->Pay(card_, Amount(700), kNow).ok());
  EXPECT_EQ(CardBalance(), Amount(10000));
  // The next payment with that card settles the pending one first, then pays.
  const Outcome o = PayOutcome(200);
  ASSERT_FALSE(o.refused) << o.message;
  ASSERT_EQ(o.notes.size(), 1u);
  EXPECT_NE(o.notes[0].find("did not go through"), std::string::npos) << o.notes[0];
  EXPECT_TRUE(kiosk_->state().pending.empty());
  ASSERT_EQ(ReceiptsOnDisk().size(), 1u);
  EXPECT_EQ(ReceiptsOnDisk()[0].record.record.amount, Amount(200));
}

// A debit record that does not verify is not a sale: nothing stored, nothing pending.
TEST_F(KioskTest, ARecordThatDoesNotVerifyIsNotPaid) {
  IssueCard(Amount(10000));
  OpenKiosk();
  SyncOk();
  channel_.FlipAnswerTo(kInsDebit, kRecordBodySize + 3);  // a byte of the signature
  Result<Outcome> o = kiosk_->Pay(card_, Amount(700), kNow);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(o.status().message().find("NOT paid"), std::string::npos) << o.status().message();
  EXPECT_TRUE(kiosk_->state().pending.empty());
  EXPECT_TRUE(ReceiptsOnDisk().empty());
}

TEST_F(KioskTest, SyncUploadsSignedBatchesAndMarksEachResult) {
  IssueCard(Amount(10000));
  OpenKiosk();
  SyncOk();
  for (int64_t a : {100, 200, 300}) ASSERT_FALSE(PayOutcome(a).refused);
  server_.reject_counter = 3;  // the second payment (counter 1 is the load)
  Result<Outcome> o = kiosk_->Sync(server_, kNow + 10);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_EQ(server_.batches.size(), 1u);
  const BatchCall& b = server_.batches[0];
  EXPECT_EQ(b.batch_sequence, 1u);  // the first sync had no receipts: no batch
  EXPECT_EQ(b.records.size(), 3u);
  EXPECT_TRUE(VerifyKioskBatch(b.terminal_id, b.batch_sequence, b.records, b.kiosk_signature,
                               kiosk_key_.public_key));
  ASSERT_EQ(o->notes.size(), 1u);
  EXPECT_NE(o->notes[0].find("rejected by the bank"), std::string::npos);
  EXPECT_NE(o->notes[0].find("wrong terminal"), std::string::npos);
  OpenKiosk();
  EXPECT_TRUE(kiosk_->receipts().Unsent().empty());
  EXPECT_EQ(kiosk_->receipts().receipts()[1].state, ReceiptState::kRejected);
  EXPECT_EQ(kiosk_->receipts().receipts()[0].state, ReceiptState::kSent);
  EXPECT_EQ(kiosk_->state().deny_list_fetched_s, kNow + 10);
  // Nothing left: the next sync uploads nothing.
  SyncOk(kNow + 20);
  EXPECT_EQ(server_.batches.size(), 1u);
}

TEST_F(KioskTest, ALostBatchReplyIsReuploadedAsDuplicates) {
  IssueCard(Amount(10000));
  OpenKiosk();
  SyncOk();
  for (int64_t a : {100, 200}) ASSERT_FALSE(PayOutcome(a).refused);
  server_.lose_batch_reply = true;
  Result<Outcome> lost = kiosk_->Sync(server_, kNow);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(kiosk_->receipts().Unsent().size(), 2u);
  server_.lose_batch_reply = false;
  Result<Outcome> o = kiosk_->Sync(server_, kNow);
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(kiosk_->receipts().Unsent().empty());
  ASSERT_EQ(server_.batches.size(), 2u);
  EXPECT_EQ(server_.batches[1].batch_sequence, server_.batches[0].batch_sequence + 1);
  const auto duplicates = std::find(o->fields.begin(), o->fields.end(),
                                    std::pair<std::string, std::string>{"duplicates", "2"});
  EXPECT_NE(duplicates, o->fields.end());
}

TEST_F(KioskTest, BatchesHoldAtMostAThousandRecords) {
  {
    // 1001 receipts of a fake card straight into the log.
    std::vector<std::string> w;
    Result<ReceiptLog> log = ReceiptLog::Open(ReceiptsPath(dir_.path()), &w);
    ASSERT_TRUE(log.ok());
    const KeyPair card = KeyPairFromSeed(cardio::testing::FilledSeed(0x21));
    for (uint32_t i = 1; i <= 1001; ++i) {
      OfflineRecord r;
      r.card_id = TestCardId();
      r.counter = i;
      r.amount = Amount(1);
      r.terminal_id = TestTerminal();
      r.terminal_sequence = i;
      ASSERT_TRUE(log.value()
                      .Add({r, SignWithPrefix(card, kRecordPrefix, EncodeRecordBody(r))}, kNow)
                      .ok());
    }
  }
  OpenKiosk();
  SyncOk();
  ASSERT_EQ(server_.batches.size(), 2u);
  EXPECT_EQ(server_.batches[0].records.size(), kBatchRecordsMax);
  EXPECT_EQ(server_.batches[1].records.size(), 1u);
  EXPECT_TRUE(kiosk_->receipts().Unsent().empty());
}

TEST_F(KioskTest, LoadIsSignedByTheCardAndItsRecordQueued) {
  IssueCard(Amount(1000));
  OpenKiosk();
  SyncOk();
  Result<Outcome> o = kiosk_->Load(card_, server_, Amount(3000), {Amount(5000), 4}, kNow);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_FALSE(o->refused) << o->message;
  EXPECT_EQ(CardBalance(), Amount(4000));
  EXPECT_EQ(applet_.state().offline_count_cap, 4u);
  ASSERT_EQ(server_.loads.size(), 1u);
  EXPECT_EQ(server_.loads[0].amount, Amount(3000));
  ASSERT_EQ(ReceiptsOnDisk().size(), 1u);
  EXPECT_EQ(ReceiptsOnDisk()[0].record.record.type, RecordType::kLoad);
  EXPECT_EQ(ReceiptsOnDisk()[0].record.record.last_load_id, server_.loads[0].load_id);

  server_.refuse_load = "REASON_INSUFFICIENT_FUNDS: member account";
  Result<Outcome> refused = kiosk_->Load(card_, server_, Amount(3000), {}, kNow);
  ASSERT_TRUE(refused.ok());
  EXPECT_TRUE(refused->refused);
  EXPECT_NE(refused->message.find("INSUFFICIENT_FUNDS"), std::string::npos);
  EXPECT_EQ(CardBalance(), Amount(4000));
  EXPECT_EQ(ReceiptsOnDisk().size(), 1u);
}

// Loads are online: a desk that never synced fetches the banks' keys first.
TEST_F(KioskTest, LoadFetchesTheBanksKeysWhenItHasNone) {
  IssueCard(Amount(1000));
  OpenKiosk();
  ASSERT_TRUE(kiosk_->state().bank_keys.empty());
  Result<Outcome> o = kiosk_->Load(card_, server_, Amount(500), {}, kNow);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_FALSE(o->refused) << o->message;
  EXPECT_EQ(kiosk_->state().bank_keys.size(), 1u);
  EXPECT_EQ(CardBalance(), Amount(1500));
  // A card of a bank the server does not list is refused, nothing loaded.
  server_.deny_list_bank_key = KeyPairFromSeed(cardio::testing::FilledSeed(0x99)).public_key;
  SyncOk();
  Result<Outcome> unknown = kiosk_->Load(card_, server_, Amount(500), {}, kNow);
  ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
  EXPECT_TRUE(unknown->refused);
  EXPECT_EQ(CardBalance(), Amount(1500));
  EXPECT_EQ(server_.loads.size(), 1u);
}

TEST_F(KioskTest, IssuePersonalisesABlankCard) {
  OpenKiosk();
  IssueTerms t;
  t.card_id = TestCardId();
  t.account_id = 42;
  t.limits = {Amount(5000), Amount(20000), 10, Amount(100000)};
  t.expiry_s = kExpiry;
  Result<Outcome> o = kiosk_->Issue(card_, server_, t);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_FALSE(o->refused) << o->message;
  EXPECT_EQ(applet_.state().lifecycle, Lifecycle::kIssued);
  ASSERT_TRUE(applet_.state().certificate.has_value());
  EXPECT_TRUE(VerifyCertificate(*applet_.state().certificate, server_.bank.public_key).ok());
  EXPECT_EQ(applet_.state().certificate->certificate.member_account, AccountId(42));
  // Personalisation is locked now.
  Result<Outcome> again = kiosk_->Issue(card_, server_, t);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->refused);
  // Bad terms are refused before the card is touched.
  t.limits.payment_max = Amount(0);
  EXPECT_EQ(kiosk_->Issue(card_, server_, t).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(KioskTest, TheDirectoryHasOneKioskAtATime) {
  OpenKiosk();
  KioskIdentity id;
  id.terminal_id = TestTerminal();
  Result<std::unique_ptr<Kiosk>> second = Kiosk::Open(dir_.path(), id, kiosk_key_, kiosk_random_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(KioskTest, KioskKeyIsCreatedOnceAndPrivate) {
  const std::string d = dir_.file("k");
  Result<KeyPair> k = CreateKioskKey(d, kiosk_random_);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(d.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(KeyPath(d).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadKioskKey(d)->public_key, k->public_key);
  EXPECT_EQ(CreateKioskKey(d, kiosk_random_).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadKioskKey(dir_.file("none")).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace ayni::cardio::kiosk
