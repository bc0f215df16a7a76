#include "clearing/journal.h"

#include <algorithm>
#include <cstring>

#include "clearing/cards.h"
#include "clearing/check.h"
#include "clearing/invoices.h"
#include "clearing/journal_reader.h"

namespace ayni {
namespace {

void PutU8(std::vector<uint8_t>& o, uint8_t v) { o.push_back(v); }
void PutU16(std::vector<uint8_t>& o, uint16_t v) {
  o.push_back(static_cast<uint8_t>(v >> 8));
  o.push_back(static_cast<uint8_t>(v));
}
void PutU32(std::vector<uint8_t>& o, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) o.push_back(static_cast<uint8_t>(v >> s));
}
void PutU64(std::vector<uint8_t>& o, uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) o.push_back(static_cast<uint8_t>(v >> s));
}
void PutI64(std::vector<uint8_t>& o, int64_t v) { PutU64(o, static_cast<uint64_t>(v)); }
void PutI32(std::vector<uint8_t>& o, int32_t v) { PutU32(o, static_cast<uint32_t>(v)); }
void PutStr(std::vector<uint8_t>& o, std::string_view s) {
  AYNI_CHECK(s.size() <= UINT16_MAX);
  PutU16(o, static_cast<uint16_t>(s.size()));
  o.insert(o.end(), s.begin(), s.end());
}
template <typename Tag>
void PutWide(std::vector<uint8_t>& o, const WideId<Tag>& id) {
  o.insert(o.end(), id.bytes().begin(), id.bytes().end());
}

}  // namespace

namespace journal {

void EncodeTransfer(std::vector<uint8_t>& o, const Transfer& t) {
  // The hot path of every batch: one resize, then direct stores (same bytes as Put*).
  AYNI_CHECK(t.memo.size() <= UINT16_MAX);
  constexpr size_t kFixed = 1 + 16 + 16 + 4 + 8 + 8 + 8 + 8 + 2 + 8 + 2;
  const size_t at = o.size();
  o.resize(at + kFixed + t.memo.size());
  uint8_t* p = o.data() + at;
  const auto be = [&p](uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) *p++ = static_cast<uint8_t>(v >> (8 * i));
  };
  *p++ = static_cast<uint8_t>(EventTag::kTransfer);
  std::memcpy(p, t.id.bytes().data(), 16);
  p += 16;
  std::memcpy(p, t.request.bytes().data(), 16);
  p += 16;
  be(t.leg, 4);
  be(t.debit.value(), 8);
  be(t.credit.value(), 8);
  be(t.currency.value(), 8);
  be(static_cast<uint64_t>(t.amount.minor()), 8);
  be(static_cast<uint16_t>(t.code), 2);
  be(t.timestamp_ns, 8);
  be(t.memo.size(), 2);
  if (!t.memo.empty()) std::memcpy(p, t.memo.data(), t.memo.size());
}

void EncodeDeployment(std::vector<uint8_t>& o, CurrencyId id, std::string_view code,
                      int64_t scale) {
  PutU8(o, static_cast<uint8_t>(EventTag::kDeploymentCreated));
  PutU64(o, id.value());
  PutStr(o, code);
  PutI64(o, scale);
}

void EncodeBank(std::vector<uint8_t>& o, const Bank& b) {
  PutU8(o, static_cast<uint8_t>(EventTag::kBankCreated));
  PutU64(o, b.id.value());
  PutStr(o, b.code);
  PutStr(o, b.name);
}

void EncodeCurrency(std::vector<uint8_t>& o, const Currency& c) {
  PutU8(o, static_cast<uint8_t>(EventTag::kCurrencyCreated));
  PutU64(o, c.id.value());
  PutStr(o, c.code);
  PutU8(o, static_cast<uint8_t>(c.kind));
  PutI64(o, c.scale);
  PutU64(o, c.issuer.value());
  PutU64(o, c.circle.value());
  PutI32(o, c.policy.coverage_min_bp);
  PutI32(o, c.policy.redemption_fee_bp);
  PutI64(o, c.policy.default_credit_limit.minor());
  PutI64(o, c.policy.default_ceiling.minor());
}

void EncodeCircle(std::vector<uint8_t>& o, const Circle& c) {
  PutU8(o, static_cast<uint8_t>(EventTag::kCircleCreated));
  PutU64(o, c.id.value());
  PutU64(o, c.bank.value());
  PutStr(o, c.code);
  PutStr(o, c.name);
  PutU64(o, c.currency.value());
}

void EncodeMember(std::vector<uint8_t>& o, const Member& m) {
  PutU8(o, static_cast<uint8_t>(EventTag::kMemberCreated));
  PutU64(o, m.id.value());
  PutU64(o, m.bank.value());
  PutStr(o, m.name);
}

void EncodeCircleMember(std::vector<uint8_t>& o, CircleId circle, MemberId member, bool admin) {
  PutU8(o, static_cast<uint8_t>(EventTag::kCircleMemberAdded));
  PutU64(o, circle.value());
  PutU64(o, member.value());
  PutU8(o, admin ? 1 : 0);
}

void EncodeAccount(std::vector<uint8_t>& o, const Account& a) {
  PutU8(o, static_cast<uint8_t>(EventTag::kAccountOpened));
  PutU64(o, a.id.value());
  PutU64(o, a.bank.value());
  PutU64(o, a.currency.value());
  PutU8(o, static_cast<uint8_t>(a.kind));
  PutU64(o, a.owner.value());
  PutU64(o, a.counterparty.value());
  PutI64(o, a.credit_limit.minor());
  PutI64(o, a.ceiling.minor());
}

void EncodeAccountStatus(std::vector<uint8_t>& o, AccountId id, AccountStatus s,
                         std::string_view actor, std::string_view reason) {
  PutU8(o, static_cast<uint8_t>(EventTag::kAccountStatusChanged));
  PutU64(o, id.value());
  PutU8(o, static_cast<uint8_t>(s));
  PutStr(o, actor);
  PutStr(o, reason);
}

void EncodeAccountLimits(std::vector<uint8_t>& o, AccountId id, Amount credit_limit,
                         Amount ceiling, std::string_view actor, std::string_view reason) {
  PutU8(o, static_cast<uint8_t>(EventTag::kAccountLimitsChanged));
  PutU64(o, id.value());
  PutI64(o, credit_limit.minor());
  PutI64(o, ceiling.minor());
  PutStr(o, actor);
  PutStr(o, reason);
}

void EncodeCycle(std::vector<uint8_t>& o, const RequestId& request, uint64_t number,
                 Amount gross, Amount settled, uint32_t transfers) {
  PutU8(o, static_cast<uint8_t>(EventTag::kCycleSettled));
  PutWide(o, request);
  PutU64(o, number);
  PutI64(o, gross.minor());
  PutI64(o, settled.minor());
  PutU32(o, transfers);
}

void EncodeRequest(std::vector<uint8_t>& o, const RequestId& request, uint8_t kind,
                   uint32_t legs, std::span<const uint64_t> fields, uint64_t result_id,
                   uint64_t timestamp_ns) {
  AYNI_CHECK(fields.size() == kRequestFields);
  PutU8(o, static_cast<uint8_t>(EventTag::kRequestCommitted));
  PutWide(o, request);
  PutU8(o, kind);
  PutU32(o, legs);
  for (uint64_t f : fields) PutU64(o, f);
  PutU64(o, result_id);
  PutU64(o, timestamp_ns);
}

void EncodeLoanProduct(std::vector<uint8_t>& o, const LoanProduct& p) {
  PutU8(o, static_cast<uint8_t>(EventTag::kLoanProductCreated));
  PutU64(o, p.id.value());
  PutU64(o, p.bank.value());
  PutStr(o, p.name);
  PutU64(o, p.currency.value());
  PutI64(o, p.max_principal.minor());
  PutI32(o, p.monthly_rate_bp);
  PutI32(o, p.instalments);
  PutI32(o, p.period_days);
  PutI32(o, p.grace_days);
}

void EncodeGroup(std::vector<uint8_t>& o, const SolidarityGroup& g) {
  PutU8(o, static_cast<uint8_t>(EventTag::kSolidarityGroupCreated));
  PutU64(o, g.id.value());
  PutU64(o, g.bank.value());
  PutStr(o, g.name);
  AYNI_CHECK(g.members.size() <= UINT8_MAX);
  PutU8(o, static_cast<uint8_t>(g.members.size()));
  for (MemberId m : g.members) {
    PutU64(o, m.value());
    PutU8(o, std::binary_search(g.liable.begin(), g.liable.end(), m) ? 1 : 0);
  }
}

void EncodeLoan(std::vector<uint8_t>& o, const Loan& l) {
  PutU8(o, static_cast<uint8_t>(EventTag::kLoanDisbursed));
  PutU64(o, l.id.value());
  PutWide(o, l.request);
  PutU64(o, l.product.value());
  PutU64(o, l.bank.value());
  PutU64(o, l.currency.value());
  PutU64(o, l.member.value());
  PutU64(o, l.group.value());
  PutU64(o, l.account.value());
  PutI64(o, l.principal.minor());
  PutI32(o, l.monthly_rate_bp);
  PutU64(o, l.disbursed_ns);
  AYNI_CHECK(l.schedule.size() <= UINT16_MAX);
  PutU16(o, static_cast<uint16_t>(l.schedule.size()));
  for (const Instalment& in : l.schedule) {
    PutU64(o, in.due_ns);
    PutI64(o, in.principal.minor());
    PutI64(o, in.interest.minor());
  }
}

void EncodeLoanRepaid(std::vector<uint8_t>& o, LoanId loan, Amount interest, Amount principal,
                      LoanStatus status_after) {
  PutU8(o, static_cast<uint8_t>(EventTag::kLoanRepaid));
  PutU64(o, loan.value());
  PutI64(o, interest.minor());
  PutI64(o, principal.minor());
  PutU8(o, static_cast<uint8_t>(status_after));
}

void EncodeLoanWrittenOff(std::vector<uint8_t>& o, LoanId loan, Amount principal,
                          std::string_view actor, std::string_view reason) {
  PutU8(o, static_cast<uint8_t>(EventTag::kLoanWrittenOff));
  PutU64(o, loan.value());
  PutI64(o, principal.minor());
  PutStr(o, actor);
  PutStr(o, reason);
}

std::vector<uint8_t> EncodeHeader(uint64_t sequence, uint64_t timestamp_ns, uint32_t events) {
  std::vector<uint8_t> o = {'A', 'Y', 'N', 'B'};
  PutU16(o, kJournalVersion);
  PutU64(o, sequence);
  PutU64(o, timestamp_ns);
  PutU32(o, events);
  return o;
}

}  // namespace journal

const char* JournalFaultKindName(JournalFaultKind k) {
  switch (k) {
    case JournalFaultKind::kSequenceGap: return "sequence_gap";
    case JournalFaultKind::kHashMismatch: return "hash_mismatch";
    case JournalFaultKind::kMalformed: return "malformed";
    case JournalFaultKind::kUnknownAccount: return "unknown_account";
    case JournalFaultKind::kCurrencyMismatch: return "currency_mismatch";
    case JournalFaultKind::kInactiveAccount: return "inactive_account";
    case JournalFaultKind::kOverflow: return "overflow";
    case JournalFaultKind::kBalanceMismatch: return "balance_mismatch";
    case JournalFaultKind::kAccountMismatch: return "account_mismatch";
  }
  return "unknown";
}

namespace {

class Replayer {
 public:
  explicit Replayer(Replay& r) : r_(r) {}

  // Applies one batch's events; false when the batch is malformed (fault recorded).
  bool Apply(uint64_t seq, std::span<const uint8_t> bytes) {
    JournalReader rd(bytes);
    const uint32_t magic = rd.U32();
    const uint16_t version = rd.U16();
    const uint64_t header_seq = rd.U64();
    rd.U64();  // timestamp
    const uint32_t events = rd.U32();
    if (rd.failed() || magic != 0x41594E42u || version != kJournalVersion || header_seq != seq) {
      return Malformed(seq, "bad batch header");
    }
    for (uint32_t i = 0; i < events; ++i) {
      if (!Event(seq, rd)) return false;
    }
    if (rd.failed() || !rd.done()) return Malformed(seq, "event bytes do not match the count");
    return true;
  }

 private:
  bool Malformed(uint64_t seq, std::string detail) {
    r_.faults.push_back({JournalFaultKind::kMalformed, seq, 0, std::move(detail)});
    return false;
  }
  void Fault(JournalFaultKind k, uint64_t seq, uint64_t account, std::string detail) {
    r_.faults.push_back({k, seq, account, std::move(detail)});
  }
  ReplayAccount* Get(uint64_t id) {
    if (id == 0 || id > r_.accounts.size() || !r_.accounts[id - 1].opened) return nullptr;
    return &r_.accounts[id - 1];
  }

  bool Event(uint64_t seq, JournalReader& rd) {
    const auto tag = static_cast<EventTag>(rd.U8());
    switch (tag) {
      case EventTag::kTransfer: {
        rd.Wide();  // id
        rd.Wide();  // request
        rd.U32();   // leg
        const uint64_t debit = rd.U64(), credit = rd.U64(), currency = rd.U64();
        const int64_t amount = rd.I64();
        rd.U16();  // code
        rd.U64();  // timestamp
        rd.Str();  // memo
        if (rd.failed()) return Malformed(seq, "truncated transfer");
        return Transfer(seq, debit, credit, currency, amount);
      }
      case EventTag::kDeploymentCreated:
        rd.U64(), rd.Str(), rd.I64();
        break;
      case EventTag::kBankCreated:
        rd.U64(), rd.Str(), rd.Str();
        break;
      case EventTag::kCurrencyCreated:
        rd.U64(), rd.Str(), rd.U8(), rd.I64(), rd.U64(), rd.U64(), rd.I32(), rd.I32(), rd.I64(),
            rd.I64();
        break;
      case EventTag::kCircleCreated:
        rd.U64(), rd.U64(), rd.Str(), rd.Str(), rd.U64();
        break;
      case EventTag::kMemberCreated:
        rd.U64(), rd.U64(), rd.Str();
        break;
      case EventTag::kCircleMemberAdded:
        rd.U64(), rd.U64(), rd.U8();
        break;
      case EventTag::kAccountOpened: {
        const uint64_t id = rd.U64();
        rd.U64();  // bank
        const uint64_t currency = rd.U64();
        const uint8_t kind = rd.U8();
        rd.U64(), rd.U64(), rd.I64(), rd.I64();
        if (rd.failed()) return Malformed(seq, "truncated account");
        // Accounts are numbered densely in the order they are opened.
        if (id != r_.accounts.size() + 1 || !IsValidAccountKind(kind)) {
          return Malformed(seq, "account " + std::to_string(id) + " opened out of order");
        }
        ReplayAccount a;
        a.opened = true;
        a.currency = CurrencyId(currency);
        a.kind = static_cast<AccountKind>(kind);
        r_.accounts.push_back(a);
        break;
      }
      case EventTag::kAccountStatusChanged: {
        const uint64_t id = rd.U64();
        const uint8_t status = rd.U8();
        rd.Str(), rd.Str();
        if (rd.failed()) return Malformed(seq, "truncated status change");
        ReplayAccount* a = Get(id);
        if (a == nullptr) {
          Fault(JournalFaultKind::kUnknownAccount, seq, id, "status change of unknown account");
          break;
        }
        if (status > static_cast<uint8_t>(AccountStatus::kClosed)) {
          return Malformed(seq, "bad account status");
        }
        a->status = static_cast<AccountStatus>(status);
        break;
      }
      case EventTag::kAccountLimitsChanged:
        rd.U64(), rd.I64(), rd.I64(), rd.Str(), rd.Str();
        break;
      case EventTag::kCycleSettled:
        rd.Wide(), rd.U64(), rd.I64(), rd.I64(), rd.U32();
        break;
      case EventTag::kRequestCommitted:
        rd.Wide(), rd.U8(), rd.U32();
        for (size_t k = 0; k < journal::kRequestFields; ++k) rd.U64();
        rd.U64(), rd.U64();
        break;
      // Loan-book events move no balance: the replayer only steps over them (their
      // postings are ordinary transfer events).
      case EventTag::kLoanProductCreated:
        rd.U64(), rd.U64(), rd.Str(), rd.U64(), rd.I64(), rd.I32(), rd.I32(), rd.I32(), rd.I32();
        break;
      case EventTag::kSolidarityGroupCreated: {
        rd.U64(), rd.U64(), rd.Str();
        const uint8_t n = rd.U8();
        for (uint8_t k = 0; k < n && !rd.failed(); ++k) rd.U64(), rd.U8();
        break;
      }
      case EventTag::kLoanDisbursed: {
        rd.U64(), rd.Wide(), rd.U64(), rd.U64(), rd.U64(), rd.U64(), rd.U64(), rd.U64(), rd.I64(),
            rd.I32(), rd.U64();
        const uint16_t n = rd.U16();
        for (uint16_t k = 0; k < n && !rd.failed(); ++k) rd.U64(), rd.I64(), rd.I64();
        break;
      }
      case EventTag::kLoanRepaid:
        rd.U64(), rd.I64(), rd.I64(), rd.U8();
        break;
      case EventTag::kLoanWrittenOff:
        rd.U64(), rd.I64(), rd.Str(), rd.Str();
        break;
      case EventTag::kInvoiceRegistered:
      case EventTag::kInvoiceStatusChanged:
      case EventTag::kSetoffRun:
        if (!journal::SkipInvoiceEvent(static_cast<uint8_t>(tag), rd)) {
          return Malformed(seq, "bad invoice event");
        }
        break;
      // The card book moves no balance (its postings are ordinary transfers).
      case EventTag::kKioskRegistered:
      case EventTag::kCardRegistered:
      case EventTag::kCardLoadAuthorized:
      case EventTag::kCardBlocked:
      case EventTag::kCardLoadState:
      case EventTag::kCardReceipt:
      case EventTag::kCardEvidence:
        if (!journal::SkipCardEvent(static_cast<uint8_t>(tag), rd)) {
          return Malformed(seq, "bad card event");
        }
        break;
      default:
        return Malformed(seq, "unknown event tag " + std::to_string(static_cast<int>(tag)));
    }
    if (rd.failed()) return Malformed(seq, "truncated event");
    return true;
  }

  bool Transfer(uint64_t seq, uint64_t debit, uint64_t credit, uint64_t currency,
                int64_t amount) {
    ++r_.transfers;
    ReplayAccount* d = Get(debit);
    ReplayAccount* c = Get(credit);
    if (d == nullptr || c == nullptr) {
      Fault(JournalFaultKind::kUnknownAccount, seq, d == nullptr ? debit : credit,
            "transfer names an account never opened");
      return true;
    }
    if (d->currency.value() != currency || c->currency.value() != currency) {
      Fault(JournalFaultKind::kCurrencyMismatch, seq, d->currency.value() != currency ? debit : credit,
            "transfer between accounts of different currencies");
    }
    if (d->status != AccountStatus::kActive || c->status != AccountStatus::kActive) {
      Fault(JournalFaultKind::kInactiveAccount, seq,
            d->status != AccountStatus::kActive ? debit : credit,
            "transfer moved a frozen or closed account");
    }
    int64_t nb_d, nb_c, nd, nc;
    if (amount <= 0 || __builtin_sub_overflow(d->balance.minor(), amount, &nb_d) ||
        __builtin_add_overflow(c->balance.minor(), amount, &nb_c) ||
        __builtin_add_overflow(d->debits_posted.minor(), amount, &nd) ||
        __builtin_add_overflow(c->credits_posted.minor(), amount, &nc)) {
      Fault(JournalFaultKind::kOverflow, seq, debit, "transfer amount invalid or overflowing");
      return true;
    }
    d->balance = Amount(nb_d);
    d->debits_posted = Amount(nd);
    c->balance = Amount(nb_c);
    c->credits_posted = Amount(nc);
    return true;
  }

  Replay& r_;
};

}  // namespace

Replay ReplayJournal(std::span<const StoredBatch> batches) {
  Replay r;
  Replayer replayer(r);
  Hash256 head{};
  for (size_t i = 0; i < batches.size(); ++i) {
    const StoredBatch& b = batches[i];
    if (b.sequence != i + 1) {
      r.faults.push_back({JournalFaultKind::kSequenceGap, b.sequence, 0,
                          "expected batch " + std::to_string(i + 1) + ", found " +
                              std::to_string(b.sequence)});
      break;
    }
    const Hash256 h = Blake2b256(head, b.bytes);
    if (h != b.hash) {
      r.faults.push_back({JournalFaultKind::kHashMismatch, b.sequence, 0,
                          "batch " + std::to_string(b.sequence) +
                              ": stored hash does not match BLAKE2b(previous head ‖ bytes)"});
      break;
    }
    if (!replayer.Apply(b.sequence, b.bytes)) break;
    head = h;
    r.batches = b.sequence;
  }
  r.head = head;
  return r;
}

}  // namespace ayni
