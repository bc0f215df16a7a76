// The kiosk's offline policy (SPEC §5): it refuses offline sales when its deny-list, or
// its oldest receipt not yet uploaded, is older than the bank allows; the merchant must
// then go online and sync. Value types and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "clearing/status.h"

namespace ayni::cardio::kiosk {

struct OfflinePolicy {
  uint64_t max_deny_list_age_s = 24 * 3600;
  uint64_t max_unsent_age_s = 72 * 3600;
};

// OK, or kFailedPrecondition "go online: sync first (…why…)". A deny-list never fetched
// (fetched_s = 0) is too old. A clock behind a recorded time counts as age 0.
Status CheckOfflinePolicy(const OfflinePolicy& policy, uint64_t deny_list_fetched_s,
                          std::optional<uint64_t> oldest_unsent_s, uint64_t now_s);

// "90s", "30m", "24h", "3d" (a bare number is seconds) → seconds; at most 10 years.
Result<uint64_t> ParseDuration(std::string_view text, std::string_view what);
// 90061 → "1d 1h 1m"; under a minute "45s".
std::string FormatDuration(uint64_t seconds);

}  // namespace ayni::cardio::kiosk
