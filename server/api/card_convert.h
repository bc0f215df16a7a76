// The CardService edge (proto/ayni/v1/cards.proto): requests → card commands of the ledger
// (clearing/cards.h), the card byte formats of clearing/card/ (docs/card-protocol.md) → verified
// OfflineReceipts, and the ledger's card book → replies.
//
// The ledger never parses or verifies card bytes; this file does, with the parsers of
// clearing/card/: a byte string of the wrong size or a key that is not an Ed25519 point is
// INVALID_ARGUMENT naming the field; a record of the right size that does not parse is data (the
// receipt is rejected MALFORMED), as is a card signature that does not verify (BAD_SIGNATURE). The
// bank's certificate and load token are rebuilt from what the ledger stored: Ed25519 is
// deterministic, so a retry answers the very same bytes.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ayni/v1/cards.pb.h"
#include "clearing/card/bytes.h"
#include "clearing/card/certificate.h"
#include "clearing/card/crypto.h"
#include "clearing/card/load_token.h"
#include "clearing/card/record.h"
#include "clearing/cards.h"
#include "clearing/ledger.h"
#include "clearing/status.h"

namespace ayni::server::api {

Result<RegisterKioskCmd> ToCommand(const v1::RegisterKioskRequest& r);
Result<RegisterCardCmd> ToCommand(const v1::RegisterCardRequest& r);
Result<BlockCardCmd> ToCommand(const v1::BlockCardRequest& r);

// An AuthorizeLoad request, checked. The caps stay unset when the request leaves them
// unset: they default to the certificate's maxima, which only the ledger knows.
struct LoadRequestIn {
  AuthorizeCardLoadCmd cmd;
  bool amount_cap_set = false;
  bool count_cap_set = false;
  std::optional<cardio::Signature> card_signature;
};
Result<LoadRequestIn> ToLoadRequest(const v1::AuthorizeLoadRequest& r);
// The command with unset caps filled from the card's certificate maxima.
AuthorizeCardLoadCmd WithDefaultCaps(const LoadRequestIn& in, const CardRecord& card);
// Does the card's signature over its load request {card, counter, challenge, amount} verify
// with the card's registered key?
bool VerifyCardLoadRequest(const AuthorizeCardLoadCmd& c, const cardio::Signature& signature,
                           const CardPublicKey& card_key);

// A kiosk batch, checked for sizes (INVALID_ARGUMENT naming the field: terminal_id,
// records, records[i], kiosk_signature) with every record parsed: parsed[i] is empty when
// record i is MALFORMED (version, type, amounts).
struct BatchIn {
  TerminalId terminal;
  uint32_t sequence = 0;
  cardio::Signature kiosk_signature{};
  std::vector<cardio::Bytes> records;
  std::vector<std::optional<cardio::SignedRecord>> parsed;
};
Result<BatchIn> ToBatch(const v1::SubmitOfflineBatchRequest& r);

// The certificate the card's bank signs: scheme id = the bank id.
cardio::Certificate CertificateOf(const CardRecord& card);
// The load token for a stored load (its amount, counter, challenge, load id and caps).
cardio::LoadToken LoadTokenOf(const CardLoadRecord& load);

std::string BytesOf(const cardio::Bytes& b);

// One card as GetCard shows it (the certificate is set by the caller, who signs it).
void ToProto(const Ledger& l, const CardRecord& c, v1::Card* out);
void ToProto(const ReceiptResult& r, v1::ReceiptResult* out);

}  // namespace ayni::server::api
