// The Ledger's cards and kiosks (cards.h): registration, loads, blocks and the
// reconciliation of offline records (SPEC §5, docs/cards.md), their journal events and
// their restore. Kept apart from ledger.cc: the rest of the ledger knows cards only
// through the undo and restore hooks.
#include "clearing/cards.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <tuple>

#include "clearing/check.h"
#include "clearing/journal.h"
#include "clearing/journal_reader.h"
#include "clearing/ledger.h"
#include "clearing/limits.h"

namespace ayni {
namespace {

constexpr const char* kRegisterKioskFields[] = {"terminal", "public_key", "merchant", "label"};
constexpr const char* kRegisterCardFields[] = {"card",   "public_key", "account",
                                               "limits", "expiry_s"};
constexpr const char* kAuthorizeLoadFields[] = {"card", "amount", "counter", "challenge",
                                                "offline_caps"};
constexpr const char* kBlockCardFields[] = {"card", "actor", "reason"};

uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }

template <size_t N>
uint64_t BytesFingerprint(const std::array<uint8_t, N>& b) {
  return Fingerprint64(std::string_view(reinterpret_cast<const char*>(b.data()), N));
}
template <typename Tag>
uint64_t WideFingerprint(const WideId<Tag>& id) {
  const auto [a, b] = id.Halves();
  return a ^ (b * 0x9e3779b97f4a7c15ull);
}
template <size_t N>
bool AllZero(const std::array<uint8_t, N>& b) {
  return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

bool NoControl(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}
// The ledger's name and reason rules (ledger.cc).
bool ValidName(std::string_view s) {
  return !s.empty() && s.size() <= kNameBytesMax && NoControl(s);
}
bool ValidReason(std::string_view s) {
  return !s.empty() && s.size() <= kReasonBytesMax && NoControl(s);
}

void PutU8(std::vector<uint8_t>& o, uint8_t v) { o.push_back(v); }
void PutU32(std::vector<uint8_t>& o, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) o.push_back(static_cast<uint8_t>(v >> s));
}
void PutU64(std::vector<uint8_t>& o, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) o.push_back(static_cast<uint8_t>(v >> s));
}
void PutI64(std::vector<uint8_t>& o, int64_t v) { PutU64(o, static_cast<uint64_t>(v)); }
void PutStr(std::vector<uint8_t>& o, std::string_view s) {
  AYNI_CHECK(s.size() <= UINT16_MAX);
  o.push_back(static_cast<uint8_t>(s.size() >> 8));
  o.push_back(static_cast<uint8_t>(s.size()));
  o.insert(o.end(), s.begin(), s.end());
}
template <typename Tag>
void PutWide(std::vector<uint8_t>& o, const WideId<Tag>& id) {
  o.insert(o.end(), id.bytes().begin(), id.bytes().end());
}
template <size_t N>
void PutFixed(std::vector<uint8_t>& o, const std::array<uint8_t, N>& b) {
  o.insert(o.end(), b.begin(), b.end());
}

Hash256 BytesHash(const CardRecordBytes& b) { return Blake2b256(b); }

}  // namespace

const char* CardBlockReasonName(CardBlockReason r) {
  switch (r) {
    case CardBlockReason::kNone: return "none";
    case CardBlockReason::kManual: return "manual";
    case CardBlockReason::kCounterConflict: return "counter_conflict";
    case CardBlockReason::kChainFork: return "chain_fork";
    case CardBlockReason::kBalanceBreak: return "balance_break";
    case CardBlockReason::kUnknownLoad: return "unknown_load";
  }
  return "unknown";
}

const char* CardLoadStateName(CardLoadState s) {
  switch (s) {
    case CardLoadState::kPending: return "pending";
    case CardLoadState::kApplied: return "applied";
    case CardLoadState::kReturned: return "returned";
  }
  return "unknown";
}

const char* ReceiptStatusName(ReceiptStatus s) {
  switch (s) {
    case ReceiptStatus::kSettled: return "settled";
    case ReceiptStatus::kLoadConfirmed: return "load_confirmed";
    case ReceiptStatus::kDuplicate: return "duplicate";
    case ReceiptStatus::kRejected: return "rejected";
  }
  return "unknown";
}

const char* ReceiptRejectName(ReceiptReject r) {
  switch (r) {
    case ReceiptReject::kNone: return "none";
    case ReceiptReject::kUnknownCard: return "unknown_card";
    case ReceiptReject::kWrongTerminal: return "wrong_terminal";
    case ReceiptReject::kCertificateExpired: return "certificate_expired";
    case ReceiptReject::kBadSignature: return "bad_signature";
    case ReceiptReject::kMalformed: return "malformed";
  }
  return "unknown";
}

// ---- Journal ---------------------------------------------------------------------------

namespace journal {
namespace {

void EncodeKiosk(std::vector<uint8_t>& o, const KioskRecord& k) {
  PutU8(o, static_cast<uint8_t>(EventTag::kKioskRegistered));
  PutU64(o, k.id.value());
  PutWide(o, k.terminal);
  PutFixed(o, k.public_key);
  PutU64(o, k.merchant.value());
  PutU64(o, k.bank.value());
  PutStr(o, k.label);
  PutWide(o, k.request);
}

void EncodeCard(std::vector<uint8_t>& o, const CardRecord& c) {
  PutU8(o, static_cast<uint8_t>(EventTag::kCardRegistered));
  PutWide(o, c.id);
  PutFixed(o, c.public_key);
  PutU64(o, c.account.value());
  PutU64(o, c.currency.value());
  PutU64(o, c.bank.value());
  PutI64(o, c.limits.payment_max.minor());
  PutI64(o, c.limits.offline_amount_max.minor());
  PutU32(o, c.limits.offline_count_max);
  PutI64(o, c.limits.balance_max.minor());
  PutU64(o, c.expiry_s);
  PutWide(o, c.request);
}

void EncodeLoad(std::vector<uint8_t>& o, const CardLoadRecord& l) {
  PutU8(o, static_cast<uint8_t>(EventTag::kCardLoadAuthorized));
  PutWide(o, l.id);
  PutWide(o, l.card);
  PutU64(o, l.account.value());
  PutI64(o, l.amount.minor());
  PutU32(o, l.counter);
  PutFixed(o, l.challenge);
  PutI64(o, l.offline_amount_cap.minor());
  PutU32(o, l.offline_count_cap);
}

void EncodeBlock(std::vector<uint8_t>& o, const CardId& card, CardBlockReason r,
                 std::string_view detail) {
  PutU8(o, static_cast<uint8_t>(EventTag::kCardBlocked));
  PutWide(o, card);
  PutU8(o, static_cast<uint8_t>(r));
  PutStr(o, detail);
}

void EncodeLoadState(std::vector<uint8_t>& o, const LoadId& load, CardLoadState s) {
  PutU8(o, static_cast<uint8_t>(EventTag::kCardLoadState));
  PutWide(o, load);
  PutU8(o, static_cast<uint8_t>(s));
}

void EncodeReceipt(std::vector<uint8_t>& o, KioskId kiosk, const OfflineReceipt& r,
                   const ReceiptResult& res) {
  PutU8(o, static_cast<uint8_t>(EventTag::kCardReceipt));
  PutU64(o, kiosk.value());
  PutFixed(o, r.bytes);
  PutFixed(o, r.body_hash);
  PutU8(o, r.load ? 1 : 0);
  PutWide(o, r.card);
  PutU32(o, r.counter);
  PutI64(o, r.amount.minor());
  PutI64(o, r.balance_after.minor());
  PutWide(o, r.terminal);
  PutU32(o, r.terminal_sequence);
  PutU64(o, r.terminal_time_s);
  PutFixed(o, r.nonce);
  PutWide(o, r.last_load);
  PutI64(o, r.offline_amount.minor());
  PutU32(o, r.offline_count);
  PutFixed(o, r.previous_hash);
  PutU8(o, static_cast<uint8_t>(res.status));
  PutU8(o, static_cast<uint8_t>(res.blocked));
  PutI64(o, res.from_float.minor());
  PutI64(o, res.from_losses.minor());
  PutU8(o, res.to_suspense ? 1 : 0);
}

void EncodeEvidence(std::vector<uint8_t>& o, const CardId& card, const CardRecordBytes& b) {
  PutU8(o, static_cast<uint8_t>(EventTag::kCardEvidence));
  PutWide(o, card);
  PutFixed(o, b);
}

// A receipt event's fields, as Restore and the replayer read them.
struct ReceiptEvent {
  KioskId kiosk;
  OfflineReceipt r;
  ReceiptResult res;
};

ReceiptEvent ReadReceipt(JournalReader& rd) {
  ReceiptEvent e;
  e.kiosk = KioskId(rd.U64());
  e.r.bytes = rd.Fixed<kCardRecordBytes>();
  e.r.body_hash = rd.Fixed<32>();
  e.r.load = rd.U8() != 0;
  e.r.card = CardId(rd.Wide());
  e.r.counter = rd.U32();
  e.r.amount = Amount(rd.I64());
  e.r.balance_after = Amount(rd.I64());
  e.r.terminal = TerminalId(rd.Wide());
  e.r.terminal_sequence = rd.U32();
  e.r.terminal_time_s = rd.U64();
  e.r.nonce = rd.Fixed<16>();
  e.r.last_load = LoadId(rd.Wide());
  e.r.offline_amount = Amount(rd.I64());
  e.r.offline_count = rd.U32();
  e.r.previous_hash = rd.Fixed<32>();
  e.res.status = static_cast<ReceiptStatus>(rd.U8());
  e.res.blocked = static_cast<CardBlockReason>(rd.U8());
  e.res.from_float = Amount(rd.I64());
  e.res.from_losses = Amount(rd.I64());
  e.res.to_suspense = rd.U8() != 0;
  return e;
}

}  // namespace

bool SkipCardEvent(uint8_t tag, JournalReader& rd) {
  switch (static_cast<EventTag>(tag)) {
    case EventTag::kKioskRegistered:
      rd.U64(), rd.Wide(), rd.Fixed<32>(), rd.U64(), rd.U64(), rd.Str(), rd.Wide();
      break;
    case EventTag::kCardRegistered:
      rd.Wide(), rd.Fixed<32>(), rd.U64(), rd.U64(), rd.U64(), rd.I64(), rd.I64(), rd.U32(),
          rd.I64(), rd.U64(), rd.Wide();
      break;
    case EventTag::kCardLoadAuthorized:
      rd.Wide(), rd.Wide(), rd.U64(), rd.I64(), rd.U32(), rd.Fixed<16>(), rd.I64(), rd.U32();
      break;
    case EventTag::kCardBlocked:
      rd.Wide(), rd.U8(), rd.Str();
      break;
    case EventTag::kCardLoadState:
      rd.Wide(), rd.U8();
      break;
    case EventTag::kCardReceipt:
      ReadReceipt(rd);
      break;
    case EventTag::kCardEvidence:
      rd.Wide(), rd.Fixed<kCardRecordBytes>();
      break;
    default:
      return false;
  }
  return !rd.failed();
}

}  // namespace journal

// ---- Reads -----------------------------------------------------------------------------

const KioskRecord* Ledger::FindKiosk(KioskId id) const {
  if (!id.valid() || id.value() > cards_.kiosks.size()) return nullptr;
  return &cards_.kiosks[id.value() - 1];
}

const KioskRecord* Ledger::FindKioskByTerminal(const TerminalId& terminal) const {
  const auto it = cards_.kiosk_by_terminal.find(terminal);
  return it == cards_.kiosk_by_terminal.end() ? nullptr : &cards_.kiosks[it->second];
}

const CardRecord* Ledger::FindCard(const CardId& id) const {
  const auto it = cards_.card_by_id.find(id);
  return it == cards_.card_by_id.end() ? nullptr : &cards_.cards[it->second];
}

const CardLoadRecord* Ledger::FindCardLoad(const LoadId& id) const {
  const auto it = cards_.load_by_id.find(id);
  return it == cards_.load_by_id.end() ? nullptr : &cards_.loads[it->second];
}

// ---- Registration ----------------------------------------------------------------------

OpResult Ledger::RegisterKiosk(const RegisterKioskCmd& c) {
  const Fingerprint fp{Kind::kRegisterKiosk,
                       {WideFingerprint(c.terminal), BytesFingerprint(c.public_key),
                        c.merchant.value(), Fingerprint64(c.label)},
                       kRegisterKioskFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (c.terminal.zero()) return Refuse(Outcome::kInvalidCardTerms, "terminal");
  if (AllZero(c.public_key)) return Refuse(Outcome::kInvalidCardTerms, "public_key");
  if (!ValidName(c.label)) return Refuse(Outcome::kInvalidName, "label");
  const Account* m = FindAccount(c.merchant);
  if (m == nullptr) return Refuse(Outcome::kAccountNotFound, "merchant");
  if (m->kind != AccountKind::kMerchant) return Refuse(Outcome::kWrongAccountKind, "merchant");
  if (currencies_[m->currency.value() - 1].kind != CurrencyKind::kGuaranteed) {
    return Refuse(Outcome::kWrongCurrencyKind, "merchant");
  }
  if (m->status == AccountStatus::kFrozen) return Refuse(Outcome::kCreditAccountFrozen, "merchant");
  if (m->status == AccountStatus::kClosed) return Refuse(Outcome::kAccountClosed, "merchant");
  if (cards_.kiosk_by_terminal.contains(c.terminal)) {
    return Refuse(Outcome::kKioskExists, "terminal");
  }
  if (cards_.kiosk_by_key.contains(c.public_key)) return Refuse(Outcome::kKioskExists, "public_key");
  if (cards_.kiosks.size() >= kKiosksMax) return Refuse(Outcome::kLimitReached, "kiosks");

  KioskRecord k;
  k.id = KioskId(cards_.kiosks.size() + 1);
  k.terminal = c.terminal;
  k.public_key = c.public_key;
  k.merchant = c.merchant;
  k.bank = m->bank;
  k.label = c.label;
  k.request = c.request;
  k.registered_ns = batch_timestamp_ns_;
  journal::EncodeKiosk(batch_bytes_, k);
  PushEvent();
  const auto index = static_cast<uint32_t>(cards_.kiosks.size());
  cards_.kiosk_by_terminal.emplace(k.terminal, index);
  cards_.kiosk_by_key.emplace(k.public_key, index);
  cards_.kiosks.push_back(std::move(k));
  undo_.push_back(Undo(UndoKind::kKiosk));
  return Finish(c.request, fp, cards_.kiosks.size(), 0);
}

OpResult Ledger::RegisterCard(const RegisterCardCmd& c) {
  const CardLimitTerms& t = c.limits;
  const uint64_t limits_fp =
      Fingerprint64(std::to_string(t.payment_max.minor()) + "/" +
                    std::to_string(t.offline_amount_max.minor()) + "/" +
                    std::to_string(t.offline_count_max) + "/" +
                    std::to_string(t.balance_max.minor()));
  const Fingerprint fp{Kind::kRegisterCard,
                       {WideFingerprint(c.card), BytesFingerprint(c.public_key), c.account.value(),
                        limits_fp, c.expiry_s},
                       kRegisterCardFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (c.card.zero()) return Refuse(Outcome::kInvalidCardTerms, "card");
  if (AllZero(c.public_key)) return Refuse(Outcome::kInvalidCardTerms, "public_key");
  if (!t.payment_max.positive()) return Refuse(Outcome::kInvalidCardTerms, "payment_max");
  if (!t.balance_max.positive()) return Refuse(Outcome::kInvalidCardTerms, "balance_max");
  if (t.offline_amount_max.negative()) {
    return Refuse(Outcome::kInvalidCardTerms, "offline_amount_max");
  }
  if (c.expiry_s == 0) return Refuse(Outcome::kInvalidCardTerms, "expiry_s");
  const Account* a = FindAccount(c.account);
  if (a == nullptr) return Refuse(Outcome::kAccountNotFound, "account");
  if (a->kind != AccountKind::kMember) return Refuse(Outcome::kWrongAccountKind, "account");
  if (currencies_[a->currency.value() - 1].kind != CurrencyKind::kGuaranteed) {
    return Refuse(Outcome::kWrongCurrencyKind, "account");
  }
  if (a->status == AccountStatus::kFrozen) return Refuse(Outcome::kDebitAccountFrozen, "account");
  if (a->status == AccountStatus::kClosed) return Refuse(Outcome::kAccountClosed, "account");
  if (cards_.card_by_id.contains(c.card)) return Refuse(Outcome::kCardExists, "card");
  if (cards_.card_by_key.contains(c.public_key)) return Refuse(Outcome::kCardExists, "public_key");
  if (cards_.cards.size() >= kCardsMax) return Refuse(Outcome::kLimitReached, "cards");

  CardRecord r;
  r.id = c.card;
  r.public_key = c.public_key;
  r.account = c.account;
  r.currency = a->currency;
  r.bank = currencies_[a->currency.value() - 1].issuer;
  r.limits = t;
  r.expiry_s = c.expiry_s;
  r.request = c.request;
  r.registered_ns = batch_timestamp_ns_;
  journal::EncodeCard(batch_bytes_, r);
  PushEvent();
  const auto index = static_cast<uint32_t>(cards_.cards.size());
  cards_.card_by_id.emplace(r.id, index);
  cards_.card_by_key.emplace(r.public_key, index);
  cards_.cards.push_back(std::move(r));
  cards_.chains.emplace_back();
  undo_.push_back(Undo(UndoKind::kCard));
  return Finish(c.request, fp, c.account.value(), 0);
}

// ---- Loads and blocks ------------------------------------------------------------------

void Ledger::SaveCard(uint32_t index) {
  cards_.saved.push_back(cards_.cards[index]);
  Undo u(UndoKind::kCardSaved);
  u.a = index;
  undo_.push_back(u);
}

void Ledger::SetLoadState(uint32_t index, CardLoadState s) {
  CardLoadRecord& l = cards_.loads[index];
  Undo u(UndoKind::kCardLoadState);
  u.a = index;
  u.b = static_cast<uint64_t>(l.state);
  undo_.push_back(u);
  l.state = s;
  journal::EncodeLoadState(batch_bytes_, l.id, s);
  PushEvent();
}

void Ledger::BlockCardAt(uint32_t index, CardBlockReason reason, std::string_view detail) {
  SaveCard(index);
  CardRecord& c = cards_.cards[index];
  c.status = CardStatus::kBlocked;
  c.block_reason = reason;
  c.block_detail.assign(detail);
  c.blocked_ns = batch_timestamp_ns_;
  cards_.deny.push_back(c.id);
  undo_.push_back(Undo(UndoKind::kDeny));
  journal::EncodeBlock(batch_bytes_, c.id, reason, detail);
  PushEvent();
}

void Ledger::AddEvidence(uint32_t index, const CardRecordBytes& bytes) {
  CardRecord& c = cards_.cards[index];
  if (std::find(c.evidence.begin(), c.evidence.end(), bytes) != c.evidence.end()) return;
  SaveCard(index);
  cards_.cards[index].evidence.push_back(bytes);
  journal::EncodeEvidence(batch_bytes_, c.id, bytes);
  PushEvent();
}

Outcome Ledger::PostNumbered(const RequestId& request, uint32_t* next_leg,
                             std::span<const Leg> legs, std::string_view memo,
                             std::span<const BankId> banks, const char** detail) {
  AYNI_CHECK(banks.size() <= 2);
  Int128 before[2] = {0, 0};
  for (size_t i = 0; i < banks.size(); ++i) before[i] = Margin(banks[i]);
  const Marks m = Mark();
  uint32_t n = *next_leg;
  for (const Leg& leg : legs) {
    if (!leg.amount.positive()) continue;
    if (Outcome o = PostLeg(request, n, leg, memo, detail); o != Outcome::kOk) {
      RollbackTo(m);
      return o;
    }
    ++n;
  }
  for (size_t i = 0; i < banks.size(); ++i) {
    const Int128 after = Margin(banks[i]);
    if (after < 0 && after < before[i]) {
      RollbackTo(m);
      *detail = "";
      return Outcome::kCoverageWouldBreak;
    }
  }
  *next_leg = n;
  return Outcome::kOk;
}

Outcome Ledger::ReturnLoad(const RequestId& request, uint32_t load, uint32_t* next_leg,
                           std::vector<LoadId>* returned, const char** detail) {
  const CardLoadRecord& l = cards_.loads[load];
  AYNI_CHECK(l.state == CardLoadState::kPending);
  const CardRecord& card = cards_.cards[cards_.card_by_id.at(l.card)];
  const Currency& cur = currencies_[card.currency.value() - 1];
  const Leg to_member{cur.card_float, l.account, l.amount, TransferCode::kCardReturn};
  if (PostNumbered(request, next_leg, std::span(&to_member, 1), "card load returned", {},
                   detail) != Outcome::kOk) {
    // The member's account cannot take it (frozen, closed, at its ceiling): SUSPENSE
    // holds it until an operator decides.
    const Leg to_suspense{cur.card_float, cur.suspense, l.amount, TransferCode::kCardReturn};
    if (Outcome o = PostNumbered(request, next_leg, std::span(&to_suspense, 1),
                                 "card load returned", {}, detail);
        o != Outcome::kOk) {
      return o;
    }
  }
  SetLoadState(load, CardLoadState::kReturned);
  if (returned != nullptr) returned->push_back(l.id);
  return Outcome::kOk;
}

OpResult Ledger::AuthorizeCardLoad(const AuthorizeCardLoadCmd& c) {
  const Fingerprint fp{
      Kind::kAuthorizeCardLoad,
      {WideFingerprint(c.card), U(c.amount.minor()), c.counter, BytesFingerprint(c.challenge),
       U(c.offline_amount_cap.minor()) ^ (static_cast<uint64_t>(c.offline_count_cap) << 40)},
      kAuthorizeLoadFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  const LoadId id(c.request.bytes());
  const auto it = cards_.card_by_id.find(c.card);
  if (it == cards_.card_by_id.end()) return Refuse(Outcome::kCardNotFound, "card");
  const uint32_t ci = it->second;
  const CardRecord& card = cards_.cards[ci];
  if (card.status == CardStatus::kBlocked) return Refuse(Outcome::kCardBlocked, "card");
  if (c.amount.negative()) return Refuse(Outcome::kAmountNotPositive, "amount");
  if (c.offline_amount_cap.negative()) {
    return Refuse(Outcome::kInvalidCardTerms, "offline_amount_cap");
  }
  if (c.amount > card.limits.balance_max) return Refuse(Outcome::kLoadAboveLimit, "amount");
  if (c.offline_amount_cap > card.limits.offline_amount_max) {
    return Refuse(Outcome::kLoadAboveLimit, "offline_amount_cap");
  }
  if (c.offline_count_cap > card.limits.offline_count_max) {
    return Refuse(Outcome::kLoadAboveLimit, "offline_count_cap");
  }
  const Currency& cur = currencies_[card.currency.value() - 1];
  uint32_t legs = 0;
  if (c.amount.positive()) {
    const Leg leg{card.account, cur.card_float, c.amount, TransferCode::kCardLoad};
    const char* detail = "";
    if (Outcome o = PostGroup(c.request, std::span(&leg, 1), "card load", &detail);
        o != Outcome::kOk) {
      return Refuse(o, detail);
    }
    legs = 1;
  }
  CardLoadRecord l;
  l.id = id;
  l.card = c.card;
  l.account = card.account;
  l.amount = c.amount;
  l.counter = c.counter;
  l.challenge = c.challenge;
  l.offline_amount_cap = c.offline_amount_cap;
  l.offline_count_cap = c.offline_count_cap;
  l.authorized_ns = batch_timestamp_ns_;
  journal::EncodeLoad(batch_bytes_, l);
  PushEvent();
  const auto index = static_cast<uint32_t>(cards_.loads.size());
  cards_.load_by_id.emplace(id, index);
  cards_.chains[ci].loads.push_back(index);
  cards_.loads.push_back(std::move(l));
  undo_.push_back(Undo(UndoKind::kCardLoad));
  return Finish(c.request, fp, legs, legs);
}

OpResult Ledger::BlockCard(const BlockCardCmd& c) {
  const Fingerprint fp{Kind::kBlockCard,
                       {WideFingerprint(c.card), Fingerprint64(c.actor), Fingerprint64(c.reason)},
                       kBlockCardFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!ValidName(c.actor)) return Refuse(Outcome::kInvalidName, "actor");
  if (!ValidReason(c.reason)) return Refuse(Outcome::kInvalidReason, "reason");
  const auto it = cards_.card_by_id.find(c.card);
  if (it == cards_.card_by_id.end()) return Refuse(Outcome::kCardNotFound, "card");
  const uint32_t ci = it->second;
  if (cards_.cards[ci].status == CardStatus::kBlocked) {
    return Refuse(Outcome::kCardBlocked, "card");
  }
  const Marks m = Mark();
  BlockCardAt(ci, CardBlockReason::kManual, c.actor + ": " + c.reason);
  uint32_t next_leg = 0;
  for (uint32_t li : cards_.chains[ci].loads) {
    if (cards_.loads[li].state != CardLoadState::kPending) continue;
    const char* detail = "";
    if (Outcome o = ReturnLoad(c.request, li, &next_leg, nullptr, &detail); o != Outcome::kOk) {
      RollbackTo(m);
      return Refuse(o, detail);
    }
  }
  return Finish(c.request, fp, cards_.cards[ci].account.value(), next_leg);
}

// ---- Offline records -------------------------------------------------------------------

OpResult Ledger::SettleOffline(const SettleOfflineCmd& c, SettleOfflineReport* report) {
  AYNI_CHECK(report != nullptr);
  AYNI_CHECK(batch_open_ && !batch_prepared_);
  *report = SettleOfflineReport{};
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  const KioskRecord* kiosk = FindKiosk(c.kiosk);
  if (kiosk == nullptr) return Refuse(Outcome::kKioskNotFound, "kiosk");
  if (c.receipts.size() > kOfflineBatchMax) return Refuse(Outcome::kLimitReached, "receipts");
  if (batch_transfers_.size() >= kBatchTransfersMax) return Refuse(Outcome::kBatchFull);
  const uint32_t ki = static_cast<uint32_t>(c.kiosk.value() - 1);

  // The call's postings form one linked group under a request id derived from the kiosk,
  // the batch and the position in it, so that no two calls share transfer ids.
  std::vector<uint8_t> seed;
  PutU64(seed, c.kiosk.value());
  PutU64(seed, sequence_ + 1);
  PutU64(seed, batch_timestamp_ns_);
  PutU64(seed, batch_events_);
  PutU64(seed, batch_bytes_.size());
  for (const OfflineReceipt& r : c.receipts) PutFixed(seed, r.body_hash);
  const Hash256 h = Blake2b256(seed);
  RequestId::Bytes rb{};
  std::copy_n(h.begin(), rb.size(), rb.begin());
  const RequestId request(rb);

  report->receipts.assign(c.receipts.size(), ReceiptResult{});
  std::vector<uint32_t> order(c.receipts.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t x, uint32_t y) {
    const OfflineReceipt& a = c.receipts[x];
    const OfflineReceipt& b = c.receipts[y];
    return std::tie(a.card, a.counter) < std::tie(b.card, b.counter);
  });

  const Marks start = Mark();
  uint32_t next_leg = 0;
  const Account& merchant = acct(kiosk->merchant);
  const Currency& mcur = currencies_[merchant.currency.value() - 1];
  auto fail = [&](Outcome o, const char* detail) {
    RollbackTo(start);
    *report = SettleOfflineReport{};
    return Refuse(o, detail);
  };

  for (uint32_t i : order) {
    const OfflineReceipt& r = c.receipts[i];
    ReceiptResult& res = report->receipts[i];
    res.status = ReceiptStatus::kRejected;
    const auto it = cards_.card_by_id.find(r.card);
    if (it == cards_.card_by_id.end()) {
      res.reject = ReceiptReject::kUnknownCard;
      continue;
    }
    const uint32_t ci = it->second;
    if (r.amount.negative() || r.balance_after.negative() || r.counter == 0) {
      res.reject = ReceiptReject::kMalformed;
      continue;
    }
    if (!r.load && r.terminal != kiosk->terminal) {
      res.reject = ReceiptReject::kWrongTerminal;
      continue;
    }
    if (!r.load && r.terminal_time_s >= cards_.cards[ci].expiry_s) {
      res.reject = ReceiptReject::kCertificateExpired;
      continue;
    }
    CardChain& chain = cards_.chains[ci];
    const Hash256 bytes_hash = BytesHash(r.bytes);
    const auto seen = chain.by_counter.find(r.counter);
    const auto [cb, ce] = chain.conflicts.equal_range(r.counter);
    if (seen != chain.by_counter.end() &&
        (seen->second.bytes_hash == bytes_hash ||
         std::any_of(cb, ce, [&](const auto& kv) { return kv.second == bytes_hash; }))) {
      res.status = ReceiptStatus::kDuplicate;
      continue;
    }

    // Clone checks, against what the card's earlier records established.
    CardBlockReason reason = CardBlockReason::kNone;
    std::vector<const CardRecordBytes*> evidence;
    if (seen != chain.by_counter.end()) {
      reason = CardBlockReason::kCounterConflict;
      evidence.push_back(&seen->second.bytes);
    } else if (const auto claim = chain.by_previous.find(r.previous_hash);
               claim != chain.by_previous.end()) {
      reason = CardBlockReason::kChainFork;
      evidence.push_back(&chain.by_counter.at(claim->second).bytes);
    } else {
      const auto prev = chain.by_counter.find(r.counter - 1);
      if (prev != chain.by_counter.end()) {
        const auto want = r.load ? prev->second.balance_after.CheckedAdd(r.amount)
                                 : prev->second.balance_after.CheckedSub(r.amount);
        if (!want || *want != r.balance_after) {
          reason = CardBlockReason::kBalanceBreak;
          evidence.push_back(&prev->second.bytes);
        }
      }
      const auto next = chain.by_counter.find(r.counter + 1);
      if (reason == CardBlockReason::kNone && next != chain.by_counter.end()) {
        const auto want = next->second.load ? r.balance_after.CheckedAdd(next->second.amount)
                                            : r.balance_after.CheckedSub(next->second.amount);
        if (!want || *want != next->second.balance_after) {
          reason = CardBlockReason::kBalanceBreak;
          evidence.push_back(&next->second.bytes);
        }
      }
    }
    // A load record must be the record of a load the bank authorised for this card.
    std::optional<uint32_t> own_load;
    if (r.load) {
      const auto li = cards_.load_by_id.find(r.last_load);
      if (li != cards_.load_by_id.end()) {
        const CardLoadRecord& l = cards_.loads[li->second];
        if (l.card == r.card && l.counter + 1 == r.counter && l.challenge == r.nonce &&
            l.amount == r.amount) {
          own_load = li->second;
        }
      }
      if (!own_load && reason == CardBlockReason::kNone) reason = CardBlockReason::kUnknownLoad;
    }

    // Evidence first: the bytes the new record conflicts with, then its own.
    if (reason != CardBlockReason::kNone) {
      for (const CardRecordBytes* e : evidence) AddEvidence(ci, *e);
      AddEvidence(ci, r.bytes);
      if (cards_.cards[ci].status != CardStatus::kBlocked) {
        BlockCardAt(ci, reason, "");
        res.blocked = reason;
        report->blocked.push_back(r.card);
        for (uint32_t li : chain.loads) {
          if (cards_.loads[li].state != CardLoadState::kPending) continue;
          if (own_load && *own_load == li) continue;
          const char* detail = "";
          if (Outcome o = ReturnLoad(request, li, &next_leg, &report->returned, &detail);
              o != Outcome::kOk) {
            return fail(o, detail);
          }
        }
      }
    }

    // The record joins the chain (a conflicting counter is kept as evidence only).
    if (seen == chain.by_counter.end()) {
      Undo u(UndoKind::kCardChain);
      u.a = ci;
      u.b = r.counter;
      const bool claims = !chain.by_previous.contains(r.previous_hash);
      u.old_status = claims ? AccountStatus::kFrozen : AccountStatus::kActive;
      undo_.push_back(u);
      chain.by_counter.emplace(r.counter,
                               CardRecordSeen{r.bytes, bytes_hash, r.load, r.amount, r.balance_after});
      if (claims) chain.by_previous.emplace(r.previous_hash, r.counter);
    } else {
      Undo u(UndoKind::kCardChain);
      u.a = ci;
      u.b = r.counter;
      u.old_limit = Amount(1);  // a conflicting record: only its hash was added
      undo_.push_back(u);
      chain.conflicts.emplace(r.counter, bytes_hash);
    }
    SaveCard(ci);
    {
      CardRecord& card = cards_.cards[ci];
      if (seen == chain.by_counter.end()) ++card.records;
      card.max_counter = std::max(card.max_counter, r.counter);
    }

    // Loads this record shows applied: its own, and the one it names as the last load.
    auto apply = [&](uint32_t li) {
      CardLoadRecord& l = cards_.loads[li];
      if (l.state != CardLoadState::kPending) return;
      CardRecord& card = cards_.cards[ci];
      card.shadow = Amount(card.shadow.minor() + l.amount.minor());
      SetLoadState(li, CardLoadState::kApplied);
    };
    if (own_load) apply(*own_load);
    const auto named = cards_.load_by_id.find(r.last_load);
    std::optional<uint32_t> named_load;
    if (named != cards_.load_by_id.end() && cards_.loads[named->second].card == r.card) {
      named_load = named->second;
      if (cards_.loads[named->second].counter < r.counter) apply(named->second);
    }
    // Loads this record proves the card never applied.
    for (uint32_t li : chain.loads) {
      const CardLoadRecord& l = cards_.loads[li];
      if (l.state != CardLoadState::kPending || l.counter >= r.counter) continue;
      const bool skipped = r.counter == l.counter + 1 && !(own_load && *own_load == li);
      const bool older = !named_load || cards_.loads[*named_load].counter < l.counter;
      if (skipped || older) {
        const char* detail = "";
        if (Outcome o = ReturnLoad(request, li, &next_leg, &report->returned, &detail);
            o != Outcome::kOk) {
          return fail(o, detail);
        }
      }
    }

    if (r.load) {
      res.status = ReceiptStatus::kLoadConfirmed;
      ++report->loads_confirmed;
    } else {
      // Settle the debit: what the shadow balance covers from CARD_FLOAT, the rest from
      // CARD_LOSSES; to the merchant, or to SUSPENSE when the merchant cannot take it.
      CardRecord& card = cards_.cards[ci];
      const Currency& ccur = currencies_[card.currency.value() - 1];
      const Amount from_float = std::min(r.amount, card.shadow);
      const Amount from_losses(r.amount.minor() - from_float.minor());
      bool paid = false;
      if (merchant.status == AccountStatus::kActive) {
        Leg legs[6];
        BankId banks[2];
        size_t n = 0, nb = 0;
        if (from_float.positive()) {
          n += BridgeLegs(ccur, mcur, ccur.card_float, kiosk->merchant, from_float,
                          TransferCode::kCardSettle, legs + n, banks, &nb);
        }
        if (from_losses.positive()) {
          n += BridgeLegs(ccur, mcur, ccur.card_losses, kiosk->merchant, from_losses,
                          TransferCode::kCardSettle, legs + n, banks, &nb);
        }
        const char* detail = "";
        paid = PostNumbered(request, &next_leg, std::span(legs, n), "card settlement",
                            std::span(banks, nb), &detail) == Outcome::kOk;
      }
      if (!paid) {
        const Leg legs[2] = {{ccur.card_float, ccur.suspense, from_float, TransferCode::kCardSettle},
                             {ccur.card_losses, ccur.suspense, from_losses,
                              TransferCode::kCardSettle}};
        const char* detail = "";
        if (Outcome o = PostNumbered(request, &next_leg, legs, "card settlement to suspense", {},
                                     &detail);
            o != Outcome::kOk) {
          return fail(o, detail);
        }
        res.to_suspense = true;
      }
      cards_.cards[ci].shadow = Amount(cards_.cards[ci].shadow.minor() - from_float.minor());
      res.status = ReceiptStatus::kSettled;
      res.from_float = from_float;
      res.from_losses = from_losses;
      ++report->settled;
      report->from_float = Amount(report->from_float.minor() + from_float.minor());
      report->from_losses = Amount(report->from_losses.minor() + from_losses.minor());
      KioskRecord& k = cards_.kiosks[ki];
      Undo u(UndoKind::kKioskStats);
      u.a = ki;
      u.b = k.receipts;
      u.old_limit = Amount(k.max_sequence);
      undo_.push_back(u);
      ++k.receipts;
      k.max_sequence = std::max(k.max_sequence, r.terminal_sequence);
    }
    journal::EncodeReceipt(batch_bytes_, c.kiosk, r, res);
    PushEvent();
  }
  if (batch_transfers_.size() > kBatchTransfersMax) return fail(Outcome::kBatchFull, "");
  for (const ReceiptResult& res : report->receipts) {
    if (res.status == ReceiptStatus::kDuplicate) ++report->duplicates;
    if (res.status == ReceiptStatus::kRejected) ++report->rejected;
  }
  OpResult out;
  out.timestamp_ns = batch_timestamp_ns_;
  out.legs = next_leg;
  out.id = c.kiosk.value();
  return out;
}

// ---- Undo and restore ------------------------------------------------------------------

void Ledger::RollbackCard(const Undo& u) {
  switch (u.kind) {
    case UndoKind::kKiosk: {
      const KioskRecord& k = cards_.kiosks.back();
      cards_.kiosk_by_terminal.erase(k.terminal);
      cards_.kiosk_by_key.erase(k.public_key);
      cards_.kiosks.pop_back();
      break;
    }
    case UndoKind::kKioskStats: {
      KioskRecord& k = cards_.kiosks[u.a];
      k.receipts = u.b;
      k.max_sequence = static_cast<uint32_t>(u.old_limit.minor());
      break;
    }
    case UndoKind::kCard: {
      const CardRecord& c = cards_.cards.back();
      cards_.card_by_id.erase(c.id);
      cards_.card_by_key.erase(c.public_key);
      cards_.cards.pop_back();
      cards_.chains.pop_back();
      break;
    }
    case UndoKind::kCardSaved:
      cards_.cards[u.a] = std::move(cards_.saved.back());
      cards_.saved.pop_back();
      break;
    case UndoKind::kCardLoad: {
      const CardLoadRecord& l = cards_.loads.back();
      CardChain& chain = cards_.chains[cards_.card_by_id.at(l.card)];
      AYNI_CHECK(!chain.loads.empty() && chain.loads.back() == cards_.loads.size() - 1);
      chain.loads.pop_back();
      cards_.load_by_id.erase(l.id);
      cards_.loads.pop_back();
      break;
    }
    case UndoKind::kCardLoadState:
      cards_.loads[u.a].state = static_cast<CardLoadState>(u.b);
      break;
    case UndoKind::kCardChain: {
      CardChain& chain = cards_.chains[u.a];
      if (u.old_limit == Amount(1)) {
        const auto [b, e] = chain.conflicts.equal_range(static_cast<uint32_t>(u.b));
        AYNI_CHECK(b != e);
        chain.conflicts.erase(std::prev(e));
        break;
      }
      const auto it = chain.by_counter.find(static_cast<uint32_t>(u.b));
      AYNI_CHECK(it != chain.by_counter.end());
      if (u.old_status == AccountStatus::kFrozen) {
        // This record claimed its previous hash: find the claim by counter.
        for (auto p = chain.by_previous.begin(); p != chain.by_previous.end(); ++p) {
          if (p->second == u.b) {
            chain.by_previous.erase(p);
            break;
          }
        }
      }
      chain.by_counter.erase(it);
      break;
    }
    case UndoKind::kDeny:
      cards_.deny.pop_back();
      break;
    default:
      AYNI_CHECK(false);
  }
}

bool Ledger::RestoreCardEvent(uint8_t tag, JournalReader& rd, uint64_t timestamp_ns) {
  switch (static_cast<EventTag>(tag)) {
    case EventTag::kKioskRegistered: {
      KioskRecord k;
      k.id = KioskId(rd.U64());
      k.terminal = TerminalId(rd.Wide());
      k.public_key = rd.Fixed<32>();
      k.merchant = AccountId(rd.U64());
      k.bank = BankId(rd.U64());
      k.label = rd.Str();
      k.request = RequestId(rd.Wide());
      k.registered_ns = timestamp_ns;
      if (rd.failed() || k.id.value() != cards_.kiosks.size() + 1 ||
          FindAccount(k.merchant) == nullptr || cards_.kiosk_by_terminal.contains(k.terminal) ||
          cards_.kiosk_by_key.contains(k.public_key)) {
        return false;
      }
      const auto index = static_cast<uint32_t>(cards_.kiosks.size());
      cards_.kiosk_by_terminal.emplace(k.terminal, index);
      cards_.kiosk_by_key.emplace(k.public_key, index);
      cards_.kiosks.push_back(std::move(k));
      return true;
    }
    case EventTag::kCardRegistered: {
      CardRecord c;
      c.id = CardId(rd.Wide());
      c.public_key = rd.Fixed<32>();
      c.account = AccountId(rd.U64());
      c.currency = CurrencyId(rd.U64());
      c.bank = BankId(rd.U64());
      c.limits.payment_max = Amount(rd.I64());
      c.limits.offline_amount_max = Amount(rd.I64());
      c.limits.offline_count_max = rd.U32();
      c.limits.balance_max = Amount(rd.I64());
      c.expiry_s = rd.U64();
      c.request = RequestId(rd.Wide());
      c.registered_ns = timestamp_ns;
      if (rd.failed() || FindAccount(c.account) == nullptr || FindCurrency(c.currency) == nullptr ||
          cards_.card_by_id.contains(c.id) || cards_.card_by_key.contains(c.public_key)) {
        return false;
      }
      const auto index = static_cast<uint32_t>(cards_.cards.size());
      cards_.card_by_id.emplace(c.id, index);
      cards_.card_by_key.emplace(c.public_key, index);
      cards_.cards.push_back(std::move(c));
      cards_.chains.emplace_back();
      return true;
    }
    case EventTag::kCardLoadAuthorized: {
      CardLoadRecord l;
      l.id = LoadId(rd.Wide());
      l.card = CardId(rd.Wide());
      l.account = AccountId(rd.U64());
      l.amount = Amount(rd.I64());
      l.counter = rd.U32();
      l.challenge = rd.Fixed<16>();
      l.offline_amount_cap = Amount(rd.I64());
      l.offline_count_cap = rd.U32();
      l.authorized_ns = timestamp_ns;
      const auto it = cards_.card_by_id.find(l.card);
      if (rd.failed() || it == cards_.card_by_id.end() || cards_.load_by_id.contains(l.id)) {
        return false;
      }
      const auto index = static_cast<uint32_t>(cards_.loads.size());
      cards_.load_by_id.emplace(l.id, index);
      cards_.chains[it->second].loads.push_back(index);
      cards_.loads.push_back(std::move(l));
      return true;
    }
    case EventTag::kCardBlocked: {
      const CardId id(rd.Wide());
      const uint8_t reason = rd.U8();
      std::string detail = rd.Str();
      const auto it = cards_.card_by_id.find(id);
      if (rd.failed() || it == cards_.card_by_id.end() || reason == 0 ||
          reason > static_cast<uint8_t>(CardBlockReason::kUnknownLoad)) {
        return false;
      }
      CardRecord& c = cards_.cards[it->second];
      c.status = CardStatus::kBlocked;
      c.block_reason = static_cast<CardBlockReason>(reason);
      c.block_detail = std::move(detail);
      c.blocked_ns = timestamp_ns;
      cards_.deny.push_back(id);
      return true;
    }
    case EventTag::kCardLoadState: {
      const LoadId id(rd.Wide());
      const uint8_t s = rd.U8();
      const auto it = cards_.load_by_id.find(id);
      if (rd.failed() || it == cards_.load_by_id.end()) return false;
      CardLoadRecord& l = cards_.loads[it->second];
      if (l.state != CardLoadState::kPending) return false;
      if (s == static_cast<uint8_t>(CardLoadState::kApplied)) {
        CardRecord& c = cards_.cards[cards_.card_by_id.at(l.card)];
        c.shadow = Amount(c.shadow.minor() + l.amount.minor());
      } else if (s != static_cast<uint8_t>(CardLoadState::kReturned)) {
        return false;
      }
      l.state = static_cast<CardLoadState>(s);
      return true;
    }
    case EventTag::kCardReceipt: {
      const journal::ReceiptEvent e = journal::ReadReceipt(rd);
      const auto it = cards_.card_by_id.find(e.r.card);
      if (rd.failed() || it == cards_.card_by_id.end() || FindKiosk(e.kiosk) == nullptr) {
        return false;
      }
      CardRecord& c = cards_.cards[it->second];
      CardChain& chain = cards_.chains[it->second];
      if (!chain.by_counter.contains(e.r.counter)) {
        chain.by_counter.emplace(e.r.counter,
                                 CardRecordSeen{e.r.bytes, BytesHash(e.r.bytes), e.r.load,
                                                e.r.amount, e.r.balance_after});
        chain.by_previous.emplace(e.r.previous_hash, e.r.counter);
        ++c.records;
      } else {
        chain.conflicts.emplace(e.r.counter, BytesHash(e.r.bytes));
      }
      c.max_counter = std::max(c.max_counter, e.r.counter);
      if (e.res.status == ReceiptStatus::kSettled) {
        c.shadow = Amount(c.shadow.minor() - e.res.from_float.minor());
        KioskRecord& k = cards_.kiosks[e.kiosk.value() - 1];
        ++k.receipts;
        k.max_sequence = std::max(k.max_sequence, e.r.terminal_sequence);
      } else if (e.res.status != ReceiptStatus::kLoadConfirmed) {
        return false;
      }
      return true;
    }
    case EventTag::kCardEvidence: {
      const CardId id(rd.Wide());
      const CardRecordBytes b = rd.Fixed<kCardRecordBytes>();
      const auto it = cards_.card_by_id.find(id);
      if (rd.failed() || it == cards_.card_by_id.end()) return false;
      cards_.cards[it->second].evidence.push_back(b);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace ayni
