// The test vectors of docs/card-protocol.md, recomputed: a Java Card port must produce the
// same bytes, so the document and the code must never drift apart. The test reads every
// `name = hex` line of the document and compares both ways (nothing missing, nothing
// stale). AYNI_PRINT_VECTORS=1 prints the vectors in the document's format.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cardio/applet.h"
#include "cardio/channel.h"
#include "cardio/purse_client.h"
#include "clearing/card/kiosk_batch.h"
#include "clearing/card/load_request.h"
#include "clearing/hash.h"
#include "tests/cardio/card_fixture.h"

namespace ayni::cardio {
namespace {

using Vectors = std::vector<std::pair<std::string, std::string>>;

std::string Hex(std::span<const uint8_t> b) { return HexOf(b); }

// The scenario of the document's §Test vectors, step by step.
Vectors Generate() {
  Vectors v;
  auto add = [&](const std::string& name, std::span<const uint8_t> bytes) {
    v.emplace_back(name, Hex(bytes));
  };
  const KeySeed bank_seed = testing::FilledSeed(0x42);
  const KeyPair bank = KeyPairFromSeed(bank_seed);
  add("bank_seed", bank_seed);
  add("bank_public_key", bank.public_key);

  KeySeed card_seed;
  for (size_t i = 0; i < card_seed.size(); ++i) card_seed[i] = static_cast<uint8_t>(i + 1);
  Nonce challenge;
  for (size_t i = 0; i < challenge.size(); ++i) challenge[i] = static_cast<uint8_t>(0xA0 + i);
  ScriptedRandom random;
  random.Push(card_seed);
  random.Push(challenge);
  add("rng_1_card_key_seed", card_seed);
  add("rng_2_load_challenge", challenge);

  PurseApplet applet(random);
  AppletChannel channel(applet);
  auto exchange = [&](const std::string& name, const CommandApdu& c) {
    const Bytes command = EncodeCommandApdu(c);
    const Bytes response = applet.Process(command);
    add(name + "_command", command);
    add(name + "_response", response);
    return response;
  };
  const CardId card = testing::TestCardId();
  add("card_id", card.bytes());
  exchange("select", {kClaIso, kInsSelect, 0x04, 0x00, Bytes(kAid.begin(), kAid.end()), 256});
  exchange("generate_key", {kClaProprietary, kInsGenerateKey, 0, 0,
                            Bytes(card.bytes().begin(), card.bytes().end()), 256});
  const PublicKey card_key = KeyPairFromSeed(card_seed).public_key;
  add("card_public_key", card_key);
  exchange("put_bank_key", {kClaProprietary, kInsPutBankKey, 0, 0,
                            Bytes(bank.public_key.begin(), bank.public_key.end()), std::nullopt});
  const SignedCertificate cert = IssueCertificate(testing::TestCertificate(card, card_key), bank);
  add("certificate", EncodeSignedCertificate(cert));
  exchange("put_certificate", {kClaProprietary, kInsPutCertificate, 0, 0,
                               EncodeSignedCertificate(cert), std::nullopt});
  exchange("get_card_data", {kClaProprietary, kInsGetCardData, 0, 0, {}, 256});

  const Bytes load_answer = exchange("initialize_load", {kClaProprietary, kInsInitializeLoad, 0, 0,
                                                         EncodeLoadAmount(Amount(10000)), 256});
  const LoadRequest request{card, 0, challenge, Amount(10000)};
  add("load_request_body", EncodeLoadRequestBody(request));
  Result<LoadChallenge> answered =
      DecodeLoadChallenge(std::span(load_answer).first(kLoadChallengeResponseSize));
  AYNI_CHECK(answered.ok());
  AYNI_CHECK(VerifyLoadRequestSignature(request, answered->signature, card_key));
  add("load_request_signature", answered->signature);
  LoadToken t;
  t.card_id = card;
  t.counter = 0;
  t.challenge = challenge;
  t.amount = Amount(10000);
  t.load_id = *LoadId::FromHex("10ad0000000000000000000000000001");
  t.offline_amount_cap = Amount(20000);
  t.offline_count_cap = 10;
  const SignedLoadToken token = SignLoadToken(t, bank);
  add("load_token", EncodeSignedLoadToken(token));
  const Bytes credit = exchange(
      "credit_load", {kClaProprietary, kInsCreditLoad, 0, 0, EncodeSignedLoadToken(token), 256});
  PurchaseRequest p;
  p.terminal_id = testing::TestTerminal();
  p.terminal_sequence = 1;
  p.terminal_time_s = testing::kNow;
  for (size_t i = 0; i < p.nonce.size(); ++i) p.nonce[i] = static_cast<uint8_t>(0x50 + i);
  p.amount = Amount(1250);
  exchange("initialize_purchase",
           {kClaProprietary, kInsInitializePurchase, 0, 0, EncodePurchaseRequest(p), 256});
  const Bytes debit = exchange("debit", {kClaProprietary, kInsDebit, 0, 0, {}, 256});
  Result<SignedRecord> record = ParseSignedRecord(std::span(debit).first(kRecordSize));
  AYNI_CHECK(record.ok());
  add("debit_record_body", EncodeRecordBody(record->record));
  add("debit_record_signature", record->signature);
  add("debit_record_hash", RecordHash(record->record));
  exchange("get_balance", {kClaProprietary, kInsGetBalance, 0, 0, {}, 256});
  exchange("get_last_record", {kClaProprietary, kInsGetLastRecord, 0, 0, {}, 256});
  AYNI_CHECK(random.pending() == 0);

  // The kiosk's batch of the two records above (load, then debit), sequence 1.
  const KeySeed kiosk_seed = testing::FilledSeed(0x4B);
  const KeyPair kiosk = KeyPairFromSeed(kiosk_seed);
  add("kiosk_seed", kiosk_seed);
  add("kiosk_public_key", kiosk.public_key);
  const std::vector<Bytes> records = {Bytes(credit.begin(), credit.begin() + kRecordSize),
                                      Bytes(debit.begin(), debit.begin() + kRecordSize)};
  add("kiosk_batch_body", EncodeKioskBatchBody(p.terminal_id, 1, records));
  add("kiosk_batch_signature", SignKioskBatch(p.terminal_id, 1, records, kiosk));
  return v;
}

std::map<std::string, std::string> FromDocument(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  const std::regex line_re("^([a-z0-9_]+) = ([0-9a-f]+)$");
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, line_re)) {
      EXPECT_TRUE(out.emplace(m[1], m[2]).second) << "vector " << m[1] << " appears twice";
    }
  }
  return out;
}

TEST(VectorsTest, DocumentMatchesTheCode) {
  const Vectors generated = Generate();
  if (std::getenv("AYNI_PRINT_VECTORS")) {
    for (const auto& [name, hex] : generated) std::cout << name << " = " << hex << "\n";
  }
  const auto doc = FromDocument(AYNI_SOURCE_DIR "/docs/card-protocol.md");
  ASSERT_GT(doc.size(), 20u);
  std::map<std::string, std::string> code(generated.begin(), generated.end());
  for (const auto& [name, hex] : code) {
    auto it = doc.find(name);
    if (it == doc.end()) {
      ADD_FAILURE() << "vector " << name << " is missing from the document";
      continue;
    }
    EXPECT_EQ(it->second, hex) << "vector " << name << " differs";
  }
  for (const auto& [name, hex] : doc) {
    EXPECT_TRUE(code.count(name)) << "the document has a vector the code does not produce: "
                                  << name;
  }
}

// The generator itself is a working exchange: every step answered 9000.
TEST(VectorsTest, EveryExchangeSucceeds) {
  for (const auto& [name, hex] : Generate()) {
    if (name.size() > 9 && name.ends_with("_response")) {
      EXPECT_TRUE(hex.ends_with("9000")) << name << " = " << hex;
    }
  }
}

}  // namespace
}  // namespace ayni::cardio
