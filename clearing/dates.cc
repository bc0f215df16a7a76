#include "clearing/dates.h"

#include <cstdio>

namespace ayni::cli {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

constexpr int64_t kLastDay = 2932896;  // 9999-12-31

}  // namespace

std::optional<int64_t> ParseDate(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  int64_t parts[3] = {0, 0, 0};
  const size_t starts[3] = {0, 5, 8}, lens[3] = {4, 2, 2};
  for (int p = 0; p < 3; ++p) {
    for (size_t i = starts[p]; i < starts[p] + lens[p]; ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      parts[p] = parts[p] * 10 + (t[i] - '0');
    }
  }
  const int64_t y = parts[0], m = parts[1], d = parts[2];
  if (y < 1970 || m < 1 || m > 12 || d < 1) return std::nullopt;
  const int64_t day = DaysFromCivil(y, m, d);
  int64_t ry, rm, rd;
  CivilFromDays(day, &ry, &rm, &rd);
  if (ry != y || rm != m || rd != d) return std::nullopt;  // e.g. 2023-02-29
  return day;
}

std::string FormatDay(int64_t day) {
  if (day < 0 || day > kLastDay) return std::to_string(day);
  int64_t y, m, d;
  CivilFromDays(day, &y, &m, &d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(y), static_cast<int>(m),
                static_cast<int>(d));
  return buf;
}

}  // namespace ayni::cli
