// The card's side of vsmartcard's vpcd protocol (SPEC §5), over one TCP connection.
//
// Every message both ways is a 2-byte big-endian length then the payload. From vpcd a
// 1-byte payload is a control code (00 power off, 01 power on, 02 reset, 04 get ATR —
// only 04 is answered, with the ATR); a longer payload is a C-APDU, answered by one framed
// R-APDU. Debian 12's vpcd writes length and body separately, so the card sets
// TCP_QUICKACK before every read: without it each APDU stalls ~40 ms on delayed ACK.
// Closing the connection is a card removal. Owns its socket; thread-compatible.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "clearing/card/bytes.h"
#include "clearing/status.h"

namespace ayni::cardio {

enum class VpcdControl : uint8_t { kPowerOff = 0, kPowerOn = 1, kReset = 2, kGetAtr = 4 };

// A T=1 ATR: TS=3B, T0=80 (TD1 follows, no historical bytes), TD1=80 (TD2 follows, T=0),
// TD2=01 (T=1), TCK=01 (XOR of T0..TD2).
inline constexpr uint8_t kVcardAtr[] = {0x3B, 0x80, 0x80, 0x01, 0x01};

class VpcdLink {
 public:
  // One connection attempt; kUnavailable when vpcd is not listening (yet). quick_ack off
  // only to measure what it saves (ayni-vcard --no-quickack).
  static Result<VpcdLink> Connect(const std::string& host, uint16_t port, bool quick_ack = true);

  VpcdLink(VpcdLink&& other) noexcept;
  VpcdLink& operator=(VpcdLink&& other) noexcept;
  VpcdLink(const VpcdLink&) = delete;
  VpcdLink& operator=(const VpcdLink&) = delete;
  ~VpcdLink();

  // The next payload; kUnavailable when vpcd closed the connection.
  Result<Bytes> Read();
  Status Write(std::span<const uint8_t> payload);

 private:
  VpcdLink(int fd, bool quick_ack) : fd_(fd), quick_ack_(quick_ack) {}
  Status ReadExactly(uint8_t* out, size_t n);
  int fd_ = -1;
  bool quick_ack_ = true;
};

}  // namespace ayni::cardio
