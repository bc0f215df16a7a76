// A card format (clearing/card/): shared by the card (cardio/), the kiosk and the server;
// pure, depends on clearing/ and libsodium only. Namespace ayni::cardio (historical).
//
// The card's cryptography over libsodium 1.0.18: Ed25519 keys and signatures with a
// domain-separation prefix, SHA-256 for the record chain (what card hardware has), and an
// injectable source of randomness so that tests and test vectors are deterministic.
//
// Signatures are always over prefix ‖ body, with a distinct ASCII prefix per kind of
// signed object (record, certificate, load token, load request, kiosk batch), so that no signature
// of one kind can be presented as another. Pure functions; thread-safe once libsodium is
// initialised (EnsureSodium(), called by every function here). A RandomSource is thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <span>
#include <string_view>

#include "clearing/card/bytes.h"
#include "clearing/hash.h"

namespace ayni::cardio {

using KeySeed = std::array<uint8_t, 32>;  // an Ed25519 private key (RFC 8032 seed)
using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;
using Sha256Digest = std::array<uint8_t, 32>;

// Domain-separation prefixes (docs/card-protocol.md). Never change: they are signed.
inline constexpr std::string_view kRecordPrefix = "AYNI-CARD-RECORD-V1";
inline constexpr std::string_view kCertificatePrefix = "AYNI-CARD-CERT-V1";
inline constexpr std::string_view kLoadTokenPrefix = "AYNI-LOAD-TOKEN-V1";
inline constexpr std::string_view kLoadRequestPrefix = "AYNI-LOAD-REQUEST-V1";  // the card's
inline constexpr std::string_view kKioskBatchPrefix = "AYNI-KIOSK-BATCH-V1";    // the kiosk's

struct KeyPair {
  KeySeed seed{};
  PublicKey public_key{};
  std::array<uint8_t, 64> secret_key{};  // libsodium's expanded form: seed ‖ public key
};

KeyPair KeyPairFromSeed(const KeySeed& seed);
Signature SignWithPrefix(const KeyPair& key, std::string_view prefix,
                         std::span<const uint8_t> body);
bool VerifyWithPrefix(const PublicKey& key, std::string_view prefix, std::span<const uint8_t> body,
                      const Signature& signature);
Sha256Digest Sha256(std::span<const uint8_t> bytes);

// Where the card gets its key seed and load challenges.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void Fill(std::span<uint8_t> out) = 0;
};

// The operating system's randomness (randombytes_buf).
class SystemRandom final : public RandomSource {
 public:
  void Fill(std::span<uint8_t> out) override;
};

// Deterministic: call n (from 0) fills its buffer with
// randombytes_buf_deterministic(seed = SHA-256(seed ‖ be64(n))). For tests only.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed);
  void Fill(std::span<uint8_t> out) override;

 private:
  std::array<uint8_t, 32> seed_{};
  uint64_t calls_ = 0;
};

// Hands out exactly the chunks it was given, in order (test vectors). Asking for more
// chunks than were given, or for a chunk of another size, is a bug in the test.
class ScriptedRandom final : public RandomSource {
 public:
  void Push(std::span<const uint8_t> chunk) { chunks_.emplace_back(chunk.begin(), chunk.end()); }
  void Fill(std::span<uint8_t> out) override;
  size_t pending() const { return chunks_.size(); }

 private:
  std::deque<Bytes> chunks_;
};

}  // namespace ayni::cardio
