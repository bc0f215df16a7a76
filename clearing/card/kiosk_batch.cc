#include "clearing/card/kiosk_batch.h"

#include <algorithm>

#include "clearing/check.h"

namespace ayni::cardio {

namespace {

bool AllRecordSized(std::span<const Bytes> records) {
  return std::all_of(records.begin(), records.end(),
                     [](const Bytes& r) { return r.size() == kRecordSize; });
}

}  // namespace

Bytes EncodeKioskBatchBody(const TerminalId& terminal, uint32_t sequence,
                           std::span<const Bytes> records) {
  AYNI_CHECK(AllRecordSized(records));
  AYNI_CHECK(records.size() <= UINT32_MAX);
  ByteWriter w(16 + 4 + 4 + records.size() * kRecordSize);
  w.Raw(terminal.bytes());
  w.U32(sequence);
  w.U32(static_cast<uint32_t>(records.size()));
  for (const Bytes& r : records) w.Raw(r);
  return w.Take();
}

Signature SignKioskBatch(const TerminalId& terminal, uint32_t sequence,
                         std::span<const Bytes> records, const KeyPair& kiosk) {
  return SignWithPrefix(kiosk, kKioskBatchPrefix,
                        EncodeKioskBatchBody(terminal, sequence, records));
}

bool VerifyKioskBatch(const TerminalId& terminal, uint32_t sequence, std::span<const Bytes> records,
                      const Signature& signature, const PublicKey& kiosk_key) {
  if (!AllRecordSized(records) || records.size() > UINT32_MAX) return false;
  return VerifyWithPrefix(kiosk_key, kKioskBatchPrefix,
                          EncodeKioskBatchBody(terminal, sequence, records), signature);
}

}  // namespace ayni::cardio
