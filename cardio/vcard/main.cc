// ayni-vcard: the purse applet as a software card behind pcscd's vpcd driver (SPEC §5),
// for tests and demos. Its state lives in one file, saved crash-safely (two slots,
// state_file.h) after every change and before the answer leaves the card, so a signed
// record is never lost to a crash and a counter is never signed twice across restarts.
//
//   ayni-vcard --state FILE keygen --card-id HEX32     generate the card's key; prints it
//   ayni-vcard --state FILE install --bank-key HEX64 --certificate FILE
//                                                      install the bank key and certificate
//                                                      (hex text or 169 raw bytes): issues
//   ayni-vcard --state FILE show                       card id, key, life cycle, balance
//   ayni-vcard --state FILE run [--host 127.0.0.1] [--port 35963]
//                                                      be the card in vpcd's reader
//
// `run` connects to vpcd as a TCP client and retries until vpcd is up, reconnects when
// vpcd goes away, and exits 0 on SIGTERM/SIGINT. Killing it is a card removal. The test
// hook --pull-after INS (hex) makes the card exit right after it executed and persisted
// that command, before it answers: a card pulled mid-payment. --no-quickack (no value)
// leaves TCP_QUICKACK off, only to measure the delayed-ACK stall it avoids.
// One process per state file (a lock beside it): a second one would be a cloned card.
// Exit codes: 0 ok, 1 operational failure, 2 usage, 3 the card refused.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cardio/applet.h"
#include "cardio/channel.h"
#include "cardio/purse_client.h"
#include "cardio/vcard/state_file.h"
#include "cardio/vcard/vpcd_link.h"
#include "clearing/hash.h"

namespace ayni::cardio {
namespace {

constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2, kExitRefused = 3;
// How often `run` retries while vpcd is not listening; a test waits for the card anyway.
constexpr auto kConnectRetry = std::chrono::milliseconds(50);

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

int Usage(const char* msg) {
  std::fprintf(stderr,
               "ayni-vcard: %s\n"
               "usage: ayni-vcard --state FILE keygen --card-id HEX32\n"
               "       ayni-vcard --state FILE install --bank-key HEX64 --certificate FILE\n"
               "       ayni-vcard --state FILE show\n"
               "       ayni-vcard --state FILE run [--host IPV4] [--port N] [--pull-after INS]\n"
               "                                       [--no-quickack]\n",
               msg);
  return kExitUsage;
}

int Fail(const Status& st) {
  std::fprintf(stderr, "ayni-vcard: %s\n", st.ToString().c_str());
  return kExitFailure;
}

std::optional<Bytes> FromHex(const std::string& text) {
  std::string digits;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    digits += c;
  }
  if (digits.size() % 2 != 0) return std::nullopt;
  Bytes out(digits.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>(std::stoi(digits.substr(2 * i, 2), nullptr, 16));
  }
  return out;
}

Result<Bytes> ReadSmallFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::NotFound("cannot open " + path + ": " + std::strerror(errno));
  Bytes out(4096);
  const size_t n = std::fread(out.data(), 1, out.size(), f);
  std::fclose(f);
  out.resize(n);
  return out;
}

// The card as a process: applet + state file. As a CardChannel it is the card driven
// in-process (personalisation from the command line), with the same persistence.
class Card final : public CardChannel {
 public:
  static Result<std::unique_ptr<Card>> Open(const std::string& path, RandomSource& random) {
    Result<StateLock> lock = StateLock::Acquire(path);
    if (!lock.ok()) return lock.status();
    Result<std::optional<CardState>> loaded = LoadCardState(path);
    if (!loaded.ok()) return loaded.status();
    return std::unique_ptr<Card>(
        new Card(std::move(lock).value(), path, random, loaded->value_or(CardState{})));
  }

  PurseApplet& applet() { return applet_; }

  // Runs one command; persists the state before returning the answer when it changed.
  Result<Bytes> Transmit(std::span<const uint8_t> command) override {
    const uint64_t before = applet_.state_changes();
    Bytes response = applet_.Process(command);
    if (applet_.state_changes() != before) {
      if (Status st = SaveCardState(path_, applet_.state()); !st.ok()) return st;
    }
    return response;
  }

 private:
  Card(StateLock lock, std::string path, RandomSource& random, CardState state)
      : lock_(std::move(lock)), path_(std::move(path)), applet_(random, std::move(state)) {}
  StateLock lock_;  // one process per card state, for as long as the card runs
  std::string path_;
  PurseApplet applet_;
};

template <typename T>
int Refused(const char* what, const Result<CardReply<T>>& r) {
  if (!r.ok()) return Fail(r.status());
  std::fprintf(stderr, "ayni-vcard: the card refused %s: %s\n", what, SwName(r->sw).c_str());
  return kExitRefused;
}

int Keygen(Card& card, const std::map<std::string, std::string>& opts) {
  auto it = opts.find("--card-id");
  if (it == opts.end()) return Usage("keygen needs --card-id");
  const std::optional<CardId> id = CardId::FromHex(it->second);
  if (!id) return Usage("--card-id must be 32 hex digits");
  PurseClient client(card);
  if (auto r = client.Select(); !r.ok() || !r->ok()) return Refused("SELECT", r);
  auto key = client.GenerateKey(*id);
  if (!key.ok() || !key->ok()) return Refused("GENERATE KEY", key);
  std::printf("%s\n", HexOf(*key->value).c_str());
  return kExitOk;
}

int Install(Card& card, const std::map<std::string, std::string>& opts) {
  auto bank_it = opts.find("--bank-key");
  auto cert_it = opts.find("--certificate");
  if (bank_it == opts.end() || cert_it == opts.end()) {
    return Usage("install needs --bank-key and --certificate");
  }
  const std::optional<Bytes> bank = FromHex(bank_it->second);
  if (!bank || bank->size() != 32) return Usage("--bank-key must be 64 hex digits");
  Result<Bytes> file = ReadSmallFile(cert_it->second);
  if (!file.ok()) return Fail(file.status());
  Bytes cert_bytes = *file;
  if (cert_bytes.size() != kCertificateSize) {
    const std::optional<Bytes> hex = FromHex(std::string(file->begin(), file->end()));
    if (!hex) return Usage("the certificate file is neither 169 raw bytes nor hex text");
    cert_bytes = *hex;
  }
  Result<SignedCertificate> cert = ParseSignedCertificate(cert_bytes);
  if (!cert.ok()) return Fail(cert.status());
  PublicKey bank_key{};
  std::copy(bank->begin(), bank->end(), bank_key.begin());
  PurseClient client(card);
  if (auto r = client.Select(); !r.ok() || !r->ok()) return Refused("SELECT", r);
  if (auto r = client.PutBankKey(bank_key); !r.ok() || !r->ok()) {
    return Refused("PUT BANK KEY", r);
  }
  if (auto r = client.PutCertificate(*cert); !r.ok() || !r->ok()) {
    return Refused("PUT CERTIFICATE", r);
  }
  std::printf("issued card %s\n", cert->certificate.card_id.ToHex().c_str());
  return kExitOk;
}

int Show(Card& card) {
  const CardState& s = card.applet().state();
  static const char* kLifecycle[] = {"blank", "personalising", "issued"};
  std::printf("life cycle  %s\n", kLifecycle[static_cast<int>(s.lifecycle)]);
  if (s.lifecycle == Lifecycle::kBlank) return kExitOk;
  std::printf("card id     %s\n", s.card_id.ToHex().c_str());
  std::printf("public key  %s\n", HexOf(KeyPairFromSeed(s.key_seed).public_key).c_str());
  std::printf("balance     %lld\n", static_cast<long long>(s.balance.minor()));
  std::printf("counter     %u\n", s.counter);
  std::printf("offline     %lld in %u payments (caps %lld, %u)\n",
              static_cast<long long>(s.offline_amount.minor()), s.offline_count,
              static_cast<long long>(s.offline_amount_cap.minor()), s.offline_count_cap);
  return kExitOk;
}

// One session with vpcd: until it closes the connection (kUnavailable) or we are stopped.
Status Serve(Card& card, VpcdLink& link, std::optional<uint8_t> pull_after) {
  card.applet().Reset();
  while (!g_stop) {
    Result<Bytes> frame = link.Read();
    if (!frame.ok()) return frame.status();
    if (frame->size() == 1) {
      const auto code = static_cast<VpcdControl>((*frame)[0]);
      if (code == VpcdControl::kGetAtr) {
        if (Status st = link.Write(kVcardAtr); !st.ok()) return st;
      } else if (code == VpcdControl::kPowerOff || code == VpcdControl::kPowerOn ||
                 code == VpcdControl::kReset) {
        card.applet().Reset();
      }
      continue;  // unknown control codes are not answered
    }
    if (frame->empty()) continue;
    Result<Bytes> response = card.Transmit(*frame);
    if (!response.ok()) {
      // The new state is not durable: the answer must not leave the card.
      std::fprintf(stderr, "ayni-vcard: %s\n", response.status().ToString().c_str());
      std::exit(kExitFailure);
    }
    if (pull_after && frame->size() >= 2 && (*frame)[1] == *pull_after) {
      std::fprintf(stderr, "ayni-vcard: pulled after INS %02x (test hook)\n", *pull_after);
      std::_Exit(kExitOk);
    }
    if (Status st = link.Write(*response); !st.ok()) return st;
  }
  return Status::Ok();
}

int Run(Card& card, const std::map<std::string, std::string>& opts) {
  std::string host = "127.0.0.1";
  uint16_t port = 35963;
  std::optional<uint8_t> pull_after;
  if (auto it = opts.find("--host"); it != opts.end()) host = it->second;
  if (auto it = opts.find("--port"); it != opts.end()) {
    const long p = std::strtol(it->second.c_str(), nullptr, 10);
    if (p <= 0 || p > 65535) return Usage("--port must be 1..65535");
    port = static_cast<uint16_t>(p);
  }
  if (auto it = opts.find("--pull-after"); it != opts.end()) {
    const std::optional<Bytes> ins = FromHex(it->second);
    if (!ins || ins->size() != 1) return Usage("--pull-after takes one INS byte in hex");
    pull_after = (*ins)[0];
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  bool said_waiting = false;
  while (!g_stop) {
    Result<VpcdLink> link = VpcdLink::Connect(host, port, opts.count("--no-quickack") == 0);
    if (!link.ok()) {
      if (link.status().code() == StatusCode::kInvalidArgument) return Fail(link.status());
      if (!said_waiting) {
        std::fprintf(stderr, "ayni-vcard: waiting for vpcd (%s)\n",
                     link.status().message().c_str());
        said_waiting = true;
      }
      std::this_thread::sleep_for(kConnectRetry);
      continue;
    }
    said_waiting = false;
    std::fprintf(stderr, "ayni-vcard: card inserted in vpcd at %s:%u\n", host.c_str(), port);
    const Status st = Serve(card, link.value(), pull_after);
    if (!st.ok() && !g_stop) {
      std::fprintf(stderr, "ayni-vcard: %s; reconnecting\n", st.message().c_str());
    }
  }
  return kExitOk;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string state_path, command;
  std::map<std::string, std::string> opts;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--no-quickack") {
      opts.insert_or_assign(a, std::string("on"));
    } else if (a.rfind("--", 0) == 0) {
      if (i + 1 >= args.size()) return Usage((a + " needs a value").c_str());
      if (a == "--state") {
        state_path = args[++i];
      } else {
        opts[a] = args[++i];
      }
    } else if (command.empty()) {
      command = a;
    } else {
      return Usage(("unexpected argument " + a).c_str());
    }
  }
  if (state_path.empty()) return Usage("--state FILE is required");
  SystemRandom random;
  Result<std::unique_ptr<Card>> opened = Card::Open(state_path, random);
  if (!opened.ok()) return Fail(opened.status());
  std::unique_ptr<Card> card = std::move(opened).value();
  if (command == "keygen") return Keygen(*card, opts);
  if (command == "install") return Install(*card, opts);
  if (command == "show") return Show(*card);
  if (command == "run") return Run(*card, opts);
  return Usage(command.empty() ? "a command is required" : ("unknown command " + command).c_str());
}

}  // namespace
}  // namespace ayni::cardio

int main(int argc, char** argv) { return ayni::cardio::Main(argc, argv); }
