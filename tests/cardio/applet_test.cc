// The purse applet over APDUs: every command's success path and each refusal, the
// "never two signatures for one counter" property, recovery with GET LAST RECORD, and the
// state file round trip.
#include "cardio/applet.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

#include "cardio/channel.h"
#include "cardio/host.h"
#include "cardio/issuer.h"
#include "cardio/purse_client.h"
#include "tests/cardio/card_fixture.h"

namespace ayni::cardio {
namespace {

using testing::kExpiry;
using testing::kNow;
using testing::LoadNumber;
using testing::Purchase;
using testing::TestBank;
using testing::TestCardId;
using testing::TokenFor;

class AppletTest : public ::testing::Test {
 protected:
  AppletTest() : applet_(random_), channel_(applet_), client_(channel_) {}

  // A card personalised, issued and loaded with `amount` (caps from the certificate).
  void IssueAndLoad(Amount amount) {
    cert_ = testing::Personalise(client_, bank_);
    ASSERT_EQ(applet_.state().lifecycle, Lifecycle::kIssued);
    auto r = client_.CreditLoad(TokenFor(client_, bank_, amount, LoadNumber(1)));
    ASSERT_TRUE(r.ok() && r->ok());
  }

  Sw Raw(Bytes command) {
    Result<ResponseApdu> r = ParseResponseApdu(applet_.Process(command));
    EXPECT_TRUE(r.ok());
    return r->sw;
  }

  // One purchase, both steps; returns the DEBIT's SW (or INITIALIZE PURCHASE's refusal).
  Sw Pay(const PurchaseRequest& p, SignedRecord* out = nullptr) {
    auto q = client_.InitializePurchase(p);
    EXPECT_TRUE(q.ok());
    if (!q->ok()) return q->sw;
    auto d = client_.Debit();
    EXPECT_TRUE(d.ok());
    if (d->ok()) {
      EXPECT_TRUE(CheckDebitMatches(*d->value, p, *q->value).ok());
      EXPECT_TRUE(CheckRecordAgainstCertificate(*d->value, cert_.certificate).ok());
      if (out) *out = *d->value;
    }
    return d->sw;
  }

  SeededRandom random_{7};
  KeyPair bank_ = TestBank();
  PurseApplet applet_;
  AppletChannel channel_;
  PurseClient client_;
  SignedCertificate cert_;
};

// ---- Selection, class, instruction, P1-P2 ----------------------------------------------

TEST_F(AppletTest, CommandsBeforeSelectAreRefused) {
  EXPECT_EQ(Raw({0x80, kInsGetBalance, 0, 0, 0}), Sw::kConditionsOfUse);
  auto sel = client_.Select();
  ASSERT_TRUE(sel.ok() && sel->ok());
  EXPECT_EQ(sel->value->version, kProtocolVersion);
  EXPECT_EQ(sel->value->lifecycle, Lifecycle::kBlank);
  applet_.Reset();  // power cycle: deselected
  EXPECT_EQ(Raw({0x80, kInsGetCardData, 0, 0, 0}), Sw::kConditionsOfUse);
}

TEST_F(AppletTest, SelectRefusals) {
  Bytes wrong_aid = {0x00, 0xA4, 0x04, 0x00, 3, 0xA0, 0x00, 0x01, 0x00};
  EXPECT_EQ(Raw(wrong_aid), Sw::kAppletNotFound);
  Bytes good = {0x00, 0xA4, 0x04, 0x00, 10};
  good.insert(good.end(), kAid.begin(), kAid.end());
  Bytes no_le = good;
  EXPECT_EQ(Raw(no_le), Sw::kWrongLength);
  good.push_back(0x01);
  EXPECT_EQ(Raw(good), WrongLe(2));
  good.back() = 0x02;
  EXPECT_EQ(Raw(good), Sw::kOk);
  Bytes bad_p1 = good;
  bad_p1[2] = 0x00;
  EXPECT_EQ(Raw(bad_p1), Sw::kWrongP1P2);
  // A failed SELECT deselects.
  EXPECT_EQ(Raw({0x80, kInsGetCardData, 0, 0, 0}), Sw::kConditionsOfUse);
}

TEST_F(AppletTest, ClassInstructionAndParameterRefusals) {
  ASSERT_TRUE(client_.Select()->ok());
  EXPECT_EQ(Raw({0x84, kInsGetBalance, 0, 0, 0}), Sw::kClaNotSupported);
  EXPECT_EQ(Raw({0x00, kInsGetBalance, 0, 0, 0}), Sw::kClaNotSupported);
  EXPECT_EQ(Raw({0x80, 0xA4, 0x04, 0, 1, 0xF0, 0}), Sw::kClaNotSupported);
  EXPECT_EQ(Raw({0x80, 0x20, 0, 0, 0}), Sw::kInsNotSupported);
  EXPECT_EQ(Raw({0x80, kInsGetBalance, 1, 0, 0}), Sw::kWrongP1P2);
  EXPECT_EQ(Raw({0x80, kInsGetBalance, 0, 1, 0}), Sw::kWrongP1P2);
  EXPECT_EQ(Raw({0x80, 0x50, 0, 0, 4, 1, 2}), Sw::kWrongLength);  // malformed C-APDU
  EXPECT_EQ(Raw({0x80}), Sw::kWrongLength);
}

// ---- Wrong lengths, for every instruction ----------------------------------------------

TEST_F(AppletTest, WrongLengthsForEveryInstruction) {
  IssueAndLoad(Amount(10000));
  struct Case {
    const char* name;
    Bytes command;
    Sw want;
  };
  auto with_data = [](uint8_t ins, size_t n, std::optional<uint8_t> le) {
    Bytes b = {0x80, ins, 0, 0, static_cast<uint8_t>(n)};
    b.resize(5 + n, 0x01);
    if (le) b.push_back(*le);
    return b;
  };
  const std::vector<Case> cases = {
      {"card_data_no_le", {0x80, kInsGetCardData, 0, 0}, Sw::kWrongLength},
      {"card_data_small_le", {0x80, kInsGetCardData, 0, 0, 0x10}, WrongLe(218)},
      {"card_data_with_data", with_data(kInsGetCardData, 1, 0), Sw::kWrongLength},
      {"balance_no_le", {0x80, kInsGetBalance, 0, 0}, Sw::kWrongLength},
      {"balance_small_le", {0x80, kInsGetBalance, 0, 0, 35}, WrongLe(36)},
      {"balance_exact_le", {0x80, kInsGetBalance, 0, 0, 36}, Sw::kOk},
      {"purchase_short", with_data(kInsInitializePurchase, 51, 0), Sw::kWrongLength},
      {"purchase_long", with_data(kInsInitializePurchase, 53, 0), Sw::kWrongLength},
      {"purchase_no_le", with_data(kInsInitializePurchase, 52, std::nullopt), Sw::kWrongLength},
      {"purchase_small_le", with_data(kInsInitializePurchase, 52, 11), WrongLe(12)},
      {"debit_with_data", with_data(kInsDebit, 1, 0), Sw::kWrongLength},
      {"debit_no_le", {0x80, kInsDebit, 0, 0}, Sw::kWrongLength},
      {"last_record_small_le", {0x80, kInsGetLastRecord, 0, 0, 0xD1}, WrongLe(210)},
      {"init_load_small_le", with_data(kInsInitializeLoad, 8, 83), WrongLe(84)},
      {"init_load_no_le", with_data(kInsInitializeLoad, 8, std::nullopt), Sw::kWrongLength},
      {"init_load_no_amount", {0x80, kInsInitializeLoad, 0, 0, 0}, Sw::kWrongLength},
      {"init_load_short", with_data(kInsInitializeLoad, 7, 0), Sw::kWrongLength},
      {"init_load_long", with_data(kInsInitializeLoad, 9, 0), Sw::kWrongLength},
      {"credit_load_short", with_data(kInsCreditLoad, 136, 0), Sw::kWrongLength},
      {"credit_load_no_le", with_data(kInsCreditLoad, 137, std::nullopt), Sw::kWrongLength},
      {"generate_key_short", with_data(kInsGenerateKey, 15, 0), Sw::kWrongLength},
      {"bank_key_with_le", with_data(kInsPutBankKey, 32, 0), Sw::kWrongLength},
      {"bank_key_short", with_data(kInsPutBankKey, 31, std::nullopt), Sw::kWrongLength},
      {"certificate_short", with_data(kInsPutCertificate, 168, std::nullopt), Sw::kWrongLength},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const CardState before = applet_.state();
    EXPECT_EQ(SwName(Raw(c.command)), SwName(c.want));
    EXPECT_EQ(applet_.state(), before);  // a refused command changes nothing
  }
}

// ---- Wrong life cycle ----------------------------------------------------------------------

TEST_F(AppletTest, PurseCommandsNeedAnIssuedCard) {
  ASSERT_TRUE(client_.Select()->ok());
  for (int stage = 0; stage < 2; ++stage) {  // blank, then personalising
    SCOPED_TRACE(stage == 0 ? "blank" : "personalising");
    EXPECT_EQ(client_.GetBalance()->sw, Sw::kConditionsOfUse);
    EXPECT_EQ(client_.InitializePurchase(Purchase(Amount(1)))->sw, Sw::kConditionsOfUse);
    EXPECT_EQ(client_.Debit()->sw, Sw::kConditionsOfUse);
    EXPECT_EQ(client_.GetLastRecord()->sw, Sw::kConditionsOfUse);
    EXPECT_EQ(client_.InitializeLoad(Amount(10))->sw, Sw::kConditionsOfUse);
    LoadToken t;
    t.card_id = TestCardId();
    t.load_id = LoadNumber(1);
    EXPECT_EQ(client_.CreditLoad(SignLoadToken(t, bank_))->sw, Sw::kConditionsOfUse);
    EXPECT_EQ(applet_.state().counter, 0u);
    ASSERT_TRUE(client_.GenerateKey(TestCardId())->ok());
  }
}

// ---- Personalisation -------------------------------------------------------------------

TEST_F(AppletTest, PersonalisationThenCardData) {
  ASSERT_TRUE(client_.Select()->ok());
  auto before = client_.GetCardData();
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->sw, Sw::kConditionsOfUse);  // no key yet
  auto key = client_.GenerateKey(TestCardId());
  ASSERT_TRUE(key.ok() && key->ok());
  EXPECT_EQ(applet_.state().lifecycle, Lifecycle::kPersonalising);
  auto keyed = client_.GetCardData();
  ASSERT_TRUE(keyed.ok() && keyed->ok());
  EXPECT_EQ(keyed->value->public_key, *key->value);
  EXPECT_FALSE(keyed->value->certificate);
  EXPECT_EQ(client_.GetBalance()->sw, Sw::kConditionsOfUse);  // not issued

  ASSERT_TRUE(client_.PutBankKey(bank_.public_key)->ok());
  const SignedCertificate cert =
      IssueCertificate(testing::TestCertificate(TestCardId(), *key->value), bank_);
  ASSERT_TRUE(client_.PutCertificate(cert)->ok());
  auto card = client_.GetCardData();
  ASSERT_TRUE(card.ok() && card->ok());
  EXPECT_EQ(card->value->lifecycle, Lifecycle::kIssued);
  EXPECT_EQ(card->value->certificate, cert);
  EXPECT_TRUE(VerifyCardData(*card->value, bank_.public_key, kNow).ok());
  EXPECT_FALSE(VerifyCardData(*card->value, bank_.public_key, kExpiry).ok());
  EXPECT_FALSE(
      VerifyCardData(*card->value, KeyPairFromSeed(testing::FilledSeed(9)).public_key, kNow).ok());
  auto balance = client_.GetBalance();
  ASSERT_TRUE(balance.ok() && balance->ok());
  EXPECT_EQ(balance->value->balance, Amount(0));
  EXPECT_EQ(balance->value->counter, 0u);
}

TEST_F(AppletTest, PersonalisationRefusals) {
  ASSERT_TRUE(client_.Select()->ok());
  const PublicKey some_key = bank_.public_key;
  const SignedCertificate foreign =
      IssueCertificate(testing::TestCertificate(TestCardId(), some_key), bank_);
  // Blank: no certificate yet; a zero card id is bad data.
  EXPECT_EQ(client_.PutCertificate(foreign)->sw, Sw::kConditionsOfUse);
  EXPECT_EQ(client_.GenerateKey(CardId())->sw, Sw::kBadData);
  auto key = client_.GenerateKey(TestCardId());
  ASSERT_TRUE(key->ok());
  // Keyed, but no bank key to verify a certificate with.
  const SignedCertificate good =
      IssueCertificate(testing::TestCertificate(TestCardId(), *key->value), bank_);
  EXPECT_EQ(client_.PutCertificate(good)->sw, Sw::kConditionsOfUse);
  ASSERT_TRUE(client_.PutBankKey(bank_.public_key)->ok());
  // Signed by another key; for another card key; for another card id; malformed.
  const KeyPair rogue = KeyPairFromSeed(testing::FilledSeed(0x66));
  EXPECT_EQ(client_.PutCertificate(IssueCertificate(good.certificate, rogue))->sw,
            Sw::kSecurityStatus);
  EXPECT_EQ(client_.PutCertificate(foreign)->sw, Sw::kBadData);
  Certificate other_id = good.certificate;
  other_id.card_id = CardId::FromParts(1, 2);
  EXPECT_EQ(client_.PutCertificate(IssueCertificate(other_id, bank_))->sw, Sw::kBadData);
  SignedCertificate zero_expiry = good;
  Bytes raw = EncodeSignedCertificate(zero_expiry);
  std::fill(raw.begin() + 97, raw.begin() + 105, 0);  // expiry
  auto malformed = client_.Exchange({0x80, kInsPutCertificate, 0, 0, raw, std::nullopt});
  EXPECT_EQ(malformed->sw, Sw::kBadData);
  EXPECT_EQ(applet_.state().lifecycle, Lifecycle::kPersonalising);

  ASSERT_TRUE(client_.PutCertificate(good)->ok());
  // Issued: personalisation is locked, whatever the command.
  const CardState issued = applet_.state();
  EXPECT_EQ(client_.GenerateKey(TestCardId())->sw, Sw::kConditionsOfUse);
  EXPECT_EQ(client_.PutBankKey(rogue.public_key)->sw, Sw::kConditionsOfUse);
  EXPECT_EQ(client_.PutCertificate(good)->sw, Sw::kConditionsOfUse);
  EXPECT_EQ(applet_.state(), issued);
}

TEST_F(AppletTest, IssuerHelpersNameTheRefusal) {
  cert_ = testing::Personalise(client_, bank_);
  // A second personalisation: the card refuses, and the error names command and SW.
  Result<SignedCertificate> again =
      PersonaliseCard(client_, bank_, testing::TestCertificate(TestCardId(), PublicKey{}));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("GENERATE KEY: 6985"), std::string::npos)
      << again.status().message();
  // Invalid terms are refused before anything reaches the card.
  const uint64_t changes = applet_.state_changes();
  Result<SignedRecord> negative =
      LoadCard(client_, bank_, TestCardId(), {Amount(-1), LoadNumber(1), Amount(0), 0});
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(applet_.state_changes(), changes);
  // Caps above the certificate's: the card says 6A80.
  Result<SignedRecord> big =
      LoadCard(client_, bank_, TestCardId(), {Amount(1), LoadNumber(1), Amount(20001), 1});
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("CREDIT LOAD: 6a80"), std::string::npos)
      << big.status().message();
  Result<SignedRecord> ok =
      LoadCard(client_, bank_, TestCardId(), {Amount(1), LoadNumber(1), Amount(20000), 1});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->record.balance_after, Amount(1));
}

// ---- Loads -----------------------------------------------------------------------------

TEST_F(AppletTest, LoadCreditsAndEmitsALoadRecord) {
  cert_ = testing::Personalise(client_, bank_);
  const SignedLoadToken token =
      TokenFor(client_, bank_, Amount(12345), LoadNumber(1), Amount(9000), 4);
  auto r = client_.CreditLoad(token);
  ASSERT_TRUE(r.ok() && r->ok()) << SwName(r->sw);
  const OfflineRecord& rec = r->value->record;
  EXPECT_EQ(rec.type, RecordType::kLoad);
  EXPECT_EQ(rec.counter, 1u);
  EXPECT_EQ(rec.amount, Amount(12345));
  EXPECT_EQ(rec.balance_after, Amount(12345));
  EXPECT_EQ(rec.last_load_id, LoadNumber(1));
  EXPECT_EQ(rec.terminal_nonce, token.token.challenge);
  EXPECT_EQ(rec.previous_hash, Sha256Digest{});
  EXPECT_TRUE(CheckRecordAgainstCertificate(*r->value, cert_.certificate).ok());
  auto b = client_.GetBalance();
  EXPECT_EQ(b->value->balance, Amount(12345));
  EXPECT_EQ(b->value->counter, 1u);
  EXPECT_EQ(b->value->offline_amount_cap, Amount(9000));
  EXPECT_EQ(b->value->offline_count_cap, 4u);
}

// INITIALIZE LOAD signs the holder's request (card id, counter, challenge, amount) with
// the certified card key; a negative amount is refused and changes nothing.
TEST_F(AppletTest, InitializeLoadSignsTheLoadRequest) {
  IssueAndLoad(Amount(100));
  const PublicKey card_key = cert_.certificate.card_public_key;
  auto c = client_.InitializeLoad(Amount(2500));
  ASSERT_TRUE(c.ok() && c->ok()) << SwName(c->sw);
  const LoadRequest request{TestCardId(), applet_.state().counter, c->value->challenge,
                            Amount(2500)};
  EXPECT_EQ(c->value->counter, 1u);
  EXPECT_EQ(applet_.state().load_challenge, c->value->challenge);
  EXPECT_TRUE(VerifyLoadRequestSignature(request, c->value->signature, card_key));
  LoadRequest other = request;
  other.amount = Amount(2501);  // the signature binds the amount
  EXPECT_FALSE(VerifyLoadRequestSignature(other, c->value->signature, card_key));
  other = request;
  other.counter = 2;
  EXPECT_FALSE(VerifyLoadRequestSignature(other, c->value->signature, card_key));
  EXPECT_FALSE(VerifyLoadRequestSignature(request, c->value->signature, bank_.public_key));

  const CardState before = applet_.state();
  EXPECT_EQ(client_.InitializeLoad(Amount(-1))->sw, Sw::kBadData);
  EXPECT_EQ(applet_.state(), before);
  // Zero (renew the offline allowance only) is a valid request.
  EXPECT_TRUE(client_.InitializeLoad(Amount::Zero())->ok());
}

TEST_F(AppletTest, LoadResetsOfflineCounters) {
  IssueAndLoad(Amount(10000));
  ASSERT_EQ(Pay(Purchase(Amount(3000), 1)), Sw::kOk);
  ASSERT_EQ(Pay(Purchase(Amount(2000), 2)), Sw::kOk);
  EXPECT_EQ(client_.GetBalance()->value->offline_amount, Amount(5000));
  auto r = client_.CreditLoad(TokenFor(client_, bank_, Amount(0), LoadNumber(2)));
  ASSERT_TRUE(r->ok());
  EXPECT_EQ(r->value->record.offline_amount, Amount(0));
  EXPECT_EQ(r->value->record.offline_count, 0u);
  auto b = client_.GetBalance();
  EXPECT_EQ(b->value->balance, Amount(5000));
  EXPECT_EQ(b->value->offline_amount, Amount(0));
  EXPECT_EQ(b->value->offline_count, 0u);
}

TEST_F(AppletTest, LoadRefusals) {
  IssueAndLoad(Amount(1000));
  const KeyPair rogue = KeyPairFromSeed(testing::FilledSeed(0x66));

  // CREDIT LOAD without INITIALIZE LOAD.
  {
    LoadToken t;
    t.card_id = TestCardId();
    t.counter = applet_.state().counter;
    t.amount = Amount(1);
    t.load_id = LoadNumber(50);
    EXPECT_EQ(client_.CreditLoad(SignLoadToken(t, bank_))->sw, Sw::kConditionsOfUse);
  }
  // Replayed: the token of the first load, after it was applied.
  const SignedLoadToken used = TokenFor(client_, bank_, Amount(10), LoadNumber(2));
  ASSERT_TRUE(client_.CreditLoad(used)->ok());
  EXPECT_EQ(client_.CreditLoad(used)->sw, Sw::kConditionsOfUse);  // no challenge pending
  (void)client_.InitializeLoad(Amount(10));
  EXPECT_EQ(client_.CreditLoad(used)->sw, Sw::kSecurityStatus);  // old counter, challenge

  // A token for an old challenge: two INITIALIZE LOADs, the token of the first.
  const SignedLoadToken old = TokenFor(client_, bank_, Amount(10), LoadNumber(3));
  ASSERT_TRUE(client_.InitializeLoad(Amount(10))->ok());
  EXPECT_EQ(client_.CreditLoad(old)->sw, Sw::kSecurityStatus);

  // Signed by a wrong key (as a card whose own key was extracted would sign it).
  {
    SignedLoadToken t = TokenFor(client_, bank_, Amount(10), LoadNumber(4));
    EXPECT_EQ(client_.CreditLoad(SignLoadToken(t.token, rogue))->sw, Sw::kSecurityStatus);
    // A flipped amount breaks the bank's signature.
    SignedLoadToken tampered = t;
    tampered.token.amount = Amount(99999);
    EXPECT_EQ(client_.CreditLoad(tampered)->sw, Sw::kSecurityStatus);
    // For another card.
    LoadToken other = t.token;
    other.card_id = CardId::FromParts(9, 9);
    EXPECT_EQ(client_.CreditLoad(SignLoadToken(other, bank_))->sw, Sw::kSecurityStatus);
    // The load id of the last load again.
    LoadToken same_id = t.token;
    same_id.load_id = LoadNumber(2);
    EXPECT_EQ(client_.CreditLoad(SignLoadToken(same_id, bank_))->sw, Sw::kSecurityStatus);
    // Caps above the certificate's.
    LoadToken big_cap = t.token;
    big_cap.offline_amount_cap = Amount(20001);
    EXPECT_EQ(client_.CreditLoad(SignLoadToken(big_cap, bank_))->sw, Sw::kBadData);
    big_cap = t.token;
    big_cap.offline_count_cap = 11;
    EXPECT_EQ(client_.CreditLoad(SignLoadToken(big_cap, bank_))->sw, Sw::kBadData);
    // Above the purse ceiling (100000), and an amount that would overflow.
    LoadToken ceiling = t.token;
    ceiling.amount = Amount(100000 - 1010 + 1);
    EXPECT_EQ(client_.CreditLoad(SignLoadToken(ceiling, bank_))->sw, Sw::kLimitExceeded);
    ceiling.amount = Amount::Max();
    EXPECT_EQ(client_.CreditLoad(SignLoadToken(ceiling, bank_))->sw, Sw::kLimitExceeded);
    // Malformed: a negative amount (the signature is not even looked at).
    Bytes raw = EncodeSignedLoadToken(t);
    raw[37] = 0xFF;  // amount's top byte
    EXPECT_EQ(client_.Exchange({0x80, kInsCreditLoad, 0, 0, raw, 256})->sw, Sw::kBadData);
    // The genuine token still works after all those refusals: they changed nothing.
    ceiling.amount = Amount(100000 - 1010);
    auto ok = client_.CreditLoad(SignLoadToken(ceiling, bank_));
    EXPECT_TRUE(ok->ok()) << SwName(ok->sw);
  }
  // A debit between INITIALIZE LOAD and CREDIT LOAD consumes the counter the token named.
  const SignedLoadToken stale = TokenFor(client_, bank_, Amount(10), LoadNumber(5));
  ASSERT_EQ(Pay(Purchase(Amount(100))), Sw::kOk);
  EXPECT_EQ(client_.CreditLoad(stale)->sw, Sw::kConditionsOfUse);
  EXPECT_EQ(client_.GetBalance()->value->balance, Amount(100000 - 100));
}

// ---- Purchases -------------------------------------------------------------------------

TEST_F(AppletTest, InitializePurchaseChangesNothingAndDebitSigns) {
  IssueAndLoad(Amount(10000));
  const CardState before = applet_.state();
  const uint64_t changes = applet_.state_changes();
  const PurchaseRequest p = Purchase(Amount(1250));
  auto q = client_.InitializePurchase(p);
  ASSERT_TRUE(q.ok() && q->ok());
  EXPECT_EQ(q->value->counter, 1u);
  EXPECT_EQ(q->value->balance, Amount(10000));
  EXPECT_EQ(applet_.state(), before);
  EXPECT_EQ(applet_.state_changes(), changes);

  auto d = client_.Debit();
  ASSERT_TRUE(d.ok() && d->ok());
  const OfflineRecord& r = d->value->record;
  EXPECT_EQ(r.type, RecordType::kDebit);
  EXPECT_EQ(r.counter, 2u);
  EXPECT_EQ(r.amount, Amount(1250));
  EXPECT_EQ(r.balance_after, Amount(8750));
  EXPECT_EQ(r.offline_amount, Amount(1250));
  EXPECT_EQ(r.offline_count, 1u);
  EXPECT_EQ(r.last_load_id, LoadNumber(1));
  EXPECT_EQ(r.previous_hash, RecordHash(before.last_record->record));
  EXPECT_TRUE(CheckDebitMatches(*d->value, p, *q->value).ok());
  EXPECT_TRUE(CheckRecordAgainstCertificate(*d->value, cert_.certificate).ok());
  EXPECT_EQ(applet_.state().last_record, *d->value);
  EXPECT_EQ(applet_.state_changes(), changes + 1);
  // The record answers this purchase, not another one.
  EXPECT_FALSE(CheckDebitMatches(*d->value, Purchase(Amount(1250), 2), *q->value).ok());
  EXPECT_FALSE(CheckDebitMatches(*d->value, Purchase(Amount(1251)), *q->value).ok());
}

TEST_F(AppletTest, DebitOnlyRightAfterInitializePurchase) {
  IssueAndLoad(Amount(10000));
  EXPECT_EQ(client_.Debit()->sw, Sw::kConditionsOfUse);  // never prepared
  ASSERT_TRUE(client_.InitializePurchase(Purchase(Amount(100)))->ok());
  ASSERT_TRUE(client_.GetBalance()->ok());  // anything in between
  EXPECT_EQ(client_.Debit()->sw, Sw::kConditionsOfUse);
  ASSERT_TRUE(client_.InitializePurchase(Purchase(Amount(100)))->ok());
  EXPECT_EQ(Raw({0x80, 0x20, 0, 0}), Sw::kInsNotSupported);  // even a refused command
  EXPECT_EQ(client_.Debit()->sw, Sw::kConditionsOfUse);
  ASSERT_TRUE(client_.InitializePurchase(Purchase(Amount(100)))->ok());
  applet_.Reset();  // card reset or pulled
  ASSERT_TRUE(client_.Select()->ok());
  EXPECT_EQ(client_.Debit()->sw, Sw::kConditionsOfUse);
  ASSERT_TRUE(client_.InitializePurchase(Purchase(Amount(100)))->ok());
  ASSERT_TRUE(client_.Debit()->ok());
  EXPECT_EQ(client_.Debit()->sw, Sw::kConditionsOfUse);  // one DEBIT per preparation
  EXPECT_EQ(client_.InitializePurchase(Purchase(Amount(6000)))->sw, Sw::kLimitExceeded);
  EXPECT_EQ(client_.Debit()->sw, Sw::kConditionsOfUse);  // a refused preparation
  EXPECT_EQ(client_.GetBalance()->value->balance, Amount(9900));
}

TEST_F(AppletTest, EachPurchaseRefusal) {
  IssueAndLoad(Amount(10000));  // caps: 20000 offline, 10 payments; payment max 5000
  struct Case {
    const char* name;
    PurchaseRequest request;
    Sw want;
  };
  PurchaseRequest zero_terminal = Purchase(Amount(10));
  zero_terminal.terminal_id = TerminalId();
  const std::vector<Case> cases = {
      {"zero_amount", Purchase(Amount(0)), Sw::kBadData},
      {"negative_amount", Purchase(Amount(-5)), Sw::kBadData},
      {"zero_terminal", zero_terminal, Sw::kBadData},
      {"above_payment_max", Purchase(Amount(5001)), Sw::kLimitExceeded},
      {"expired_at_terminal_time", Purchase(Amount(10), 1, kExpiry), Sw::kGoOnlineExpired},
      {"just_before_expiry", Purchase(Amount(10), 1, kExpiry - 1), Sw::kOk},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const CardState before = applet_.state();
    auto q = client_.InitializePurchase(c.request);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(SwName(q->sw), SwName(c.want));
    EXPECT_EQ(applet_.state(), before);
  }
  // Insufficient balance (the case above was only prepared, never debited).
  EXPECT_EQ(Pay(Purchase(Amount(4000), 2)), Sw::kOk);
  EXPECT_EQ(Pay(Purchase(Amount(4000), 3)), Sw::kOk);
  const CardState before = applet_.state();
  EXPECT_EQ(Pay(Purchase(Amount(2001), 4)), Sw::kInsufficientBalance);
  EXPECT_EQ(applet_.state(), before);
  EXPECT_EQ(Pay(Purchase(Amount(2000), 5)), Sw::kOk);  // exactly the balance
  EXPECT_EQ(Pay(Purchase(Amount(1), 6)), Sw::kInsufficientBalance);
  EXPECT_EQ(client_.GetBalance()->value->balance, Amount(0));
}

TEST_F(AppletTest, OfflineCountCapSaysGoOnline) {
  cert_ = testing::Personalise(client_, bank_);
  ASSERT_TRUE(
      client_.CreditLoad(TokenFor(client_, bank_, Amount(1000), LoadNumber(1), Amount(20000), 3))
          ->ok());
  for (uint32_t i = 1; i <= 3; ++i) ASSERT_EQ(Pay(Purchase(Amount(10), i)), Sw::kOk);
  EXPECT_EQ(Pay(Purchase(Amount(10), 4)), Sw::kGoOnlineCount);
  ASSERT_TRUE(
      client_.CreditLoad(TokenFor(client_, bank_, Amount(0), LoadNumber(2), Amount(20000), 3))
          ->ok());
  EXPECT_EQ(Pay(Purchase(Amount(10), 5)), Sw::kOk);
}

TEST_F(AppletTest, OfflineAmountCapSaysGoOnline) {
  cert_ = testing::Personalise(client_, bank_);
  ASSERT_TRUE(
      client_.CreditLoad(TokenFor(client_, bank_, Amount(50000), LoadNumber(1), Amount(7000), 10))
          ->ok());
  EXPECT_EQ(Pay(Purchase(Amount(5000), 1)), Sw::kOk);
  EXPECT_EQ(Pay(Purchase(Amount(2001), 2)), Sw::kGoOnlineAmount);
  EXPECT_EQ(Pay(Purchase(Amount(2000), 3)), Sw::kOk);  // exactly the cap
  EXPECT_EQ(Pay(Purchase(Amount(1), 4)), Sw::kGoOnlineAmount);
  // Before any load the caps are zero: a card with no load cannot pay offline.
  SeededRandom r2(8);
  PurseApplet fresh(r2);
  AppletChannel ch(fresh);
  PurseClient c2(ch);
  (void)testing::Personalise(c2, bank_);
  EXPECT_EQ(c2.InitializePurchase(Purchase(Amount(1)))->sw, Sw::kInsufficientBalance);
}

// ---- GET LAST RECORD ---------------------------------------------------------------------

TEST_F(AppletTest, GetLastRecordRecoversAPulledDebit) {
  cert_ = testing::Personalise(client_, bank_);
  EXPECT_EQ(client_.GetLastRecord()->sw, Sw::kRecordNotFound);
  ASSERT_TRUE(client_.CreditLoad(TokenFor(client_, bank_, Amount(5000), LoadNumber(1)))->ok());
  const PurchaseRequest p = Purchase(Amount(700), 9);
  auto q = client_.InitializePurchase(p);
  ASSERT_TRUE(q->ok());
  // The DEBIT reaches the card, its answer never reaches the kiosk: the card is pulled.
  (void)applet_.Process(EncodeCommandApdu({0x80, kInsDebit, 0, 0, {}, 256}));
  applet_.Reset();
  ASSERT_TRUE(client_.Select()->ok());
  auto last = client_.GetLastRecord();
  ASSERT_TRUE(last.ok() && last->ok());
  EXPECT_TRUE(CheckDebitMatches(*last->value, p, *q->value).ok());
  EXPECT_TRUE(CheckRecordAgainstCertificate(*last->value, cert_.certificate).ok());
  // Asking again gives the same bytes (no new signature).
  EXPECT_EQ(EncodeSignedRecord(*client_.GetLastRecord()->value), EncodeSignedRecord(*last->value));
  EXPECT_EQ(client_.GetBalance()->value->counter, last->value->record.counter);
}

// ---- Never two signatures for one counter ----------------------------------------------

TEST_F(AppletTest, NeverTwoSignaturesForOneCounter) {
  IssueAndLoad(Amount(60000));
  const uint64_t seed = 20261123;
  std::mt19937_64 rng(seed);
  std::map<uint32_t, Bytes> by_counter;
  auto note = [&](const SignedRecord& r) {
    const Bytes bytes = EncodeSignedRecord(r);
    auto [it, fresh] = by_counter.emplace(r.record.counter, bytes);
    EXPECT_EQ(it->second, bytes) << "two different records for counter " << r.record.counter
                                 << " (seed " << seed << ")";
    (void)fresh;
  };
  note(*applet_.state().last_record);
  uint64_t load = 10;
  for (int step = 0; step < 600; ++step) {
    switch (rng() % 7) {
      case 0:
      case 1: {
        (void)client_.InitializePurchase(
            Purchase(Amount(static_cast<int64_t>(rng() % 6000)), static_cast<uint32_t>(step)));
        break;
      }
      case 2: {
        auto d = client_.Debit();
        if (d->ok()) note(*d->value);
        break;
      }
      case 3: {
        auto l = client_.GetLastRecord();
        if (l->ok()) note(*l->value);
        break;
      }
      case 4: {
        auto t = TokenFor(client_, bank_, Amount(static_cast<int64_t>(rng() % 3000)),
                          LoadNumber(++load));
        auto c = client_.CreditLoad(t);
        if (c->ok()) note(*c->value);
        auto again = client_.CreditLoad(t);  // every replay is refused
        EXPECT_FALSE(again->ok());
        break;
      }
      case 5:
        applet_.Reset();
        (void)client_.Select();
        break;
      default: {
        // The kiosk restores the card from its state file (ayni-vcard restarted).
        Result<CardState> s = DeserializeCardState(SerializeCardState(applet_.state()));
        ASSERT_TRUE(s.ok());
        EXPECT_EQ(*s, applet_.state());
        break;
      }
    }
  }
  // Counters are 1..n without a gap, each chained to the one before.
  ASSERT_FALSE(by_counter.empty());
  EXPECT_EQ(by_counter.begin()->first, 1u);
  EXPECT_EQ(by_counter.rbegin()->first, by_counter.size());
  EXPECT_GT(by_counter.size(), 20u);
  Sha256Digest prev{};
  for (const auto& [counter, bytes] : by_counter) {
    Result<SignedRecord> r = ParseSignedRecord(bytes);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->record.previous_hash, prev) << "chain broken at counter " << counter;
    EXPECT_TRUE(CheckRecordAgainstCertificate(*r, cert_.certificate).ok());
    prev = RecordHash(r->record);
  }
}

// ---- State file --------------------------------------------------------------------------

TEST_F(AppletTest, StateRoundTripAndRefusals) {
  // Blank, keyed and issued-with-records states all round-trip.
  std::vector<CardState> states = {applet_.state()};
  ASSERT_TRUE(client_.Select()->ok());
  ASSERT_TRUE(client_.GenerateKey(TestCardId())->ok());
  states.push_back(applet_.state());
  applet_.Reset();
  IssueAndLoad(Amount(9000));
  ASSERT_EQ(Pay(Purchase(Amount(400))), Sw::kOk);
  ASSERT_TRUE(client_.InitializeLoad(Amount(10))->ok());  // a pending challenge is persistent
  states.push_back(applet_.state());
  for (const CardState& s : states) {
    const Bytes bytes = SerializeCardState(s);
    Result<CardState> back = DeserializeCardState(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, s);
    EXPECT_EQ(SerializeCardState(*back), bytes);
  }
  // A restored card carries on where it stopped: same chain, next counter.
  SeededRandom r2(99);
  PurseApplet restored(r2, *DeserializeCardState(SerializeCardState(applet_.state())));
  AppletChannel ch(restored);
  PurseClient c2(ch);
  ASSERT_TRUE(c2.Select()->ok());
  ASSERT_TRUE(c2.InitializePurchase(Purchase(Amount(100), 2))->ok());
  auto d = c2.Debit();
  ASSERT_TRUE(d->ok());
  EXPECT_EQ(d->value->record.counter, applet_.state().counter + 1);
  EXPECT_EQ(d->value->record.previous_hash, applet_.state().last_hash);
  EXPECT_TRUE(CheckRecordAgainstCertificate(*d->value, cert_.certificate).ok());

  // Torn, altered or inconsistent files are refused, never half-loaded.
  const Bytes good = SerializeCardState(applet_.state());
  Bytes torn(good.begin(), good.end() - 1);
  EXPECT_EQ(DeserializeCardState(torn).status().code(), StatusCode::kDataLoss);
  Bytes flipped = good;
  flipped[60] ^= 1;
  EXPECT_EQ(DeserializeCardState(flipped).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DeserializeCardState({}).status().code(), StatusCode::kDataLoss);
  CardState negative = applet_.state();
  negative.balance = Amount(-1);
  EXPECT_FALSE(DeserializeCardState(SerializeCardState(negative)).ok());
  CardState other_key = applet_.state();
  other_key.key_seed[0] ^= 1;
  EXPECT_FALSE(DeserializeCardState(SerializeCardState(other_key)).ok());
  CardState wrong_counter = applet_.state();
  wrong_counter.counter += 1;
  EXPECT_FALSE(DeserializeCardState(SerializeCardState(wrong_counter)).ok());
  CardState unissued = applet_.state();
  unissued.certificate.reset();
  EXPECT_FALSE(DeserializeCardState(SerializeCardState(unissued)).ok());
}

// ---- Host-side record checks --------------------------------------------------------------

TEST_F(AppletTest, HostRefusesForgedAndOverCapRecords) {
  IssueAndLoad(Amount(10000));
  SignedRecord r;
  ASSERT_EQ(Pay(Purchase(Amount(500)), &r), Sw::kOk);
  const Bytes bytes = EncodeSignedRecord(r);
  ASSERT_TRUE(VerifyRecord(bytes, cert_.certificate).ok());
  // Any flipped byte of the body or signature breaks it.
  for (size_t i : {size_t{0}, size_t{30}, size_t{100}, kRecordBodySize - 1, kRecordSize - 1}) {
    Bytes bad = bytes;
    bad[i] ^= 0x01;
    EXPECT_FALSE(VerifyRecord(bad, cert_.certificate).ok()) << "byte " << i;
  }
  // Another card's certificate.
  Certificate other = cert_.certificate;
  other.card_id = CardId::FromParts(5, 5);
  EXPECT_FALSE(VerifyRecord(bytes, other).ok());
  // A record signed with the card's own key (as if extracted) but beyond the caps.
  const KeyPair card_key = KeyPairFromSeed(applet_.state().key_seed);
  auto resign = [&](OfflineRecord rec) {
    return SignedRecord{rec, SignWithPrefix(card_key, kRecordPrefix, EncodeRecordBody(rec))};
  };
  OfflineRecord over = r.record;
  EXPECT_TRUE(CheckRecordAgainstCertificate(resign(over), cert_.certificate).ok());
  over.amount = Amount(5001);
  EXPECT_FALSE(CheckRecordAgainstCertificate(resign(over), cert_.certificate).ok());
  over = r.record;
  over.offline_amount = Amount(20001);
  EXPECT_FALSE(CheckRecordAgainstCertificate(resign(over), cert_.certificate).ok());
  over = r.record;
  over.offline_count = 11;
  EXPECT_FALSE(CheckRecordAgainstCertificate(resign(over), cert_.certificate).ok());
  over = r.record;
  over.scheme_id = 2;
  EXPECT_FALSE(CheckRecordAgainstCertificate(resign(over), cert_.certificate).ok());
  // Parser refusals name the field.
  Bytes short_record(bytes.begin(), bytes.end() - 1);
  EXPECT_NE(ParseSignedRecord(short_record).status().message().find("210"), std::string::npos);
  Bytes bad_type = bytes;
  bad_type[1] = 3;
  EXPECT_NE(ParseSignedRecord(bad_type).status().message().find("type"), std::string::npos);
}

}  // namespace
}  // namespace ayni::cardio
