#include "cardio/apdu.h"

#include <string>

#include "clearing/check.h"

namespace ayni::cardio {

namespace {
uint16_t DecodeLe(uint8_t b) { return b == 0 ? 256 : b; }
}  // namespace

Result<CommandApdu> ParseCommandApdu(std::span<const uint8_t> bytes) {
  const size_t n = bytes.size();
  if (n < 4) {
    return Status::InvalidArgument("C-APDU has " + std::to_string(n) + " bytes; a header needs 4");
  }
  CommandApdu apdu{bytes[0], bytes[1], bytes[2], bytes[3], {}, std::nullopt};
  if (n == 4) return apdu;  // case 1
  if (n == 5) {             // case 2
    apdu.le = DecodeLe(bytes[4]);
    return apdu;
  }
  const size_t lc = bytes[4];
  if (lc == 0) {
    return Status::InvalidArgument("extended-length APDUs are not supported (Lc byte 00)");
  }
  if (n != 5 + lc && n != 6 + lc) {
    return Status::InvalidArgument("C-APDU length " + std::to_string(n) + " disagrees with Lc " +
                                   std::to_string(lc));
  }
  apdu.data.assign(bytes.begin() + 5, bytes.begin() + 5 + static_cast<ptrdiff_t>(lc));
  if (n == 6 + lc) apdu.le = DecodeLe(bytes[5 + lc]);  // case 4
  return apdu;
}

Bytes EncodeCommandApdu(const CommandApdu& apdu) {
  AYNI_CHECK(apdu.data.size() <= kShortDataMax);
  AYNI_CHECK(!apdu.le || (*apdu.le >= 1 && *apdu.le <= kShortResponseMax));
  Bytes out = {apdu.cla, apdu.ins, apdu.p1, apdu.p2};
  if (!apdu.data.empty()) {
    out.push_back(static_cast<uint8_t>(apdu.data.size()));
    out.insert(out.end(), apdu.data.begin(), apdu.data.end());
  }
  if (apdu.le) out.push_back(static_cast<uint8_t>(*apdu.le & 0xFF));
  return out;
}

Bytes EncodeResponseApdu(std::span<const uint8_t> data, Sw sw) {
  AYNI_CHECK(data.size() <= kShortResponseMax);
  Bytes out(data.begin(), data.end());
  out.push_back(static_cast<uint8_t>(SwValue(sw) >> 8));
  out.push_back(static_cast<uint8_t>(SwValue(sw) & 0xFF));
  return out;
}

Result<ResponseApdu> ParseResponseApdu(std::span<const uint8_t> bytes) {
  if (bytes.size() < 2) {
    return Status::InvalidArgument("R-APDU has " + std::to_string(bytes.size()) +
                                   " bytes; SW1 SW2 need 2");
  }
  if (bytes.size() > kShortResponseMax + 2) {
    return Status::InvalidArgument("R-APDU has " + std::to_string(bytes.size() - 2) +
                                   " data bytes; a short response holds at most 256");
  }
  ResponseApdu r;
  r.data.assign(bytes.begin(), bytes.end() - 2);
  r.sw = static_cast<Sw>((bytes[bytes.size() - 2] << 8) | bytes[bytes.size() - 1]);
  return r;
}

}  // namespace ayni::cardio
