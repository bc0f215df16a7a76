// The software card's persistent state on disk, crash-safe with one flush per change.
//
// The file holds two fixed-size slots (kStateSlotBytes each), so its size never changes
// after it is created: "AYNISLOT" ‖ u64 generation ‖ u32 length ‖ the serialized state
// (which carries its own SHA-256, applet.h) ‖ zero padding. SaveCardState writes the new
// state into the slot that does *not* hold the newest valid state, under the next
// generation, then fdatasyncs: one data flush, no metadata, no rename (the two fsyncs of a
// temp-file-and-rename cost a payment ~11 ms on this project's VMs; one costs ~4 ms,
// docs/benchmarks.md). A crash mid-write tears only that slot, and LoadCardState then
// takes the other one: the old state or the new one, never a mix, as with an atomic
// replace. The first save creates the file atomically (temporary file, fsync, rename,
// fsync of the directory; mode 0600: it holds the card's private key).
// LoadCardState takes the valid slot with the highest generation and refuses a file with
// no valid slot (kDataLoss naming the path). Functions; thread-compatible per path (one
// process per state file: StateLock).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "cardio/applet.h"
#include "cardio/file_io.h"
#include "clearing/status.h"

namespace ayni::cardio {

// Far above any serialized CardState (about 800 bytes with a certificate and a last
// record); SaveCardState checks it.
inline constexpr size_t kStateSlotBytes = 4096;

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
// holds no valid state.
Result<std::optional<CardState>> LoadCardState(const std::string& path);

}  // namespace ayni::cardio
