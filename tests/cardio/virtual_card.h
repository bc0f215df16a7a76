// ayni-vcard as a card in the reader, for tests that run inside card_env.sh: one process
// per insertion (killing it is a removal). AYNI_VCARD names the binary.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace ayni::cardio::testing {

inline std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// One ayni-vcard process: a card in the reader while it runs.
class VirtualCard {
 public:
  VirtualCard(std::string state, std::vector<std::string> extra = {})
      : state_(std::move(state)), extra_(std::move(extra)) {}
  ~VirtualCard() { Kill(); }

  void Insert() {
    std::vector<std::string> args = {Env("AYNI_VCARD"), "--state", state_, "run"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      // The card must not outlive a crashed test (it would hold ctest's output pipe).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  // SIGKILL: the card is pulled, whatever it was doing.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }
  // SIGTERM: a clean stop; returns the exit code.
  int Stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    return WaitExit();
  }
  int WaitExit() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  std::string state_;
  std::vector<std::string> extra_;
  pid_t pid_ = 0;
};

}  // namespace ayni::cardio::testing
