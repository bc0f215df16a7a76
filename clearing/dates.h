// Calendar dates at the edges (the CLI, the kiosk): invoices are due on a day, set-off runs
// have a cut-off day, and the API counts days since 1970-01-01 (UTC), "unix days"
// (setoff.proto).
// Proleptic Gregorian calendar, years 1970 … 9999. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ayni::cli {

// "2024-10-04" → 20000; nullopt unless exactly YYYY-MM-DD naming a real day in 1970 … 9999.
std::optional<int64_t> ParseDate(std::string_view text);
// 20000 → "2024-10-04". Days outside 0 … 2932896 print as their number.
std::string FormatDay(int64_t day);
// Today's unix day for a time in ns since the epoch (UTC).
inline int64_t DayOfNs(uint64_t ns) { return static_cast<int64_t>(ns / 86'400'000'000'000ull); }

}  // namespace ayni::cli
