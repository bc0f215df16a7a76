#include "server/api/bank_keys.h"

#include <sodium.h>

#include "clearing/check.h"

namespace ayni::server::api {

cardio::KeyPair BankKeys::For(BankId bank) const {
  AYNI_CHECK(bank.valid());
  {
    std::lock_guard lk(mu_);
    if (auto it = cache_.find(bank.value()); it != cache_.end()) return it->second;
  }
  cardio::KeySeed seed = clearing_.DeriveSubkey(bank.value(), kBankKeyContext);
  const cardio::KeyPair pair = cardio::KeyPairFromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  std::lock_guard lk(mu_);
  return cache_.emplace(bank.value(), pair).first->second;
}

}  // namespace ayni::server::api
