// Strong id types, so that swapped arguments do not compile.
//
// Dense ids (banks, currencies, circles, members, accounts, loan products, solidarity
// groups, loans, kiosks) are assigned by the ledger,
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
#include <utility>

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
struct LoanProductTag {};
struct SolidarityGroupTag {};
struct LoanTag {};
struct KioskTag {};

using BankId = DenseId<BankTag>;
using CurrencyId = DenseId<CurrencyTag>;
using CircleId = DenseId<CircleTag>;
using MemberId = DenseId<MemberTag>;
using AccountId = DenseId<AccountTag>;
using LoanProductId = DenseId<LoanProductTag>;
using SolidarityGroupId = DenseId<SolidarityGroupTag>;
using LoanId = DenseId<LoanTag>;
using KioskId = DenseId<KioskTag>;  // a registered kiosk (API keys of role KIOSK scope it)

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
  // The 16 bytes as two native words (for hashing and fast comparison, not for display).
  std::pair<uint64_t, uint64_t> Halves() const {
    uint64_t a, b;
    std::memcpy(&a, b_.data(), 8);
    std::memcpy(&b, b_.data() + 8, 8);
    return {a, b};
  }
  bool zero() const {
    const auto [a, b] = Halves();
    return (a | b) == 0;
  }
  // Equality is on every lookup of the idempotency table: two word compares, no memcmp.
  friend bool operator==(const WideId& x, const WideId& y) { return x.Halves() == y.Halves(); }
  friend auto operator<=>(const WideId& x, const WideId& y) { return x.b_ <=> y.b_; }

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
struct InvoiceTag {};
using RequestId = WideId<RequestTag>;
using TransferId = WideId<TransferTag>;
// Invoices are registered by member enterprises under an id of their choosing (idempotent
// by id, like requests).
using InvoiceId = WideId<InvoiceTag>;
// Cards and kiosks (SPEC §5; card formats in cardio/, docs/card-protocol.md).
struct CardTag {};
struct TerminalTag {};
struct LoadTag {};
using CardId = WideId<CardTag>;          // chosen by the issuing bank
using TerminalId = WideId<TerminalTag>;  // a kiosk's id as written into card records
using LoadId = WideId<LoadTag>;          // one load authorisation (the bank's idempotency key)

}  // namespace ayni

template <typename Tag>
struct std::hash<ayni::DenseId<Tag>> {
  size_t operator()(ayni::DenseId<Tag> id) const noexcept {
    return std::hash<uint64_t>{}(id.value());
  }
};

template <typename Tag>
struct std::hash<ayni::WideId<Tag>> {
  // Client ids may be sequential counters in either half and in either byte order, so
  // both halves go through a full 64-bit finalizer (murmur3 fmix64): every input bit
  // reaches the low bits that open-addressing tables use.
  static uint64_t Mix(uint64_t x) noexcept {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
  }
  size_t operator()(const ayni::WideId<Tag>& id) const noexcept {
    const auto [a, b] = id.Halves();
    return static_cast<size_t>(Mix(a ^ Mix(b)));
  }
};
