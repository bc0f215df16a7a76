// libFuzzer target: every parser of card data (record, certificate, load token, the APDU
// data fields of messages.h, R-APDU, the vcard state file). Whatever parses must re-encode to
// the same bytes (the layouts are canonical: one byte string per value), and a parsed
// record, certificate or token must never verify under a key that did not sign it.
#include <cstddef>
#include <cstdint>

#include "cardio/applet.h"
#include "cardio/host.h"
#include "cardio/messages.h"
#include "clearing/card/certificate.h"
#include "clearing/card/load_token.h"
#include "clearing/card/record.h"
#include "clearing/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ayni;
  using namespace ayni::cardio;
  const std::span<const uint8_t> input(data, size);
  const Bytes bytes(input.begin(), input.end());
  static const KeyPair kStranger = [] {
    KeySeed s;
    s.fill(0x77);
    return KeyPairFromSeed(s);
  }();

  if (Result<SignedRecord> r = ParseSignedRecord(input); r.ok()) {
    AYNI_CHECK(EncodeSignedRecord(*r) == bytes);
    AYNI_CHECK(r->record.counter > 0 && !r->record.balance_after.negative());
    AYNI_CHECK(!VerifyRecordSignature(*r, kStranger.public_key));
  }
  if (Result<SignedCertificate> c = ParseSignedCertificate(input); c.ok()) {
    AYNI_CHECK(EncodeSignedCertificate(*c) == bytes);
    AYNI_CHECK(ValidateCertificate(c->certificate).ok());
    AYNI_CHECK(!VerifyCertificate(*c, kStranger.public_key).ok());
  }
  if (Result<SignedLoadToken> t = ParseSignedLoadToken(input); t.ok()) {
    AYNI_CHECK(EncodeSignedLoadToken(*t) == bytes);
    AYNI_CHECK(!VerifyLoadTokenSignature(*t, kStranger.public_key));
  }
  if (Result<CardData> d = DecodeCardData(input); d.ok()) {
    AYNI_CHECK(d->certificate.has_value() == (d->lifecycle == Lifecycle::kIssued));
  }
  if (Result<CardData> d = DecodeCardData(input); d.ok()) {
    AYNI_CHECK(EncodeCardData(*d) == bytes);
  }
  if (Result<BalanceAnswer> b = DecodeBalanceAnswer(input); b.ok()) {
    AYNI_CHECK(EncodeBalanceAnswer(*b) == bytes);
  }
  if (Result<PurchaseRequest> p = DecodePurchaseRequest(input); p.ok()) {
    AYNI_CHECK(EncodePurchaseRequest(*p) == bytes);
  }
  if (Result<PurchaseQuote> q = DecodePurchaseQuote(input); q.ok()) {
    AYNI_CHECK(EncodePurchaseQuote(*q) == bytes);
  }
  if (Result<LoadChallenge> c = DecodeLoadChallenge(input); c.ok()) {
    AYNI_CHECK(EncodeLoadChallenge(*c) == bytes);
  }
  if (Result<SelectAnswer> a = DecodeSelectAnswer(input); a.ok()) {
    AYNI_CHECK(EncodeSelectAnswer(*a) == bytes);
  }
  if (Result<ResponseApdu> r = ParseResponseApdu(input); r.ok()) {
    AYNI_CHECK(EncodeResponseApdu(r->data, r->sw) == bytes);
  }
  if (Result<CardState> s = DeserializeCardState(input); s.ok()) {
    AYNI_CHECK(SerializeCardState(*s) == bytes);
  }
  return 0;
}
