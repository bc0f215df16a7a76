// A card format (clearing/card/): shared by the card (cardio/), the kiosk and the server;
// pure, depends on clearing/ and libsodium only. Namespace ayni::cardio (historical).
//
// Big-endian byte writing and bounds-checked reading for the card's fixed layouts.
//
// ByteWriter appends fields to a vector it owns. ByteReader reads from a span it does not
// own; a read past the end yields zeros and latches !ok(), so a parser reads every field
// and checks ok() (and remaining() == 0) once at the end. Value types; thread-compatible.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

namespace ayni::cardio {

using Bytes = std::vector<uint8_t>;

class ByteWriter {
 public:
  ByteWriter() = default;
  explicit ByteWriter(size_t reserve) { out_.reserve(reserve); }

  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) { Be(v, 2); }
  void U32(uint32_t v) { Be(v, 4); }
  void U64(uint64_t v) { Be(v, 8); }
  void I64(int64_t v) { Be(static_cast<uint64_t>(v), 8); }
  void Raw(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }

  size_t size() const { return out_.size(); }
  const Bytes& bytes() const { return out_; }
  Bytes Take() { return std::move(out_); }

 private:
  void Be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  Bytes out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> in) : in_(in) {}

  uint8_t U8() { return static_cast<uint8_t>(Be(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Be(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Be(4)); }
  uint64_t U64() { return Be(8); }
  int64_t I64() { return static_cast<int64_t>(Be(8)); }
  template <size_t N>
  std::array<uint8_t, N> Array() {
    std::array<uint8_t, N> a{};
    if (const uint8_t* p = Take(N)) std::memcpy(a.data(), p, N);
    return a;
  }
  // The next n bytes as a span into the input (empty, and !ok(), when fewer remain).
  std::span<const uint8_t> Span(size_t n) {
    const uint8_t* p = Take(n);
    return p ? std::span<const uint8_t>(p, n) : std::span<const uint8_t>();
  }

  bool ok() const { return ok_; }
  size_t remaining() const { return in_.size() - pos_; }
  // All fields read, nothing left over.
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  const uint8_t* Take(size_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return nullptr;
    }
    const uint8_t* p = in_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint64_t Be(int n) {
    const uint8_t* p = Take(static_cast<size_t>(n));
    uint64_t v = 0;
    if (p == nullptr) return 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
  }

  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace ayni::cardio
