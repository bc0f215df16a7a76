// What the kiosk asks of the bank's server (CardService, proto/ayni/v1/cards.proto), in
// the kiosk's own types so that the kiosk's logic and its tests never see protobuf. The
// gRPC implementation is grpc_card_server.h (the kiosk's one conversion file); unit tests
// use a fake.
//
// Every call returns a Status when the exchange failed (kUnavailable: unreachable,
// deadline; other codes as the server answered them, with the gRPC code name in the
// message), otherwise the answer. A business refusal (reason other than OK/EXISTS) is in
// the answer's `refusal`, never a Status. Implementations are thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cardio/kiosk/kiosk_state.h"
#include "clearing/amount.h"
#include "clearing/card/bytes.h"
#include "clearing/card/certificate.h"
#include "clearing/card/crypto.h"
#include "clearing/card/protocol.h"
#include "clearing/status.h"

namespace ayni::cardio::kiosk {

using RequestId = std::array<uint8_t, 16>;

struct RegisterCardCall {
  RequestId request_id{};
  CardId card_id;
  PublicKey public_key{};
  uint64_t account_id = 0;
  CardLimits limits;
  uint64_t expiry_s = 0;
};
struct RegisterCardAnswer {
  std::string refusal;  // empty: OK or EXISTS
  Bytes certificate;    // 169 bytes on success (checked by the caller)
  Bytes bank_public_key;
};

struct AuthorizeLoadCall {
  LoadId load_id;
  CardId card_id;
  Amount amount;
  uint32_t counter = 0;
  Nonce challenge{};
  Signature card_signature{};
  std::optional<Amount> offline_amount_cap;
  std::optional<uint32_t> offline_count_cap;
};
struct AuthorizeLoadAnswer {
  std::string refusal;
  Bytes load_token;  // 137 bytes on success (checked by the caller)
};

// ayni.v1.ReceiptStatus numbers.
enum class ReceiptVerdict : uint8_t {
  kUnspecified = 0,
  kSettled = 1,
  kLoadConfirmed = 2,
  kDuplicate = 3,
  kRejected = 4,
};
struct BatchCall {
  TerminalId terminal_id;
  uint32_t batch_sequence = 0;
  std::vector<Bytes> records;
  Signature kiosk_signature{};
};
struct BatchResult {
  uint32_t index = 0;
  ReceiptVerdict verdict = ReceiptVerdict::kUnspecified;
  uint8_t reject = 0;  // ayni.v1.ReceiptReject number
};
struct BatchAnswer {
  std::vector<BatchResult> results;
  uint32_t settled = 0;
  uint32_t loads_confirmed = 0;
  uint32_t duplicates = 0;
  uint32_t rejected = 0;
};

struct DenyList {
  uint64_t server_ns = 0;
  std::vector<CardId> blocked_cards;
  std::vector<BankKeyEntry> bank_keys;
};

class CardServer {
 public:
  virtual ~CardServer() = default;
  virtual Result<RegisterCardAnswer> RegisterCard(const RegisterCardCall& call) = 0;
  virtual Result<AuthorizeLoadAnswer> AuthorizeLoad(const AuthorizeLoadCall& call) = 0;
  virtual Result<BatchAnswer> SubmitOfflineBatch(const BatchCall& call) = 0;
  virtual Result<DenyList> GetDenyList() = 0;
};

// The name of a ReceiptReject number ("unknown_card", …) for messages.
const char* ReceiptRejectName(uint8_t reject);

}  // namespace ayni::cardio::kiosk
