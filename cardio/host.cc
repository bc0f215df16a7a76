#include "cardio/host.h"

#include <string>

namespace ayni::cardio {

Status VerifyCardData(const CardData& card, const PublicKey& bank, uint64_t now_s) {
  if (!card.certificate) return Status::FailedPrecondition("card is not issued");
  const Certificate& c = card.certificate->certificate;
  if (Status st = VerifyCertificate(*card.certificate, bank); !st.ok()) return st;
  if (c.card_id != card.card_id) {
    return Status::InvalidArgument("certificate names card " + c.card_id.ToHex() +
                                   ", the card says " + card.card_id.ToHex());
  }
  if (c.card_public_key != card.public_key) {
    return Status::InvalidArgument("certificate names another public key than the card's");
  }
  if (now_s >= c.expiry_s) {
    return Status::FailedPrecondition("certificate expired at " + std::to_string(c.expiry_s));
  }
  return Status::Ok();
}

Status CheckRecordAgainstCertificate(const SignedRecord& s, const Certificate& c) {
  const OfflineRecord& r = s.record;
  if (r.card_id != c.card_id) {
    return Status::InvalidArgument("record of card " + r.card_id.ToHex() +
                                   " checked against the certificate of " + c.card_id.ToHex());
  }
  if (r.scheme_id != c.scheme_id) {
    return Status::InvalidArgument("record scheme " + std::to_string(r.scheme_id) +
                                   " differs from the certificate's " +
                                   std::to_string(c.scheme_id));
  }
  if (!VerifyRecordSignature(s, c.card_public_key)) {
    return Status::InvalidArgument("record signature does not verify under the card key");
  }
  if (r.type == RecordType::kDebit && r.amount > c.limits.payment_max) {
    return Status::InvalidArgument("debit amount " + std::to_string(r.amount.minor()) +
                                   " is above the payment max " +
                                   std::to_string(c.limits.payment_max.minor()));
  }
  if (r.offline_amount > c.limits.offline_amount_max) {
    return Status::InvalidArgument("offline amount " + std::to_string(r.offline_amount.minor()) +
                                   " is above the cap " +
                                   std::to_string(c.limits.offline_amount_max.minor()));
  }
  if (r.offline_count > c.limits.offline_count_max) {
    return Status::InvalidArgument("offline count " + std::to_string(r.offline_count) +
                                   " is above the cap " +
                                   std::to_string(c.limits.offline_count_max));
  }
  if (r.balance_after > c.limits.balance_max) {
    return Status::InvalidArgument("balance after is above the card's ceiling");
  }
  return Status::Ok();
}

Result<SignedRecord> VerifyRecord(std::span<const uint8_t> bytes, const Certificate& cert) {
  Result<SignedRecord> r = ParseSignedRecord(bytes);
  if (!r.ok()) return r;
  if (Status st = CheckRecordAgainstCertificate(*r, cert); !st.ok()) return st;
  return r;
}

}  // namespace ayni::cardio
