// The data fields of the purse APDUs (docs/card-protocol.md §APDUs): one struct per
// request or answer, with its encoder and its strict decoder. The applet (card side) and
// the purse client (terminal side) both use these, so the two sides cannot disagree on a
// layout. Decoders check the size (and enumerations), not business rules: the applet
// checks values, the host checks signatures (host.h). Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "clearing/amount.h"
#include "clearing/card/bytes.h"
#include "clearing/card/certificate.h"
#include "clearing/card/crypto.h"
#include "clearing/card/protocol.h"
#include "clearing/status.h"

namespace ayni::cardio {

// SELECT's answer: u8 version ‖ u8 life cycle.
struct SelectAnswer {
  uint8_t version = kProtocolVersion;
  Lifecycle lifecycle = Lifecycle::kBlank;
};
Bytes EncodeSelectAnswer(const SelectAnswer& answer);
Result<SelectAnswer> DecodeSelectAnswer(std::span<const uint8_t> bytes);

// GET CARD DATA's answer: u8 life cycle ‖ card id ‖ public key ‖ certificate (once issued).
struct CardData {
  Lifecycle lifecycle = Lifecycle::kBlank;
  CardId card_id;
  PublicKey public_key{};
  std::optional<SignedCertificate> certificate;  // present exactly when issued
};
Bytes EncodeCardData(const CardData& data);
// Refuses a size that does not match the life cycle, an unknown life cycle, or a
// malformed certificate.
Result<CardData> DecodeCardData(std::span<const uint8_t> bytes);

// GET BALANCE's answer (36 bytes).
struct BalanceAnswer {
  Amount balance;
  uint32_t counter = 0;
  Amount offline_amount;
  uint32_t offline_count = 0;
  Amount offline_amount_cap;
  uint32_t offline_count_cap = 0;
};
Bytes EncodeBalanceAnswer(const BalanceAnswer& answer);
Result<BalanceAnswer> DecodeBalanceAnswer(std::span<const uint8_t> bytes);

// INITIALIZE PURCHASE's data field (52 bytes).
struct PurchaseRequest {
  TerminalId terminal_id;
  uint32_t terminal_sequence = 0;
  uint64_t terminal_time_s = 0;
  Nonce nonce{};
  Amount amount;
};
Bytes EncodePurchaseRequest(const PurchaseRequest& request);
Result<PurchaseRequest> DecodePurchaseRequest(std::span<const uint8_t> bytes);

// INITIALIZE PURCHASE's answer: the card's counter and balance now; the debit record will
// carry counter + 1 (12 bytes).
struct PurchaseQuote {
  uint32_t counter = 0;
  Amount balance;
};
Bytes EncodePurchaseQuote(const PurchaseQuote& quote);
Result<PurchaseQuote> DecodePurchaseQuote(std::span<const uint8_t> bytes);

// INITIALIZE LOAD's data field: the amount the holder asks for (i64, 8 bytes).
Bytes EncodeLoadAmount(Amount amount);
Result<Amount> DecodeLoadAmount(std::span<const uint8_t> bytes);

// INITIALIZE LOAD's answer: challenge ‖ u32 counter ‖ the card's signature over the load
// request (card id, counter, challenge, amount; load_request.h) (84 bytes).
struct LoadChallenge {
  Nonce challenge{};
  uint32_t counter = 0;
  Signature signature{};
};
Bytes EncodeLoadChallenge(const LoadChallenge& challenge);
Result<LoadChallenge> DecodeLoadChallenge(std::span<const uint8_t> bytes);

}  // namespace ayni::cardio
