#include "cardio/kiosk/config.h"

#include <charconv>

namespace ayni::cardio::kiosk {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

template <typename T>
Status ParseNumber(std::string_view v, std::string_view key, T min, T max, T* out) {
  T n{};
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max) {
    return Status::InvalidArgument(std::string(key) + " must be a number from " +
                                   std::to_string(min) + " to " + std::to_string(max) + "; got \"" +
                                   std::string(v) + "\"");
  }
  *out = n;
  return Status::Ok();
}

}  // namespace

Status ApplySetting(KioskSettings& s, std::string_view key, std::string_view value) {
  if (key == "terminal_id") {
    const std::optional<TerminalId> t = TerminalId::FromHex(value);
    if (!t || t->zero()) {
      return Status::InvalidArgument("terminal_id must be 32 hex digits, not all zero");
    }
    s.identity.terminal_id = *t;
    return Status::Ok();
  }
  if (key == "kiosk_id")
    return ParseNumber<uint64_t>(value, key, 1, UINT64_MAX, &s.identity.kiosk_id);
  if (key == "merchant_account") {
    return ParseNumber<uint64_t>(value, key, 1, UINT64_MAX, &s.identity.merchant_account);
  }
  if (key == "max_deny_list_age" || key == "max_unsent_age") {
    Result<uint64_t> d = ParseDuration(value, key);
    if (!d.ok()) return d.status();
    (key == "max_deny_list_age" ? s.identity.policy.max_deny_list_age_s
                                : s.identity.policy.max_unsent_age_s) = *d;
    return Status::Ok();
  }
  if (key == "scale") {
    int64_t scale = 0;
    if (Status st = ParseNumber<int64_t>(value, key, 1, 1'000'000'000'000'000'000, &scale);
        !st.ok()) {
      return st;
    }
    for (int64_t p = scale; p > 1; p /= 10) {
      if (p % 10 != 0) return Status::InvalidArgument("scale must be a power of ten");
    }
    s.identity.scale = scale;
    return Status::Ok();
  }
  if (key == "timeout_s") return ParseNumber<int>(value, key, 1, 3600, &s.timeout_s);
  if (value.empty()) return Status::InvalidArgument(std::string(key) + " needs a value");
  if (key == "server") {
    s.server = value;
  } else if (key == "api_key_file") {
    s.api_key_file = value;
  } else if (key == "tls_ca") {
    s.tls_ca = value;
  } else if (key == "tls_server_name") {
    s.tls_server_name = value;
  } else if (key == "reader") {
    s.reader = value;
  } else {
    return Status::InvalidArgument("unknown setting \"" + std::string(key) + "\"");
  }
  return Status::Ok();
}

Status ApplyConfigText(KioskSettings& s, std::string_view text) {
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("kiosk.conf line " + std::to_string(line_no) +
                                     ": expected key = value");
    }
    if (Status st = ApplySetting(s, Trim(line.substr(0, eq)), Trim(line.substr(eq + 1)));
        !st.ok()) {
      return Status::InvalidArgument("kiosk.conf line " + std::to_string(line_no) + ": " +
                                     st.message());
    }
  }
  return Status::Ok();
}

std::string RenderConfig(const std::map<std::string, std::string>& values) {
  std::string out = "# ayni-kiosk settings (flags on a command override them)\n";
  for (const auto& [k, v] : values) out += k + " = " + v + "\n";
  return out;
}

}  // namespace ayni::cardio::kiosk
