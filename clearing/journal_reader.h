// JournalReader: bounds-checked big-endian decoding of journal bytes (journal.h), shared
// by the replayer and Ledger::Restore. Any overrun sets failed() and yields zeros, so a
// decoder checks failed() once per event. Not thread-safe; a value over borrowed bytes.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace ayni {

class JournalReader {
 public:
  explicit JournalReader(std::span<const uint8_t> b) : b_(b) {}
  bool failed() const { return failed_; }
  bool done() const { return pos_ == b_.size(); }
  uint64_t Uint(int bytes) {
    if (failed_ || b_.size() - pos_ < static_cast<size_t>(bytes)) {
      failed_ = true;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | b_[pos_++];
    return v;
  }
  uint8_t U8() { return static_cast<uint8_t>(Uint(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Uint(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Uint(4)); }
  uint64_t U64() { return Uint(8); }
  int64_t I64() { return static_cast<int64_t>(Uint(8)); }
  int32_t I32() { return static_cast<int32_t>(Uint(4)); }
  std::string Str() {
    const uint16_t n = U16();
    if (failed_ || b_.size() - pos_ < n) {
      failed_ = true;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  template <size_t N>
  std::array<uint8_t, N> Fixed() {
    std::array<uint8_t, N> a{};
    if (failed_ || b_.size() - pos_ < N) {
      failed_ = true;
      return a;
    }
    std::memcpy(a.data(), b_.data() + pos_, N);
    pos_ += N;
    return a;
  }
  std::array<uint8_t, 16> Wide() {
    std::array<uint8_t, 16> a{};
    if (failed_ || b_.size() - pos_ < 16) {
      failed_ = true;
      return a;
    }
    std::memcpy(a.data(), b_.data() + pos_, 16);
    pos_ += 16;
    return a;
  }

 private:
  std::span<const uint8_t> b_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace ayni
