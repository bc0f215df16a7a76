#include "clearing/card/crypto.h"

#include <sodium.h>

#include <algorithm>

#include "clearing/check.h"

namespace ayni::cardio {

KeyPair KeyPairFromSeed(const KeySeed& seed) {
  EnsureSodium();
  KeyPair k;
  k.seed = seed;
  AYNI_CHECK(crypto_sign_seed_keypair(k.public_key.data(), k.secret_key.data(), seed.data()) == 0);
  return k;
}

namespace {
Bytes Prefixed(std::string_view prefix, std::span<const uint8_t> body) {
  Bytes msg(prefix.begin(), prefix.end());
  msg.insert(msg.end(), body.begin(), body.end());
  return msg;
}
}  // namespace

Signature SignWithPrefix(const KeyPair& key, std::string_view prefix,
                         std::span<const uint8_t> body) {
  EnsureSodium();
  const Bytes msg = Prefixed(prefix, body);
  Signature sig{};
  AYNI_CHECK(crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(),
                                  key.secret_key.data()) == 0);
  return sig;
}

bool VerifyWithPrefix(const PublicKey& key, std::string_view prefix, std::span<const uint8_t> body,
                      const Signature& signature) {
  EnsureSodium();
  const Bytes msg = Prefixed(prefix, body);
  return crypto_sign_verify_detached(signature.data(), msg.data(), msg.size(), key.data()) == 0;
}

Sha256Digest Sha256(std::span<const uint8_t> bytes) {
  EnsureSodium();
  Sha256Digest out{};
  crypto_hash_sha256(out.data(), bytes.data(), bytes.size());
  return out;
}

void SystemRandom::Fill(std::span<uint8_t> out) {
  EnsureSodium();
  randombytes_buf(out.data(), out.size());
}

SeededRandom::SeededRandom(uint64_t seed) {
  for (int i = 0; i < 8; ++i) seed_[i] = static_cast<uint8_t>(seed >> (56 - 8 * i));
}

void SeededRandom::Fill(std::span<uint8_t> out) {
  ByteWriter w;
  w.Raw(seed_);
  w.U64(calls_++);
  const Sha256Digest d = Sha256(w.bytes());
  static_assert(sizeof(Sha256Digest) == randombytes_SEEDBYTES);
  randombytes_buf_deterministic(out.data(), out.size(), d.data());
}

void ScriptedRandom::Fill(std::span<uint8_t> out) {
  AYNI_CHECK(!chunks_.empty());
  AYNI_CHECK(chunks_.front().size() == out.size());
  std::copy(chunks_.front().begin(), chunks_.front().end(), out.begin());
  chunks_.pop_front();
}

}  // namespace ayni::cardio
