// Card APDU latency through libpcsclite → pcscd → vpcd → ayni-vcard (SPEC §9: a card
// payment < 5 ms end to end). A measurement, not a test: it prints figures and exits 0
// unless the stack fails. Run it inside the card namespace:
//
//   tests/cardio/card_env.sh build/bench/ayni_bench_card_latency
//       build/cardio/vcard/ayni-vcard [N] [--no-quickack]
//
// It starts ayni-vcard on a fresh state file, personalises and loads the card over PC/SC,
// then times N GET BALANCE exchanges and N payments (INITIALIZE PURCHASE + DEBIT, the
// DEBIT including the card's Ed25519 signature and its fsync'd state file) and prints
// median, p90 and p99 in milliseconds.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cardio/issuer.h"
#include "cardio/pcsc/pcsc_reader.h"
#include "cardio/purse_client.h"

namespace ayni::cardio {
namespace {

constexpr const char* kReader = "Virtual PCD 00 00";

int Die(const std::string& what) {
  std::fprintf(stderr, "card_latency: %s\n", what.c_str());
  return 1;
}

pid_t StartCard(const std::string& vcard, const std::string& state, bool quick_ack) {
  std::vector<std::string> args = {vcard, "--state", state, "run"};
  if (!quick_ack) args.push_back("--no-quickack");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

void Report(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  std::printf("%-36s n=%zu  median %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms\n", what,
              ms.size(), at(0.5), at(0.9), at(0.99), ms.back());
}

int Main(int argc, char** argv) {
  if (argc < 2) return Die("usage: card_latency AYNI_VCARD [N] [--no-quickack]");
  const std::string vcard = argv[1];
  int n = 200;
  bool quick_ack = true;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--no-quickack") {
      quick_ack = false;
    } else {
      n = std::atoi(a.c_str());
      if (n <= 0 || n > 100000) return Die("N must be 1..100000");
    }
  }
  const char* dir = std::getenv("AYNI_CARD_LOG_DIR");
  const std::string state = std::string(dir ? dir : "/tmp") + "/latency.state";
  std::remove(state.c_str());
  const pid_t card = StartCard(vcard, state, quick_ack);

  auto opened = PcscReader::Open();
  if (!opened.ok()) return Die(opened.status().ToString());
  PcscReader& reader = **opened;
  if (Status st = reader.WaitForCard(kReader, 15000); !st.ok()) return Die(st.ToString());
  if (Status st = reader.Connect(kReader); !st.ok()) return Die(st.ToString());
  PurseClient client(reader);

  // Personalise and load with limits that allow N offline payments.
  KeySeed bank_seed;
  bank_seed.fill(0x42);
  const KeyPair bank = KeyPairFromSeed(bank_seed);
  const CardId card_id = CardId::FromParts(0xbe4c, 1);
  Certificate c;
  c.scheme_id = 1;
  c.card_id = card_id;
  c.member_account = AccountId(1);
  c.currency = CurrencyId(1);
  c.limits = {Amount(100), Amount(1000000), 1000000, Amount(10000000)};
  c.expiry_s = 4102444800;  // 2100-01-01
  if (auto cert = PersonaliseCard(client, bank, c); !cert.ok()) {
    return Die(cert.status().ToString());
  }
  const LoadTerms terms{Amount(1000000), LoadId::FromParts(1, 1), Amount(1000000), 1000000};
  if (auto load = LoadCard(client, bank, card_id, terms); !load.ok()) {
    return Die(load.status().ToString());
  }

  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  std::vector<double> balance_ms, pay_ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    auto b = client.GetBalance();
    balance_ms.push_back(ms_since(t0));
    if (!b.ok() || !b->ok()) return Die("GET BALANCE");
  }
  for (int i = 0; i < n; ++i) {
    PurchaseRequest p;
    p.terminal_id = TerminalId::FromParts(7, 1);
    p.terminal_sequence = static_cast<uint32_t>(i + 1);
    p.terminal_time_s = 1767225600;
    p.nonce[0] = static_cast<uint8_t>(i);
    p.amount = Amount(1);
    const auto t0 = Clock::now();
    auto q = client.InitializePurchase(p);
    auto d = client.Debit();
    pay_ms.push_back(ms_since(t0));
    if (!q.ok() || !q->ok() || !d.ok() || !d->ok()) return Die("payment");
  }
  std::printf("TCP_QUICKACK %s\n", quick_ack ? "on" : "off");
  Report("GET BALANCE round trip", balance_ms);
  Report("INITIALIZE PURCHASE + DEBIT", pay_ms);
  reader.Disconnect();
  kill(card, SIGTERM);
  waitpid(card, nullptr, 0);
  return 0;
}

}  // namespace
}  // namespace ayni::cardio

int main(int argc, char** argv) { return ayni::cardio::Main(argc, argv); }
