// Shared set-up for the card tests: a test bank key, a certificate template, and helpers
// that personalise and load a card through a PurseClient (any channel), asserting each
// step. Deterministic: keys come from fixed seeds.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>

#include "cardio/issuer.h"
#include "cardio/purse_client.h"
#include "clearing/card/certificate.h"
#include "clearing/card/crypto.h"
#include "clearing/card/load_token.h"

namespace ayni::cardio::testing {

inline KeySeed FilledSeed(uint8_t b) {
  KeySeed s;
  s.fill(b);
  return s;
}

inline KeyPair TestBank() { return KeyPairFromSeed(FilledSeed(0x42)); }

inline CardId TestCardId() { return *CardId::FromHex("00112233445566778899aabbccddeeff"); }
inline TerminalId TestTerminal() {
  return *TerminalId::FromHex("7e000000000000000000000000000001");
}

// 2030-01-01T00:00:00Z.
inline constexpr uint64_t kExpiry = 1893456000;
// 2026-01-01T00:00:00Z.
inline constexpr uint64_t kNow = 1767225600;

inline Certificate TestCertificate(const CardId& card, const PublicKey& card_key) {
  Certificate c;
  c.scheme_id = 1;
  c.card_id = card;
  c.card_public_key = card_key;
  c.member_account = AccountId(42);
  c.currency = CurrencyId(7);
  c.limits.payment_max = Amount(5000);
  c.limits.offline_amount_max = Amount(20000);
  c.limits.offline_count_max = 10;
  c.limits.balance_max = Amount(100000);
  c.expiry_s = kExpiry;
  return c;
}

// SELECT, GENERATE KEY, PUT BANK KEY, PUT CERTIFICATE; returns the certificate installed.
inline SignedCertificate Personalise(PurseClient& client, const KeyPair& bank,
                                     const CardId& card = TestCardId()) {
  Result<SignedCertificate> cert =
      PersonaliseCard(client, bank, TestCertificate(card, PublicKey{}));
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return cert.ok() ? *cert : SignedCertificate{};
}

inline LoadId LoadNumber(uint64_t n) { return LoadId::FromParts(0x10AD, n); }

// INITIALIZE LOAD, then a bank-signed token for what it returned.
inline SignedLoadToken TokenFor(PurseClient& client, const KeyPair& bank, Amount amount,
                                LoadId load_id, Amount amount_cap = Amount(20000),
                                uint32_t count_cap = 10, const CardId& card = TestCardId()) {
  Result<SignedLoadToken> t =
      AuthoriseLoad(client, bank, card, {amount, load_id, amount_cap, count_cap});
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : SignedLoadToken{};
}

inline PurchaseRequest Purchase(Amount amount, uint32_t sequence = 1, uint64_t time = kNow) {
  PurchaseRequest p;
  p.terminal_id = TestTerminal();
  p.terminal_sequence = sequence;
  p.terminal_time_s = time;
  for (size_t i = 0; i < p.nonce.size(); ++i) {
    p.nonce[i] = static_cast<uint8_t>(sequence * 31 + i);
  }
  p.amount = amount;
  return p;
}

}  // namespace ayni::cardio::testing
