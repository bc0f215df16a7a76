// A card format (clearing/card/): shared by the card (cardio/), the kiosk and the server;
// pure, depends on clearing/ and libsodium only. Namespace ayni::cardio (historical).
//
// The load token: the bank's Ed25519 authorisation for one load onto one card.
//
// Layout, big-endian (docs/card-protocol.md §Load token):
//   u8 version | card id[16] | u32 counter | challenge[16] | i64 amount | load id[16] |
//   i64 offline amount cap | u32 offline count cap             = 73 bytes (the body)
// followed by the bank's signature over "AYNI-LOAD-TOKEN-V1" ‖ body.
// The counter and challenge are what INITIALIZE LOAD returned: the card accepts a token
// only for its current counter and pending challenge, so a token works once, and a card
// whose own key was extracted still cannot make one. The caps replace the card's offline
// caps until the next load (each at most the certificate's). An amount of 0 only renews
// the offline allowance. Value types and pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <span>

#include "clearing/amount.h"
#include "clearing/card/bytes.h"
#include "clearing/card/crypto.h"
#include "clearing/card/protocol.h"
#include "clearing/status.h"

namespace ayni::cardio {

inline constexpr uint8_t kLoadTokenVersion = 1;

struct LoadToken {
  uint8_t version = kLoadTokenVersion;
  CardId card_id;
  uint32_t counter = 0;
  Nonce challenge{};
  Amount amount;  // >= 0
  LoadId load_id;
  Amount offline_amount_cap;  // >= 0
  uint32_t offline_count_cap = 0;

  friend bool operator==(const LoadToken&, const LoadToken&) = default;
};

struct SignedLoadToken {
  LoadToken token;
  Signature signature{};

  friend bool operator==(const SignedLoadToken&, const SignedLoadToken&) = default;
};

// Refuses, naming the field: a version other than 1, a zero card or load id, a negative
// amount or offline amount cap.
Status ValidateLoadToken(const LoadToken& token);

Bytes EncodeLoadTokenBody(const LoadToken& token);
Bytes EncodeSignedLoadToken(const SignedLoadToken& token);
// Parses exactly kLoadTokenSize bytes and validates the fields; no signature check.
Result<SignedLoadToken> ParseSignedLoadToken(std::span<const uint8_t> bytes);

// The bank side. AYNI_CHECKs that the fields are valid: validate input first.
SignedLoadToken SignLoadToken(const LoadToken& token, const KeyPair& bank);
bool VerifyLoadTokenSignature(const SignedLoadToken& token, const PublicKey& bank);

}  // namespace ayni::cardio
