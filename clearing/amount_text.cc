#include "clearing/amount_text.h"

#include <charconv>

#include "clearing/amount.h"

namespace ayni::cli {

bool IsDecimalSyntax(std::string_view text) {
  if (text.empty() || text.size() > 40) return false;
  size_t i = 0;
  size_t int_digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    ++i;
    ++int_digits;
  }
  if (int_digits == 0) return false;
  if (i == text.size()) return true;
  if (text[i] != '.') return false;
  ++i;
  size_t frac_digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    ++i;
    ++frac_digits;
  }
  return frac_digits > 0 && i == text.size();
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<int64_t> ParseAmount(std::string_view text, int64_t scale, AmountSign sign,
                            std::string_view what, std::string_view code) {
  const std::string name(what);
  if (!IsValidScale(scale)) {
    return Status::InvalidArgument(name + ": the currency's scale " + std::to_string(scale) +
                                   " is not a power of ten");
  }
  if (!IsDecimalSyntax(text)) {
    return Status::InvalidArgument(name + " must be a plain decimal like 30 or 30.50, got \"" +
                                   std::string(text) + "\"");
  }
  const size_t dot = text.find('.');
  const size_t frac = dot == std::string_view::npos ? 0 : text.size() - dot - 1;
  const int digits = ScaleDigits(scale);
  if (frac > static_cast<size_t>(digits)) {
    std::string m = name + " \"" + std::string(text) + "\" has " + std::to_string(frac) +
                    " decimal places; " +
                    (code.empty() ? std::string("the currency") : std::string(code)) + " has " +
                    std::to_string(digits);
    return Status::InvalidArgument(std::move(m));
  }
  Result<Amount> a = ParseDecimal(text, scale);
  if (!a.ok()) {
    return Status::InvalidArgument(name + " \"" + std::string(text) +
                                   "\" is out of range: " + a.status().message());
  }
  if (sign == AmountSign::kPositive && !a->positive()) {
    return Status::InvalidArgument(name + " must be greater than zero");
  }
  return a->minor();
}

std::string FormatAmount(int64_t minor, int64_t scale, std::string_view code) {
  std::string s = IsValidScale(scale) ? FormatDecimal(Amount(minor), scale)
                                      : std::to_string(minor) + " minor units";
  if (!code.empty()) {
    s += ' ';
    s += code;
  }
  return s;
}

std::string FormatCeiling(int64_t minor, int64_t scale, std::string_view code) {
  if (minor == INT64_MAX) return "none";
  return FormatAmount(minor, scale, code);
}

std::string FormatBasisPoints(int64_t bp) {
  std::string s = FormatDecimal(Amount(bp), 100);
  return s + "%";
}

}  // namespace ayni::cli
