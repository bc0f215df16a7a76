// ayni-vcard against a stand-in for vpcd (no root, no pcscd): the framing (2-byte length,
// also when length and body arrive in separate writes, as Debian's vpcd sends them), the
// control codes (ATR on 04, reset deselects), APDUs, persistence of the state file, the
// retry while vpcd is not listening yet, the reconnect after vpcd drops the card, and a
// clean stop on SIGTERM.
//
// Environment: AYNI_VCARD, the path of ayni-vcard (set by ctest).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "cardio/apdu.h"
#include "cardio/vcard/state_file.h"
#include "cardio/vcard/vpcd_link.h"
#include "clearing/card/protocol.h"

namespace ayni::cardio {
namespace {

constexpr int kWaitMs = 10000;

class FakeVpcd {
 public:
  FakeVpcd() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;  // any free port, so parallel runs never collide
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  ~FakeVpcd() {
    CloseCard();
    close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  // Until Listen(), a connection attempt is refused: vpcd "not up yet".
  void Listen() { ASSERT_EQ(listen(listen_fd_, 4), 0); }
  bool Accept() {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, kWaitMs) != 1) return false;
    card_fd_ = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    return card_fd_ >= 0;
  }
  void CloseCard() {
    if (card_fd_ >= 0) close(card_fd_);
    card_fd_ = -1;
  }
  // Length and body in two writes, as Debian 12's vpcd does.
  void Send(const Bytes& payload) {
    const uint8_t len[2] = {static_cast<uint8_t>(payload.size() >> 8),
                            static_cast<uint8_t>(payload.size() & 0xFF)};
    ASSERT_EQ(write(card_fd_, len, 2), 2);
    ASSERT_EQ(write(card_fd_, payload.data(), payload.size()),
              static_cast<ssize_t>(payload.size()));
  }
  Bytes Receive() {
    uint8_t len[2];
    if (!ReadExactly(len, 2)) return {};
    Bytes body(static_cast<size_t>(len[0] << 8 | len[1]));
    if (!ReadExactly(body.data(), body.size())) return {};
    return body;
  }
  Bytes Exchange(const Bytes& apdu) {
    Send(apdu);
    return Receive();
  }

 private:
  bool ReadExactly(uint8_t* out, size_t n) {
    size_t done = 0;
    while (done < n) {
      pollfd p{card_fd_, POLLIN, 0};
      if (poll(&p, 1, kWaitMs) != 1) return false;
      const ssize_t r = read(card_fd_, out + done, n - done);
      if (r <= 0) return false;
      done += static_cast<size_t>(r);
    }
    return true;
  }
  int listen_fd_ = -1;
  int card_fd_ = -1;
  uint16_t port_ = 0;
};

// ayni-vcard with its stderr on a pipe, so the test can await what it says.
class CardProcess {
 public:
  CardProcess(const std::string& state, uint16_t port) {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    const char* vcard = std::getenv("AYNI_VCARD");
    EXPECT_NE(vcard, nullptr) << "AYNI_VCARD must name ayni-vcard";
    std::vector<std::string> args = {vcard ? vcard : "", "--state",           state, "run",
                                     "--port",           std::to_string(port)};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      dup2(fds[1], 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    err_fd_ = fds[0];
  }
  ~CardProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(err_fd_);
  }
  // Reads stderr until a line contains `text`.
  bool AwaitLog(const std::string& text) {
    while (log_.find(text) == std::string::npos) {
      pollfd p{err_fd_, POLLIN, 0};
      if (poll(&p, 1, kWaitMs) != 1) return false;
      char buf[256];
      const ssize_t n = read(err_fd_, buf, sizeof buf);
      if (n <= 0) return false;
      log_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }
  int Stop() {
    kill(pid_, SIGTERM);
    return WaitExit();
  }
  int WaitExit() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  const std::string& log() const { return log_; }

 private:
  pid_t pid_ = 0;
  int err_fd_ = -1;
  std::string log_;
};

Bytes SelectApdu() {
  return EncodeCommandApdu({kClaIso, kInsSelect, 0x04, 0x00, Bytes(kAid.begin(), kAid.end()), 256});
}

TEST(VcardVpcdTest, SpeaksVpcdRetriesReconnectsAndPersists) {
  char tmpl[] = "/tmp/ayni-vcard-test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string state = dir + "/card.state";

  FakeVpcd vpcd;
  CardProcess card(state, vpcd.port());
  // vpcd is not up: the card says so and keeps trying; then vpcd comes up.
  ASSERT_TRUE(card.AwaitLog("waiting for vpcd")) << card.log();
  vpcd.Listen();
  ASSERT_TRUE(vpcd.Accept());

  const Bytes atr(std::begin(kVcardAtr), std::end(kVcardAtr));
  vpcd.Send({0x04});
  EXPECT_EQ(vpcd.Receive(), atr);
  vpcd.Send({0x01});  // power on: not answered
  EXPECT_EQ(vpcd.Exchange(SelectApdu()), (Bytes{0x01, 0x00, 0x90, 0x00}));
  EXPECT_EQ(vpcd.Exchange({0x80, 0xCA, 0x00, 0x00, 0x00}), (Bytes{0x69, 0x85}));  // blank

  // GENERATE KEY changes the state: it is on disk before the answer arrives.
  Bytes keygen = {0x80, 0xE0, 0x00, 0x00, 0x10};
  for (int i = 0; i < 16; ++i) keygen.push_back(static_cast<uint8_t>(i + 1));
  keygen.push_back(0x00);
  const Bytes key = vpcd.Exchange(keygen);
  ASSERT_EQ(key.size(), 34u);
  EXPECT_EQ(key[32], 0x90);
  auto saved = LoadCardState(state);
  ASSERT_TRUE(saved.ok() && saved->has_value()) << saved.status().ToString();
  EXPECT_EQ((*saved)->lifecycle, Lifecycle::kPersonalising);
  const PublicKey on_disk = KeyPairFromSeed((*saved)->key_seed).public_key;
  EXPECT_EQ(Bytes(on_disk.begin(), on_disk.end()), Bytes(key.begin(), key.begin() + 32));

  // Reset deselects; a malformed APDU is answered 6700, not dropped.
  vpcd.Send({0x02});
  EXPECT_EQ(vpcd.Exchange({0x80, 0xCA, 0x00, 0x00, 0x00}), (Bytes{0x69, 0x85}));
  EXPECT_EQ(vpcd.Exchange({0x80, 0xCA, 0x00, 0x00, 0x05, 0x01}), (Bytes{0x67, 0x00}));
  EXPECT_EQ(vpcd.Exchange(SelectApdu()), (Bytes{0x01, 0x01, 0x90, 0x00}));

  // A second ayni-vcard on the same state would be a clone: it refuses to start.
  CardProcess clone(state, vpcd.port());
  EXPECT_TRUE(clone.AwaitLog("another ayni-vcard is using")) << clone.log();
  EXPECT_EQ(clone.WaitExit(), 1);

  // vpcd drops the card (pcscd restarted): the card comes back by itself.
  vpcd.CloseCard();
  ASSERT_TRUE(vpcd.Accept());
  vpcd.Send({0x04});
  EXPECT_EQ(vpcd.Receive(), atr);
  EXPECT_EQ(vpcd.Exchange(SelectApdu()), (Bytes{0x01, 0x01, 0x90, 0x00}));

  EXPECT_EQ(card.Stop(), 0) << card.log();
  std::remove(state.c_str());
  std::remove((state + ".lock").c_str());
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace ayni::cardio
