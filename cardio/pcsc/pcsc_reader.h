// PcscReader: a PC/SC reader through libpcsclite, as a CardChannel.
//
// Lists readers, waits for a card, connects with T=1 only (the purse protocol's), and
// transmits APDUs. When an exchange fails (card removed — through vpcd the first failure
// is often SCARD_E_NOT_TRANSACTED, the removal is reported after — card reset, reader
// gone) Transmit answers kUnavailable with the PC/SC reason and the reader drops its card
// handle, because the command's outcome is unknown; after the card is back, WaitForCard +
// Connect start a fresh session (and the applet must be selected again). A card's refusal
// is in the SW, never an error here.
// Owns one PC/SC context and at most one card handle. Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cardio/channel.h"
#include "clearing/status.h"

namespace ayni::cardio {

class PcscReader final : public CardChannel {
 public:
  // Establishes a PC/SC context (kUnavailable when pcscd is not running).
  static Result<std::unique_ptr<PcscReader>> Open();
  ~PcscReader() override;
  PcscReader(const PcscReader&) = delete;
  PcscReader& operator=(const PcscReader&) = delete;

  Result<std::vector<std::string>> ListReaders();
  // Returns once a card is present (and responsive) in `reader`; kUnavailable on timeout.
  Status WaitForCard(const std::string& reader, int timeout_ms);
  // Waits until the reader reports no card; for tests of removal.
  Status WaitForRemoval(const std::string& reader, int timeout_ms);
  // Connects to the card in `reader` with T=1 (exclusive: a payment is one session).
  Status Connect(const std::string& reader);
  void Disconnect();
  bool connected() const { return card_ != 0; }

  Result<Bytes> Transmit(std::span<const uint8_t> command) override;

 private:
  PcscReader() = default;
  Status WaitFor(const std::string& reader, bool present, int timeout_ms);

  long context_ = 0;  // SCARDCONTEXT
  long card_ = 0;     // SCARDHANDLE
};

// "SCARD_W_REMOVED_CARD: Card was removed." style text for a PC/SC return code.
std::string PcscError(long rv);

}  // namespace ayni::cardio
