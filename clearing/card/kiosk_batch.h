// A card format (clearing/card/): shared by the card (cardio/), the kiosk and the server;
// pure, depends on clearing/ and libsodium only. Namespace ayni::cardio (historical).
//
// The kiosk's signature over a batch of offline records it uploads (SPEC §5: the server
// verifies the kiosk batch signature before it settles any record of the batch).
//
// Signed message (docs/card-protocol.md §Kiosk batch):
//   "AYNI-KIOSK-BATCH-V1" ‖ terminal id[16] ‖ u32 batch sequence ‖ u32 record count ‖
//   the records (210 bytes each, in upload order)
// with the kiosk's Ed25519 key. The count and the fixed record size make the split of the
// message unambiguous. Records of another size are a bug of the caller (checked): the
// server checks sizes before it verifies. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>

#include "clearing/card/bytes.h"
#include "clearing/card/crypto.h"
#include "clearing/card/protocol.h"

namespace ayni::cardio {

// Everything after the prefix. Every record must be kRecordSize bytes (AYNI_CHECK).
Bytes EncodeKioskBatchBody(const TerminalId& terminal, uint32_t sequence,
                           std::span<const Bytes> records);
Signature SignKioskBatch(const TerminalId& terminal, uint32_t sequence,
                         std::span<const Bytes> records, const KeyPair& kiosk);
// False (never a crash) when a record has the wrong size or the signature does not verify.
bool VerifyKioskBatch(const TerminalId& terminal, uint32_t sequence, std::span<const Bytes> records,
                      const Signature& signature, const PublicKey& kiosk_key);

}  // namespace ayni::cardio
