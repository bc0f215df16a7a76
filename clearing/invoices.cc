// The Ledger's invoice commands and set-off runs (invoices.h), their journal events and
// their restore. Kept apart from ledger.cc: the rest of the ledger knows invoices only
// through the undo and restore hooks.
#include "clearing/invoices.h"

#include <algorithm>
#include <map>
#include <set>

#include "clearing/check.h"
#include "clearing/journal.h"
#include "clearing/journal_reader.h"
#include "clearing/ledger.h"
#include "clearing/limits.h"
#include "clearing/setoff.h"

namespace ayni {
namespace {

constexpr const char* kRegisterInvoiceFields[] = {"invoice_id", "debtor", "creditor",
                                                  "currency",   "amount", "due_day"};
constexpr const char* kInvoiceDecisionFields[] = {"invoice_id", "reason"};
constexpr const char* kRunSetoffFields[] = {"cutoff_day", "currency", "use_mutual_credit"};

uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }

uint64_t InvoiceFingerprint(const InvoiceId& id) {
  const auto [a, b] = id.Halves();
  return a ^ (b * 0x9e3779b97f4a7c15ull);
}

// Printable UTF-8 without control characters: references and reasons are shown in tables
// and stored as text.
bool ValidText(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      n = 1, cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      n = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp < 0x20 || cp == 0x7f) return false;
    i += n;
  }
  return true;
}

bool ValidDay(int64_t day) { return day >= 0 && day <= kUnixDayMax; }

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

}  // namespace

const char* InvoiceStatusName(InvoiceStatus s) {
  switch (s) {
    case InvoiceStatus::kRegistered:
      return "registered";
    case InvoiceStatus::kConfirmed:
      return "confirmed";
    case InvoiceStatus::kDisputed:
      return "disputed";
  }
  return "unknown";
}

bool SummarizeSetoff(const std::vector<SetoffRunNotice>& notices,
                     std::vector<SetoffRunCurrency>* out) {
  struct Sums {
    size_t invoices = 0;
    Int128 gross = 0, set_off = 0, mutual_credit = 0, remaining = 0;
    std::map<MemberId, Int128> net;
  };
  std::map<CurrencyId, Sums> by;
  for (const SetoffRunNotice& n : notices) {
    Sums& s = by[n.currency];
    ++s.invoices;
    s.gross += n.before.minor();
    s.set_off += n.set_off.minor();
    s.mutual_credit += n.mutual_credit.minor();
    s.remaining += n.remainder.minor();
    s.net[n.creditor] += n.before.minor();
    s.net[n.debtor] -= n.before.minor();
  }
  const auto fits = [](Int128 v) { return v >= INT64_MIN && v <= INT64_MAX; };
  out->clear();
  for (const auto& [currency, s] : by) {
    Int128 positive = 0;
    for (const auto& [firm, net] : s.net) {
      if (net > 0) positive += net;
    }
    const Int128 after = s.gross - s.set_off;
    if (!fits(s.gross) || !fits(s.set_off) || !fits(s.mutual_credit) || !fits(s.remaining) ||
        !fits(positive) || !fits(after)) {
      return false;
    }
    SetoffRunCurrency c;
    c.currency = currency;
    c.invoices = s.invoices;
    c.gross = Amount(static_cast<int64_t>(s.gross));
    c.set_off = Amount(static_cast<int64_t>(s.set_off));
    c.after_setoff = Amount(static_cast<int64_t>(after));
    c.mutual_credit = Amount(static_cast<int64_t>(s.mutual_credit));
    c.remaining = Amount(static_cast<int64_t>(s.remaining));
    c.net_balance = Amount(static_cast<int64_t>(positive));
    out->push_back(c);
  }
  return true;
}

// ---- Journal ---------------------------------------------------------------------------

namespace journal {

void EncodeInvoice(std::vector<uint8_t>& o, const InvoiceRecord& r) {
  PutU8(o, static_cast<uint8_t>(EventTag::kInvoiceRegistered));
  PutWide(o, r.id);
  PutWide(o, r.request);
  PutU64(o, r.debtor.value());
  PutU64(o, r.creditor.value());
  PutU64(o, r.currency.value());
  PutI64(o, r.amount.minor());
  PutI64(o, r.due_day);
  PutStr(o, r.reference);
}

void EncodeInvoiceStatus(std::vector<uint8_t>& o, const InvoiceId& id, InvoiceStatus s,
                         std::string_view reason) {
  PutU8(o, static_cast<uint8_t>(EventTag::kInvoiceStatusChanged));
  PutWide(o, id);
  PutU8(o, static_cast<uint8_t>(s));
  PutStr(o, reason);
}

void EncodeSetoffRun(std::vector<uint8_t>& o, const SetoffRun& run) {
  PutU8(o, static_cast<uint8_t>(EventTag::kSetoffRun));
  PutWide(o, run.request);
  PutU64(o, run.number);
  PutI64(o, run.cutoff_day);
  PutU64(o, run.currency.value());
  PutU8(o, run.use_mutual_credit ? 1 : 0);
  PutU32(o, run.payments);
  AYNI_CHECK(run.notices.size() <= UINT32_MAX);
  PutU32(o, static_cast<uint32_t>(run.notices.size()));
  for (const SetoffRunNotice& n : run.notices) {
    PutWide(o, n.invoice);
    PutI64(o, n.set_off.minor());
    PutI64(o, n.mutual_credit.minor());
    PutI64(o, n.remainder.minor());
  }
}

bool SkipInvoiceEvent(uint8_t tag, JournalReader& rd) {
  switch (static_cast<EventTag>(tag)) {
    case EventTag::kInvoiceRegistered:
      rd.Wide(), rd.Wide(), rd.U64(), rd.U64(), rd.U64(), rd.I64(), rd.I64(), rd.Str();
      break;
    case EventTag::kInvoiceStatusChanged:
      rd.Wide(), rd.U8(), rd.Str();
      break;
    case EventTag::kSetoffRun: {
      rd.Wide(), rd.U64(), rd.I64(), rd.U64(), rd.U8(), rd.U32();
      const uint32_t n = rd.U32();
      for (uint32_t i = 0; i < n && !rd.failed(); ++i) rd.Wide(), rd.I64(), rd.I64(), rd.I64();
      break;
    }
    default:
      return false;
  }
  return !rd.failed();
}

}  // namespace journal

// ---- Commands --------------------------------------------------------------------------

const InvoiceRecord* Ledger::FindInvoice(const InvoiceId& id) const {
  const auto it = invoices_.by_id.find(id);
  return it == invoices_.by_id.end() ? nullptr : &invoices_.invoices[it->second];
}

const SetoffRun* Ledger::FindSetoffRun(const RequestId& run) const {
  // Runs are few (one a day, say): a scan keeps the book free of another index to undo.
  for (const SetoffRun& r : invoices_.runs) {
    if (r.request == run) return &r;
  }
  return nullptr;
}

OpResult Ledger::RegisterInvoice(const RegisterInvoiceCmd& c) {
  const InvoiceId id = c.invoice.zero() ? InvoiceId(c.request.bytes()) : c.invoice;
  const Fingerprint fp{
      Kind::kRegisterInvoice,
      {InvoiceFingerprint(id), c.debtor.value(), c.creditor.value(), c.currency.value(),
       U(c.amount.minor()), U(c.due_day) ^ (Fingerprint64(c.reference) << 1)},
      kRegisterInvoiceFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) {
    // The last fingerprint field folds the due day and the reference together: name the
    // one that differs from the registered invoice.
    if (r->outcome == Outcome::kExistsWithDifferentFields &&
        std::string_view(r->detail) == "due_day") {
      const RequestRecord* rec = requests_.Find(c.request);
      const InvoiceRecord& inv = invoices_.invoices[rec->result_id - 1];
      r->detail = inv.due_day != c.due_day ? "due_day" : "reference";
    }
    return *r;
  }
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (!c.amount.positive()) return Refuse(Outcome::kAmountNotPositive, "amount");
  if (!ValidDay(c.due_day)) return Refuse(Outcome::kInvalidDueDate, "due_day");
  if (c.reference.size() > kInvoiceReferenceBytesMax || !ValidText(c.reference)) {
    return Refuse(Outcome::kInvalidReference, "reference");
  }
  if (c.debtor == c.creditor) return Refuse(Outcome::kSelfInvoice, "creditor");
  if (FindMember(c.debtor) == nullptr) return Refuse(Outcome::kMemberNotFound, "debtor");
  if (FindMember(c.creditor) == nullptr) return Refuse(Outcome::kMemberNotFound, "creditor");
  if (FindCurrency(c.currency) == nullptr) return Refuse(Outcome::kCurrencyNotFound, "currency");
  if (invoices_.by_id.contains(id)) return Refuse(Outcome::kInvoiceExists, "invoice_id");
  if (invoices_.invoices.size() >= kInvoicesMax) return Refuse(Outcome::kLimitReached, "invoices");

  InvoiceRecord r;
  r.id = id;
  r.request = c.request;
  r.debtor = c.debtor;
  r.creditor = c.creditor;
  r.currency = c.currency;
  r.amount = c.amount;
  r.remainder = c.amount;
  r.due_day = c.due_day;
  r.reference = c.reference;
  r.registered_ns = batch_timestamp_ns_;
  journal::EncodeInvoice(batch_bytes_, r);
  PushEvent();
  invoices_.by_id.emplace(id, static_cast<uint32_t>(invoices_.invoices.size()));
  invoices_.invoices.push_back(std::move(r));
  undo_.push_back(Undo(UndoKind::kInvoice));
  return Finish(c.request, fp, invoices_.invoices.size(), 0);
}

namespace {

// The state change a debtor's answer makes, or the refusal.
Outcome Decide(const InvoiceRecord* inv) {
  if (inv == nullptr) return Outcome::kInvoiceNotFound;
  if (inv->status != InvoiceStatus::kRegistered) return Outcome::kInvoiceWrongState;
  return Outcome::kOk;
}

}  // namespace

OpResult Ledger::ConfirmInvoice(const ConfirmInvoiceCmd& c) {
  const Fingerprint fp{
      Kind::kConfirmInvoice, {InvoiceFingerprint(c.invoice)}, kInvoiceDecisionFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  const InvoiceRecord* inv = FindInvoice(c.invoice);
  if (Outcome o = Decide(inv); o != Outcome::kOk) return Refuse(o, "invoice_id");
  const uint32_t index = invoices_.by_id.at(c.invoice);
  Undo u(UndoKind::kInvoiceMeta);
  u.a = index;
  u.b = static_cast<uint64_t>(inv->status);
  u.old_limit = inv->remainder;
  undo_.push_back(u);
  invoices_.invoices[index].status = InvoiceStatus::kConfirmed;
  journal::EncodeInvoiceStatus(batch_bytes_, c.invoice, InvoiceStatus::kConfirmed, "");
  PushEvent();
  return Finish(c.request, fp, index + 1, 0);
}

OpResult Ledger::DisputeInvoice(const DisputeInvoiceCmd& c) {
  const Fingerprint fp{Kind::kDisputeInvoice,
                       {InvoiceFingerprint(c.invoice), Fingerprint64(c.reason)},
                       kInvoiceDecisionFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (c.reason.empty() || c.reason.size() > kReasonBytesMax || !ValidText(c.reason)) {
    return Refuse(Outcome::kInvalidReason, "reason");
  }
  const InvoiceRecord* inv = FindInvoice(c.invoice);
  if (Outcome o = Decide(inv); o != Outcome::kOk) return Refuse(o, "invoice_id");
  const uint32_t index = invoices_.by_id.at(c.invoice);
  Undo u(UndoKind::kInvoiceMeta);
  u.a = index;
  u.b = static_cast<uint64_t>(inv->status);
  u.old_limit = inv->remainder;
  undo_.push_back(u);
  InvoiceRecord& m = invoices_.invoices[index];
  m.status = InvoiceStatus::kDisputed;
  m.dispute_reason = c.reason;
  journal::EncodeInvoiceStatus(batch_bytes_, c.invoice, InvoiceStatus::kDisputed, c.reason);
  PushEvent();
  return Finish(c.request, fp, index + 1, 0);
}

// ---- Set-off runs ----------------------------------------------------------------------

Outcome Ledger::PlanSetoff(const RunSetoffCmd& c, SetoffRun* run, std::vector<Leg>* legs,
                           const char** detail) const {
  if (!national_.valid()) return Outcome::kNoDeployment;
  *detail = "cutoff_day";
  if (!ValidDay(c.cutoff_day)) return Outcome::kInvalidDueDate;
  *detail = "currency";
  if (c.currency.valid() && FindCurrency(c.currency) == nullptr) return Outcome::kCurrencyNotFound;
  *detail = "";

  run->request = c.request;
  run->cutoff_day = c.cutoff_day;
  run->currency = c.currency;
  run->use_mutual_credit = c.use_mutual_credit;
  run->notices.clear();

  std::vector<Invoice> eligible;
  for (const InvoiceRecord& r : invoices_.invoices) {
    if (r.status != InvoiceStatus::kConfirmed || !r.remainder.positive() ||
        r.due_day > c.cutoff_day || (c.currency.valid() && r.currency != c.currency)) {
      continue;
    }
    eligible.push_back({r.id, r.debtor, r.creditor, r.remainder, r.currency});
  }
  *detail = "invoices";
  if (eligible.size() > kSetoffInvoicesMax) return Outcome::kLimitReached;
  Result<SetoffResult> setoff = ComputeSetoff(eligible);
  if (!setoff.ok()) return Outcome::kBalanceOverflow;
  *detail = "";
  run->notices.reserve(eligible.size());
  for (size_t i = 0; i < eligible.size(); ++i) {
    const Invoice& inv = eligible[i];
    const SetoffNotice& n = setoff->notices[i];
    run->notices.push_back({inv.id, inv.debtor, inv.creditor, inv.currency, inv.amount, n.set_off,
                            Amount::Zero(), n.remainder});
  }

  if (c.use_mutual_credit) {
    // Index of each eligible invoice, to apply the payments to its notice.
    std::unordered_map<InvoiceId, size_t> at;
    for (size_t i = 0; i < eligible.size(); ++i) at.emplace(eligible[i].id, i);
    std::set<CurrencyId> present;
    for (const Invoice& inv : eligible) present.insert(inv.currency);
    for (CurrencyId cid : present) {
      const Currency& currency = currencies_[cid.value() - 1];
      if (currency.kind != CurrencyKind::kMutualCredit) continue;
      // Each circle member's first active member account in the circle's currency.
      std::map<MemberId, AccountId> account_of;
      std::vector<MemberHeadroom> headroom;
      for (const Account& a : accounts_) {
        if (a.currency != currency.id || !IsMemberKind(a.kind) ||
            a.status != AccountStatus::kActive || !IsCircleMember(currency.circle, a.owner) ||
            account_of.contains(a.owner)) {
          continue;
        }
        account_of.emplace(a.owner, a.id);
        const auto down = a.balance.CheckedAdd(a.credit_limit);
        std::optional<Amount> up;
        if (a.ceiling != Amount::Max()) up = Amount(a.ceiling.minor() - a.balance.minor());
        headroom.push_back({a.owner, down ? *down : Amount::Max(), up});
      }
      Result<MutualCreditPlan> plan = PlanMutualCredit(currency.id, eligible, *setoff, headroom);
      AYNI_CHECK(plan.ok());  // its inputs come from the solver and the ledger's invariants
      for (const MutualCreditPayment& p : plan->payments) {
        SetoffRunNotice& n = run->notices[at.at(p.invoice)];
        n.mutual_credit = Amount(n.mutual_credit.minor() + p.amount.minor());
        n.remainder = Amount(n.remainder.minor() - p.amount.minor());
        legs->push_back(
            {account_of.at(p.from), account_of.at(p.to), p.amount, TransferCode::kPayment});
      }
    }
  }
  *detail = "mutual_credit";
  if (legs->size() > kBatchTransfersMax) return Outcome::kLimitReached;
  run->payments = static_cast<uint32_t>(legs->size());
  *detail = "invoices";
  if (!SummarizeSetoff(run->notices, &run->currencies)) return Outcome::kBalanceOverflow;
  *detail = "";
  return Outcome::kOk;
}

OpResult Ledger::DryRunSetoff(const RunSetoffCmd& c, SetoffRun* report) const {
  AYNI_CHECK(report != nullptr);
  SetoffRun run;
  std::vector<Leg> legs;
  const char* detail = "";
  if (Outcome o = PlanSetoff(c, &run, &legs, &detail); o != Outcome::kOk) {
    OpResult r;
    r.outcome = o;
    r.detail = detail;
    return r;
  }
  *report = std::move(run);
  OpResult r;
  r.legs = report->payments;
  return r;
}

OpResult Ledger::RunSetoff(const RunSetoffCmd& c, SetoffRun* report) {
  const Fingerprint fp{Kind::kRunSetoff,
                       {U(c.cutoff_day), c.currency.value(), c.use_mutual_credit ? 1u : 0u},
                       kRunSetoffFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) {
    if (r->outcome == Outcome::kExists && report != nullptr) {
      *report = invoices_.runs[r->id - 1];
    }
    return *r;
  }
  SetoffRun run;
  std::vector<Leg> legs;
  const char* detail = "";
  if (Outcome o = PlanSetoff(c, &run, &legs, &detail); o != Outcome::kOk) {
    return Refuse(o, detail);
  }
  if (Outcome o = PostGroup(c.request, legs, "set-off run", &detail); o != Outcome::kOk) {
    return Refuse(o, detail);
  }
  for (const SetoffRunNotice& n : run.notices) {
    if (n.remainder == n.before) continue;
    const uint32_t index = invoices_.by_id.at(n.invoice);
    InvoiceRecord& inv = invoices_.invoices[index];
    AYNI_CHECK(inv.remainder == n.before);
    Undo u(UndoKind::kInvoiceMeta);
    u.a = index;
    u.b = static_cast<uint64_t>(inv.status);
    u.old_limit = inv.remainder;
    undo_.push_back(u);
    inv.remainder = n.remainder;
  }
  run.number = invoices_.runs.size() + 1;
  run.timestamp_ns = batch_timestamp_ns_;
  journal::EncodeSetoffRun(batch_bytes_, run);
  PushEvent();
  invoices_.runs.push_back(run);
  undo_.push_back(Undo(UndoKind::kSetoffRun));
  if (report != nullptr) *report = std::move(run);
  return Finish(c.request, fp, invoices_.runs.size(), static_cast<uint32_t>(legs.size()));
}

// ---- Undo and restore ------------------------------------------------------------------

void Ledger::RollbackInvoice(const Undo& u) {
  switch (u.kind) {
    case UndoKind::kInvoice:
      invoices_.by_id.erase(invoices_.invoices.back().id);
      invoices_.invoices.pop_back();
      break;
    case UndoKind::kInvoiceMeta: {
      InvoiceRecord& inv = invoices_.invoices[u.a];
      if (inv.status == InvoiceStatus::kDisputed) inv.dispute_reason.clear();
      inv.status = static_cast<InvoiceStatus>(u.b);
      inv.remainder = u.old_limit;
      break;
    }
    case UndoKind::kSetoffRun:
      invoices_.runs.pop_back();
      break;
    default:
      AYNI_CHECK(false);
  }
}

bool Ledger::RestoreInvoiceEvent(uint8_t tag, JournalReader& rd, uint64_t timestamp_ns) {
  switch (static_cast<EventTag>(tag)) {
    case EventTag::kInvoiceRegistered: {
      InvoiceRecord r;
      r.id = InvoiceId(rd.Wide());
      r.request = RequestId(rd.Wide());
      r.debtor = MemberId(rd.U64());
      r.creditor = MemberId(rd.U64());
      r.currency = CurrencyId(rd.U64());
      r.amount = Amount(rd.I64());
      r.remainder = r.amount;
      r.due_day = rd.I64();
      r.reference = rd.Str();
      r.registered_ns = timestamp_ns;
      if (rd.failed() || invoices_.by_id.contains(r.id) || !r.amount.positive()) return false;
      invoices_.by_id.emplace(r.id, static_cast<uint32_t>(invoices_.invoices.size()));
      invoices_.invoices.push_back(std::move(r));
      return true;
    }
    case EventTag::kInvoiceStatusChanged: {
      const InvoiceId id(rd.Wide());
      const uint8_t status = rd.U8();
      std::string reason = rd.Str();
      const auto it = invoices_.by_id.find(id);
      if (rd.failed() || it == invoices_.by_id.end() ||
          (status != static_cast<uint8_t>(InvoiceStatus::kConfirmed) &&
           status != static_cast<uint8_t>(InvoiceStatus::kDisputed))) {
        return false;
      }
      InvoiceRecord& inv = invoices_.invoices[it->second];
      inv.status = static_cast<InvoiceStatus>(status);
      inv.dispute_reason = std::move(reason);
      return true;
    }
    case EventTag::kSetoffRun: {
      SetoffRun run;
      run.request = RequestId(rd.Wide());
      run.number = rd.U64();
      run.cutoff_day = rd.I64();
      run.currency = CurrencyId(rd.U64());
      run.use_mutual_credit = rd.U8() != 0;
      run.payments = rd.U32();
      run.timestamp_ns = timestamp_ns;
      const uint32_t n = rd.U32();
      if (rd.failed() || run.number != invoices_.runs.size() + 1) return false;
      for (uint32_t i = 0; i < n; ++i) {
        const InvoiceId id(rd.Wide());
        const Amount set_off(rd.I64()), mutual_credit(rd.I64()), remainder(rd.I64());
        const auto it = invoices_.by_id.find(id);
        if (rd.failed() || it == invoices_.by_id.end()) return false;
        InvoiceRecord& inv = invoices_.invoices[it->second];
        run.notices.push_back({id, inv.debtor, inv.creditor, inv.currency, inv.remainder, set_off,
                               mutual_credit, remainder});
        inv.remainder = remainder;
      }
      if (!SummarizeSetoff(run.notices, &run.currencies)) return false;
      invoices_.runs.push_back(std::move(run));
      return true;
    }
    default:
      return false;
  }
}

}  // namespace ayni
