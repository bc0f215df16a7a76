#include "clearing/card/record.h"

#include <algorithm>

#include "clearing/check.h"

namespace ayni::cardio {

Bytes EncodeRecordBody(const OfflineRecord& r) {
  ByteWriter w(kRecordBodySize);
  w.U8(r.version);
  w.U8(static_cast<uint8_t>(r.type));
  w.U32(r.scheme_id);
  w.Raw(r.card_id.bytes());
  w.U32(r.counter);
  w.I64(r.amount.minor());
  w.I64(r.balance_after.minor());
  w.Raw(r.terminal_id.bytes());
  w.U32(r.terminal_sequence);
  w.Raw(r.terminal_nonce);
  w.U64(r.terminal_time_s);
  w.Raw(r.last_load_id.bytes());
  w.I64(r.offline_amount.minor());
  w.U32(r.offline_count);
  w.Raw(r.previous_hash);
  AYNI_CHECK(w.size() == kRecordBodySize);
  return w.Take();
}

Bytes EncodeSignedRecord(const SignedRecord& r) {
  Bytes out = EncodeRecordBody(r.record);
  out.insert(out.end(), r.signature.begin(), r.signature.end());
  return out;
}

Sha256Digest RecordHash(const OfflineRecord& record) { return Sha256(EncodeRecordBody(record)); }

Result<SignedRecord> ParseSignedRecord(std::span<const uint8_t> bytes) {
  if (bytes.size() != kRecordSize) {
    return Status::InvalidArgument("record has " + std::to_string(bytes.size()) +
                                   " bytes; it must have " + std::to_string(kRecordSize));
  }
  ByteReader in(bytes);
  SignedRecord s;
  OfflineRecord& r = s.record;
  r.version = in.U8();
  const uint8_t type = in.U8();
  r.scheme_id = in.U32();
  r.card_id = CardId(in.Array<16>());
  r.counter = in.U32();
  r.amount = Amount(in.I64());
  r.balance_after = Amount(in.I64());
  r.terminal_id = TerminalId(in.Array<16>());
  r.terminal_sequence = in.U32();
  r.terminal_nonce = in.Array<16>();
  r.terminal_time_s = in.U64();
  r.last_load_id = LoadId(in.Array<16>());
  r.offline_amount = Amount(in.I64());
  r.offline_count = in.U32();
  r.previous_hash = in.Array<32>();
  s.signature = in.Array<64>();
  AYNI_CHECK(in.done());  // the size was checked above

  if (r.version != kRecordVersion) {
    return Status::InvalidArgument("record version " + std::to_string(r.version) +
                                   " is unknown (expected 1)");
  }
  if (type != static_cast<uint8_t>(RecordType::kDebit) &&
      type != static_cast<uint8_t>(RecordType::kLoad)) {
    return Status::InvalidArgument("record type " + std::to_string(type) +
                                   " is unknown (1 debit, 2 load)");
  }
  r.type = static_cast<RecordType>(type);
  if (r.type == RecordType::kDebit && !r.amount.positive()) {
    return Status::InvalidArgument("debit record amount must be positive");
  }
  if (r.amount.negative()) return Status::InvalidArgument("record amount is negative");
  if (r.balance_after.negative()) {
    return Status::InvalidArgument("record balance after is negative");
  }
  if (r.offline_amount.negative()) {
    return Status::InvalidArgument("record offline amount is negative");
  }
  if (r.counter == 0) return Status::InvalidArgument("record counter is 0; records start at 1");
  return s;
}

bool VerifyRecordSignature(const SignedRecord& record, const PublicKey& card_key) {
  return VerifyWithPrefix(card_key, kRecordPrefix, EncodeRecordBody(record.record),
                          record.signature);
}

OfflineReceipt ToOfflineReceipt(const SignedRecord& s, std::span<const uint8_t> bytes) {
  static_assert(kRecordSize == kCardRecordBytes);
  AYNI_CHECK(bytes.size() == kCardRecordBytes);
  const OfflineRecord& r = s.record;
  OfflineReceipt o;
  std::copy(bytes.begin(), bytes.end(), o.bytes.begin());
  o.body_hash = RecordHash(r);
  o.load = r.type == RecordType::kLoad;
  o.card = r.card_id;
  o.counter = r.counter;
  o.amount = r.amount;
  o.balance_after = r.balance_after;
  o.terminal = r.terminal_id;
  o.terminal_sequence = r.terminal_sequence;
  o.terminal_time_s = r.terminal_time_s;
  o.nonce = r.terminal_nonce;
  o.last_load = r.last_load_id;
  o.offline_amount = r.offline_amount;
  o.offline_count = r.offline_count;
  o.previous_hash = r.previous_hash;
  return o;
}

}  // namespace ayni::cardio
