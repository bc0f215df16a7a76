// The banks' Ed25519 signing keys (SPEC §2: each bank signs its cards' certificates and
// its load tokens).
//
// A bank's key is not stored anywhere: its 32-byte seed is derived from the clearing key
// (signature.h) with crypto_kdf_derive_from_key, subkey id = the bank id, context
// "AYNIBANK". So every aynid that holds the same clearing key file — the writer and its
// standby — signs with the same bank keys, and kiosks keep trusting the keys they
// downloaded. Losing the clearing key file loses every bank key with it (docs/operations.md).
//
// Thread-safe: derived pairs are cached under a mutex; For() may run on any thread.
#pragma once

#include <mutex>
#include <unordered_map>

#include "clearing/card/crypto.h"
#include "clearing/ids.h"
#include "server/api/signature.h"

namespace ayni::server::api {

inline constexpr char kBankKeyContext[] = "AYNIBANK";  // crypto_kdf context: 8 bytes

class BankKeys {
 public:
  // `clearing` must outlive this object.
  explicit BankKeys(const Signer& clearing) : clearing_(clearing) {}
  BankKeys(const BankKeys&) = delete;
  BankKeys& operator=(const BankKeys&) = delete;

  // The key pair of `bank` (a valid id). The same for every call and every process that
  // holds the same clearing key.
  cardio::KeyPair For(BankId bank) const;
  cardio::PublicKey PublicKeyOf(BankId bank) const { return For(bank).public_key; }

 private:
  const Signer& clearing_;
  mutable std::mutex mu_;
  mutable std::unordered_map<uint64_t, cardio::KeyPair> cache_;  // guarded by mu_
};

}  // namespace ayni::server::api
