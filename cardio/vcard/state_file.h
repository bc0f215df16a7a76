// The software card's persistent state on disk, written atomically.
//
// Save writes a temporary file beside the target (mode 0600: it holds the card's private
// key), fsyncs it, renames it over the target and fsyncs the directory, so a crash leaves
// either the old state or the new one, never a mix. Load refuses a torn or altered file
// (the state carries its own checksum, applet.h). Functions; thread-compatible per path.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "cardio/applet.h"
#include "cardio/file_io.h"
#include "clearing/status.h"

namespace ayni::cardio {

Status SaveCardState(const std::string& path, const CardState& state);

// An exclusive lock on a state file (flock on "<path>.lock", kept while the object lives):
// two processes on one state would be a cloned card, signing the same counters.
class StateLock {
 public:
  // kFailedPrecondition when another process holds it.
  static Result<StateLock> Acquire(const std::string& path);

 private:
  explicit StateLock(FileLock lock) : lock_(std::move(lock)) {}
  FileLock lock_;
};
// nullopt when the file does not exist (a blank card); an error when it is unreadable or
// not a valid state.
Result<std::optional<CardState>> LoadCardState(const std::string& path);

}  // namespace ayni::cardio
