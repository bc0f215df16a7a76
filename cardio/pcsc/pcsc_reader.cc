#include "cardio/pcsc/pcsc_reader.h"

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#include <chrono>
#include <cstdio>

namespace ayni::cardio {

namespace {

static_assert(sizeof(SCARDCONTEXT) <= sizeof(long) && sizeof(SCARDHANDLE) <= sizeof(long));

Status Failed(const std::string& what, LONG rv) {
  return Status::Unavailable(what + ": " + PcscError(rv));
}

// The card is no longer the one we connected to: the session is over.
bool CardGone(LONG rv) {
  return rv == SCARD_W_REMOVED_CARD || rv == SCARD_E_NO_SMARTCARD || rv == SCARD_W_RESET_CARD ||
         rv == SCARD_E_READER_UNAVAILABLE || rv == SCARD_E_NO_READERS_AVAILABLE ||
         rv == SCARD_W_UNPOWERED_CARD || rv == SCARD_W_UNRESPONSIVE_CARD ||
         rv == SCARD_E_INVALID_HANDLE || rv == SCARD_F_COMM_ERROR;
}

}  // namespace

std::string PcscError(long rv) {
  char code[16];
  std::snprintf(code, sizeof code, "0x%08lX", static_cast<unsigned long>(rv) & 0xFFFFFFFFul);
  std::string name;
  switch (rv) {
    case SCARD_W_REMOVED_CARD:
      name = "card removed";
      break;
    case SCARD_E_NO_SMARTCARD:
      name = "no card in the reader";
      break;
    case SCARD_W_RESET_CARD:
      name = "card was reset";
      break;
    case SCARD_E_TIMEOUT:
      name = "timed out";
      break;
    case SCARD_E_NO_SERVICE:
      name = "pcscd is not running";
      break;
    case SCARD_E_NO_READERS_AVAILABLE:
      name = "no reader available";
      break;
    default:
      name = pcsc_stringify_error(rv);
      break;
  }
  return name + " (" + code + ")";
}

Result<std::unique_ptr<PcscReader>> PcscReader::Open() {
  std::unique_ptr<PcscReader> r(new PcscReader());
  SCARDCONTEXT ctx = 0;
  const LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, nullptr, nullptr, &ctx);
  if (rv != SCARD_S_SUCCESS) return Failed("cannot reach pcscd", rv);
  r->context_ = static_cast<long>(ctx);
  return r;
}

PcscReader::~PcscReader() {
  Disconnect();
  if (context_ != 0) SCardReleaseContext(static_cast<SCARDCONTEXT>(context_));
}

Result<std::vector<std::string>> PcscReader::ListReaders() {
  DWORD size = 0;
  LONG rv = SCardListReaders(static_cast<SCARDCONTEXT>(context_), nullptr, nullptr, &size);
  if (rv == SCARD_E_NO_READERS_AVAILABLE) return std::vector<std::string>();
  if (rv != SCARD_S_SUCCESS) return Failed("cannot list readers", rv);
  std::string buf(size, '\0');
  rv = SCardListReaders(static_cast<SCARDCONTEXT>(context_), nullptr, buf.data(), &size);
  if (rv == SCARD_E_NO_READERS_AVAILABLE) return std::vector<std::string>();
  if (rv != SCARD_S_SUCCESS) return Failed("cannot list readers", rv);
  std::vector<std::string> names;
  // A multi-string: names separated by NUL, ended by an empty name.
  for (size_t pos = 0; pos < buf.size() && buf[pos] != '\0';) {
    const std::string name(buf.c_str() + pos);
    names.push_back(name);
    pos += name.size() + 1;
  }
  return names;
}

Status PcscReader::WaitFor(const std::string& reader, bool present, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  SCARD_READERSTATE state{};
  state.szReader = reader.c_str();
  state.dwCurrentState = SCARD_STATE_UNAWARE;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) {
      return Status::Unavailable(std::string("timed out waiting for ") +
                                 (present ? "a card in " : "the card to leave ") + reader);
    }
    const LONG rv = SCardGetStatusChange(static_cast<SCARDCONTEXT>(context_),
                                         static_cast<DWORD>(left.count()), &state, 1);
    if (rv == SCARD_E_TIMEOUT) continue;  // the deadline check above ends it
    if (rv == SCARD_E_UNKNOWN_READER) return Status::NotFound("no reader named " + reader);
    if (rv != SCARD_S_SUCCESS) return Failed("waiting for " + reader, rv);
    const DWORD s = state.dwEventState;
    if (s & SCARD_STATE_UNKNOWN) return Status::NotFound("no reader named " + reader);
    const bool has_card = (s & SCARD_STATE_PRESENT) && !(s & SCARD_STATE_MUTE);
    if (has_card == present) return Status::Ok();
    state.dwCurrentState = s & ~SCARD_STATE_CHANGED;
  }
}

Status PcscReader::WaitForCard(const std::string& reader, int timeout_ms) {
  return WaitFor(reader, true, timeout_ms);
}

Status PcscReader::WaitForRemoval(const std::string& reader, int timeout_ms) {
  return WaitFor(reader, false, timeout_ms);
}

Status PcscReader::Connect(const std::string& reader) {
  Disconnect();
  SCARDHANDLE h = 0;
  DWORD protocol = 0;
  const LONG rv = SCardConnect(static_cast<SCARDCONTEXT>(context_), reader.c_str(),
                               SCARD_SHARE_EXCLUSIVE, SCARD_PROTOCOL_T1, &h, &protocol);
  if (rv != SCARD_S_SUCCESS) return Failed("cannot connect to the card in " + reader, rv);
  if (protocol != SCARD_PROTOCOL_T1) {
    SCardDisconnect(h, SCARD_LEAVE_CARD);
    return Status::FailedPrecondition("the card in " + reader + " does not speak T=1");
  }
  card_ = static_cast<long>(h);
  return Status::Ok();
}

void PcscReader::Disconnect() {
  if (card_ == 0) return;
  SCardDisconnect(static_cast<SCARDHANDLE>(card_), SCARD_LEAVE_CARD);
  card_ = 0;
}

Result<Bytes> PcscReader::Transmit(std::span<const uint8_t> command) {
  if (card_ == 0) return Status::FailedPrecondition("not connected to a card");
  Bytes response(258 + 2);
  DWORD size = static_cast<DWORD>(response.size());
  SCARD_IO_REQUEST recv_pci{};
  const LONG rv =
      SCardTransmit(static_cast<SCARDHANDLE>(card_), SCARD_PCI_T1, command.data(),
                    static_cast<DWORD>(command.size()), &recv_pci, response.data(), &size);
  if (rv != SCARD_S_SUCCESS) {
    // Whatever the reason, the outcome of this command is unknown: the session is over,
    // and the caller starts a new one (select, then GET LAST RECORD if it was paying).
    Disconnect();
    return Failed(CardGone(rv) ? "the card went away" : "transmit failed", rv);
  }
  response.resize(size);
  if (response.size() < 2) {
    // vpcd reports a card that vanished mid-command as a successful empty answer.
    Disconnect();
    return Status::Unavailable("the card answered without a status word (" +
                               std::to_string(response.size()) + " bytes): removed mid-command");
  }
  return response;
}

}  // namespace ayni::cardio
