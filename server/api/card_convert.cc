#include "server/api/card_convert.h"

#include <sodium.h>

#include <algorithm>
#include <string_view>

#include "clearing/card/kiosk_batch.h"
#include "clearing/card/load_request.h"
#include "clearing/card/protocol.h"
#include "clearing/check.h"
#include "clearing/hash.h"
#include "server/api/convert.h"

namespace ayni::server::api {
namespace {

Status Invalid(std::string_view field, std::string_view what) {
  return Status::InvalidArgument(std::string(field) + ": " + std::string(what));
}

template <typename Id>
Result<Id> WideIdOf(const std::string& bytes, std::string_view field) {
  if (bytes.size() != 16) {
    return Invalid(field, std::to_string(bytes.size()) + " bytes, must be exactly 16");
  }
  typename Id::Bytes b;
  std::copy(bytes.begin(), bytes.end(), b.begin());
  const Id id(b);
  if (id.zero()) return Invalid(field, "all zero");
  return id;
}

// 32 bytes that are a usable Ed25519 public key (a point of the main subgroup, not of
// small order): anything else could never verify a signature.
Result<CardPublicKey> PublicKeyOf(const std::string& bytes, std::string_view field) {
  if (bytes.size() != 32) {
    return Invalid(field, std::to_string(bytes.size()) + " bytes, must be exactly 32");
  }
  CardPublicKey k;
  std::copy(bytes.begin(), bytes.end(), k.begin());
  EnsureSodium();
  if (crypto_core_ed25519_is_valid_point(k.data()) != 1) {
    return Invalid(field, "not an Ed25519 public key");
  }
  return k;
}

Result<cardio::Signature> SignatureOf(const std::string& bytes, std::string_view field) {
  if (bytes.size() != cardio::kSignatureSize) {
    return Invalid(field, std::to_string(bytes.size()) + " bytes, must be exactly 64");
  }
  cardio::Signature s;
  std::copy(bytes.begin(), bytes.end(), s.begin());
  return s;
}

Status Id(uint64_t v, std::string_view field) {
  if (v == 0) return Invalid(field, "missing (0 is not an id)");
  return Status::Ok();
}

Result<CardLimitTerms> LimitsOf(const v1::RegisterCardRequest& r) {
  if (!r.has_limits()) return Invalid("limits", "missing");
  const v1::CardLimits& l = r.limits();
  if (l.payment_max_minor() <= 0) {
    return Invalid("limits.payment_max_minor",
                   std::to_string(l.payment_max_minor()) + ", must be > 0");
  }
  if (l.offline_amount_max_minor() < 0) {
    return Invalid("limits.offline_amount_max_minor",
                   std::to_string(l.offline_amount_max_minor()) + ", must be ≥ 0");
  }
  if (l.balance_max_minor() <= 0) {
    return Invalid("limits.balance_max_minor",
                   std::to_string(l.balance_max_minor()) + ", must be > 0");
  }
  return CardLimitTerms{Amount(l.payment_max_minor()), Amount(l.offline_amount_max_minor()),
                        l.offline_count_max(), Amount(l.balance_max_minor())};
}

std::string Str(const std::array<uint8_t, 16>& b) { return std::string(b.begin(), b.end()); }

}  // namespace

std::string BytesOf(const cardio::Bytes& b) { return std::string(b.begin(), b.end()); }

Result<RegisterKioskCmd> ToCommand(const v1::RegisterKioskRequest& r) {
  if (Status s = CheckFieldLimits(r); !s.ok()) return s;
  Result<RequestId> id = ParseRequestId(r.request_id(), "request_id");
  if (!id.ok()) return id.status();
  Result<TerminalId> terminal = WideIdOf<TerminalId>(r.terminal_id(), "terminal_id");
  if (!terminal.ok()) return terminal.status();
  Result<CardPublicKey> key = PublicKeyOf(r.public_key(), "public_key");
  if (!key.ok()) return key.status();
  if (Status s = Id(r.merchant_account_id(), "merchant_account_id"); !s.ok()) return s;
  return RegisterKioskCmd{*id, *terminal, *key, AccountId(r.merchant_account_id()), r.label()};
}

Result<RegisterCardCmd> ToCommand(const v1::RegisterCardRequest& r) {
  if (Status s = CheckFieldLimits(r); !s.ok()) return s;
  Result<RequestId> id = ParseRequestId(r.request_id(), "request_id");
  if (!id.ok()) return id.status();
  Result<CardId> card = WideIdOf<CardId>(r.card_id(), "card_id");
  if (!card.ok()) return card.status();
  Result<CardPublicKey> key = PublicKeyOf(r.public_key(), "public_key");
  if (!key.ok()) return key.status();
  if (Status s = Id(r.account_id(), "account_id"); !s.ok()) return s;
  Result<CardLimitTerms> limits = LimitsOf(r);
  if (!limits.ok()) return limits.status();
  if (r.expiry_s() == 0) return Invalid("expiry_s", "missing (unix seconds)");
  return RegisterCardCmd{*id, *card, *key, AccountId(r.account_id()), *limits, r.expiry_s()};
}

Result<BlockCardCmd> ToCommand(const v1::BlockCardRequest& r) {
  if (Status s = CheckFieldLimits(r); !s.ok()) return s;
  Result<RequestId> id = ParseRequestId(r.request_id(), "request_id");
  if (!id.ok()) return id.status();
  Result<CardId> card = WideIdOf<CardId>(r.card_id(), "card_id");
  if (!card.ok()) return card.status();
  return BlockCardCmd{*id, *card, r.actor(), r.reason()};
}

Result<LoadRequestIn> ToLoadRequest(const v1::AuthorizeLoadRequest& r) {
  if (Status s = CheckFieldLimits(r); !s.ok()) return s;
  Result<RequestId> id = ParseRequestId(r.request_id(), "request_id");
  if (!id.ok()) return id.status();
  Result<CardId> card = WideIdOf<CardId>(r.card_id(), "card_id");
  if (!card.ok()) return card.status();
  if (r.amount_minor() < 0) {
    return Invalid("amount_minor", std::to_string(r.amount_minor()) + ", must be ≥ 0");
  }
  if (r.challenge().size() != 16) {
    return Invalid("challenge",
                   std::to_string(r.challenge().size()) + " bytes, must be exactly 16");
  }
  LoadRequestIn in;
  in.cmd.request = *id;
  in.cmd.card = *card;
  in.cmd.amount = Amount(r.amount_minor());
  in.cmd.counter = r.counter();
  std::copy(r.challenge().begin(), r.challenge().end(), in.cmd.challenge.begin());
  if (r.has_offline_amount_cap_minor()) {
    if (r.offline_amount_cap_minor() < 0) {
      return Invalid("offline_amount_cap_minor",
                     std::to_string(r.offline_amount_cap_minor()) + ", must be ≥ 0");
    }
    in.amount_cap_set = true;
    in.cmd.offline_amount_cap = Amount(r.offline_amount_cap_minor());
  }
  if (r.has_offline_count_cap()) {
    in.count_cap_set = true;
    in.cmd.offline_count_cap = r.offline_count_cap();
  }
  if (!r.card_signature().empty()) {
    Result<cardio::Signature> sig = SignatureOf(r.card_signature(), "card_signature");
    if (!sig.ok()) return sig.status();
    in.card_signature = *sig;
  }
  return in;
}

AuthorizeCardLoadCmd WithDefaultCaps(const LoadRequestIn& in, const CardRecord& card) {
  AuthorizeCardLoadCmd c = in.cmd;
  if (!in.amount_cap_set) c.offline_amount_cap = card.limits.offline_amount_max;
  if (!in.count_cap_set) c.offline_count_cap = card.limits.offline_count_max;
  return c;
}

bool VerifyCardLoadRequest(const AuthorizeCardLoadCmd& c, const cardio::Signature& signature,
                           const CardPublicKey& card_key) {
  cardio::LoadRequest q;
  q.card_id = c.card;
  q.counter = c.counter;
  q.challenge = c.challenge;
  q.amount = c.amount;
  return cardio::VerifyLoadRequestSignature(q, signature, card_key);
}

Result<BatchIn> ToBatch(const v1::SubmitOfflineBatchRequest& r) {
  if (Status s = CheckFieldLimits(r); !s.ok()) return s;
  BatchIn b;
  Result<TerminalId> terminal = WideIdOf<TerminalId>(r.terminal_id(), "terminal_id");
  if (!terminal.ok()) return terminal.status();
  b.terminal = *terminal;
  b.sequence = r.batch_sequence();
  Result<cardio::Signature> sig = SignatureOf(r.kiosk_signature(), "kiosk_signature");
  if (!sig.ok()) return sig.status();
  b.kiosk_signature = *sig;
  const size_t n = static_cast<size_t>(r.records_size());
  if (n == 0 || n > kOfflineBatchMax) {
    return Invalid("records",
                   std::to_string(n) + " records, send 1 … " + std::to_string(kOfflineBatchMax));
  }
  b.records.reserve(n);
  b.parsed.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string& rec = r.records(static_cast<int>(i));
    if (rec.size() != kCardRecordBytes) {
      return Invalid("records[" + std::to_string(i) + "]", std::to_string(rec.size()) +
                                                               " bytes, must be exactly " +
                                                               std::to_string(kCardRecordBytes));
    }
    b.records.emplace_back(rec.begin(), rec.end());
    Result<cardio::SignedRecord> parsed = cardio::ParseSignedRecord(b.records.back());
    if (parsed.ok()) {
      b.parsed.emplace_back(*parsed);
    } else {
      b.parsed.emplace_back(std::nullopt);
    }
  }
  return b;
}

cardio::Certificate CertificateOf(const CardRecord& card) {
  cardio::Certificate c;
  c.scheme_id = static_cast<uint32_t>(card.bank.value());
  c.card_id = card.id;
  c.card_public_key = card.public_key;
  c.member_account = card.account;
  c.currency = card.currency;
  c.limits.payment_max = card.limits.payment_max;
  c.limits.offline_amount_max = card.limits.offline_amount_max;
  c.limits.offline_count_max = card.limits.offline_count_max;
  c.limits.balance_max = card.limits.balance_max;
  c.expiry_s = card.expiry_s;
  return c;
}

cardio::LoadToken LoadTokenOf(const CardLoadRecord& load) {
  cardio::LoadToken t;
  t.card_id = load.card;
  t.counter = load.counter;
  t.challenge = load.challenge;
  t.amount = load.amount;
  t.load_id = load.id;
  t.offline_amount_cap = load.offline_amount_cap;
  t.offline_count_cap = load.offline_count_cap;
  return t;
}

void ToProto(const Ledger& l, const CardRecord& c, v1::Card* out) {
  out->set_card_id(Str(c.id.bytes()));
  out->set_account_id(c.account.value());
  out->set_currency_id(c.currency.value());
  out->set_bank_id(c.bank.value());
  v1::CardLimits* lim = out->mutable_limits();
  lim->set_payment_max_minor(c.limits.payment_max.minor());
  lim->set_offline_amount_max_minor(c.limits.offline_amount_max.minor());
  lim->set_offline_count_max(c.limits.offline_count_max);
  lim->set_balance_max_minor(c.limits.balance_max.minor());
  out->set_expiry_s(c.expiry_s);
  out->set_blocked(c.status == CardStatus::kBlocked);
  out->set_block_reason(static_cast<v1::CardBlockReason>(c.block_reason));
  out->set_block_detail(c.block_detail);
  out->set_shadow_balance_minor(c.shadow.minor());
  out->set_max_counter(c.max_counter);
  out->set_records(c.records);
  out->set_missing_counters(c.max_counter > c.records ? c.max_counter - c.records : 0);
  for (const CardLoadRecord& load : l.card_loads()) {
    if (load.card != c.id) continue;
    v1::CardLoad* p = out->add_loads();
    p->set_load_id(Str(load.id.bytes()));
    p->set_amount_minor(load.amount.minor());
    p->set_counter(load.counter);
    p->set_state(CardLoadStateName(load.state));
    p->set_authorized_ns(load.authorized_ns);
  }
  for (const CardRecordBytes& e : c.evidence) out->add_evidence(std::string(e.begin(), e.end()));
}

void ToProto(const ReceiptResult& r, v1::ReceiptResult* out) {
  out->set_status(static_cast<v1::ReceiptStatus>(r.status));
  out->set_reject(static_cast<v1::ReceiptReject>(r.reject));
  out->set_from_float_minor(r.from_float.minor());
  out->set_from_losses_minor(r.from_losses.minor());
  out->set_to_suspense(r.to_suspense);
  out->set_blocked(static_cast<v1::CardBlockReason>(r.blocked));
}

}  // namespace ayni::server::api
