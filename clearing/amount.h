// Amount: a signed count of minor units (int64). Never a float.
//
// Every arithmetic step is overflow-checked: the checked operations return
// std::nullopt on overflow and the caller turns that into a refusal. Decimal text exists
// only at the edges (ParseDecimal / FormatDecimal), exact in both directions.
// Value type; thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "clearing/int128.h"
#include "clearing/status.h"

namespace ayni {

class Amount {
 public:
  constexpr Amount() = default;
  constexpr explicit Amount(int64_t minor) : minor_(minor) {}
  // No construction from floating point, ever.
  template <typename F>
    requires std::is_floating_point_v<F>
  Amount(F) = delete;

  static constexpr Amount Zero() { return Amount(0); }
  static constexpr Amount Max() { return Amount(INT64_MAX); }

  constexpr int64_t minor() const { return minor_; }
  constexpr bool positive() const { return minor_ > 0; }
  constexpr bool negative() const { return minor_ < 0; }
  constexpr bool zero() const { return minor_ == 0; }

  std::optional<Amount> CheckedAdd(Amount o) const {
    int64_t r;
    if (__builtin_add_overflow(minor_, o.minor_, &r)) return std::nullopt;
    return Amount(r);
  }
  std::optional<Amount> CheckedSub(Amount o) const {
    int64_t r;
    if (__builtin_sub_overflow(minor_, o.minor_, &r)) return std::nullopt;
    return Amount(r);
  }
  std::optional<Amount> CheckedNeg() const {
    if (minor_ == INT64_MIN) return std::nullopt;
    return Amount(-minor_);
  }

  // floor(|this| * bp / 10000) for a non-negative amount: fees round down (SPEC §3).
  // Exact through 128-bit intermediate; bp must be in [0, 10000].
  Amount FeeFloor(int32_t bp) const;

  friend constexpr auto operator<=>(Amount, Amount) = default;

 private:
  int64_t minor_ = 0;
};

// A currency's scale is minor units per unit and must be a power of ten from 1 to 10^9.
bool IsValidScale(int64_t scale);
// Number of decimal places of a valid scale (100 -> 2).
int ScaleDigits(int64_t scale);

// Parses "12.34", "-0.5", "100" exactly at the given scale. Refuses more fraction digits
// than the scale has, any non-digit, empty text, a lone sign, and values outside int64.
Result<Amount> ParseDecimal(std::string_view text, int64_t scale);
// Formats exactly: FormatDecimal(Amount(-5), 100) == "-0.05".
std::string FormatDecimal(Amount amount, int64_t scale);

}  // namespace ayni
