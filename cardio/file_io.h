// Durable local files for whoever hosts card code on a disk (ayni-vcard's state, the
// kiosk's state and receipt log): atomic replacement, whole-file reads, exclusive locks.
//
// WriteFileAtomically writes a temporary file beside the target with `mode`, fsyncs it,
// renames it over the target and fsyncs the directory, so a crash leaves either the old
// content or the new one, never a mix. Errors are kUnavailable naming the path and errno.
// Functions and a move-only lock; thread-compatible per path.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "clearing/card/bytes.h"
#include "clearing/status.h"

namespace ayni::cardio {

Status WriteFileAtomically(const std::string& path, std::span<const uint8_t> bytes,
                           mode_t mode = 0600);

// nullopt when the file does not exist; kDataLoss when it is larger than `max_bytes`.
Result<std::optional<Bytes>> ReadWholeFile(const std::string& path, size_t max_bytes);

// write(2) until every byte is written (EINTR retried).
Status WriteAll(int fd, std::span<const uint8_t> bytes, const std::string& path);

// fsync of the directory holding `path` (after a create or rename in it).
Status SyncDirectoryOf(const std::string& path);

// kUnavailable "<what> <path>: <strerror(errno)>".
Status ErrnoStatus(const std::string& what, const std::string& path);

// An exclusive lock (flock on `lock_path`, created 0600), kept while the object lives.
class FileLock {
 public:
  // kFailedPrecondition "<busy_message>" when another process holds it.
  static Result<FileLock> Acquire(const std::string& lock_path, const std::string& busy_message);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace ayni::cardio
