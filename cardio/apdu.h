// ISO 7816-4 short APDUs: the command (C-APDU) parser and the response (R-APDU) codec.
//
// Only short APDUs exist in this protocol (every field fits in 255 bytes, every response
// in 256): an extended-length APDU (a zero Lc byte followed by more bytes) is refused.
// The four cases are told apart by length alone, strictly:
//   case 1: CLA INS P1 P2                      (4 bytes)
//   case 2: CLA INS P1 P2 Le                   (5 bytes; Le 00 means 256)
//   case 3: CLA INS P1 P2 Lc data[Lc]          (Lc 1..255)
//   case 4: CLA INS P1 P2 Lc data[Lc] Le
// Anything else (fewer than 4 bytes, Lc disagreeing with the length) is malformed.
// Pure functions over value types; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "cardio/status_words.h"
#include "clearing/card/bytes.h"
#include "clearing/status.h"

namespace ayni::cardio {

inline constexpr size_t kShortDataMax = 255;      // Lc is one byte, 00 is not a length
inline constexpr size_t kShortResponseMax = 256;  // Le 00 means 256
inline constexpr size_t kCommandApduMax = 4 + 1 + kShortDataMax + 1;

struct CommandApdu {
  uint8_t cla = 0;
  uint8_t ins = 0;
  uint8_t p1 = 0;
  uint8_t p2 = 0;
  Bytes data;                  // empty for cases 1 and 2
  std::optional<uint16_t> le;  // 1..256 when present (cases 2 and 4)

  friend bool operator==(const CommandApdu&, const CommandApdu&) = default;
};

// Refuses (InvalidArgument, saying what is wrong) anything that is not a short APDU.
Result<CommandApdu> ParseCommandApdu(std::span<const uint8_t> bytes);
// Encodes the shortest form for the fields; AYNI_CHECKs data <= 255 bytes and le in 1..256.
Bytes EncodeCommandApdu(const CommandApdu& apdu);

struct ResponseApdu {
  Bytes data;
  Sw sw = Sw::kOk;
};

// data ‖ SW1 SW2.
Bytes EncodeResponseApdu(std::span<const uint8_t> data, Sw sw);
// Refuses fewer than 2 bytes or more than 256 data bytes.
Result<ResponseApdu> ParseResponseApdu(std::span<const uint8_t> bytes);

}  // namespace ayni::cardio
