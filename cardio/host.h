// Host-side checks of what a card presents, for kiosks (offline) and the bank.
//
// A kiosk trusts a card only through the bank's key: the certificate must verify under
// it, name the card's id and public key and not be expired at the kiosk's time; every
// record must be signed by the certified key, name the certified card and scheme, and stay
// within the certificate's caps. These functions are pure; thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "cardio/messages.h"
#include "clearing/card/certificate.h"
#include "clearing/card/record.h"
#include "clearing/status.h"

namespace ayni::cardio {

// The card is issued, its certificate verifies under `bank`, names this card's id and
// key, and is not expired at now_s.
Status VerifyCardData(const CardData& card, const PublicKey& bank, uint64_t now_s);

// The record's signature verifies under the certificate's card key; card id and scheme
// match; a debit is at most the payment max; the offline amount and count since the last
// load are within the certificate's caps; the balance after is within the ceiling.
Status CheckRecordAgainstCertificate(const SignedRecord& record, const Certificate& cert);

// Parse + CheckRecordAgainstCertificate.
Result<SignedRecord> VerifyRecord(std::span<const uint8_t> bytes, const Certificate& cert);

}  // namespace ayni::cardio
