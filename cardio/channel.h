// CardChannel: one APDU exchange with a card, however it is reached (a PC/SC reader, or
// the applet in-process for unit tests).
//
// Transmit returns the whole R-APDU (data ‖ SW1SW2). A card's refusal is in the SW and is
// not an error here; a Status means the exchange did not happen or its outcome is unknown
// (card removed, reader gone: kUnavailable). Implementations are thread-compatible.
#pragma once

#include <span>

#include "cardio/applet.h"
#include "clearing/card/bytes.h"
#include "clearing/status.h"

namespace ayni::cardio {

class CardChannel {
 public:
  virtual ~CardChannel() = default;
  virtual Result<Bytes> Transmit(std::span<const uint8_t> command) = 0;
};

// The applet in-process: the same bytes as through a reader, without one. The applet must
// outlive the channel.
class AppletChannel final : public CardChannel {
 public:
  explicit AppletChannel(PurseApplet& applet) : applet_(applet) {}
  Result<Bytes> Transmit(std::span<const uint8_t> command) override {
    return applet_.Process(command);
  }

 private:
  PurseApplet& applet_;
};

}  // namespace ayni::cardio
