#include "server/cli/amount_text.h"

#include "clearing/amount.h"
#include "server/cli/args.h"

namespace ayni::cli {

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
