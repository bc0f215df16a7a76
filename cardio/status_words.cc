#include "cardio/status_words.h"

#include <cstdio>

namespace ayni::cardio {

namespace {
const char* Describe(Sw sw) {
  switch (sw) {
    case Sw::kOk:
      return "ok";
    case Sw::kWrongLength:
      return "wrong length";
    case Sw::kSecurityStatus:
      return "security status not satisfied";
    case Sw::kConditionsOfUse:
      return "conditions of use not satisfied";
    case Sw::kBadData:
      return "incorrect data";
    case Sw::kAppletNotFound:
      return "applet not found";
    case Sw::kWrongP1P2:
      return "incorrect P1-P2";
    case Sw::kRecordNotFound:
      return "record not found";
    case Sw::kWrongLe:
      return "wrong Le";
    case Sw::kInsNotSupported:
      return "instruction not supported";
    case Sw::kClaNotSupported:
      return "class not supported";
    case Sw::kInsufficientBalance:
      return "insufficient balance";
    case Sw::kLimitExceeded:
      return "limit exceeded";
    case Sw::kGoOnlineAmount:
      return "go online: offline amount cap reached";
    case Sw::kGoOnlineCount:
      return "go online: offline payment count cap reached";
    case Sw::kGoOnlineExpired:
      return "go online: certificate expired";
  }
  return nullptr;
}
}  // namespace

std::string SwName(Sw sw) {
  char buf[64];
  if (IsWrongLe(sw)) {
    std::snprintf(buf, sizeof buf, "%04x wrong Le (use %u)", SwValue(sw), SwValue(sw) & 0xFFu);
    return buf;
  }
  const char* d = Describe(sw);
  std::snprintf(buf, sizeof buf, "%04x %s", SwValue(sw), d ? d : "unknown status word");
  return buf;
}

}  // namespace ayni::cardio
