// aynid's configuration (SPEC §6 "Config: file + flags + environment; sane defaults for a
// local run"; "TLS from config; plaintext only on loopback").
//
// Every setting has one key, one flag and one environment variable:
//
//   key                 flag                  environment              default
//   pg_dsn              --pg-dsn              AYNI_PG_DSN              (none: required)
//   listen              --listen              AYNI_LISTEN              127.0.0.1:7443
//   listen_unix         --listen-unix         AYNI_LISTEN_UNIX         (empty: none)
//   admin_key_file      --admin-key-file      AYNI_ADMIN_KEY_FILE      (empty)
//   tls_cert_file       --tls-cert-file       AYNI_TLS_CERT_FILE       (empty: no TLS)
//   tls_key_file        --tls-key-file        AYNI_TLS_KEY_FILE        (empty: no TLS)
//   clearing_key_file   --clearing-key-file   AYNI_CLEARING_KEY_FILE   (empty)
//
// Precedence: flag > environment > file > default. The file is named by --config PATH or
// AYNI_CONFIG; without either there is no file. An environment variable set to the empty
// string counts as unset; a flag given an empty value sets the empty value.
//
// File syntax: one `key = value` per line; blank lines and lines whose first non-blank
// character is `#` are ignored. A value is either bare (surrounding blanks trimmed; a `#`
// preceded by a blank starts a comment) or quoted: "…" with \" and \\ as the only escapes,
// or '…' taken literally; a comment may follow a quoted value. An unknown key, a key given
// twice, a malformed line and control characters are refused with FILE:LINE.
//
// Secrets: pg_dsn may hold a password. Nothing here puts a value into an error message
// (file errors name the file, line and key only); DescribeDsn gives the loggable part.
// Pure functions over value types (ReadConfigFile reads one file); thread-compatible.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "clearing/status.h"

namespace ayni::server {

inline constexpr std::string_view kDefaultListen = "127.0.0.1:7443";
// A config file is a dozen lines; anything far larger is the wrong file.
inline constexpr size_t kConfigFileBytesMax = 64 * 1024;
// Longer than any path or DSN an operator writes; bounds what a line can hold.
inline constexpr size_t kConfigValueBytesMax = 4096;
// sockaddr_un's sun_path holds 108 bytes with its terminating NUL.
inline constexpr size_t kUnixPathBytesMax = 107;

struct Config {
  std::string pg_dsn;
  std::string listen = std::string(kDefaultListen);
  // A second, local endpoint: a Unix socket at this absolute path (e.g. for clients in
  // another network namespace on the same host). Same credentials and keys as `listen`.
  std::string listen_unix;
  std::string admin_key_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  // The Ed25519 key that signs audits and cycle reports; carried, used by the services.
  std::string clearing_key_file;

  // TLS is on when both files are set (Validate refuses one without the other).
  bool tls() const { return !tls_cert_file.empty() && !tls_key_file.empty(); }
};

// What the command line asked for besides settings.
struct Invocation {
  Config config;
  bool help = false;
};

// Environment variables by name (only those listed above and AYNI_CONFIG are read).
using Environment = std::map<std::string, std::string>;

// The environment variables this module reads, taken from the process environment.
Environment ProcessEnvironment();

// Parses a config file's text. `file` names it in messages ("FILE:LINE: …"). Returns the
// settings found, by key.
Result<std::map<std::string, std::string>> ParseConfigText(std::string_view text,
                                                           std::string_view file);

// Reads and parses the file at `path` (at most kConfigFileBytesMax bytes).
Result<std::map<std::string, std::string>> ReadConfigFile(const std::string& path);

// argv[1..] (without the program name) and the environment → the merged, validated
// configuration. Reads the config file when one is named. INVALID_ARGUMENT on a usage or
// file error; FAILED_PRECONDITION when the settings contradict each other (see Validate).
// With --help, returns help = true and an unvalidated config.
Result<Invocation> LoadConfig(const std::vector<std::string>& args, const Environment& env);

// Checks the merged settings: pg_dsn is set; tls_cert_file and tls_key_file are both set or
// both empty; listen is HOST:PORT; a non-loopback listen address needs TLS; listen_unix is
// empty or an absolute path of at most kUnixPathBytesMax bytes.
Status Validate(const Config& c);

// Whether HOST of a HOST:PORT listen address is loopback: localhost, [::1], 127.a.b.c.
bool IsLoopbackListen(std::string_view listen);

// The loggable description of a libpq connection string (keyword=value or URI form):
// host, port, dbname and user only, never a password or any other parameter. An
// unparseable DSN is described as "(unparseable connection string)".
std::string DescribeDsn(const std::string& dsn);

// The usage text for --help.
std::string ConfigUsage();

}  // namespace ayni::server
