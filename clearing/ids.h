// Strong id types, so that swapped arguments do not compile.
//
// Dense ids (banks, currencies, circles, members, accounts) are assigned by the ledger,
// starting at 1; 0 means "none". Request and transfer ids are 128-bit: request ids are
// chosen by clients (the idempotency key), transfer ids are derived from them (hash.h).
// Value types; thread-compatible.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ayni {

template <typename Tag>
class DenseId {
 public:
  constexpr DenseId() = default;
  constexpr explicit DenseId(uint64_t v) : v_(v) {}
  constexpr uint64_t value() const { return v_; }
  constexpr bool valid() const { return v_ != 0; }
  friend constexpr auto operator<=>(DenseId, DenseId) = default;

 private:
  uint64_t v_ = 0;
};

struct BankTag {};
struct CurrencyTag {};
struct CircleTag {};
struct MemberTag {};
struct AccountTag {};

using BankId = DenseId<BankTag>;
using CurrencyId = DenseId<CurrencyTag>;
using CircleId = DenseId<CircleTag>;
using MemberId = DenseId<MemberTag>;
using AccountId = DenseId<AccountTag>;

// 128-bit identifier, stored as 16 big-endian bytes so that its text form and its byte
// order agree.
template <typename Tag>
class WideId {
 public:
  using Bytes = std::array<uint8_t, 16>;
  constexpr WideId() = default;
  constexpr explicit WideId(const Bytes& b) : b_(b) {}
  static WideId FromParts(uint64_t hi, uint64_t lo) {
    Bytes b{};
    for (int i = 0; i < 8; ++i) {
      b[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
      b[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
    }
    return WideId(b);
  }
  // Parses exactly 32 hex digits (either case).
  static std::optional<WideId> FromHex(std::string_view hex) {
    if (hex.size() != 32) return std::nullopt;
    Bytes b{};
    for (size_t i = 0; i < 32; ++i) {
      const int n = HexNibble(hex[i]);
      if (n < 0) return std::nullopt;
      b[i / 2] = static_cast<uint8_t>(b[i / 2] | (n << (i % 2 == 0 ? 4 : 0)));
    }
    return WideId(b);
  }
  std::string ToHex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s(32, '0');
    for (size_t i = 0; i < 16; ++i) {
      s[2 * i] = kDigits[b_[i] >> 4];
      s[2 * i + 1] = kDigits[b_[i] & 15];
    }
    return s;
  }
  const Bytes& bytes() const { return b_; }
  bool zero() const { return b_ == Bytes{}; }
  uint64_t low64() const {
    uint64_t v;
    std::memcpy(&v, b_.data() + 8, 8);
    return v;
  }
  friend constexpr auto operator<=>(const WideId&, const WideId&) = default;

 private:
  static int HexNibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  Bytes b_{};
};

struct RequestTag {};
struct TransferTag {};
using RequestId = WideId<RequestTag>;
using TransferId = WideId<TransferTag>;

}  // namespace ayni

template <typename Tag>
struct std::hash<ayni::DenseId<Tag>> {
  size_t operator()(ayni::DenseId<Tag> id) const noexcept {
    return std::hash<uint64_t>{}(id.value());
  }
};

template <typename Tag>
struct std::hash<ayni::WideId<Tag>> {
  // Ids are random or hash-derived; mixing both halves is enough.
  size_t operator()(const ayni::WideId<Tag>& id) const noexcept {
    uint64_t a, b;
    std::memcpy(&a, id.bytes().data(), 8);
    std::memcpy(&b, id.bytes().data() + 8, 8);
    return static_cast<size_t>((a ^ (b * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull);
  }
};
