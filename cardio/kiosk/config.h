// The kiosk's settings: `kiosk.conf` in the kiosk directory (written by `ayni-kiosk init`
// from its flags), overridden by flags on each command.
//
// Format: one `key = value` per line; blank lines and lines starting with '#' ignored.
// Keys: terminal_id (32 hex digits, not zero), kiosk_id, merchant_account, server,
// api_key_file, tls_ca, tls_server_name, reader, max_deny_list_age and max_unsent_age
// (durations: 90s, 30m, 24h, 3d), scale (minor units per unit, a power of ten), timeout_s.
// Unknown keys and bad values are refused naming the line. Value types; pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "cardio/kiosk/kiosk.h"
#include "clearing/status.h"

namespace ayni::cardio::kiosk {

struct KioskSettings {
  KioskIdentity identity;
  std::string server = "127.0.0.1:7443";
  std::string api_key_file;
  std::string tls_ca;
  std::string tls_server_name;
  std::string reader;  // empty: the first reader
  int timeout_s = 30;
};

// Applies one setting (from the file or a flag) to `s`.
Status ApplySetting(KioskSettings& s, std::string_view key, std::string_view value);
// Applies every line of a kiosk.conf.
Status ApplyConfigText(KioskSettings& s, std::string_view text);
// The kiosk.conf text for `values` (key → value), in key order.
std::string RenderConfig(const std::map<std::string, std::string>& values);

}  // namespace ayni::cardio::kiosk
