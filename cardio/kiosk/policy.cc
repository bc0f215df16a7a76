#include "cardio/kiosk/policy.h"

#include <charconv>

namespace ayni::cardio::kiosk {

namespace {

uint64_t Age(uint64_t then_s, uint64_t now_s) { return now_s > then_s ? now_s - then_s : 0; }

constexpr uint64_t kDurationMax_s = 10ull * 366 * 24 * 3600;

}  // namespace

Status CheckOfflinePolicy(const OfflinePolicy& policy, uint64_t deny_list_fetched_s,
                          std::optional<uint64_t> oldest_unsent_s, uint64_t now_s) {
  if (deny_list_fetched_s == 0) {
    return Status::FailedPrecondition("go online: sync first (no deny-list yet)");
  }
  if (const uint64_t age = Age(deny_list_fetched_s, now_s); age > policy.max_deny_list_age_s) {
    return Status::FailedPrecondition("go online: sync first (the deny-list is " +
                                      FormatDuration(age) + " old; the policy allows " +
                                      FormatDuration(policy.max_deny_list_age_s) + ")");
  }
  if (oldest_unsent_s) {
    if (const uint64_t age = Age(*oldest_unsent_s, now_s); age > policy.max_unsent_age_s) {
      return Status::FailedPrecondition(
          "go online: sync first (the oldest receipt not uploaded "
          "is " +
          FormatDuration(age) + " old; the policy allows " +
          FormatDuration(policy.max_unsent_age_s) + ")");
    }
  }
  return Status::Ok();
}

Result<uint64_t> ParseDuration(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return Status::InvalidArgument(std::string(what) +
                                   " must be a duration like 90s, 30m, 24h or " + "3d; got \"" +
                                   std::string(text) + "\"");
  };
  if (text.empty()) return bad();
  uint64_t unit = 1;
  std::string_view digits = text;
  switch (text.back()) {
    case 's':
      unit = 1;
      digits.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      digits.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      digits.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      digits.remove_suffix(1);
      break;
    default:
      break;
  }
  if (digits.empty()) return bad();
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return bad();
  if (n > kDurationMax_s / unit) {
    return Status::InvalidArgument(std::string(what) + " is longer than 10 years");
  }
  return n * unit;
}

std::string FormatDuration(uint64_t s) {
  if (s < 60) return std::to_string(s) + "s";
  std::string out;
  if (s >= 86400) out += std::to_string(s / 86400) + "d ";
  if (s >= 3600) out += std::to_string(s % 86400 / 3600) + "h ";
  out += std::to_string(s % 3600 / 60) + "m";
  return out;
}

}  // namespace ayni::cardio::kiosk
