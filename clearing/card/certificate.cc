#include "clearing/card/certificate.h"

#include <string>

#include "clearing/check.h"

namespace ayni::cardio {

Status ValidateCertificate(const Certificate& c) {
  if (c.version != kCertificateVersion) {
    return Status::InvalidArgument("certificate version " + std::to_string(c.version) +
                                   " is unknown (expected 1)");
  }
  if (c.card_id.zero()) return Status::InvalidArgument("certificate card id is zero");
  if (!c.member_account.valid()) {
    return Status::InvalidArgument("certificate member account is 0");
  }
  if (!c.currency.valid()) return Status::InvalidArgument("certificate currency is 0");
  if (!c.limits.payment_max.positive()) {
    return Status::InvalidArgument("certificate payment max must be positive");
  }
  if (c.limits.offline_amount_max.negative()) {
    return Status::InvalidArgument("certificate offline amount max is negative");
  }
  if (!c.limits.balance_max.positive()) {
    return Status::InvalidArgument("certificate balance max must be positive");
  }
  if (c.expiry_s == 0) return Status::InvalidArgument("certificate expiry is 0");
  return Status::Ok();
}

Bytes EncodeCertificateBody(const Certificate& c) {
  ByteWriter w(kCertificateBodySize);
  w.U8(c.version);
  w.U32(c.scheme_id);
  w.Raw(c.card_id.bytes());
  w.Raw(c.card_public_key);
  w.U64(c.member_account.value());
  w.U64(c.currency.value());
  w.I64(c.limits.payment_max.minor());
  w.I64(c.limits.offline_amount_max.minor());
  w.U32(c.limits.offline_count_max);
  w.I64(c.limits.balance_max.minor());
  w.U64(c.expiry_s);
  AYNI_CHECK(w.size() == kCertificateBodySize);
  return w.Take();
}

Bytes EncodeSignedCertificate(const SignedCertificate& c) {
  Bytes out = EncodeCertificateBody(c.certificate);
  out.insert(out.end(), c.signature.begin(), c.signature.end());
  return out;
}

Result<SignedCertificate> ParseSignedCertificate(std::span<const uint8_t> bytes) {
  if (bytes.size() != kCertificateSize) {
    return Status::InvalidArgument("certificate has " + std::to_string(bytes.size()) +
                                   " bytes; it must have " + std::to_string(kCertificateSize));
  }
  ByteReader in(bytes);
  SignedCertificate s;
  Certificate& c = s.certificate;
  c.version = in.U8();
  c.scheme_id = in.U32();
  c.card_id = CardId(in.Array<16>());
  c.card_public_key = in.Array<32>();
  c.member_account = AccountId(in.U64());
  c.currency = CurrencyId(in.U64());
  c.limits.payment_max = Amount(in.I64());
  c.limits.offline_amount_max = Amount(in.I64());
  c.limits.offline_count_max = in.U32();
  c.limits.balance_max = Amount(in.I64());
  c.expiry_s = in.U64();
  s.signature = in.Array<64>();
  AYNI_CHECK(in.done());
  if (Status st = ValidateCertificate(c); !st.ok()) return st;
  return s;
}

SignedCertificate IssueCertificate(const Certificate& certificate, const KeyPair& bank) {
  AYNI_CHECK(ValidateCertificate(certificate).ok());
  return {certificate,
          SignWithPrefix(bank, kCertificatePrefix, EncodeCertificateBody(certificate))};
}

Status VerifyCertificate(const SignedCertificate& c, const PublicKey& bank) {
  if (Status st = ValidateCertificate(c.certificate); !st.ok()) return st;
  if (!VerifyWithPrefix(bank, kCertificatePrefix, EncodeCertificateBody(c.certificate),
                        c.signature)) {
    return Status::InvalidArgument("certificate signature does not verify under the bank key");
  }
  return Status::Ok();
}

}  // namespace ayni::cardio
