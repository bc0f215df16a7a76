#include "clearing/hash.h"

#include <sodium.h>

#include "clearing/check.h"

namespace ayni {

void EnsureSodium() {
  static const int kInit = sodium_init();
  AYNI_CHECK(kInit >= 0);
}

Hash256 Blake2b256(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  EnsureSodium();
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  crypto_generichash_update(&st, a.data(), a.size());
  if (!b.empty()) crypto_generichash_update(&st, b.data(), b.size());
  Hash256 out;
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

std::string HexOf(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    s += kDigits[b >> 4];
    s += kDigits[b & 15];
  }
  return s;
}

TransferId DeriveTransferId(const RequestId& request, uint32_t leg) {
  EnsureSodium();
  uint8_t in[8 + 16 + 4] = {'a', 'y', 'n', 'i', '-', 'l', 'e', 'g'};
  std::copy(request.bytes().begin(), request.bytes().end(), in + 8);
  in[24] = static_cast<uint8_t>(leg >> 24);
  in[25] = static_cast<uint8_t>(leg >> 16);
  in[26] = static_cast<uint8_t>(leg >> 8);
  in[27] = static_cast<uint8_t>(leg);
  TransferId::Bytes out;
  crypto_generichash(out.data(), out.size(), in, sizeof in, nullptr, 0);
  return TransferId(out);
}

uint64_t Fingerprint64(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace ayni
