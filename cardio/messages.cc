#include "cardio/messages.h"

#include <string>

#include "clearing/check.h"

namespace ayni::cardio {

namespace {

Status WrongSize(const char* what, size_t got, size_t want) {
  return Status::InvalidArgument(std::string(what) + " has " + std::to_string(got) +
                                 " bytes; expected " + std::to_string(want));
}

std::optional<Lifecycle> LifecycleOf(uint8_t v) {
  if (v > static_cast<uint8_t>(Lifecycle::kIssued)) return std::nullopt;
  return static_cast<Lifecycle>(v);
}

}  // namespace

Bytes EncodeSelectAnswer(const SelectAnswer& a) {
  return {a.version, static_cast<uint8_t>(a.lifecycle)};
}

Result<SelectAnswer> DecodeSelectAnswer(std::span<const uint8_t> b) {
  if (b.size() != kSelectResponseSize) {
    return WrongSize("SELECT answer", b.size(), kSelectResponseSize);
  }
  const std::optional<Lifecycle> lifecycle = LifecycleOf(b[1]);
  if (!lifecycle) return Status::InvalidArgument("SELECT answer: unknown life cycle");
  return SelectAnswer{b[0], *lifecycle};
}

Bytes EncodeCardData(const CardData& d) {
  AYNI_CHECK(d.certificate.has_value() == (d.lifecycle == Lifecycle::kIssued));
  ByteWriter w(kCardDataHeaderSize + kCertificateSize);
  w.U8(static_cast<uint8_t>(d.lifecycle));
  w.Raw(d.card_id.bytes());
  w.Raw(d.public_key);
  if (d.certificate) w.Raw(EncodeSignedCertificate(*d.certificate));
  return w.Take();
}

Result<CardData> DecodeCardData(std::span<const uint8_t> bytes) {
  if (bytes.size() != kCardDataHeaderSize &&
      bytes.size() != kCardDataHeaderSize + kCertificateSize) {
    return Status::InvalidArgument("card data has " + std::to_string(bytes.size()) +
                                   " bytes; expected 49 or 218");
  }
  ByteReader in(bytes);
  CardData d;
  const std::optional<Lifecycle> lifecycle = LifecycleOf(in.U8());
  d.card_id = CardId(in.Array<16>());
  d.public_key = in.Array<32>();
  if (!lifecycle) return Status::InvalidArgument("card data: unknown life cycle");
  d.lifecycle = *lifecycle;
  const bool issued = d.lifecycle == Lifecycle::kIssued;
  if (issued != (in.remaining() == kCertificateSize)) {
    return Status::InvalidArgument("card data: a certificate comes with an issued card only");
  }
  if (issued) {
    Result<SignedCertificate> c = ParseSignedCertificate(in.Span(kCertificateSize));
    if (!c.ok()) return c.status();
    d.certificate = std::move(c).value();
  }
  return d;
}

Bytes EncodeBalanceAnswer(const BalanceAnswer& a) {
  ByteWriter w(kBalanceResponseSize);
  w.I64(a.balance.minor());
  w.U32(a.counter);
  w.I64(a.offline_amount.minor());
  w.U32(a.offline_count);
  w.I64(a.offline_amount_cap.minor());
  w.U32(a.offline_count_cap);
  AYNI_CHECK(w.size() == kBalanceResponseSize);
  return w.Take();
}

Result<BalanceAnswer> DecodeBalanceAnswer(std::span<const uint8_t> bytes) {
  if (bytes.size() != kBalanceResponseSize) {
    return WrongSize("GET BALANCE answer", bytes.size(), kBalanceResponseSize);
  }
  ByteReader in(bytes);
  BalanceAnswer a;
  a.balance = Amount(in.I64());
  a.counter = in.U32();
  a.offline_amount = Amount(in.I64());
  a.offline_count = in.U32();
  a.offline_amount_cap = Amount(in.I64());
  a.offline_count_cap = in.U32();
  return a;
}

Bytes EncodePurchaseRequest(const PurchaseRequest& p) {
  ByteWriter w(kPurchaseRequestSize);
  w.Raw(p.terminal_id.bytes());
  w.U32(p.terminal_sequence);
  w.U64(p.terminal_time_s);
  w.Raw(p.nonce);
  w.I64(p.amount.minor());
  AYNI_CHECK(w.size() == kPurchaseRequestSize);
  return w.Take();
}

Result<PurchaseRequest> DecodePurchaseRequest(std::span<const uint8_t> bytes) {
  if (bytes.size() != kPurchaseRequestSize) {
    return WrongSize("INITIALIZE PURCHASE data", bytes.size(), kPurchaseRequestSize);
  }
  ByteReader in(bytes);
  PurchaseRequest p;
  p.terminal_id = TerminalId(in.Array<16>());
  p.terminal_sequence = in.U32();
  p.terminal_time_s = in.U64();
  p.nonce = in.Array<16>();
  p.amount = Amount(in.I64());
  return p;
}

Bytes EncodePurchaseQuote(const PurchaseQuote& q) {
  ByteWriter w(kPurchaseResponseSize);
  w.U32(q.counter);
  w.I64(q.balance.minor());
  return w.Take();
}

Result<PurchaseQuote> DecodePurchaseQuote(std::span<const uint8_t> bytes) {
  if (bytes.size() != kPurchaseResponseSize) {
    return WrongSize("INITIALIZE PURCHASE answer", bytes.size(), kPurchaseResponseSize);
  }
  ByteReader in(bytes);
  PurchaseQuote q;
  q.counter = in.U32();
  q.balance = Amount(in.I64());
  return q;
}

Bytes EncodeLoadAmount(Amount amount) {
  ByteWriter w(kLoadAmountSize);
  w.I64(amount.minor());
  return w.Take();
}

Result<Amount> DecodeLoadAmount(std::span<const uint8_t> bytes) {
  if (bytes.size() != kLoadAmountSize) {
    return WrongSize("INITIALIZE LOAD data", bytes.size(), kLoadAmountSize);
  }
  ByteReader in(bytes);
  return Amount(in.I64());
}

Bytes EncodeLoadChallenge(const LoadChallenge& c) {
  ByteWriter w(kLoadChallengeResponseSize);
  w.Raw(c.challenge);
  w.U32(c.counter);
  w.Raw(c.signature);
  AYNI_CHECK(w.size() == kLoadChallengeResponseSize);
  return w.Take();
}

Result<LoadChallenge> DecodeLoadChallenge(std::span<const uint8_t> bytes) {
  if (bytes.size() != kLoadChallengeResponseSize) {
    return WrongSize("INITIALIZE LOAD answer", bytes.size(), kLoadChallengeResponseSize);
  }
  ByteReader in(bytes);
  LoadChallenge c;
  c.challenge = in.Array<16>();
  c.counter = in.U32();
  c.signature = in.Array<64>();
  return c;
}

}  // namespace ayni::cardio
