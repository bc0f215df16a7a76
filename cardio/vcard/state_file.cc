#include "cardio/vcard/state_file.h"

#include <utility>

namespace ayni::cardio {

Status SaveCardState(const std::string& path, const CardState& state) {
  return WriteFileAtomically(path, SerializeCardState(state), 0600);
}

Result<StateLock> StateLock::Acquire(const std::string& path) {
  Result<FileLock> lock = FileLock::Acquire(path + ".lock", "another ayni-vcard is using " + path);
  if (!lock.ok()) return lock.status();
  return StateLock(std::move(lock).value());
}

Result<std::optional<CardState>> LoadCardState(const std::string& path) {
  // Far larger than any card state: a bigger file is not one.
  Result<std::optional<Bytes>> bytes = ReadWholeFile(path, 1u << 20);
  if (!bytes.ok()) return bytes.status();
  if (!*bytes) return std::optional<CardState>();
  Result<CardState> state = DeserializeCardState(**bytes);
  if (!state.ok()) return Status::DataLoss(path + ": " + state.status().message());
  return std::optional<CardState>(std::move(state).value());
}

}  // namespace ayni::cardio
