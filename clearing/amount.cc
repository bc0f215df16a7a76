#include "clearing/amount.h"

#include <cstdlib>

namespace ayni {

Amount Amount::FeeFloor(int32_t bp) const {
  AYNI_CHECK(minor_ >= 0);
  AYNI_CHECK(bp >= 0 && bp <= 10000);
  const Int128 product = static_cast<Int128>(minor_) * bp;
  return Amount(static_cast<int64_t>(product / 10000));
}

bool IsValidScale(int64_t scale) {
  int64_t s = 1;
  for (int i = 0; i <= 9; ++i, s *= 10) {
    if (s == scale) return true;
  }
  return false;
}

int ScaleDigits(int64_t scale) {
  AYNI_CHECK(IsValidScale(scale));
  int digits = 0;
  for (int64_t s = scale; s > 1; s /= 10) ++digits;
  return digits;
}

Result<Amount> ParseDecimal(std::string_view text, int64_t scale) {
  if (!IsValidScale(scale)) return Status::InvalidArgument("invalid currency scale");
  const int digits = ScaleDigits(scale);
  if (text.empty()) return Status::InvalidArgument("amount is empty");
  bool negative = false;
  size_t i = 0;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    i = 1;
  }
  if (i == text.size()) return Status::InvalidArgument("amount has a sign but no digits");
  // Accumulate as a negative number so INT64_MIN is representable.
  int64_t acc = 0;
  int int_digits = 0, frac_digits = 0;
  bool seen_point = false;
  for (; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '.') {
      if (seen_point) return Status::InvalidArgument("amount has more than one decimal point");
      seen_point = true;
      continue;
    }
    if (ch < '0' || ch > '9') {
      return Status::InvalidArgument(std::string("amount has an invalid character '") + ch +
                                     "'");
    }
    if (seen_point) {
      if (++frac_digits > digits) {
        return Status::InvalidArgument("amount has more than " + std::to_string(digits) +
                                       " decimal places for this currency");
      }
    } else {
      ++int_digits;
    }
    if (__builtin_mul_overflow(acc, int64_t{10}, &acc) ||
        __builtin_sub_overflow(acc, int64_t{ch - '0'}, &acc)) {
      return Status::InvalidArgument("amount is too large");
    }
  }
  if (int_digits == 0 && frac_digits == 0) return Status::InvalidArgument("amount has no digits");
  if (seen_point && frac_digits == 0) {
    return Status::InvalidArgument("amount ends with a decimal point");
  }
  for (int k = frac_digits; k < digits; ++k) {
    if (__builtin_mul_overflow(acc, int64_t{10}, &acc)) {
      return Status::InvalidArgument("amount is too large");
    }
  }
  if (!negative) {
    if (acc == INT64_MIN) return Status::InvalidArgument("amount is too large");
    acc = -acc;
  }
  return Amount(acc);
}

std::string FormatDecimal(Amount amount, int64_t scale) {
  const int digits = ScaleDigits(scale);
  const int64_t v = amount.minor();
  // Magnitude as unsigned so INT64_MIN formats correctly.
  const uint64_t mag = v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  const uint64_t uscale = static_cast<uint64_t>(scale);
  std::string out = v < 0 ? "-" : "";
  out += std::to_string(mag / uscale);
  if (digits > 0) {
    std::string frac = std::to_string(mag % uscale);
    out += '.';
    out.append(static_cast<size_t>(digits) - frac.size(), '0');
    out += frac;
  }
  return out;
}

}  // namespace ayni
