#include "cardio/kiosk/kiosk_state.h"

#include <algorithm>

#include "cardio/file_io.h"

namespace ayni::cardio::kiosk {

namespace {

constexpr std::array<uint8_t, 8> kMagic = {'A', 'Y', 'N', 'I', 'K', 'S', 'K', '1'};
constexpr uint16_t kFormat = 1;
constexpr size_t kStateBytesMax = 256u << 20;  // a 10-million-card deny-list is 160 MB

}  // namespace

Bytes SerializeKioskState(const KioskState& s) {
  ByteWriter w;
  w.Raw(kMagic);
  w.U16(kFormat);
  w.U32(s.terminal_sequence);
  w.U32(s.batch_sequence);
  w.U64(s.deny_list_fetched_s);
  w.U64(s.deny_list_server_ns);
  w.U32(static_cast<uint32_t>(s.blocked_cards.size()));
  for (const CardId& c : s.blocked_cards) w.Raw(c.bytes());
  w.U32(static_cast<uint32_t>(s.bank_keys.size()));
  for (const BankKeyEntry& b : s.bank_keys) {
    w.U64(b.bank_id);
    w.Raw(b.public_key);
  }
  w.U32(static_cast<uint32_t>(s.pending.size()));
  for (const PendingOperation& p : s.pending) {
    w.U8(static_cast<uint8_t>(p.type));
    w.Raw(p.card_id.bytes());
    w.U32(p.expected_counter);
    w.Raw(p.nonce);
    w.I64(p.amount.minor());
    w.U32(p.terminal_sequence);
    w.U64(p.terminal_time_s);
    w.U64(p.started_s);
  }
  const Sha256Digest sum = Sha256(w.bytes());
  w.Raw(sum);
  return w.Take();
}

Result<KioskState> DeserializeKioskState(std::span<const uint8_t> bytes) {
  if (bytes.size() < kMagic.size() + 32) return Status::DataLoss("kiosk state is too short");
  const auto body = bytes.first(bytes.size() - 32);
  const Sha256Digest sum = Sha256(body);
  if (!std::equal(sum.begin(), sum.end(), bytes.end() - 32)) {
    return Status::DataLoss("kiosk state checksum does not match (torn or altered file)");
  }
  ByteReader in(body);
  if (in.Array<8>() != kMagic) return Status::DataLoss("kiosk state magic is wrong");
  if (const uint16_t f = in.U16(); f != kFormat) {
    return Status::DataLoss("kiosk state format " + std::to_string(f) + " is unknown");
  }
  KioskState s;
  s.terminal_sequence = in.U32();
  s.batch_sequence = in.U32();
  s.deny_list_fetched_s = in.U64();
  s.deny_list_server_ns = in.U64();
  const uint32_t blocked = in.U32();
  if (blocked > kDenyListMax || blocked > in.remaining() / 16) {
    return Status::DataLoss("kiosk state deny-list size is wrong");
  }
  for (uint32_t i = 0; i < blocked; ++i) s.blocked_cards.push_back(CardId(in.Array<16>()));
  const uint32_t banks = in.U32();
  if (banks > kBankKeysMax || banks > in.remaining() / 40) {
    return Status::DataLoss("kiosk state bank key count is wrong");
  }
  for (uint32_t i = 0; i < banks; ++i) {
    BankKeyEntry b;
    b.bank_id = in.U64();
    b.public_key = in.Array<32>();
    s.bank_keys.push_back(b);
  }
  const uint32_t pending = in.U32();
  if (pending > kPendingMax) return Status::DataLoss("kiosk state has too many pending entries");
  for (uint32_t i = 0; i < pending; ++i) {
    PendingOperation p;
    const uint8_t type = in.U8();
    if (type != static_cast<uint8_t>(RecordType::kDebit) &&
        type != static_cast<uint8_t>(RecordType::kLoad)) {
      return Status::DataLoss("kiosk state pending entry has an unknown type");
    }
    p.type = static_cast<RecordType>(type);
    p.card_id = CardId(in.Array<16>());
    p.expected_counter = in.U32();
    p.nonce = in.Array<16>();
    p.amount = Amount(in.I64());
    p.terminal_sequence = in.U32();
    p.terminal_time_s = in.U64();
    p.started_s = in.U64();
    s.pending.push_back(p);
  }
  if (!in.done()) return Status::DataLoss("kiosk state has the wrong size");
  return s;
}

Status SaveKioskState(const std::string& path, const KioskState& state) {
  return WriteFileAtomically(path, SerializeKioskState(state), 0600);
}

Result<KioskState> LoadKioskState(const std::string& path) {
  Result<std::optional<Bytes>> bytes = ReadWholeFile(path, kStateBytesMax);
  if (!bytes.ok()) return bytes.status();
  if (!*bytes) return KioskState{};
  Result<KioskState> s = DeserializeKioskState(**bytes);
  if (!s.ok()) return Status::DataLoss(path + ": " + s.status().message());
  return s;
}

bool RecordAnswers(const OfflineRecord& r, const PendingOperation& p) {
  if (r.type != p.type || r.card_id != p.card_id || r.counter != p.expected_counter ||
      r.terminal_nonce != p.nonce || r.amount != p.amount) {
    return false;
  }
  if (p.type == RecordType::kLoad) return true;
  return r.terminal_sequence == p.terminal_sequence && r.terminal_time_s == p.terminal_time_s;
}

}  // namespace ayni::cardio::kiosk
