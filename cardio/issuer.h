// The bank's two conversations with a card, over any channel: personalisation at issue
// (the card generates its own key; the bank certifies it) and a load (the card's fresh
// challenge, the bank's token bound to it, the card's signed load record).
//
// The caller holds the bank key here; in production the bank signs on its server and only
// the challenge and the token travel (SPEC §5). A card's refusal comes back as
// kFailedPrecondition naming the command and its status word; invalid terms as
// kInvalidArgument before anything is sent. Functions; thread-compatible per client.
#pragma once

#include <cstdint>

#include "cardio/purse_client.h"
#include "clearing/amount.h"
#include "clearing/card/certificate.h"
#include "clearing/card/crypto.h"
#include "clearing/card/load_token.h"
#include "clearing/card/record.h"
#include "clearing/status.h"

namespace ayni::cardio {

// SELECT, GENERATE KEY (for fields.card_id), PUT BANK KEY, then PUT CERTIFICATE with
// `fields` certified by `bank` (its card public key is the one the card just generated).
// Returns the certificate the card now holds; the card is issued.
Result<SignedCertificate> PersonaliseCard(PurseClient& client, const KeyPair& bank,
                                          Certificate fields);

struct LoadTerms {
  Amount amount;
  LoadId load_id;
  Amount offline_amount_cap;
  uint32_t offline_count_cap = 0;
};

// INITIALIZE LOAD (for terms.amount), and the bank's token for the challenge and counter it returned (not
// sent yet). The applet must be selected.
Result<SignedLoadToken> AuthoriseLoad(PurseClient& client, const KeyPair& bank, const CardId& card,
                                      const LoadTerms& terms);

// AuthoriseLoad, then CREDIT LOAD: the card's signed load record.
Result<SignedRecord> LoadCard(PurseClient& client, const KeyPair& bank, const CardId& card,
                              const LoadTerms& terms);

}  // namespace ayni::cardio
