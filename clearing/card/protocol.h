// A card format (clearing/card/): shared by the card (cardio/), the kiosk and the server;
// pure, depends on clearing/ and libsodium only. Namespace ayni::cardio (historical).
//
// The purse protocol's constants: ids, the AID, instruction bytes and the fixed sizes of
// every layout. docs/card-protocol.md is the prose form of this file; both change together
// (tests/cardio/vectors_test.cc checks the document against the code).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "clearing/ids.h"

namespace ayni::cardio {

using ayni::CardId;  // clearing/ids.h: the ledger keeps cards too
using ayni::LoadId;
using ayni::TerminalId;
using Nonce = std::array<uint8_t, 16>;  // terminal nonce; also the load challenge

// Proprietary AID: RID F0 (unregistered, ISO 7816-5 "proprietary") ‖ "AYNIPURSE".
inline constexpr std::array<uint8_t, 10> kAid = {0xF0, 'A', 'Y', 'N', 'I', 'P', 'U', 'R', 'S', 'E'};
inline constexpr uint8_t kProtocolVersion = 1;

enum class Lifecycle : uint8_t {
  kBlank = 0,          // no key yet
  kPersonalising = 1,  // key generated; bank key and certificate may be installed
  kIssued = 2,         // certificate installed: personalisation is locked for good
};

inline constexpr uint8_t kClaIso = 0x00;          // SELECT
inline constexpr uint8_t kClaProprietary = 0x80;  // everything else

enum Ins : uint8_t {
  kInsSelect = 0xA4,
  kInsGetCardData = 0xCA,
  kInsGetBalance = 0x5C,
  kInsInitializePurchase = 0x50,
  kInsDebit = 0x54,
  kInsGetLastRecord = 0x5E,
  kInsInitializeLoad = 0x40,
  kInsCreditLoad = 0x42,
  // Personalisation: only before the card is issued.
  kInsGenerateKey = 0xE0,
  kInsPutBankKey = 0xE2,
  kInsPutCertificate = 0xE4,
};

inline constexpr size_t kSignatureSize = 64;
inline constexpr size_t kRecordBodySize = 146;
inline constexpr size_t kRecordSize = kRecordBodySize + kSignatureSize;  // 210
inline constexpr size_t kCertificateBodySize = 105;
inline constexpr size_t kCertificateSize = kCertificateBodySize + kSignatureSize;  // 169
inline constexpr size_t kLoadTokenBodySize = 73;
inline constexpr size_t kLoadTokenSize = kLoadTokenBodySize + kSignatureSize;  // 137
inline constexpr size_t kPurchaseRequestSize = 52;   // INITIALIZE PURCHASE data
inline constexpr size_t kPurchaseResponseSize = 12;  // counter ‖ balance
inline constexpr size_t kBalanceResponseSize = 36;
inline constexpr size_t kLoadRequestBodySize = 45;  // what the card signs (load_request.h)
inline constexpr size_t kLoadAmountSize = 8;        // INITIALIZE LOAD data: i64 amount
// INITIALIZE LOAD's answer: challenge ‖ counter ‖ signature over the load request.
inline constexpr size_t kLoadChallengeResponseSize = 16 + 4 + kSignatureSize;  // 84
inline constexpr size_t kSelectResponseSize = 2;  // version ‖ life cycle
// GET CARD DATA: life cycle ‖ card id ‖ public key ‖ certificate (absent before issue).
inline constexpr size_t kCardDataHeaderSize = 1 + 16 + 32;

}  // namespace ayni::cardio
