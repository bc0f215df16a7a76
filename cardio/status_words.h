// Status words (SW1SW2) of the purse applet: ISO 7816-4 codes plus proprietary 91xx
// refusals. The numbers are part of the card protocol (docs/card-protocol.md) and never
// change. 6Cxx ("wrong Le, the exact length is xx") carries a length in SW2, so an Sw may
// hold a value outside the named enumerators; use IsWrongLe() for it.
#pragma once

#include <cstdint>
#include <string>

namespace ayni::cardio {

enum class Sw : uint16_t {
  kOk = 0x9000,
  kWrongLength = 0x6700,      // Lc/Le or the command's shape does not fit the INS
  kSecurityStatus = 0x6982,   // a signature (certificate, load token) does not verify
  kConditionsOfUse = 0x6985,  // wrong life-cycle state or command order
  kBadData = 0x6A80,          // a field's value is not acceptable
  kAppletNotFound = 0x6A82,   // SELECT with an unknown AID
  kWrongP1P2 = 0x6A86,
  kRecordNotFound = 0x6A88,  // GET LAST RECORD before any record exists
  kWrongLe = 0x6C00,         // 6Cxx, xx = the exact Le to use
  kInsNotSupported = 0x6D00,
  kClaNotSupported = 0x6E00,
  // Proprietary refusals (business refusals of the purse).
  kInsufficientBalance = 0x9110,
  kLimitExceeded = 0x9120,    // above the per-payment limit, or a load above the ceiling
  kGoOnlineAmount = 0x9130,   // offline amount since the last load would pass its cap
  kGoOnlineCount = 0x9131,    // offline payment count since the last load at its cap
  kGoOnlineExpired = 0x9132,  // certificate expired at the terminal's time
};

inline constexpr uint16_t SwValue(Sw sw) { return static_cast<uint16_t>(sw); }
inline constexpr bool IsWrongLe(Sw sw) { return (SwValue(sw) & 0xFF00) == 0x6C00; }
inline constexpr Sw WrongLe(uint8_t exact) { return static_cast<Sw>(0x6C00 | exact); }
// 9130..9132: the kiosk should send the member to an online load.
inline constexpr bool IsGoOnline(Sw sw) {
  return sw == Sw::kGoOnlineAmount || sw == Sw::kGoOnlineCount || sw == Sw::kGoOnlineExpired;
}

// "9110 insufficient balance", "6c10 wrong Le (use 16)", "1234 unknown status word".
std::string SwName(Sw sw);

}  // namespace ayni::cardio
