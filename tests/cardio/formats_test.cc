// The signed layouts on their own: certificate and load token parsers refuse each bad
// field by name, signatures bind every byte and the domain-separation prefixes keep one
// kind of signature from passing as another.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cardio/messages.h"
#include "clearing/card/certificate.h"
#include "clearing/card/kiosk_batch.h"
#include "clearing/card/load_request.h"
#include "clearing/card/load_token.h"
#include "clearing/card/record.h"
#include "tests/cardio/card_fixture.h"

namespace ayni::cardio {
namespace {

struct FieldCase {
  const char* name;
  size_t offset;  // first byte of the field
  size_t size;
  uint8_t fill;
  const char* message_part;
};

// Each case overwrites one field of `good` and expects `parse` to refuse it by name.
template <typename Parse>
void ExpectFieldRefusals(const Bytes& good, const std::vector<FieldCase>& cases, Parse parse) {
  for (const FieldCase& c : cases) {
    SCOPED_TRACE(c.name);
    Bytes bad = good;
    std::fill(bad.begin() + static_cast<ptrdiff_t>(c.offset),
              bad.begin() + static_cast<ptrdiff_t>(c.offset + c.size), c.fill);
    const auto r = parse(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos) << r.status().message();
  }
}

TEST(FormatsTest, CertificateFieldsRefusedByName) {
  const KeyPair bank = testing::TestBank();
  const SignedCertificate good =
      IssueCertificate(testing::TestCertificate(testing::TestCardId(), bank.public_key), bank);
  const Bytes bytes = EncodeSignedCertificate(good);
  ASSERT_EQ(bytes.size(), kCertificateSize);
  Result<SignedCertificate> back = ParseSignedCertificate(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, good);
  EXPECT_TRUE(VerifyCertificate(*back, bank.public_key).ok());
  const std::vector<FieldCase> cases = {
      {"version", 0, 1, 2, "version"},
      {"card_id", 5, 16, 0, "card id"},
      {"member_account", 53, 8, 0, "member account"},
      {"currency", 61, 8, 0, "currency"},
      {"payment_max_zero", 69, 8, 0, "payment max"},
      {"payment_max_negative", 69, 8, 0xFF, "payment max"},
      {"offline_amount_negative", 77, 8, 0xFF, "offline amount max"},
      {"balance_max_zero", 89, 8, 0, "balance max"},
      {"expiry_zero", 97, 8, 0, "expiry"},
  };
  ExpectFieldRefusals(bytes, cases, [](const Bytes& b) { return ParseSignedCertificate(b); });
  EXPECT_FALSE(ParseSignedCertificate(Bytes(bytes.begin(), bytes.end() - 1)).ok());
  // Every byte is signed.
  for (size_t i = 0; i < kCertificateBodySize; i += 13) {
    SignedCertificate altered = good;
    Bytes raw = EncodeSignedCertificate(altered);
    raw[i] ^= 0x80;
    Result<SignedCertificate> p = ParseSignedCertificate(raw);
    if (p.ok()) {
      EXPECT_FALSE(VerifyCertificate(*p, bank.public_key).ok()) << "byte " << i;
    }
  }
}

TEST(FormatsTest, LoadTokenFieldsRefusedByName) {
  const KeyPair bank = testing::TestBank();
  LoadToken t;
  t.card_id = testing::TestCardId();
  t.counter = 3;
  t.amount = Amount(500);
  t.load_id = testing::LoadNumber(1);
  t.offline_amount_cap = Amount(100);
  t.offline_count_cap = 2;
  const SignedLoadToken good = SignLoadToken(t, bank);
  const Bytes bytes = EncodeSignedLoadToken(good);
  ASSERT_EQ(bytes.size(), kLoadTokenSize);
  ASSERT_TRUE(ParseSignedLoadToken(bytes).ok());
  EXPECT_EQ(*ParseSignedLoadToken(bytes), good);
  EXPECT_TRUE(VerifyLoadTokenSignature(good, bank.public_key));
  const std::vector<FieldCase> cases = {
      {"version", 0, 1, 9, "version"},
      {"card_id", 1, 16, 0, "card id"},
      {"amount_negative", 37, 8, 0xFF, "amount"},
      {"load_id", 45, 16, 0, "load id"},
      {"cap_negative", 61, 8, 0xFF, "offline amount cap"},
  };
  ExpectFieldRefusals(bytes, cases, [](const Bytes& b) { return ParseSignedLoadToken(b); });
}

TEST(FormatsTest, MessageDecodersRoundTripAndRefuseWrongSizes) {
  PurchaseRequest p = testing::Purchase(Amount(1250), 3);
  const Bytes request = EncodePurchaseRequest(p);
  ASSERT_EQ(request.size(), kPurchaseRequestSize);
  Result<PurchaseRequest> back = DecodePurchaseRequest(request);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(EncodePurchaseRequest(*back), request);
  EXPECT_EQ(back->amount, Amount(1250));
  EXPECT_EQ(back->terminal_sequence, 3u);

  const Bytes balance = EncodeBalanceAnswer({Amount(5), 6, Amount(7), 8, Amount(9), 10});
  ASSERT_EQ(balance.size(), kBalanceResponseSize);
  EXPECT_EQ(DecodeBalanceAnswer(balance)->offline_count_cap, 10u);
  EXPECT_EQ(DecodePurchaseQuote(EncodePurchaseQuote({4, Amount(99)}))->balance, Amount(99));
  LoadChallenge challenge{{}, 12, {}};
  challenge.signature[63] = 0x5A;
  const Bytes challenge_bytes = EncodeLoadChallenge(challenge);
  ASSERT_EQ(challenge_bytes.size(), kLoadChallengeResponseSize);
  EXPECT_EQ(DecodeLoadChallenge(challenge_bytes)->counter, 12u);
  EXPECT_EQ(DecodeLoadChallenge(challenge_bytes)->signature, challenge.signature);
  EXPECT_EQ(*DecodeLoadAmount(EncodeLoadAmount(Amount(-3))), Amount(-3));
  EXPECT_FALSE(DecodeLoadAmount(Bytes(7, 0)).ok());
  EXPECT_EQ(DecodeSelectAnswer(Bytes{1, 2})->lifecycle, Lifecycle::kIssued);
  EXPECT_FALSE(DecodeSelectAnswer(Bytes{1, 3}).ok());  // unknown life cycle

  const Bytes one_more(kBalanceResponseSize + 1, 0);
  EXPECT_FALSE(DecodeBalanceAnswer(one_more).ok());
  EXPECT_FALSE(DecodePurchaseRequest(Bytes(kPurchaseRequestSize - 1, 0)).ok());
  EXPECT_FALSE(DecodePurchaseQuote(Bytes(kPurchaseResponseSize + 1, 0)).ok());
  EXPECT_FALSE(DecodeLoadChallenge(Bytes(20, 0)).ok());  // the old answer, unsigned
  EXPECT_FALSE(DecodeCardData(Bytes(50, 0)).ok());
  Bytes blank_with_cert(kCardDataHeaderSize + kCertificateSize, 0);  // life cycle 0
  EXPECT_FALSE(DecodeCardData(blank_with_cert).ok());
  Bytes issued_without(kCardDataHeaderSize, 0);
  issued_without[0] = 2;
  EXPECT_FALSE(DecodeCardData(issued_without).ok());
}

TEST(FormatsTest, LoadRequestLayoutAndSignature) {
  const KeyPair card = KeyPairFromSeed(testing::FilledSeed(0x07));
  LoadRequest r{testing::TestCardId(), 0x01020304, {}, Amount(0x1122)};
  r.challenge.fill(0xC5);
  const Bytes body = EncodeLoadRequestBody(r);
  ASSERT_EQ(body.size(), kLoadRequestBodySize);
  EXPECT_EQ(body[0], kLoadRequestVersion);
  EXPECT_EQ(Bytes(body.begin() + 1, body.begin() + 17),
            Bytes(r.card_id.bytes().begin(), r.card_id.bytes().end()));
  EXPECT_EQ(Bytes(body.begin() + 17, body.begin() + 21), (Bytes{1, 2, 3, 4}));
  EXPECT_EQ(body[21], 0xC5);
  EXPECT_EQ(Bytes(body.begin() + 37, body.end()), (Bytes{0, 0, 0, 0, 0, 0, 0x11, 0x22}));
  const Signature sig = SignLoadRequest(r, card);
  EXPECT_TRUE(VerifyLoadRequestSignature(r, sig, card.public_key));
  EXPECT_TRUE(VerifyWithPrefix(card.public_key, kLoadRequestPrefix, body, sig));
  EXPECT_FALSE(VerifyWithPrefix(card.public_key, kRecordPrefix, body, sig));
  LoadRequest changed = r;
  changed.challenge[15] ^= 1;
  EXPECT_FALSE(VerifyLoadRequestSignature(changed, sig, card.public_key));
}

TEST(FormatsTest, KioskBatchSignatureBindsEveryField) {
  const KeyPair kiosk = KeyPairFromSeed(testing::FilledSeed(0x0B));
  const TerminalId terminal = testing::TestTerminal();
  std::vector<Bytes> records = {Bytes(kRecordSize, 0x01), Bytes(kRecordSize, 0x02)};
  const Bytes body = EncodeKioskBatchBody(terminal, 7, records);
  ASSERT_EQ(body.size(), 16 + 4 + 4 + 2 * kRecordSize);
  EXPECT_EQ(Bytes(body.begin() + 16, body.begin() + 24), (Bytes{0, 0, 0, 7, 0, 0, 0, 2}));
  EXPECT_EQ(body[24], 0x01);
  EXPECT_EQ(body.back(), 0x02);
  const Signature sig = SignKioskBatch(terminal, 7, records, kiosk);
  EXPECT_TRUE(VerifyKioskBatch(terminal, 7, records, sig, kiosk.public_key));
  EXPECT_TRUE(VerifyWithPrefix(kiosk.public_key, kKioskBatchPrefix, body, sig));
  EXPECT_FALSE(VerifyKioskBatch(terminal, 8, records, sig, kiosk.public_key));
  EXPECT_FALSE(VerifyKioskBatch(TerminalId::FromParts(1, 2), 7, records, sig, kiosk.public_key));
  EXPECT_FALSE(VerifyKioskBatch(terminal, 7, records, sig, testing::TestBank().public_key));
  std::vector<Bytes> swapped = {records[1], records[0]};
  EXPECT_FALSE(VerifyKioskBatch(terminal, 7, swapped, sig, kiosk.public_key));
  std::vector<Bytes> fewer = {records[0]};
  EXPECT_FALSE(VerifyKioskBatch(terminal, 7, fewer, sig, kiosk.public_key));
  std::vector<Bytes> odd = {records[0], Bytes(kRecordSize - 1, 0x02)};
  EXPECT_FALSE(VerifyKioskBatch(terminal, 7, odd, sig, kiosk.public_key));  // no crash
  // An empty batch is a well-defined message too (the server refuses it by count).
  const Signature empty = SignKioskBatch(terminal, 1, {}, kiosk);
  EXPECT_TRUE(VerifyKioskBatch(terminal, 1, {}, empty, kiosk.public_key));
}

TEST(FormatsTest, PrefixesSeparateTheKindsOfSignature) {
  const KeyPair key = testing::TestBank();
  const Bytes body(kLoadTokenBodySize, 0x11);
  const Signature as_token = SignWithPrefix(key, kLoadTokenPrefix, body);
  EXPECT_TRUE(VerifyWithPrefix(key.public_key, kLoadTokenPrefix, body, as_token));
  EXPECT_FALSE(VerifyWithPrefix(key.public_key, kCertificatePrefix, body, as_token));
  EXPECT_FALSE(VerifyWithPrefix(key.public_key, kRecordPrefix, body, as_token));
}

TEST(FormatsTest, RandomSources) {
  SeededRandom a(1), b(1), c(2);
  std::array<uint8_t, 16> x{}, y{}, z{};
  a.Fill(x);
  b.Fill(y);
  c.Fill(z);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
  a.Fill(x);
  EXPECT_NE(x, y);  // successive calls differ
  ScriptedRandom s;
  const std::array<uint8_t, 4> chunk = {1, 2, 3, 4};
  s.Push(chunk);
  std::array<uint8_t, 4> out{};
  s.Fill(out);
  EXPECT_EQ(out, chunk);
  EXPECT_EQ(s.pending(), 0u);
}

}  // namespace
}  // namespace ayni::cardio
