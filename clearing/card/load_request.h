// A card format (clearing/card/): shared by the card (cardio/), the kiosk and the server;
// pure, depends on clearing/ and libsodium only. Namespace ayni::cardio (historical).
//
// The load request: what a card signs when INITIALIZE LOAD asks it for a load, so that a
// kiosk can prove to the bank that the card's holder asked for this load (SPEC §5: a kiosk
// key alone can never move a member's money).
//
// Layout, big-endian (docs/card-protocol.md §Load request):
//   u8 version | card id[16] | u32 counter | challenge[16] | i64 amount   = 45 bytes
// signed by the card's key over "AYNI-LOAD-REQUEST-V1" ‖ body. The counter and challenge
// are the ones INITIALIZE LOAD returns with the signature, so a request is fresh and
// bound to one load token. The card does not remember the amount: the bank binds the
// token's amount to the signed request, and the card applies whatever token the bank
// signed for its counter and challenge. Value types and pure functions; thread-compatible.
#pragma once

#include <cstdint>

#include "clearing/amount.h"
#include "clearing/card/bytes.h"
#include "clearing/card/crypto.h"
#include "clearing/card/protocol.h"

namespace ayni::cardio {

inline constexpr uint8_t kLoadRequestVersion = 1;

struct LoadRequest {
  CardId card_id;
  uint32_t counter = 0;
  Nonce challenge{};
  Amount amount;  // >= 0 (the card refuses a negative request)

  friend bool operator==(const LoadRequest&, const LoadRequest&) = default;
};

Bytes EncodeLoadRequestBody(const LoadRequest& request);
Signature SignLoadRequest(const LoadRequest& request, const KeyPair& card);
bool VerifyLoadRequestSignature(const LoadRequest& request, const Signature& signature,
                                const PublicKey& card_key);

}  // namespace ayni::cardio
