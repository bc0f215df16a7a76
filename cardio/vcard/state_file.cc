#include "cardio/vcard/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "clearing/check.h"

namespace ayni::cardio {
namespace {

constexpr char kSlotMagic[8] = {'A', 'Y', 'N', 'I', 'S', 'L', 'O', 'T'};
constexpr size_t kSlotHeaderBytes = 8 + 8 + 4;
constexpr size_t kFileBytes = 2 * kStateSlotBytes;

struct Slot {
  uint64_t generation = 0;
  std::optional<CardState> state;  // set when the slot is valid
};

uint64_t GetU64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void PutU64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

Slot ParseSlot(const uint8_t* p) {
  Slot s;
  if (std::memcmp(p, kSlotMagic, sizeof kSlotMagic) != 0) return s;
  const uint64_t generation = GetU64(p + 8);
  const uint32_t length = static_cast<uint32_t>(p[16]) << 24 | static_cast<uint32_t>(p[17]) << 16 |
                          static_cast<uint32_t>(p[18]) << 8 | p[19];
  if (generation == 0 || length > kStateSlotBytes - kSlotHeaderBytes) return s;
  Result<CardState> state =
      DeserializeCardState(std::span<const uint8_t>(p + kSlotHeaderBytes, length));
  if (!state.ok()) return s;
  s.generation = generation;
  s.state = std::move(state).value();
  return s;
}

// The newer valid slot's index (0 or 1), or -1 when neither is valid.
int Newest(const Slot (&slots)[2]) {
  if (!slots[0].state && !slots[1].state) return -1;
  if (!slots[1].state) return 0;
  if (!slots[0].state) return 1;
  return slots[1].generation > slots[0].generation ? 1 : 0;
}

Status ReadExactly(int fd, uint8_t* out, size_t n, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, out + done, n - done, static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoStatus("cannot read", path);
    if (r == 0) {
      return Status::DataLoss(path + ": " + std::to_string(done) + " bytes, not a state file of " +
                              std::to_string(n));
    }
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

}  // namespace

Status SaveCardState(const std::string& path, const CardState& state) {
  const Bytes serialized = SerializeCardState(state);
  AYNI_CHECK(serialized.size() <= kStateSlotBytes - kSlotHeaderBytes);
  uint8_t slot[kStateSlotBytes] = {};
  std::memcpy(slot, kSlotMagic, sizeof kSlotMagic);
  slot[16] = static_cast<uint8_t>(serialized.size() >> 24);
  slot[17] = static_cast<uint8_t>(serialized.size() >> 16);
  slot[18] = static_cast<uint8_t>(serialized.size() >> 8);
  slot[19] = static_cast<uint8_t>(serialized.size());
  std::copy(serialized.begin(), serialized.end(), slot + kSlotHeaderBytes);

  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) return ErrnoStatus("cannot open", path);
  if (fd < 0) {
    // A new card: both slots at once, created atomically.
    Bytes file(kFileBytes, 0);
    PutU64(slot + 8, 1);
    std::copy(slot, slot + kStateSlotBytes, file.begin());
    return WriteFileAtomically(path, file, 0600);
  }
  uint8_t current[kFileBytes];
  Status st = ReadExactly(fd, current, kFileBytes, path);
  Slot slots[2];
  int newest = -1;
  if (st.ok()) {
    slots[0] = ParseSlot(current);
    slots[1] = ParseSlot(current + kStateSlotBytes);
    newest = Newest(slots);
    if (newest < 0) st = Status::DataLoss(path + ": neither state slot is valid");
  }
  if (st.ok()) {
    const int target = 1 - newest;
    PutU64(slot + 8, slots[newest].generation + 1);
    const off_t at = static_cast<off_t>(target) * static_cast<off_t>(kStateSlotBytes);
    size_t done = 0;
    while (st.ok() && done < kStateSlotBytes) {
      const ssize_t w = ::pwrite(fd, slot + done, kStateSlotBytes - done, at + static_cast<off_t>(done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) st = ErrnoStatus("cannot write", path);
      else done += static_cast<size_t>(w);
    }
    // The file's size never changes, so a data flush is the whole flush.
    if (st.ok() && ::fdatasync(fd) != 0) st = ErrnoStatus("cannot fdatasync", path);
  }
  if (::close(fd) != 0 && st.ok()) st = ErrnoStatus("cannot close", path);
  return st;
}

Result<StateLock> StateLock::Acquire(const std::string& path) {
  Result<FileLock> lock = FileLock::Acquire(path + ".lock", "another ayni-vcard is using " + path);
  if (!lock.ok()) return lock.status();
  return StateLock(std::move(lock).value());
}

Result<std::optional<CardState>> LoadCardState(const std::string& path) {
  Result<std::optional<Bytes>> bytes = ReadWholeFile(path, kFileBytes);
  if (!bytes.ok()) return bytes.status();
  if (!*bytes) return std::optional<CardState>();
  const Bytes& b = **bytes;
  if (b.size() != kFileBytes) {
    return Status::DataLoss(path + ": " + std::to_string(b.size()) +
                            " bytes, not a state file of " + std::to_string(kFileBytes));
  }
  Slot slots[2] = {ParseSlot(b.data()), ParseSlot(b.data() + kStateSlotBytes)};
  const int newest = Newest(slots);
  if (newest < 0) return Status::DataLoss(path + ": neither state slot holds a valid card state");
  return std::move(slots[newest].state);
}

}  // namespace ayni::cardio
