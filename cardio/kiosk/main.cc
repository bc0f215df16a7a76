// `ayni-kiosk`: a merchant's kiosk or a bank desk with a PC/SC card reader (SPEC §5).
// The only card program that speaks gRPC. Usage: `ayni-kiosk --help`.
//
// Exit codes: 0 done; 2 refused (by the card, the bank or the offline policy: the message
// says what to do); 3 unavailable (card removed, reader, server or disk: an interrupted
// payment is settled on the card's next contact); 4 local failure (files, data that does
// not verify); 64 usage.
//
// Test hook (like ayni-vcard's --pull-after): with the environment variable
// AYNI_KIOSK_FAULT=exit-after-debit the kiosk exits at once (_exit(70)) right after the
// card's answer to DEBIT arrives, before the receipt is written: a kiosk that dies after
// the card signed. The pending payment is then settled on the card's next contact.
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cardio/channel.h"
#include "cardio/kiosk/config.h"
#include "cardio/kiosk/grpc_card_server.h"
#include "cardio/kiosk/kiosk.h"
#include "cardio/pcsc/pcsc_reader.h"
#include "clearing/amount_text.h"
#include "clearing/card/protocol.h"
#include "clearing/dates.h"
#include "proto/client/channel.h"
#include "proto/client/output.h"

namespace ayni::cardio::kiosk {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 2;
constexpr int kExitUnavailable = 3;
constexpr int kExitLocal = 4;
constexpr int kExitUsage = 64;

constexpr const char* kUsage =
    "usage: ayni-kiosk [--dir DIR] [--json] [--reader NAME] COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  init --terminal-id HEX [settings]   create the kiosk key (prints the public key to\n"
    "                                      register at the bank) and kiosk.conf\n"
    "  pay AMOUNT                          an offline payment with the card in the reader\n"
    "  balance                             the card's balance and offline allowance\n"
    "  load AMOUNT [--offline-cap AMOUNT] [--offline-count N]\n"
    "                                      an online load (card-signed request)\n"
    "  sync                                upload receipts, fetch the deny-list\n"
    "  status                              queue, deny-list age, policy verdict (exit 2\n"
    "                                      when offline sales are refused)\n"
    "  recover                             settle an interrupted payment or load\n"
    "  issue --account N --payment-max A --offline-max A --offline-count-max N\n"
    "        --balance-max A --expiry YYYY-MM-DD|UNIX_S [--card-id HEX]\n"
    "                                      personalise a blank card (bank desk, TELLER key)\n"
    "\n"
    "settings (kiosk.conf keys, or flags on any command):\n"
    "  --server HOST:PORT  --key-file FILE (API key)  --tls-ca FILE  --tls-server-name NAME\n"
    "  --kiosk-id N  --merchant-account N  --max-deny-list-age DUR (24h)\n"
    "  --max-unsent-age DUR (72h)  --scale N (100)  --timeout S (30)\n"
    "other: --dir DIR (or AYNI_KIOSK_DIR), --card-wait-ms N (30000)\n"
    "exit codes: 0 done, 2 refused, 3 unavailable, 4 local failure, 64 usage\n";

// Flags that are settings, by flag name → kiosk.conf key.
const std::map<std::string, std::string>& SettingFlags() {
  static const std::map<std::string, std::string> m = {
      {"--terminal-id", "terminal_id"},
      {"--kiosk-id", "kiosk_id"},
      {"--merchant-account", "merchant_account"},
      {"--server", "server"},
      {"--key-file", "api_key_file"},
      {"--tls-ca", "tls_ca"},
      {"--tls-server-name", "tls_server_name"},
      {"--reader", "reader"},
      {"--max-deny-list-age", "max_deny_list_age"},
      {"--max-unsent-age", "max_unsent_age"},
      {"--scale", "scale"},
      {"--timeout", "timeout_s"},
  };
  return m;
}

// Flags of one command, with a value.
const std::vector<std::string>& CommandFlags() {
  static const std::vector<std::string> v = {
      "--dir",         "--card-wait-ms", "--offline-cap", "--offline-count",
      "--account",     "--payment-max",  "--offline-max", "--offline-count-max",
      "--balance-max", "--expiry",       "--card-id",
  };
  return v;
}

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> settings;  // kiosk.conf key → value, from flags
  std::map<std::string, std::string> flags;     // command flags
  bool json = false;
  bool help = false;
};

Result<Args> Parse(const std::vector<std::string>& argv) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    if (s == "--json") {
      a.json = true;
    } else if (s == "--help" || s == "-h" || s == "help") {
      a.help = true;
    } else if (s.rfind("--", 0) == 0) {
      const auto setting = SettingFlags().find(s);
      const bool command_flag =
          std::find(CommandFlags().begin(), CommandFlags().end(), s) != CommandFlags().end();
      if (setting == SettingFlags().end() && !command_flag) {
        return Status::InvalidArgument("unknown flag " + s);
      }
      if (i + 1 >= argv.size()) return Status::InvalidArgument(s + " needs a value");
      const std::string& v = argv[++i];
      if (setting != SettingFlags().end()) {
        a.settings[setting->second] = v;
      } else {
        a.flags[s] = v;
      }
    } else if (a.command.empty()) {
      a.command = s;
    } else {
      a.positional.push_back(s);
    }
  }
  if (!a.help && a.command.empty()) return Status::InvalidArgument("no command");
  return a;
}

int ExitOf(const Status& st) {
  return st.code() == StatusCode::kUnavailable ? kExitUnavailable : kExitLocal;
}

class Printer {
 public:
  Printer(std::string command, bool json) : command_(std::move(command)), json_(json) {}

  int Usage(const std::string& message) {
    return Error(kExitUsage,
                 json_ ? message : message + "\n(ayni-kiosk --help shows every command)");
  }
  int Error(int code, const std::string& message) {
    if (json_) {
      cli::JsonObject o;
      o.Add("command", command_).Add("exit_code", int64_t{code}).Add("error", message);
      std::cout << o.str() << '\n';
    } else {
      std::cerr << "ayni-kiosk: " << message << '\n';
    }
    return code;
  }
  int Failed(const Status& st) { return Error(ExitOf(st), st.message()); }
  int Show(const Outcome& o, const std::vector<std::string>& warnings) {
    const int code = o.refused ? kExitRefused : kExitOk;
    if (json_) {
      cli::JsonObject fields;
      for (const auto& [k, v] : o.fields) fields.Add(k, v);
      std::vector<std::string> notes, warns;
      for (const std::string& n : o.notes) notes.push_back(cli::JsonQuote(n));
      for (const std::string& w : warnings) warns.push_back(cli::JsonQuote(w));
      cli::JsonObject out;
      out.Add("command", command_)
          .Add("exit_code", int64_t{code})
          .Add("refused", o.refused)
          .Add("message", o.message)
          .AddRaw("fields", fields.str())
          .AddRaw("notes", cli::JsonArray(notes))
          .AddRaw("warnings", cli::JsonArray(warns));
      std::cout << out.str() << '\n';
      return code;
    }
    for (const std::string& w : warnings) std::cerr << "warning: " << w << '\n';
    for (const std::string& n : o.notes) std::cout << n << '\n';
    if (o.refused) {
      std::cout << "REFUSED: " << o.message << '\n';
    } else {
      std::cout << o.message << '\n';
    }
    if (!o.fields.empty()) std::cout << cli::RenderFields(o.fields);
    return code;
  }

 private:
  std::string command_;
  bool json_;
};

// Digits only, at most `max`.
std::optional<uint64_t> ParseUnsigned(std::string_view text, uint64_t max) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n > max) {
    return std::nullopt;
  }
  return n;
}

uint64_t NowSeconds() { return static_cast<uint64_t>(std::time(nullptr)); }

// The test hook AYNI_KIOSK_FAULT=exit-after-debit (see the top of this file).
constexpr int kExitFault = 70;
class FaultChannel final : public CardChannel {
 public:
  explicit FaultChannel(CardChannel& inner) : inner_(inner) {
    const char* f = std::getenv("AYNI_KIOSK_FAULT");
    exit_after_debit_ = f != nullptr && std::string(f) == "exit-after-debit";
  }
  Result<Bytes> Transmit(std::span<const uint8_t> command) override {
    Result<Bytes> answer = inner_.Transmit(command);
    if (exit_after_debit_ && command.size() > 1 && command[1] == kInsDebit && answer.ok()) {
      ::_exit(kExitFault);
    }
    return answer;
  }

 private:
  CardChannel& inner_;
  bool exit_after_debit_ = false;
};

// The reader named in the settings, or the first one, with a card connected.
Result<std::unique_ptr<PcscReader>> ConnectCard(const KioskSettings& s, int wait_ms) {
  Result<std::unique_ptr<PcscReader>> reader = PcscReader::Open();
  if (!reader.ok()) return reader.status();
  std::string name = s.reader;
  if (name.empty()) {
    Result<std::vector<std::string>> names = (*reader)->ListReaders();
    if (!names.ok()) return names.status();
    if (names->empty()) return Status::Unavailable("no card reader found");
    name = names->front();
  }
  if (Status st = (*reader)->WaitForCard(name, wait_ms); !st.ok()) {
    return Status::Unavailable("no card in reader \"" + name + "\": " + st.message());
  }
  if (Status st = (*reader)->Connect(name); !st.ok()) return st;
  return reader;
}

Result<std::unique_ptr<CardServer>> ConnectServer(const KioskSettings& s) {
  if (s.api_key_file.empty()) {
    return Status::InvalidArgument("no API key: set api_key_file in kiosk.conf or pass --key-file");
  }
  Result<std::string> key = cli::ReadApiKeyFile(s.api_key_file);
  if (!key.ok()) return key.status();
  Result<std::shared_ptr<grpc::Channel>> channel =
      cli::OpenChannel({s.server, s.tls_ca, s.tls_server_name});
  if (!channel.ok()) return channel.status();
  return MakeGrpcCardServer(*channel, *key, s.timeout_s);
}

// AMOUNT at the kiosk's scale.
Result<Amount> ParseMoney(const std::string& text, int64_t scale, cli::AmountSign sign,
                          const char* what) {
  Result<int64_t> m = cli::ParseAmount(text, scale, sign, what, "");
  if (!m.ok()) return m.status();
  return Amount(*m);
}

Result<IssueTerms> ParseIssueTerms(const Args& a, int64_t scale) {
  IssueTerms t;
  auto need = [&](const char* flag) -> Result<std::string> {
    auto it = a.flags.find(flag);
    if (it == a.flags.end()) return Status::InvalidArgument(std::string("issue needs ") + flag);
    return it->second;
  };
  auto money = [&](const char* flag, cli::AmountSign sign) -> Result<Amount> {
    Result<std::string> v = need(flag);
    if (!v.ok()) return v.status();
    return ParseMoney(*v, scale, sign, flag);
  };
  Result<std::string> account = need("--account");
  if (!account.ok()) return account.status();
  const std::optional<uint64_t> account_id = ParseUnsigned(*account, UINT64_MAX);
  if (!account_id || *account_id == 0) {
    return Status::InvalidArgument("--account must be an account number");
  }
  t.account_id = *account_id;
  Result<Amount> payment_max = money("--payment-max", cli::AmountSign::kPositive);
  if (!payment_max.ok()) return payment_max.status();
  Result<Amount> offline_max = money("--offline-max", cli::AmountSign::kNonNegative);
  if (!offline_max.ok()) return offline_max.status();
  Result<Amount> balance_max = money("--balance-max", cli::AmountSign::kPositive);
  if (!balance_max.ok()) return balance_max.status();
  Result<std::string> count = need("--offline-count-max");
  if (!count.ok()) return count.status();
  const std::optional<uint64_t> n = ParseUnsigned(*count, UINT32_MAX);
  if (!n) return Status::InvalidArgument("--offline-count-max must be a count");
  t.limits = {*payment_max, *offline_max, static_cast<uint32_t>(*n), *balance_max};
  Result<std::string> expiry = need("--expiry");
  if (!expiry.ok()) return expiry.status();
  if (const std::optional<int64_t> day = cli::ParseDate(*expiry)) {
    t.expiry_s = static_cast<uint64_t>(*day) * 86400;
  } else if (const std::optional<uint64_t> e = ParseUnsigned(*expiry, UINT64_MAX)) {
    t.expiry_s = *e;
  } else {
    return Status::InvalidArgument("--expiry must be YYYY-MM-DD or unix seconds");
  }
  if (auto it = a.flags.find("--card-id"); it != a.flags.end()) {
    const std::optional<CardId> id = CardId::FromHex(it->second);
    if (!id || id->zero())
      return Status::InvalidArgument("--card-id must be 32 hex digits, not zero");
    t.card_id = *id;
  }
  return t;
}

int Init(const Args& a, const std::string& dir, Printer& p) {
  if (!a.settings.count("terminal_id")) return p.Usage("init needs --terminal-id HEX");
  KioskSettings s;
  for (const auto& [k, v] : a.settings) {
    if (Status st = ApplySetting(s, k, v); !st.ok()) return p.Usage(st.message());
  }
  SystemRandom random;
  Result<KeyPair> key = CreateKioskKey(dir, random);
  if (!key.ok()) return p.Failed(key.status());
  Result<std::optional<Bytes>> conf = ReadWholeFile(ConfigPath(dir), 1 << 20);
  if (!conf.ok()) return p.Failed(conf.status());
  if (!conf->has_value()) {
    const std::string text = RenderConfig(a.settings);
    if (Status st = WriteFileAtomically(
            ConfigPath(dir), std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
            0600);
        !st.ok()) {
      return p.Failed(st);
    }
  }
  Outcome o;
  o.message = "kiosk key created: register the public key at the bank (CardService.RegisterKiosk)";
  o.fields = {{"directory", dir},
              {"terminal id", s.identity.terminal_id.ToHex()},
              {"public key", HexOf(key->public_key)}};
  return p.Show(o, {});
}

int Run(const std::vector<std::string>& argv) {
  Result<Args> parsed = Parse(argv);
  const bool json_requested = std::find(argv.begin(), argv.end(), "--json") != argv.end();
  if (!parsed.ok()) return Printer("", json_requested).Usage(parsed.status().message());
  const Args& a = *parsed;
  if (a.help) {
    std::cout << kUsage;
    return kExitOk;
  }
  Printer p(a.command, a.json);
  std::string dir;
  if (auto it = a.flags.find("--dir"); it != a.flags.end()) {
    dir = it->second;
  } else if (const char* env = std::getenv("AYNI_KIOSK_DIR"); env != nullptr && *env) {
    dir = env;
  } else {
    return p.Usage("no kiosk directory: pass --dir DIR or set AYNI_KIOSK_DIR");
  }
  if (sodium_init() < 0) return p.Error(kExitLocal, "libsodium failed to initialise");
  if (a.command == "init") return Init(a, dir, p);

  KioskSettings s;
  Result<std::optional<Bytes>> conf = ReadWholeFile(ConfigPath(dir), 1 << 20);
  if (!conf.ok()) return p.Failed(conf.status());
  if (conf->has_value()) {
    const Bytes& b = **conf;
    if (Status st =
            ApplyConfigText(s, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
        !st.ok()) {
      return p.Error(kExitLocal, ConfigPath(dir) + ": " + st.message());
    }
  }
  for (const auto& [k, v] : a.settings) {
    if (Status st = ApplySetting(s, k, v); !st.ok()) return p.Usage(st.message());
  }
  int card_wait_ms = 30000;
  if (auto it = a.flags.find("--card-wait-ms"); it != a.flags.end()) {
    const std::optional<uint64_t> ms = ParseUnsigned(it->second, 3'600'000);
    if (!ms || *ms == 0) return p.Usage("--card-wait-ms must be 1 … 3600000");
    card_wait_ms = static_cast<int>(*ms);
  }
  const size_t want_positional = (a.command == "pay" || a.command == "load") ? 1 : 0;
  if (a.positional.size() != want_positional) {
    return p.Usage(a.command + (want_positional ? " takes one AMOUNT" : " takes no arguments"));
  }
  static const std::vector<std::string> known = {"pay",    "balance", "load", "sync",
                                                 "status", "recover", "issue"};
  if (std::find(known.begin(), known.end(), a.command) == known.end()) {
    return p.Usage("unknown command \"" + a.command + "\"");
  }

  // Parse every argument before touching the card or the server.
  Amount amount;
  if (want_positional) {
    Result<Amount> m = ParseMoney(
        a.positional[0], s.identity.scale,
        a.command == "pay" ? cli::AmountSign::kPositive : cli::AmountSign::kNonNegative, "AMOUNT");
    if (!m.ok()) return p.Usage(m.status().message());
    amount = *m;
  }
  LoadOptions load_options;
  if (auto it = a.flags.find("--offline-cap"); it != a.flags.end()) {
    Result<Amount> m =
        ParseMoney(it->second, s.identity.scale, cli::AmountSign::kNonNegative, "--offline-cap");
    if (!m.ok()) return p.Usage(m.status().message());
    load_options.offline_amount_cap = *m;
  }
  if (auto it = a.flags.find("--offline-count"); it != a.flags.end()) {
    const std::optional<uint64_t> n = ParseUnsigned(it->second, UINT32_MAX);
    if (!n) return p.Usage("--offline-count must be a count");
    load_options.offline_count_cap = static_cast<uint32_t>(*n);
  }
  std::optional<IssueTerms> issue;
  if (a.command == "issue") {
    Result<IssueTerms> t = ParseIssueTerms(a, s.identity.scale);
    if (!t.ok()) return p.Usage(t.status().message());
    issue = *t;
  }

  Result<KeyPair> key = ReadKioskKey(dir);
  if (!key.ok()) return p.Failed(key.status());
  SystemRandom random;
  Result<std::unique_ptr<Kiosk>> kiosk = Kiosk::Open(dir, s.identity, *key, random);
  if (!kiosk.ok()) return p.Failed(kiosk.status());
  Kiosk& k = **kiosk;
  const uint64_t now = NowSeconds();

  if (a.command == "status") return p.Show(k.Report(now), k.warnings());
  std::unique_ptr<CardServer> server;
  if (a.command == "sync" || a.command == "load" || a.command == "issue") {
    Result<std::unique_ptr<CardServer>> srv = ConnectServer(s);
    if (!srv.ok()) {
      return srv.status().code() == StatusCode::kInvalidArgument ||
                     srv.status().code() == StatusCode::kFailedPrecondition
                 ? p.Error(kExitLocal, srv.status().message())
                 : p.Failed(srv.status());
    }
    server = std::move(srv).value();
  }
  if (a.command == "sync") {
    Result<Outcome> o = k.Sync(*server, now);
    return o.ok() ? p.Show(*o, k.warnings()) : p.Failed(o.status());
  }
  Result<std::unique_ptr<PcscReader>> reader = ConnectCard(s, card_wait_ms);
  if (!reader.ok()) return p.Failed(reader.status());
  FaultChannel channel(**reader);
  PurseClient card(channel);
  Result<Outcome> o = Status::Internal("no command ran");
  if (a.command == "pay") {
    o = k.Pay(card, amount, now);
  } else if (a.command == "balance") {
    o = k.Balance(card, now);
  } else if (a.command == "recover") {
    o = k.Recover(card, now);
  } else if (a.command == "load") {
    o = k.Load(card, *server, amount, load_options, now);
  } else {
    o = k.Issue(card, *server, *issue);
  }
  (*reader)->Disconnect();
  return o.ok() ? p.Show(*o, k.warnings()) : p.Failed(o.status());
}

}  // namespace
}  // namespace ayni::cardio::kiosk

int main(int argc, char** argv) {
  return ayni::cardio::kiosk::Run(std::vector<std::string>(argv + 1, argv + argc));
}
