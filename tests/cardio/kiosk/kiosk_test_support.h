// Shared by the kiosk tests: a private temporary directory, and a card channel from which
// the card can be pulled mid-command.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <span>
#include <string>

#include "cardio/applet.h"
#include "cardio/channel.h"

namespace ayni::cardio::kiosk::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ayni-kiosk-test.XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The applet behind a reader from which the card can be pulled at one instruction: before
// the card gets the command, or after it executed it (the answer is lost); or whose answer
// to one instruction has one byte flipped (a forged or damaged answer).
class PullableChannel final : public CardChannel {
 public:
  explicit PullableChannel(PurseApplet& applet) : applet_(applet) {}
  void PullAt(uint8_t ins, bool after_execution) {
    pull_ins_ = ins;
    after_ = after_execution;
  }
  void FlipAnswerTo(uint8_t ins, size_t offset) {
    flip_ins_ = ins;
    flip_offset_ = offset;
  }
  Result<Bytes> Transmit(std::span<const uint8_t> command) override {
    if (flip_ins_ && command.size() > 1 && command[1] == *flip_ins_) {
      flip_ins_.reset();
      Bytes answer = applet_.Process(command);
      if (flip_offset_ < answer.size()) answer[flip_offset_] ^= 0x01;
      return answer;
    }
    if (pull_ins_ && command.size() > 1 && command[1] == *pull_ins_) {
      pull_ins_.reset();
      if (after_) (void)applet_.Process(command);
      applet_.Reset();  // removal is a power-off
      return Status::Unavailable("SCARD_W_REMOVED_CARD: Card was removed.");
    }
    return applet_.Process(command);
  }

 private:
  PurseApplet& applet_;
  std::optional<uint8_t> pull_ins_;
  std::optional<uint8_t> flip_ins_;
  size_t flip_offset_ = 0;
  bool after_ = false;
};

}  // namespace ayni::cardio::kiosk::testing
