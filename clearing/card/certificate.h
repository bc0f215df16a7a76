// A card format (clearing/card/): shared by the card (cardio/), the kiosk and the server;
// pure, depends on clearing/ and libsodium only. Namespace ayni::cardio (historical).
//
// The issuer certificate: the bank's Ed25519 signature binding a card's id and public key
// to a member account, a currency, the card's limits and an expiry.
//
// Layout, big-endian (docs/card-protocol.md §Certificate):
//   u8 version | u32 scheme id | card id[16] | card public key[32] | u64 member account |
//   u64 currency | i64 payment max | i64 offline amount max | u32 offline count max |
//   i64 balance max | u64 expiry                                  = 105 bytes (the body)
// followed by the bank's signature over "AYNI-CARD-CERT-V1" ‖ body.
// Issued by the bank (IssueCertificate), stored on the card at personalisation, read by
// kiosks with GET CARD DATA and checked offline (VerifyCertificate).
// Value types and pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <span>

#include "clearing/amount.h"
#include "clearing/card/bytes.h"
#include "clearing/card/crypto.h"
#include "clearing/card/protocol.h"
#include "clearing/ids.h"
#include "clearing/status.h"

namespace ayni::cardio {

inline constexpr uint8_t kCertificateVersion = 1;

struct CardLimits {
  Amount payment_max;              // one debit, > 0
  Amount offline_amount_max;       // sum of debits between two loads; caps a load token's cap
  uint32_t offline_count_max = 0;  // debits between two loads; caps a load token's cap
  Amount balance_max;              // purse ceiling, > 0: a load never takes the balance above it

  friend bool operator==(const CardLimits&, const CardLimits&) = default;
};

struct Certificate {
  uint8_t version = kCertificateVersion;
  uint32_t scheme_id = 0;  // the card programme (e.g. the issuing bank); copied into records
  CardId card_id;
  PublicKey card_public_key{};
  AccountId member_account;
  CurrencyId currency;
  CardLimits limits;
  uint64_t expiry_s = 0;  // unix seconds; valid while the time is strictly before it

  friend bool operator==(const Certificate&, const Certificate&) = default;
};

struct SignedCertificate {
  Certificate certificate;
  Signature signature{};

  friend bool operator==(const SignedCertificate&, const SignedCertificate&) = default;
};

// Refuses, naming the field: a version other than 1, a zero card id, account or currency,
// non-positive payment or balance max, a negative offline amount max, a zero expiry.
Status ValidateCertificate(const Certificate& certificate);

Bytes EncodeCertificateBody(const Certificate& certificate);
Bytes EncodeSignedCertificate(const SignedCertificate& certificate);
// Parses exactly kCertificateSize bytes and validates the fields; no signature check.
Result<SignedCertificate> ParseSignedCertificate(std::span<const uint8_t> bytes);

// The bank side. AYNI_CHECKs that the fields are valid: validate input first.
SignedCertificate IssueCertificate(const Certificate& certificate, const KeyPair& bank);
// Fields valid and signed by `bank`.
Status VerifyCertificate(const SignedCertificate& certificate, const PublicKey& bank);

}  // namespace ayni::cardio
