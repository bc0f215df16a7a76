// Amounts at the edges (the CLI, the kiosk): decimal text typed by a person ↔ int64 minor units,
// exact in both directions at the currency's scale (clearing/amount.h does the arithmetic). Never a
// float: text that is not a plain decimal ("1e3", "1,50", "+5", " 5") is refused, as is text with
// more fraction digits than the currency has. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "clearing/status.h"

namespace ayni::cli {

// Whether `text` is a plain decimal: digits, optionally '.' and more digits. No sign,
// exponent, separators, spaces or hex.
bool IsDecimalSyntax(std::string_view text);

// Plain decimal digits (no sign, no spaces, at most 20) → uint64; nullopt otherwise or on
// overflow.
std::optional<uint64_t> ParseU64(std::string_view s);

enum class AmountSign { kPositive, kNonNegative };

// Parses `text` at `scale` (minor units per unit, a power of ten). `what` names the
// argument in the message ("AMOUNT", "--credit-limit"); `code` is the currency's code.
// INVALID_ARGUMENT with a message saying why.
Result<int64_t> ParseAmount(std::string_view text, int64_t scale, AmountSign sign,
                            std::string_view what, std::string_view code);

// "30.00 PALMA"; "-0.05 BRL". `code` may be empty (no suffix).
std::string FormatAmount(int64_t minor, int64_t scale, std::string_view code);

// A ceiling as shown: INT64_MAX means none.
std::string FormatCeiling(int64_t minor, int64_t scale, std::string_view code);

// Basis points as a percentage with two decimals: 10000 → "100.00%", 12345 → "123.45%".
std::string FormatBasisPoints(int64_t bp);

}  // namespace ayni::cli
