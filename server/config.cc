#include "server/config.h"

#include <libpq-fe.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>

namespace ayni::server {
namespace {

struct Setting {
  std::string_view key;
  std::string_view flag;
  std::string_view env;
  std::string Config::*field;
};

constexpr std::array<Setting, 7> kSettings = {{
    {"pg_dsn", "--pg-dsn", "AYNI_PG_DSN", &Config::pg_dsn},
    {"listen", "--listen", "AYNI_LISTEN", &Config::listen},
    {"listen_unix", "--listen-unix", "AYNI_LISTEN_UNIX", &Config::listen_unix},
    {"admin_key_file", "--admin-key-file", "AYNI_ADMIN_KEY_FILE", &Config::admin_key_file},
    {"tls_cert_file", "--tls-cert-file", "AYNI_TLS_CERT_FILE", &Config::tls_cert_file},
    {"tls_key_file", "--tls-key-file", "AYNI_TLS_KEY_FILE", &Config::tls_key_file},
    {"clearing_key_file", "--clearing-key-file", "AYNI_CLEARING_KEY_FILE",
     &Config::clearing_key_file},
}};

constexpr std::string_view kConfigFlag = "--config";
constexpr std::string_view kConfigEnv = "AYNI_CONFIG";

const Setting* ByKey(std::string_view key) {
  for (const Setting& s : kSettings) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

const Setting* ByFlag(std::string_view flag) {
  for (const Setting& s : kSettings) {
    if (s.flag == flag) return &s;
  }
  return nullptr;
}

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsKeyChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Parses the value part of a line (after '='). nullopt on a malformed value; `why` says
// what is wrong without quoting the value (it may be a secret).
std::optional<std::string> ParseValue(std::string_view s, std::string* why) {
  s = Trim(s);
  if (s.empty()) return std::string();
  std::string value;
  if (s.front() == '"' || s.front() == '\'') {
    const char quote = s.front();
    size_t i = 1;
    bool closed = false;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (c == quote) {
        closed = true;
        ++i;
        break;
      }
      if (quote == '"' && c == '\\') {
        if (i + 1 >= s.size() || (s[i + 1] != '"' && s[i + 1] != '\\')) {
          *why = "only \\\" and \\\\ are escapes in a double-quoted value";
          return std::nullopt;
        }
        value += s[++i];
        continue;
      }
      value += c;
    }
    if (!closed) {
      *why = "unterminated quoted value";
      return std::nullopt;
    }
    const std::string_view rest = Trim(s.substr(i));
    if (!rest.empty() && rest.front() != '#') {
      *why = "text after the closing quote";
      return std::nullopt;
    }
    return value;
  }
  // Bare: up to a '#' that follows a blank (the blank after '=' included).
  if (s.front() == '#') return std::string();
  size_t end = s.size();
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '#' && IsBlank(s[i - 1])) {
      end = i;
      break;
    }
  }
  return std::string(Trim(s.substr(0, end)));
}

std::string Where(std::string_view file, size_t line) {
  return std::string(file) + ":" + std::to_string(line) + ": ";
}

// 127.a.b.c with decimal parts ≤ 255.
bool IsLoopbackV4(std::string_view host) {
  if (host.substr(0, 4) != "127.") return false;
  std::string_view rest = host.substr(4);
  int parts = 0;
  for (;;) {
    const size_t dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    if (part.empty() || part.size() > 3) return false;
    int v = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    rest = rest.substr(dot + 1);
  }
  return parts == 3;
}

// Splits HOST:PORT ("[v6]:PORT" for IPv6); false when malformed or the port is not 0 … 65535.
bool SplitListen(std::string_view listen, std::string_view* host) {
  std::string_view port;
  if (!listen.empty() && listen.front() == '[') {
    const size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return false;
    }
    *host = listen.substr(0, close + 1);
    port = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos || listen.find(':') != colon) return false;
    *host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host->empty() || port.empty() || port.size() > 5) return false;
  int p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    p = p * 10 + (c - '0');
  }
  return p <= 65535;
}

}  // namespace

Environment ProcessEnvironment() {
  Environment env;
  auto take = [&env](std::string_view name) {
    const std::string n(name);
    if (const char* v = std::getenv(n.c_str())) env[n] = v;
  };
  for (const Setting& s : kSettings) take(s.env);
  take(kConfigEnv);
  return env;
}

Result<std::map<std::string, std::string>> ParseConfigText(std::string_view text,
                                                           std::string_view file) {
  if (text.size() > kConfigFileBytesMax) {
    return Status::InvalidArgument(std::string(file) + ": larger than " +
                                   std::to_string(kConfigFileBytesMax) + " bytes");
  }
  std::map<std::string, std::string> out;
  std::map<std::string, size_t> first_line;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (char c : line) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return Status::InvalidArgument(Where(file, number) + "control character");
      }
    }
    const std::string_view t = Trim(line);
    if (t.empty() || t.front() == '#') continue;
    const size_t eq = t.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument(Where(file, number) + "malformed line: expected key = value");
    }
    const std::string_view key = Trim(t.substr(0, eq));
    if (key.empty()) {
      return Status::InvalidArgument(Where(file, number) + "malformed line: no key before '='");
    }
    for (char c : key) {
      if (!IsKeyChar(c)) {
        return Status::InvalidArgument(Where(file, number) +
                                       "malformed line: a key is lower-case letters, digits "
                                       "and '_'");
      }
    }
    const std::string k(key);
    if (ByKey(key) == nullptr) {
      return Status::InvalidArgument(Where(file, number) + "unknown key \"" + k + "\"");
    }
    if (auto it = first_line.find(k); it != first_line.end()) {
      return Status::InvalidArgument(Where(file, number) + "duplicate key \"" + k +
                                     "\" (first on line " + std::to_string(it->second) + ")");
    }
    std::string why;
    std::optional<std::string> value = ParseValue(t.substr(eq + 1), &why);
    if (!value) {
      return Status::InvalidArgument(Where(file, number) + "malformed value of \"" + k +
                                     "\": " + why);
    }
    if (value->size() > kConfigValueBytesMax) {
      return Status::InvalidArgument(Where(file, number) + "value of \"" + k + "\" longer than " +
                                     std::to_string(kConfigValueBytesMax) + " bytes");
    }
    first_line[k] = number;
    out[k] = std::move(*value);
  }
  return out;
}

Result<std::map<std::string, std::string>> ReadConfigFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    return Status::InvalidArgument("config file " + path + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[4096];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    text.append(buf, static_cast<size_t>(f.gcount()));
    if (text.size() > kConfigFileBytesMax) {
      return Status::InvalidArgument(path + ": larger than " + std::to_string(kConfigFileBytesMax) +
                                     " bytes");
    }
  }
  if (f.bad()) return Status::InvalidArgument("config file " + path + ": read error");
  return ParseConfigText(text, path);
}

Result<Invocation> LoadConfig(const std::vector<std::string>& args, const Environment& env) {
  Invocation inv;
  std::map<const Setting*, std::string> from_flags;
  std::optional<std::string> config_path;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> value;
    if (name == "--help" || name == "-h") {
      inv.help = true;
      return inv;
    }
    if (const size_t eq = name.find('='); eq != std::string::npos && name.rfind("--", 0) == 0) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const Setting* s = ByFlag(name);
    if (s == nullptr && name != kConfigFlag) {
      return Status::InvalidArgument("unknown argument " + name + "\n" + ConfigUsage());
    }
    if (!value) {
      if (i + 1 >= args.size()) return Status::InvalidArgument(name + " needs a value");
      value = args[++i];
    }
    if (s == nullptr) {
      if (config_path) return Status::InvalidArgument(name + " given twice");
      if (value->empty()) return Status::InvalidArgument(name + " needs a file name");
      config_path = *value;
    } else {
      if (from_flags.count(s)) return Status::InvalidArgument(name + " given twice");
      from_flags[s] = *value;
    }
  }
  if (!config_path) {
    if (auto it = env.find(std::string(kConfigEnv)); it != env.end() && !it->second.empty()) {
      config_path = it->second;
    }
  }
  std::map<std::string, std::string> from_file;
  if (config_path) {
    Result<std::map<std::string, std::string>> read = ReadConfigFile(*config_path);
    if (!read.ok()) return read.status();
    from_file = std::move(*read);
  }
  for (const Setting& s : kSettings) {
    std::string& field = inv.config.*s.field;
    if (auto it = from_flags.find(&s); it != from_flags.end()) {
      field = it->second;
    } else if (auto e = env.find(std::string(s.env)); e != env.end() && !e->second.empty()) {
      field = e->second;
    } else if (auto f = from_file.find(std::string(s.key)); f != from_file.end()) {
      field = f->second;
    }
  }
  if (Status st = Validate(inv.config); !st.ok()) return st;
  return inv;
}

Status Validate(const Config& c) {
  if (c.pg_dsn.empty()) {
    return Status::InvalidArgument(
        "no database: set pg_dsn in the config file, pass --pg-dsn or set AYNI_PG_DSN");
  }
  std::string_view host;
  if (!SplitListen(c.listen, &host)) {
    return Status::InvalidArgument(
        "listen must be HOST:PORT (\"[ADDR]:PORT\" for IPv6) with a "
        "port 0 … 65535, got \"" +
        c.listen + "\"");
  }
  if (!c.listen_unix.empty() &&
      (c.listen_unix.front() != '/' || c.listen_unix.size() > kUnixPathBytesMax)) {
    return Status::InvalidArgument("listen_unix must be an absolute path of at most " +
                                   std::to_string(kUnixPathBytesMax) + " bytes, got \"" +
                                   c.listen_unix + "\"");
  }
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    return Status::FailedPrecondition(
        std::string("TLS needs both tls_cert_file and tls_key_file; only ") +
        (c.tls_cert_file.empty() ? "tls_key_file" : "tls_cert_file") +
        " is set (--tls-cert-file/--tls-key-file, AYNI_TLS_CERT_FILE/AYNI_TLS_KEY_FILE or the "
        "config file)");
  }
  if (!c.tls() && !IsLoopbackListen(c.listen)) {
    return Status::FailedPrecondition(
        "refusing to listen on " + c.listen +
        " without TLS: plaintext is allowed on loopback only (127.0.0.1, [::1], localhost). "
        "To serve other hosts set tls_cert_file and tls_key_file (--tls-cert-file, "
        "--tls-key-file; deploy/gen-tls.sh makes them)");
  }
  return Status::Ok();
}

bool IsLoopbackListen(std::string_view listen) {
  std::string_view host;
  if (!SplitListen(listen, &host)) return false;
  return host == "localhost" || host == "[::1]" || IsLoopbackV4(host);
}

std::string DescribeDsn(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (err != nullptr) PQfreemem(err);  // libpq's message may quote the string: not shown
  if (opts == nullptr) return "(unparseable connection string)";
  std::string out;
  for (const char* want : {"host", "hostaddr", "port", "dbname", "user"}) {
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (std::strcmp(o->keyword, want) == 0 && o->val != nullptr && *o->val != '\0') {
        if (!out.empty()) out += ' ';
        out += want;
        out += '=';
        out += o->val;
      }
    }
  }
  PQconninfoFree(opts);
  return out.empty() ? "(libpq defaults)" : out;
}

std::string ConfigUsage() {
  std::string s =
      "usage: aynid [--config FILE] [--pg-dsn DSN] [--listen HOST:PORT] [--listen-unix PATH]\n"
      "             [--admin-key-file PATH] [--tls-cert-file PEM --tls-key-file PEM]\n"
      "             [--clearing-key-file PATH]\n"
      "Each --flag may be written --flag=VALUE. Precedence: flag > environment > config file\n"
      "(--config or AYNI_CONFIG) > default.\n";
  for (const Setting& st : kSettings) {
    s += "  ";
    s += st.flag;
    s += std::string(20 - st.flag.size(), ' ');
    s += st.env;
    s += std::string(24 - st.env.size(), ' ');
    s += "file key ";
    s += st.key;
    s += '\n';
  }
  s += "Defaults: listen ";
  s += kDefaultListen;
  s += "; without tls_cert_file and tls_key_file, plaintext on loopback only.\n";
  return s;
}

}  // namespace ayni::server
