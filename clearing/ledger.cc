#include "clearing/ledger.h"

#include <algorithm>

#include "clearing/check.h"
#include "clearing/journal.h"
#include "clearing/limits.h"

namespace ayni {
namespace {

// Field names of each command's idempotency fingerprint, in fingerprint order.
constexpr const char* kInitDeploymentFields[] = {"national_code", "scale"};
constexpr const char* kCreateBankFields[] = {"code", "name"};
constexpr const char* kCreateCurrencyFields[] = {"bank", "code", "coverage_min_bp",
                                                 "redemption_fee_bp", "default_ceiling"};
constexpr const char* kCreateCircleFields[] = {"bank", "code", "name", "scale",
                                               "default_credit_limit", "default_ceiling"};
constexpr const char* kCreateMemberFields[] = {"bank", "name"};
constexpr const char* kAddCircleMemberFields[] = {"circle", "member", "admin"};
constexpr const char* kOpenAccountFields[] = {"owner", "currency", "kind"};
constexpr const char* kPayFields[] = {"from", "to", "amount", "memo"};
constexpr const char* kAccountAmountFields[] = {"account", "amount", "memo"};
constexpr const char* kFundReserveFields[] = {"bank", "amount", "source", "memo"};
constexpr const char* kSetStatusFields[] = {"account", "status", "actor", "reason"};
constexpr const char* kSetLimitsFields[] = {"account", "credit_limit", "ceiling", "actor",
                                            "reason"};
constexpr const char* kNoFields[] = {""};
constexpr const char* kLoanProductFields[] = {"bank",          "name",          "currency",
                                              "max_principal", "(rate, count)", "(period, grace)"};
constexpr const char* kLoanProductHalves[] = {
    "", "", "", "", "", "", "", "", "monthly_rate_bp", "instalments", "period_days", "grace_days"};
constexpr uint32_t kLoanProductPacked = (1u << 4) | (1u << 5);
constexpr const char* kGroupFields[] = {"bank", "name", "members", "liable"};
constexpr const char* kDisburseFields[] = {"product",   "member",  "group",
                                           "principal", "account", "memo"};
constexpr const char* kRepayFields[] = {"loan", "amount", "account", "memo"};
constexpr const char* kWriteOffFields[] = {"loan", "actor", "reason"};

uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }
// Two 32-bit values in one fingerprint field (high, low), losslessly.
uint64_t Pack(int32_t high, int32_t low) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(high)) << 32) | static_cast<uint32_t>(low);
}
// An order-insensitive digest of a list of members, for fingerprints.
uint64_t MembersDigest(std::vector<MemberId> ids) {
  std::sort(ids.begin(), ids.end());
  std::string bytes;
  for (MemberId id : ids) {
    for (int s = 56; s >= 0; s -= 8) bytes.push_back(static_cast<char>(id.value() >> s));
  }
  return Fingerprint64(bytes);
}

bool ValidCode(std::string_view s) {
  if (s.size() < kCodeBytesMin || s.size() > kCodeBytesMax) return false;
  if (!(s[0] >= 'A' && s[0] <= 'Z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool ValidNationalCode(std::string_view s) {
  return s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool NoControl(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool ValidName(std::string_view s) { return !s.empty() && s.size() <= kNameBytesMax && NoControl(s); }
bool ValidReason(std::string_view s) {
  return !s.empty() && s.size() <= kReasonBytesMax && NoControl(s);
}

// A memo is short UTF-8 text; stores keep it as text, so a NUL byte or broken UTF-8
// would be refused there — after the ledger had accepted it.
bool ValidUtf8(std::string_view s) {
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
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

Outcome CheckMemo(std::string_view memo) {
  if (memo.size() > kMemoBytesMax) return Outcome::kMemoTooLong;
  if (memo.find('\0') != std::string_view::npos || !ValidUtf8(memo)) return Outcome::kInvalidMemo;
  return Outcome::kOk;
}

bool IsDue(AccountKind k) { return k == AccountKind::kDueFrom || k == AccountKind::kDueTo; }

// Dense ids start at 1 and index their table; 0 and ids past the end are unknown.
template <typename T, typename Id>
const T* FindDense(const std::vector<T>& table, Id id) {
  if (!id.valid() || id.value() > table.size()) return nullptr;
  return &table[id.value() - 1];
}

}  // namespace

Ledger::Undo Ledger::MetaUndo(const Account& a) {
  Undo u(UndoKind::kAccountMeta);
  u.a = a.id.value();
  u.old_status = a.status;
  u.old_limit = a.credit_limit;
  u.old_ceiling = a.ceiling;
  return u;
}

Amount Coverage::ExcessAtPar() const {
  if (!covered()) return Amount::Zero();
  const Int128 excess = (assets_scaled - required_scaled) / 10000;
  return Amount(excess > INT64_MAX ? INT64_MAX : static_cast<int64_t>(excess));
}

Ledger::Ledger() { EnsureSodium(); }

// ---- Batches ---------------------------------------------------------------------------

void Ledger::BeginBatch(uint64_t now_ns) {
  AYNI_CHECK(!batch_open_);
  batch_open_ = true;
  batch_timestamp_ns_ = std::max(now_ns, last_timestamp_ns_ + 1);
  batch_events_ = 0;
  undo_.clear();
  cards_.saved.clear();
  batch_transfers_.clear();
  batch_bytes_.clear();
  touched_.clear();
}

SealedBatch Ledger::SealBatch() {
  SealedBatch sb = PrepareBatch();
  CommitBatch();
  return sb;
}

SealedBatch Ledger::PrepareBatch() {
  AYNI_CHECK(batch_open_ && !batch_prepared_);
  SealedBatch sb;
  sb.sequence = sequence_ + 1;
  sb.timestamp_ns = batch_timestamp_ns_;
  sb.prev_hash = head_;
  sb.bytes = journal::EncodeHeader(sb.sequence, sb.timestamp_ns, batch_events_);
  sb.bytes.insert(sb.bytes.end(), batch_bytes_.begin(), batch_bytes_.end());
  sb.hash = Blake2b256(head_, sb.bytes);
  // Postings are undone from the undo log alone, so the transfers can leave now.
  sb.transfers = std::move(batch_transfers_);
  batch_transfers_.clear();
  // Touch() lists each account once per batch; accounts opened in a rolled-back group no
  // longer exist. No sort here: the writer thread is the hot path, a store sorts if it
  // needs a fixed row order.
  sb.touched_accounts.reserve(touched_.size());
  for (AccountId id : touched_) {
    if (id.value() <= accounts_.size()) sb.touched_accounts.push_back(id);
  }
  prepared_hash_ = sb.hash;
  batch_prepared_ = true;
  return sb;
}

void Ledger::CommitBatch() {
  AYNI_CHECK(batch_open_ && batch_prepared_);
  ++sequence_;
  head_ = prepared_hash_;
  last_timestamp_ns_ = batch_timestamp_ns_;
  batch_open_ = false;
  batch_prepared_ = false;
  undo_.clear();
  cards_.saved.clear();
  batch_transfers_.clear();
  batch_bytes_.clear();
  touched_.clear();
}

void Ledger::AbortBatch() {
  AYNI_CHECK(batch_open_);
  RollbackTo(Marks{0, 0, 0, 0});
  batch_open_ = false;
  batch_prepared_ = false;
  // The next batch reuses this sequence number: forget what this one touched, or Touch()
  // would skip those accounts and they would be missing from the next SealedBatch.
  for (AccountId id : touched_) {
    if (id.value() <= touched_in_.size()) touched_in_[id.value() - 1] = 0;
  }
  touched_.clear();
}

Ledger::Marks Ledger::Mark() const {
  return Marks{undo_.size(), batch_transfers_.size(), batch_bytes_.size(), batch_events_};
}

void Ledger::RollbackTo(const Marks& m) {
  while (undo_.size() > m.undo) {
    const Undo u = undo_.back();
    undo_.pop_back();
    switch (u.kind) {
      case UndoKind::kPosting: {
        // a = debit, b = credit, old_limit = amount (the log needs no transfer record).
        Account& d = acct(AccountId(u.a));
        Account& c = acct(AccountId(u.b));
        const int64_t x = u.old_limit.minor();
        d.balance = Amount(d.balance.minor() + x);
        d.debits_posted = Amount(d.debits_posted.minor() - x);
        c.balance = Amount(c.balance.minor() - x);
        c.credits_posted = Amount(c.credits_posted.minor() - x);
        if (IsDue(d.kind)) bank_due_net_[d.bank.value() - 1] += x;
        if (IsDue(c.kind)) bank_due_net_[c.bank.value() - 1] -= x;
        break;
      }
      case UndoKind::kAccountMeta: {
        Account& a = acct(AccountId(u.a));
        a.status = u.old_status;
        a.credit_limit = u.old_limit;
        a.ceiling = u.old_ceiling;
        break;
      }
      case UndoKind::kRequest:
        requests_.Erase(u.request);
        break;
      case UndoKind::kDeployment:
        national_ = CurrencyId();
        break;
      case UndoKind::kBank: {
        bank_codes_.erase(banks_.back().code);
        banks_.pop_back();
        bank_due_net_.pop_back();
        for (Bank& b : banks_) {
          b.due_from.resize(banks_.size() + 1);
          b.due_to.resize(banks_.size() + 1);
        }
        break;
      }
      case UndoKind::kCurrency: {
        const Currency& c = currencies_.back();
        currency_codes_.erase(c.code);
        if (c.kind == CurrencyKind::kGuaranteed) banks_[c.issuer.value() - 1].issued.pop_back();
        currencies_.pop_back();
        break;
      }
      case UndoKind::kCircle:
        circles_.pop_back();
        break;
      case UndoKind::kMember:
        members_.pop_back();
        break;
      case UndoKind::kAccount:
        accounts_.pop_back();
        touched_in_.pop_back();
        break;
      case UndoKind::kCircleMember: {
        Circle& c = circles_[u.a - 1];
        std::erase(c.members, MemberId(u.b));
        std::erase(c.admins, MemberId(u.b));
        break;
      }
      case UndoKind::kCycle:
        cycles_.pop_back();
        break;
      case UndoKind::kLoanProduct:
        products_.pop_back();
        break;
      case UndoKind::kGroup:
        groups_.pop_back();
        break;
      case UndoKind::kLoan:
        UnindexLoan(loans_.back());
        loans_.pop_back();
        break;
      case UndoKind::kLoanState: {
        // a = loan, b = 1 when a repayment was recorded; old_limit / old_ceiling = the
        // principal repaid / interest paid before. Only active loans change state.
        Loan& l = loans_[u.a - 1];
        if (u.b == 1) l.repayments.pop_back();
        l.principal_repaid = u.old_limit;
        l.interest_paid = u.old_ceiling;
        l.written_off = Amount::Zero();
        l.status = LoanStatus::kActive;
        break;
      }
      case UndoKind::kInvoice:
      case UndoKind::kInvoiceMeta:
      case UndoKind::kSetoffRun:
        RollbackInvoice(u);
        break;
      case UndoKind::kKiosk:
      case UndoKind::kKioskStats:
      case UndoKind::kCard:
      case UndoKind::kCardSaved:
      case UndoKind::kCardLoad:
      case UndoKind::kCardLoadState:
      case UndoKind::kCardChain:
      case UndoKind::kDeny:
        RollbackCard(u);
        break;
    }
  }
  batch_transfers_.resize(m.transfers);
  batch_bytes_.resize(m.bytes);
  batch_events_ = static_cast<uint32_t>(m.events);
}

// ---- Request bookkeeping ---------------------------------------------------------------

Outcome Ledger::Precheck(const RequestId& id) const {
  AYNI_CHECK(batch_open_ && !batch_prepared_);
  if (id.zero()) return Outcome::kRequestIdZero;
  if (batch_transfers_.size() >= kBatchTransfersMax) return Outcome::kBatchFull;
  return Outcome::kOk;
}

std::optional<OpResult> Ledger::CheckRequest(const RequestId& id, const Fingerprint& fp) const {
  const RequestRecord* found = requests_.Find(id);
  if (found == nullptr) return std::nullopt;
  const RequestRecord& r = *found;
  OpResult res;
  if (r.kind != fp.kind) {
    res.outcome = Outcome::kExistsWithDifferentFields;
    res.detail = "operation";
    return res;
  }
  for (int i = 0; i < kFingerprintFields; ++i) {
    if (r.fields[i] != fp.fields[i]) {
      res.outcome = Outcome::kExistsWithDifferentFields;
      res.detail = fp.names[i];
      if ((fp.packed_mask >> i) & 1u) {
        const bool high_differs = (r.fields[i] >> 32) != (fp.fields[i] >> 32);
        res.detail = fp.halves[2 * i + (high_differs ? 0 : 1)];
      }
      return res;
    }
  }
  res.outcome = Outcome::kExists;
  res.id = r.result_id;
  res.timestamp_ns = r.timestamp_ns;
  res.legs = r.legs;
  return res;
}

void Ledger::RecordRequest(const RequestId& id, const Fingerprint& fp, uint64_t result_id,
                           uint32_t legs) {
  RequestRecord r{fp.kind, legs, {}, result_id, batch_timestamp_ns_};
  std::copy(std::begin(fp.fields), std::end(fp.fields), r.fields);
  requests_.Insert(id, r);
  journal::EncodeRequest(batch_bytes_, id, static_cast<uint8_t>(fp.kind), legs, r.fields, result_id,
                         batch_timestamp_ns_);
  PushEvent();
  Undo u(UndoKind::kRequest);
  u.request = id;
  undo_.push_back(u);
}

OpResult Ledger::Finish(const RequestId& id, const Fingerprint& fp, uint64_t result_id,
                        uint32_t legs) {
  RecordRequest(id, fp, result_id, legs);
  OpResult r;
  r.outcome = Outcome::kOk;
  r.id = result_id;
  r.timestamp_ns = batch_timestamp_ns_;
  r.legs = legs;
  return r;
}

OpResult Ledger::Refuse(Outcome o, const char* detail) {
  OpResult r;
  r.outcome = o;
  r.detail = detail;
  return r;
}

// ---- Posting ---------------------------------------------------------------------------

void Ledger::Touch(AccountId id) {
  uint64_t& t = touched_in_[id.value() - 1];
  if (t != sequence_ + 1) {
    t = sequence_ + 1;
    touched_.push_back(id);
  }
}

Outcome Ledger::CheckBounds(const Account& a, Amount nb, bool debit_side,
                            const char** detail) const {
  if (IsMemberKind(a.kind)) {
    if (nb.minor() < -a.credit_limit.minor()) {
      *detail = debit_side ? "from" : "to";
      const bool guaranteed = currencies_[a.currency.value() - 1].kind == CurrencyKind::kGuaranteed;
      return guaranteed ? Outcome::kInsufficientFunds : Outcome::kExceedsCreditLimit;
    }
    if (nb > a.ceiling) {
      *detail = debit_side ? "from" : "to";
      return Outcome::kExceedsCeiling;
    }
    return Outcome::kOk;
  }
  const SignRule rule = SignRuleOf(a.kind);
  if ((rule == SignRule::kNonNegative && nb.negative()) ||
      (rule == SignRule::kNonPositive && nb.positive())) {
    *detail = AccountKindName(a.kind);
    return Outcome::kSystemAccountSign;
  }
  return Outcome::kOk;
}

Outcome Ledger::PostLeg(const RequestId& request, uint32_t index, const Leg& leg,
                        std::string_view memo, const char** detail) {
  Account& d = acct(leg.debit);
  Account& c = acct(leg.credit);
  AYNI_CHECK(d.currency == c.currency);
  AYNI_CHECK(leg.amount.positive());
  if (d.status == AccountStatus::kFrozen) return Outcome::kDebitAccountFrozen;
  if (d.status == AccountStatus::kClosed) return Outcome::kDebitAccountClosed;
  if (c.status == AccountStatus::kFrozen) return Outcome::kCreditAccountFrozen;
  if (c.status == AccountStatus::kClosed) return Outcome::kCreditAccountClosed;
  const auto nd = d.balance.CheckedSub(leg.amount);
  const auto nc = c.balance.CheckedAdd(leg.amount);
  const auto dp = d.debits_posted.CheckedAdd(leg.amount);
  const auto cp = c.credits_posted.CheckedAdd(leg.amount);
  if (!nd || !nc || !dp || !cp) return Outcome::kBalanceOverflow;
  if (Outcome o = CheckBounds(d, *nd, true, detail); o != Outcome::kOk) return o;
  if (Outcome o = CheckBounds(c, *nc, false, detail); o != Outcome::kOk) return o;

  d.balance = *nd;
  d.debits_posted = *dp;
  c.balance = *nc;
  c.credits_posted = *cp;
  if (IsDue(d.kind)) bank_due_net_[d.bank.value() - 1] -= leg.amount.minor();
  if (IsDue(c.kind)) bank_due_net_[c.bank.value() - 1] += leg.amount.minor();

  Transfer t;
  t.id = DeriveTransferId(request, index);
  t.request = request;
  t.leg = index;
  t.debit = leg.debit;
  t.credit = leg.credit;
  t.currency = d.currency;
  t.amount = leg.amount;
  t.code = leg.code;
  t.timestamp_ns = batch_timestamp_ns_;
  t.memo.assign(memo);
  journal::EncodeTransfer(batch_bytes_, t);
  PushEvent();
  batch_transfers_.push_back(std::move(t));
  Undo u(UndoKind::kPosting);
  u.a = leg.debit.value();
  u.b = leg.credit.value();
  u.old_limit = leg.amount;
  undo_.push_back(u);
  Touch(leg.debit);
  Touch(leg.credit);
  return Outcome::kOk;
}

Outcome Ledger::PostGroup(const RequestId& request, std::span<const Leg> legs,
                          std::string_view memo, const char** detail) {
  const Marks m = Mark();
  for (uint32_t i = 0; i < legs.size(); ++i) {
    const Outcome o = PostLeg(request, i, legs[i], memo, detail);
    if (o != Outcome::kOk) {
      RollbackTo(m);
      return o;
    }
  }
  return Outcome::kOk;
}

Int128 Ledger::Margin(BankId bank) const {
  const Bank& b = banks_[bank.value() - 1];
  const Int128 assets = static_cast<Int128>(acct(b.reserve).balance.minor()) +
                          bank_due_net_[bank.value() - 1];
  Int128 required = 0;
  for (CurrencyId cid : b.issued) {
    const Currency& c = currencies_[cid.value() - 1];
    required += -static_cast<Int128>(acct(c.issuance).balance.minor()) * c.policy.coverage_min_bp;
  }
  return assets * 10000 - required;
}

Outcome Ledger::PostCovered(const RequestId& id, std::span<const Leg> legs, std::string_view memo,
                            std::span<const BankId> banks, const char** detail) {
  AYNI_CHECK(banks.size() <= 2);
  if (batch_transfers_.size() + legs.size() > kBatchTransfersMax) return Outcome::kBatchFull;
  Int128 before[2] = {0, 0};
  for (size_t i = 0; i < banks.size(); ++i) before[i] = Margin(banks[i]);
  const Marks m = Mark();
  if (Outcome o = PostGroup(id, legs, memo, detail); o != Outcome::kOk) return o;
  for (size_t i = 0; i < banks.size(); ++i) {
    const Int128 after = Margin(banks[i]);
    // Refuse what leaves a bank under-covered, unless it was already and this does not
    // make it worse (so that money can still flow *into* an under-covered reserve).
    if (after < 0 && after < before[i]) {
      RollbackTo(m);
      *detail = "";
      return Outcome::kCoverageWouldBreak;
    }
  }
  return Outcome::kOk;
}

OpResult Ledger::CommitGroup(const RequestId& id, const Fingerprint& fp, std::span<const Leg> legs,
                             std::string_view memo, std::span<const BankId> banks) {
  const char* detail = "";
  if (Outcome o = PostCovered(id, legs, memo, banks, &detail); o != Outcome::kOk) {
    return Refuse(o, detail);
  }
  return Finish(id, fp, 0, static_cast<uint32_t>(legs.size()));
}

AccountId Ledger::NewAccount(BankId bank, CurrencyId currency, AccountKind kind, MemberId owner,
                             BankId counterparty, Amount credit_limit, Amount ceiling) {
  Account a;
  a.id = AccountId(accounts_.size() + 1);
  a.bank = bank;
  a.currency = currency;
  a.kind = kind;
  a.owner = owner;
  a.counterparty = counterparty;
  a.credit_limit = credit_limit;
  a.ceiling = ceiling;
  accounts_.push_back(a);
  touched_in_.push_back(0);
  undo_.push_back(Undo(UndoKind::kAccount));
  journal::EncodeAccount(batch_bytes_, a);
  PushEvent();
  Touch(a.id);
  return a.id;
}

// ---- Set-up ----------------------------------------------------------------------------

OpResult Ledger::InitDeployment(const InitDeploymentCmd& c) {
  const Fingerprint fp{Kind::kInitDeployment,
                       {Fingerprint64(c.national_code), U(c.scale)},
                       kInitDeploymentFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (national_.valid()) return Refuse(Outcome::kDeploymentExists);
  if (!ValidNationalCode(c.national_code)) return Refuse(Outcome::kInvalidCode, "national_code");
  if (!IsValidScale(c.scale)) return Refuse(Outcome::kInvalidScale, "scale");

  Currency cur;
  cur.id = CurrencyId(currencies_.size() + 1);
  cur.code = c.national_code;
  cur.kind = CurrencyKind::kNational;
  cur.scale = c.scale;
  currencies_.push_back(cur);
  currency_codes_.emplace(cur.code, cur.id);
  undo_.push_back(Undo(UndoKind::kCurrency));
  national_ = cur.id;
  undo_.push_back(Undo(UndoKind::kDeployment));
  journal::EncodeDeployment(batch_bytes_, cur.id, cur.code, cur.scale);
  PushEvent();
  return Finish(c.request, fp, cur.id.value(), 0);
}

OpResult Ledger::CreateBank(const CreateBankCmd& c) {
  const Fingerprint fp{Kind::kCreateBank, {Fingerprint64(c.code), Fingerprint64(c.name)},
                       kCreateBankFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (!ValidCode(c.code)) return Refuse(Outcome::kInvalidCode, "code");
  if (!ValidName(c.name)) return Refuse(Outcome::kInvalidName, "name");
  if (bank_codes_.contains(c.code)) return Refuse(Outcome::kCodeExists, "code");
  if (banks_.size() >= kBanksMax || accounts_.size() + 5 + 4 * banks_.size() > kAccountsMax) {
    return Refuse(Outcome::kLimitReached, "banks");
  }

  const BankId id(banks_.size() + 1);
  Bank b;
  b.id = id;
  b.code = c.code;
  b.name = c.name;
  banks_.push_back(b);
  bank_due_net_.push_back(0);
  bank_codes_.emplace(c.code, id);
  journal::EncodeBank(batch_bytes_, b);
  PushEvent();
  const auto sys = [&](AccountKind k, BankId counterparty = BankId()) {
    return NewAccount(id, national_, k, MemberId(), counterparty, Amount::Zero(), Amount::Max());
  };
  // Build into a local first: NewAccount may not hold references into banks_.
  Bank nb = banks_.back();
  nb.vault = sys(AccountKind::kVault);
  nb.reserve = sys(AccountKind::kReserve);
  nb.loans = sys(AccountKind::kLoans);
  nb.fees = sys(AccountKind::kFees);
  nb.write_off = sys(AccountKind::kWriteOff);
  nb.due_from.resize(id.value() + 1);
  nb.due_to.resize(id.value() + 1);
  for (size_t i = 0; i + 1 < banks_.size(); ++i) {
    const BankId other = banks_[i].id;
    nb.due_from[other.value()] = sys(AccountKind::kDueFrom, other);
    nb.due_to[other.value()] = sys(AccountKind::kDueTo, other);
    const AccountId of = NewAccount(other, national_, AccountKind::kDueFrom, MemberId(), id,
                                    Amount::Zero(), Amount::Max());
    const AccountId ot = NewAccount(other, national_, AccountKind::kDueTo, MemberId(), id,
                                    Amount::Zero(), Amount::Max());
    banks_[i].due_from.resize(id.value() + 1);
    banks_[i].due_to.resize(id.value() + 1);
    banks_[i].due_from[id.value()] = of;
    banks_[i].due_to[id.value()] = ot;
  }
  banks_.back() = std::move(nb);
  undo_.push_back(Undo(UndoKind::kBank));
  return Finish(c.request, fp, id.value(), 0);
}

OpResult Ledger::CreateCurrency(const CreateCurrencyCmd& c) {
  const Fingerprint fp{Kind::kCreateCurrency,
                       {c.bank.value(), Fingerprint64(c.code), U(c.coverage_min_bp),
                        U(c.redemption_fee_bp), U(c.default_ceiling.minor())},
                       kCreateCurrencyFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (!ValidCode(c.code)) return Refuse(Outcome::kInvalidCode, "code");
  if (c.coverage_min_bp < 0 || c.coverage_min_bp > kCoverageBpMax) {
    return Refuse(Outcome::kInvalidBasisPoints, "coverage_min_bp");
  }
  if (c.redemption_fee_bp < 0 || c.redemption_fee_bp > kFeeBpMax) {
    return Refuse(Outcome::kInvalidBasisPoints, "redemption_fee_bp");
  }
  if (c.default_ceiling.negative()) return Refuse(Outcome::kInvalidLimit, "default_ceiling");
  if (FindBank(c.bank) == nullptr) return Refuse(Outcome::kBankNotFound, "bank");
  if (currency_codes_.contains(c.code)) return Refuse(Outcome::kCodeExists, "code");
  if (currencies_.size() >= kCurrenciesMax) return Refuse(Outcome::kLimitReached, "currencies");

  Currency cur;
  cur.id = CurrencyId(currencies_.size() + 1);
  cur.code = c.code;
  cur.kind = CurrencyKind::kGuaranteed;
  cur.scale = currencies_[national_.value() - 1].scale;
  cur.issuer = c.bank;
  cur.policy.coverage_min_bp = c.coverage_min_bp;
  cur.policy.redemption_fee_bp = c.redemption_fee_bp;
  cur.policy.default_ceiling = c.default_ceiling;
  currencies_.push_back(cur);
  currency_codes_.emplace(cur.code, cur.id);
  banks_[c.bank.value() - 1].issued.push_back(cur.id);
  undo_.push_back(Undo(UndoKind::kCurrency));
  journal::EncodeCurrency(batch_bytes_, cur);
  PushEvent();
  const auto sys = [&](AccountKind k) {
    return NewAccount(c.bank, cur.id, k, MemberId(), BankId(), Amount::Zero(), Amount::Max());
  };
  const AccountId issuance = sys(AccountKind::kIssuance);
  const AccountId card_float = sys(AccountKind::kCardFloat);
  const AccountId card_losses = sys(AccountKind::kCardLosses);
  const AccountId suspense = sys(AccountKind::kSuspense);
  Currency& stored = currencies_.back();
  stored.issuance = issuance;
  stored.card_float = card_float;
  stored.card_losses = card_losses;
  stored.suspense = suspense;
  return Finish(c.request, fp, cur.id.value(), 0);
}

OpResult Ledger::CreateCircle(const CreateCircleCmd& c) {
  const Fingerprint fp{Kind::kCreateCircle,
                       {c.bank.value(), Fingerprint64(c.code), Fingerprint64(c.name), U(c.scale),
                        U(c.default_credit_limit.minor()), U(c.default_ceiling.minor())},
                       kCreateCircleFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (!ValidCode(c.code)) return Refuse(Outcome::kInvalidCode, "code");
  if (!ValidName(c.name)) return Refuse(Outcome::kInvalidName, "name");
  if (!IsValidScale(c.scale)) return Refuse(Outcome::kInvalidScale, "scale");
  if (c.default_credit_limit.negative()) {
    return Refuse(Outcome::kInvalidLimit, "default_credit_limit");
  }
  if (c.default_ceiling.negative()) return Refuse(Outcome::kInvalidLimit, "default_ceiling");
  if (FindBank(c.bank) == nullptr) return Refuse(Outcome::kBankNotFound, "bank");
  if (currency_codes_.contains(c.code)) return Refuse(Outcome::kCodeExists, "code");
  if (currencies_.size() >= kCurrenciesMax || circles_.size() >= kCirclesMax) {
    return Refuse(Outcome::kLimitReached, "circles");
  }

  Circle circle;
  circle.id = CircleId(circles_.size() + 1);
  circle.bank = c.bank;
  circle.code = c.code;
  circle.name = c.name;
  circle.currency = CurrencyId(currencies_.size() + 1);
  Currency cur;
  cur.id = circle.currency;
  cur.code = c.code;
  cur.kind = CurrencyKind::kMutualCredit;
  cur.scale = c.scale;
  cur.issuer = c.bank;
  cur.circle = circle.id;
  cur.policy.coverage_min_bp = 0;
  cur.policy.redemption_fee_bp = 0;
  cur.policy.default_credit_limit = c.default_credit_limit;
  cur.policy.default_ceiling = c.default_ceiling;
  circles_.push_back(circle);
  undo_.push_back(Undo(UndoKind::kCircle));
  currencies_.push_back(cur);
  currency_codes_.emplace(cur.code, cur.id);
  undo_.push_back(Undo(UndoKind::kCurrency));
  journal::EncodeCurrency(batch_bytes_, cur);
  PushEvent();
  journal::EncodeCircle(batch_bytes_, circle);
  PushEvent();
  return Finish(c.request, fp, circle.id.value(), 0);
}

OpResult Ledger::CreateMember(const CreateMemberCmd& c) {
  const Fingerprint fp{Kind::kCreateMember, {c.bank.value(), Fingerprint64(c.name)},
                       kCreateMemberFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (!ValidName(c.name)) return Refuse(Outcome::kInvalidName, "name");
  if (FindBank(c.bank) == nullptr) return Refuse(Outcome::kBankNotFound, "bank");
  if (members_.size() >= kMembersMax) return Refuse(Outcome::kLimitReached, "members");
  Member m{MemberId(members_.size() + 1), c.bank, c.name};
  members_.push_back(m);
  undo_.push_back(Undo(UndoKind::kMember));
  journal::EncodeMember(batch_bytes_, m);
  PushEvent();
  return Finish(c.request, fp, m.id.value(), 0);
}

OpResult Ledger::AddCircleMember(const AddCircleMemberCmd& c) {
  const Fingerprint fp{Kind::kAddCircleMember,
                       {c.circle.value(), c.member.value(), c.admin ? 1u : 0u},
                       kAddCircleMemberFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  const Circle* circle = FindCircle(c.circle);
  if (circle == nullptr) return Refuse(Outcome::kCircleNotFound, "circle");
  const Member* member = FindMember(c.member);
  if (member == nullptr) return Refuse(Outcome::kMemberNotFound, "member");
  if (member->bank != circle->bank) return Refuse(Outcome::kMemberOfOtherBank, "member");
  if (IsCircleMember(c.circle, c.member)) return Refuse(Outcome::kAlreadyInCircle, "member");
  Circle& mc = circles_[c.circle.value() - 1];
  mc.members.insert(std::upper_bound(mc.members.begin(), mc.members.end(), c.member), c.member);
  if (c.admin) {
    mc.admins.insert(std::upper_bound(mc.admins.begin(), mc.admins.end(), c.member), c.member);
  }
  Undo u(UndoKind::kCircleMember);
  u.a = c.circle.value();
  u.b = c.member.value();
  undo_.push_back(u);
  journal::EncodeCircleMember(batch_bytes_, c.circle, c.member, c.admin);
  PushEvent();
  return Finish(c.request, fp, c.circle.value(), 0);
}

OpResult Ledger::OpenAccount(const OpenAccountCmd& c) {
  const Fingerprint fp{Kind::kOpenAccount,
                       {c.owner.value(), c.currency.value(), static_cast<uint64_t>(c.kind)},
                       kOpenAccountFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (!IsMemberKind(c.kind)) return Refuse(Outcome::kInvalidKind, "kind");
  const Member* m = FindMember(c.owner);
  if (m == nullptr) return Refuse(Outcome::kMemberNotFound, "owner");
  const Currency* cur = FindCurrency(c.currency);
  if (cur == nullptr) return Refuse(Outcome::kCurrencyNotFound, "currency");
  if (cur->kind == CurrencyKind::kNational) return Refuse(Outcome::kWrongCurrencyKind, "currency");
  if (cur->kind == CurrencyKind::kGuaranteed && cur->issuer != m->bank) {
    return Refuse(Outcome::kMemberOfOtherBank, "currency");
  }
  if (cur->kind == CurrencyKind::kMutualCredit && !IsCircleMember(cur->circle, c.owner)) {
    return Refuse(Outcome::kNotInCircle, "owner");
  }
  if (accounts_.size() >= kAccountsMax) return Refuse(Outcome::kLimitReached, "accounts");
  const Amount limit = cur->kind == CurrencyKind::kMutualCredit ? cur->policy.default_credit_limit
                                                                 : Amount::Zero();
  const AccountId id =
      NewAccount(cur->issuer, cur->id, c.kind, c.owner, BankId(), limit, cur->policy.default_ceiling);
  return Finish(c.request, fp, id.value(), 0);
}

// ---- Money -----------------------------------------------------------------------------

OpResult Ledger::Pay(const PayCmd& c) {
  const Fingerprint fp{Kind::kPay,
                       {c.from.value(), c.to.value(), U(c.amount.minor()), Fingerprint64(c.memo)},
                       kPayFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!c.amount.positive()) return Refuse(Outcome::kAmountNotPositive, "amount");
  if (Outcome o = CheckMemo(c.memo); o != Outcome::kOk) return Refuse(o, "memo");
  const Account* from = FindAccount(c.from);
  if (from == nullptr) return Refuse(Outcome::kDebitAccountNotFound, "from");
  const Account* to = FindAccount(c.to);
  if (to == nullptr) return Refuse(Outcome::kCreditAccountNotFound, "to");
  if (c.from == c.to) return Refuse(Outcome::kSameAccount, "to");
  if (!IsMemberKind(from->kind)) return Refuse(Outcome::kWrongAccountKind, "from");
  if (!IsMemberKind(to->kind)) return Refuse(Outcome::kWrongAccountKind, "to");
  const Currency& cf = currencies_[from->currency.value() - 1];
  const Currency& ct = currencies_[to->currency.value() - 1];

  Leg legs[3];
  size_t n = 0;
  BankId banks[2];
  size_t nb = 0;
  if (cf.id == ct.id) {
    if (cf.kind == CurrencyKind::kMutualCredit &&
        (!IsCircleMember(cf.circle, from->owner) || !IsCircleMember(cf.circle, to->owner))) {
      return Refuse(Outcome::kNotInCircle, "to");
    }
    legs[n++] = {c.from, c.to, c.amount, TransferCode::kPayment};
  } else {
    // Mutual credit never leaves its circle (invariant 4); guaranteed currencies trade 1:1.
    if (cf.kind == CurrencyKind::kMutualCredit || ct.kind == CurrencyKind::kMutualCredit) {
      return Refuse(Outcome::kNotInCircle, "to");
    }
    n = BridgeLegs(cf, ct, c.from, c.to, c.amount, TransferCode::kPayment, legs, banks, &nb);
  }
  return CommitGroup(c.request, fp, std::span(legs, n), c.memo, std::span(banks, nb));
}

size_t Ledger::BridgeLegs(const Currency& cf, const Currency& ct, AccountId from, AccountId to,
                          Amount amount, TransferCode code, Leg* legs, BankId* banks,
                          size_t* nb) const {
  *nb = 0;
  if (cf.id == ct.id) {
    legs[0] = {from, to, amount, code};
    return 1;
  }
  size_t n = 0;
  legs[n++] = {from, cf.issuance, amount, code};
  legs[n++] = {ct.issuance, to, amount, code};
  banks[(*nb)++] = cf.issuer;
  if (cf.issuer != ct.issuer) {
    const Bank& a = banks_[cf.issuer.value() - 1];
    const Bank& b = banks_[ct.issuer.value() - 1];
    legs[n++] = {a.due_to[b.id.value()], b.due_from[a.id.value()], amount,
                 TransferCode::kInterbank};
    banks[(*nb)++] = ct.issuer;
  }
  return n;
}

Outcome Ledger::CheckMemberGuaranteed(const AccountAmountCmd& c, const char** detail) const {
  *detail = "amount";
  if (!c.amount.positive()) return Outcome::kAmountNotPositive;
  *detail = "memo";
  if (Outcome o = CheckMemo(c.memo); o != Outcome::kOk) return o;
  *detail = "account";
  const Account* a = FindAccount(c.account);
  if (a == nullptr) return Outcome::kAccountNotFound;
  if (!IsMemberKind(a->kind)) return Outcome::kWrongAccountKind;
  if (currencies_[a->currency.value() - 1].kind != CurrencyKind::kGuaranteed) {
    return Outcome::kWrongCurrencyKind;
  }
  *detail = "";
  return Outcome::kOk;
}

OpResult Ledger::Issue(const AccountAmountCmd& c) {
  const Fingerprint fp{Kind::kIssue,
                       {c.account.value(), U(c.amount.minor()), Fingerprint64(c.memo)},
                       kAccountAmountFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  const char* detail = "";
  if (Outcome o = CheckMemberGuaranteed(c, &detail); o != Outcome::kOk) return Refuse(o, detail);
  const Account& a = acct(c.account);
  const Currency& cur = currencies_[a.currency.value() - 1];
  const Bank& b = banks_[cur.issuer.value() - 1];
  const Leg legs[] = {{b.vault, b.reserve, c.amount, TransferCode::kIssue},
                      {cur.issuance, c.account, c.amount, TransferCode::kIssue}};
  const BankId banks[] = {cur.issuer};
  return CommitGroup(c.request, fp, legs, c.memo, banks);
}

OpResult Ledger::Redeem(const AccountAmountCmd& c) {
  const Fingerprint fp{Kind::kRedeem,
                       {c.account.value(), U(c.amount.minor()), Fingerprint64(c.memo)},
                       kAccountAmountFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  const char* detail = "";
  if (Outcome o = CheckMemberGuaranteed(c, &detail); o != Outcome::kOk) return Refuse(o, detail);
  const Account& a = acct(c.account);
  const Currency& cur = currencies_[a.currency.value() - 1];
  const Bank& b = banks_[cur.issuer.value() - 1];
  const Amount fee = c.amount.FeeFloor(cur.policy.redemption_fee_bp);
  const Amount paid(c.amount.minor() - fee.minor());
  Leg legs[3];
  size_t n = 0;
  legs[n++] = {c.account, cur.issuance, c.amount, TransferCode::kRedeem};
  if (paid.positive()) legs[n++] = {b.reserve, b.vault, paid, TransferCode::kRedeem};
  if (fee.positive()) legs[n++] = {b.reserve, b.fees, fee, TransferCode::kFee};
  const BankId banks[] = {cur.issuer};
  return CommitGroup(c.request, fp, std::span(legs, n), c.memo, banks);
}

OpResult Ledger::Distribute(const AccountAmountCmd& c) {
  const Fingerprint fp{Kind::kDistribute,
                       {c.account.value(), U(c.amount.minor()), Fingerprint64(c.memo)},
                       kAccountAmountFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  const char* detail = "";
  if (Outcome o = CheckMemberGuaranteed(c, &detail); o != Outcome::kOk) return Refuse(o, detail);
  const Account& a = acct(c.account);
  const Currency& cur = currencies_[a.currency.value() - 1];
  const Leg legs[] = {{cur.issuance, c.account, c.amount, TransferCode::kDistribute}};
  const BankId banks[] = {cur.issuer};
  return CommitGroup(c.request, fp, legs, c.memo, banks);
}

OpResult Ledger::FundReserve(const FundReserveCmd& c) {
  const Fingerprint fp{Kind::kFundReserve,
                       {c.bank.value(), U(c.amount.minor()), static_cast<uint64_t>(c.source),
                        Fingerprint64(c.memo)},
                       kFundReserveFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!c.amount.positive()) return Refuse(Outcome::kAmountNotPositive, "amount");
  if (Outcome o = CheckMemo(c.memo); o != Outcome::kOk) return Refuse(o, "memo");
  if (c.source != FundSource::kVault && c.source != FundSource::kFees) {
    return Refuse(Outcome::kInvalidKind, "source");
  }
  const Bank* b = FindBank(c.bank);
  if (b == nullptr) return Refuse(Outcome::kBankNotFound, "bank");
  const AccountId from = c.source == FundSource::kVault ? b->vault : b->fees;
  const Leg legs[] = {{from, b->reserve, c.amount, TransferCode::kFundReserve}};
  const BankId banks[] = {c.bank};
  return CommitGroup(c.request, fp, legs, c.memo, banks);
}

// ---- Account administration ------------------------------------------------------------

OpResult Ledger::SetAccountStatus(const SetAccountStatusCmd& c) {
  const Fingerprint fp{Kind::kSetAccountStatus,
                       {c.account.value(), static_cast<uint64_t>(c.status),
                        Fingerprint64(c.actor), Fingerprint64(c.reason)},
                       kSetStatusFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (static_cast<uint8_t>(c.status) > static_cast<uint8_t>(AccountStatus::kClosed)) {
    return Refuse(Outcome::kInvalidKind, "status");
  }
  if (!ValidName(c.actor)) return Refuse(Outcome::kInvalidName, "actor");
  if (!ValidReason(c.reason)) return Refuse(Outcome::kInvalidReason, "reason");
  const Account* a = FindAccount(c.account);
  if (a == nullptr) return Refuse(Outcome::kAccountNotFound, "account");
  if (!IsMemberKind(a->kind)) return Refuse(Outcome::kWrongAccountKind, "account");
  if (a->status == AccountStatus::kClosed) return Refuse(Outcome::kAccountClosed, "account");
  if (c.status == AccountStatus::kClosed && !a->balance.zero()) {
    return Refuse(Outcome::kAccountNotEmpty, "account");
  }
  undo_.push_back(MetaUndo(*a));
  acct(c.account).status = c.status;
  journal::EncodeAccountStatus(batch_bytes_, c.account, c.status, c.actor, c.reason);
  PushEvent();
  Touch(c.account);
  return Finish(c.request, fp, c.account.value(), 0);
}

OpResult Ledger::SetAccountLimits(const SetAccountLimitsCmd& c) {
  const Fingerprint fp{Kind::kSetAccountLimits,
                       {c.account.value(), U(c.credit_limit.minor()), U(c.ceiling.minor()),
                        Fingerprint64(c.actor), Fingerprint64(c.reason)},
                       kSetLimitsFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (c.credit_limit.negative()) return Refuse(Outcome::kInvalidLimit, "credit_limit");
  if (c.ceiling.negative()) return Refuse(Outcome::kInvalidLimit, "ceiling");
  if (!ValidName(c.actor)) return Refuse(Outcome::kInvalidName, "actor");
  if (!ValidReason(c.reason)) return Refuse(Outcome::kInvalidReason, "reason");
  const Account* a = FindAccount(c.account);
  if (a == nullptr) return Refuse(Outcome::kAccountNotFound, "account");
  if (!IsMemberKind(a->kind)) return Refuse(Outcome::kWrongAccountKind, "account");
  if (a->status == AccountStatus::kClosed) return Refuse(Outcome::kAccountClosed, "account");
  if (currencies_[a->currency.value() - 1].kind == CurrencyKind::kGuaranteed &&
      !c.credit_limit.zero()) {
    // Guaranteed currency is fully backed: members can never owe it.
    return Refuse(Outcome::kWrongCurrencyKind, "credit_limit");
  }
  // A new limit may not leave the account already in breach (invariant 2).
  if (a->balance.minor() < -c.credit_limit.minor()) {
    return Refuse(Outcome::kExceedsCreditLimit, "credit_limit");
  }
  if (a->balance > c.ceiling) return Refuse(Outcome::kExceedsCeiling, "ceiling");
  undo_.push_back(MetaUndo(*a));
  Account& m = acct(c.account);
  m.credit_limit = c.credit_limit;
  m.ceiling = c.ceiling;
  journal::EncodeAccountLimits(batch_bytes_, c.account, c.credit_limit, c.ceiling, c.actor,
                               c.reason);
  PushEvent();
  Touch(c.account);
  return Finish(c.request, fp, c.account.value(), 0);
}

// ---- Clearing --------------------------------------------------------------------------

std::vector<Obligation> Ledger::OpenObligations() const {
  std::vector<Obligation> out;
  for (const Bank& creditor : banks_) {
    for (size_t d = 1; d < creditor.due_from.size(); ++d) {
      if (!creditor.due_from[d].valid()) continue;
      const Amount bal = acct(creditor.due_from[d]).balance;
      if (bal.positive()) out.push_back({BankId(d), creditor.id, bal});
    }
  }
  std::sort(out.begin(), out.end(), [](const Obligation& x, const Obligation& y) {
    return std::pair(x.debtor, x.creditor) < std::pair(y.debtor, y.creditor);
  });
  return out;
}

OpResult Ledger::RunCycle(const RunCycleCmd& c, CycleReport* report) {
  const Fingerprint fp{Kind::kRunCycle, {}, kNoFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) {
    if (r->outcome == Outcome::kExists && report != nullptr) *report = cycles_[r->id - 1];
    return *r;
  }
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  CycleReport rep;
  rep.request = c.request;
  rep.timestamp_ns = batch_timestamp_ns_;
  rep.obligations = OpenObligations();
  Result<NettingPlan> plan = ComputeNetting(rep.obligations);
  if (!plan.ok()) return Refuse(Outcome::kBalanceOverflow, "obligations");
  rep.plan = std::move(plan).value();

  for (const NetPosition& p : rep.plan.positions) {
    if (p.net.negative() && acct(banks_[p.bank.value() - 1].reserve).balance.minor() < -p.net.minor()) {
      rep.short_debtors.push_back(p.bank);
    }
  }
  if (!rep.short_debtors.empty()) {
    if (report != nullptr) *report = std::move(rep);
    return Refuse(Outcome::kSettlementShort, "reserve");
  }

  std::vector<Leg> legs;
  legs.reserve(rep.plan.instructions.size() + rep.obligations.size());
  for (const SettlementInstruction& s : rep.plan.instructions) {
    legs.push_back({banks_[s.from.value() - 1].reserve, banks_[s.to.value() - 1].reserve, s.amount,
                    TransferCode::kSettlement});
  }
  for (const Obligation& o : rep.obligations) {
    const Bank& creditor = banks_[o.creditor.value() - 1];
    const Bank& debtor = banks_[o.debtor.value() - 1];
    legs.push_back({creditor.due_from[o.debtor.value()], debtor.due_to[o.creditor.value()],
                    o.amount, TransferCode::kSettlement});
  }
  std::vector<std::pair<BankId, Int128>> before;
  for (const NetPosition& p : rep.plan.positions) before.push_back({p.bank, Margin(p.bank)});
  const char* detail = "";
  if (Outcome o = PostGroup(c.request, legs, "clearing cycle", &detail); o != Outcome::kOk) {
    return Refuse(o, detail);
  }
  // Settlement moves a bank's net position into its reserve: coverage cannot change.
  for (const auto& [bank, margin] : before) AYNI_CHECK(Margin(bank) == margin);

  rep.number = cycles_.size() + 1;
  journal::EncodeCycle(batch_bytes_, c.request, rep.number, rep.plan.gross_total,
                       rep.plan.settled_total, static_cast<uint32_t>(legs.size()));
  PushEvent();
  cycles_.push_back(rep);
  undo_.push_back(Undo(UndoKind::kCycle));
  if (report != nullptr) *report = rep;
  return Finish(c.request, fp, rep.number, static_cast<uint32_t>(legs.size()));
}

// ---- Microcredit -----------------------------------------------------------------------

std::vector<MemberId> Ledger::Borrowers(MemberId member, SolidarityGroupId group) const {
  if (group.valid()) return groups_[group.value() - 1].members;
  return {member};
}

void Ledger::IndexLoan(const Loan& loan) {
  for (MemberId m : Borrowers(loan.member, loan.group)) member_loans_[m].push_back(loan.id);
}

void Ledger::UnindexLoan(const Loan& loan) {
  for (MemberId m : Borrowers(loan.member, loan.group)) {
    auto it = member_loans_.find(m);
    AYNI_CHECK(it != member_loans_.end() && !it->second.empty() && it->second.back() == loan.id);
    it->second.pop_back();
    if (it->second.empty()) member_loans_.erase(it);
  }
}

// Any loan any of `members` is liable for (its own, or a group's it belongs to) is past
// due or written off at the batch's time.
bool Ledger::AnyBlocks(std::span<const MemberId> members) const {
  for (MemberId m : members) {
    const auto it = member_loans_.find(m);
    if (it == member_loans_.end()) continue;
    for (LoanId id : it->second) {
      if (BlocksNewLoans(loans_[id.value() - 1], batch_timestamp_ns_)) return true;
    }
  }
  return false;
}

Outcome Ledger::CheckBorrowerAccount(const LoanProduct& p, std::span<const MemberId> borrowers,
                                     AccountId account, const char** detail) const {
  *detail = "account";
  if (p.currency == national_) {
    // Cash at the teller: a national-money loan names no member account.
    return account.valid() ? Outcome::kWrongAccountKind : Outcome::kOk;
  }
  const Account* a = FindAccount(account);
  if (a == nullptr) return Outcome::kAccountNotFound;
  if (!IsMemberKind(a->kind)) return Outcome::kWrongAccountKind;
  if (a->currency != p.currency) return Outcome::kWrongCurrencyKind;
  if (std::find(borrowers.begin(), borrowers.end(), a->owner) == borrowers.end()) {
    return Outcome::kNotBorrower;
  }
  *detail = "";
  return Outcome::kOk;
}

OpResult Ledger::CreateLoanProduct(const CreateLoanProductCmd& c) {
  const Fingerprint fp{
      Kind::kCreateLoanProduct,
      {c.bank.value(), Fingerprint64(c.name), c.currency.value(), U(c.max_principal.minor()),
       Pack(c.monthly_rate_bp, c.instalments), Pack(c.period_days, c.grace_days)},
      kLoanProductFields,
      kLoanProductPacked,
      kLoanProductHalves};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (!ValidName(c.name)) return Refuse(Outcome::kInvalidName, "name");
  if (!c.max_principal.positive()) return Refuse(Outcome::kAmountNotPositive, "max_principal");
  if (c.monthly_rate_bp < 0 || c.monthly_rate_bp > kLoanMonthlyRateBpMax) {
    return Refuse(Outcome::kInvalidBasisPoints, "monthly_rate_bp");
  }
  if (c.instalments < 1 || c.instalments > kLoanInstalmentsMax) {
    return Refuse(Outcome::kInvalidTerms, "instalments");
  }
  if (c.period_days < kLoanPeriodDaysMin || c.period_days > kLoanPeriodDaysMax) {
    return Refuse(Outcome::kInvalidTerms, "period_days");
  }
  if (c.grace_days < 0 || c.grace_days > kLoanGraceDaysMax) {
    return Refuse(Outcome::kInvalidTerms, "grace_days");
  }
  if (FindBank(c.bank) == nullptr) return Refuse(Outcome::kBankNotFound, "bank");
  const Currency* cur = FindCurrency(c.currency);
  if (cur == nullptr) return Refuse(Outcome::kCurrencyNotFound, "currency");
  // National money, or the bank's own guaranteed currency: only those are backed by this
  // bank's reserve, which is also its microcredit fund.
  const bool own_guaranteed = cur->kind == CurrencyKind::kGuaranteed && cur->issuer == c.bank;
  if (cur->kind != CurrencyKind::kNational && !own_guaranteed) {
    return Refuse(Outcome::kWrongCurrencyKind, "currency");
  }
  if (products_.size() >= kLoanProductsMax) return Refuse(Outcome::kLimitReached, "products");
  LoanProduct p;
  p.id = LoanProductId(products_.size() + 1);
  p.bank = c.bank;
  p.name = c.name;
  p.currency = c.currency;
  p.max_principal = c.max_principal;
  p.monthly_rate_bp = c.monthly_rate_bp;
  p.instalments = c.instalments;
  p.period_days = c.period_days;
  p.grace_days = c.grace_days;
  products_.push_back(p);
  undo_.push_back(Undo(UndoKind::kLoanProduct));
  journal::EncodeLoanProduct(batch_bytes_, p);
  PushEvent();
  return Finish(c.request, fp, p.id.value(), 0);
}

OpResult Ledger::CreateSolidarityGroup(const CreateSolidarityGroupCmd& c) {
  const Fingerprint fp{
      Kind::kCreateSolidarityGroup,
      {c.bank.value(), Fingerprint64(c.name), MembersDigest(c.members), MembersDigest(c.liable)},
      kGroupFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (!ValidName(c.name)) return Refuse(Outcome::kInvalidName, "name");
  if (c.members.size() < kGroupMembersMin || c.members.size() > kGroupMembersMax) {
    return Refuse(Outcome::kInvalidGroup, "members");
  }
  std::vector<MemberId> members = c.members;
  std::sort(members.begin(), members.end());
  if (std::adjacent_find(members.begin(), members.end()) != members.end()) {
    return Refuse(Outcome::kInvalidGroup, "members");
  }
  std::vector<MemberId> liable = c.liable;
  std::sort(liable.begin(), liable.end());
  if (liable.size() < kGroupLiableMin ||
      std::adjacent_find(liable.begin(), liable.end()) != liable.end() ||
      !std::includes(members.begin(), members.end(), liable.begin(), liable.end())) {
    return Refuse(Outcome::kInvalidGroup, "liable");
  }
  if (FindBank(c.bank) == nullptr) return Refuse(Outcome::kBankNotFound, "bank");
  for (MemberId m : members) {
    const Member* mm = FindMember(m);
    if (mm == nullptr) return Refuse(Outcome::kMemberNotFound, "members");
    if (mm->bank != c.bank) return Refuse(Outcome::kMemberOfOtherBank, "members");
  }
  if (groups_.size() >= kGroupsMax) return Refuse(Outcome::kLimitReached, "groups");
  SolidarityGroup g;
  g.id = SolidarityGroupId(groups_.size() + 1);
  g.bank = c.bank;
  g.name = c.name;
  g.members = std::move(members);
  g.liable = std::move(liable);
  groups_.push_back(g);
  undo_.push_back(Undo(UndoKind::kGroup));
  journal::EncodeGroup(batch_bytes_, g);
  PushEvent();
  return Finish(c.request, fp, g.id.value(), 0);
}

OpResult Ledger::DisburseLoan(const DisburseLoanCmd& c) {
  const Fingerprint fp{Kind::kDisburseLoan,
                       {c.product.value(), c.member.value(), c.group.value(),
                        U(c.principal.minor()), c.account.value(), Fingerprint64(c.memo)},
                       kDisburseFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (!c.principal.positive()) return Refuse(Outcome::kAmountNotPositive, "principal");
  if (Outcome o = CheckMemo(c.memo); o != Outcome::kOk) return Refuse(o, "memo");
  if (c.member.valid() == c.group.valid()) return Refuse(Outcome::kInvalidKind, "borrower");
  const LoanProduct* p = FindLoanProduct(c.product);
  if (p == nullptr) return Refuse(Outcome::kLoanProductNotFound, "product");
  const char* who = c.member.valid() ? "member" : "group";
  if (c.member.valid()) {
    const Member* m = FindMember(c.member);
    if (m == nullptr) return Refuse(Outcome::kMemberNotFound, "member");
    if (m->bank != p->bank) return Refuse(Outcome::kMemberOfOtherBank, "member");
  } else {
    const SolidarityGroup* g = FindGroup(c.group);
    if (g == nullptr) return Refuse(Outcome::kGroupNotFound, "group");
    if (g->bank != p->bank) return Refuse(Outcome::kMemberOfOtherBank, "group");
  }
  if (c.principal > p->max_principal) return Refuse(Outcome::kPrincipalAboveMax, "principal");
  const std::vector<MemberId> borrowers = Borrowers(c.member, c.group);
  const char* detail = "";
  if (Outcome o = CheckBorrowerAccount(*p, borrowers, c.account, &detail); o != Outcome::kOk) {
    return Refuse(o, detail);
  }
  if (AnyBlocks(borrowers)) return Refuse(Outcome::kBorrowerInArrears, who);
  std::optional<std::vector<Instalment>> schedule =
      BuildSchedule(c.principal, *p, batch_timestamp_ns_);
  if (!schedule) return Refuse(Outcome::kBalanceOverflow, "principal");
  if (loans_.size() >= kLoansMax) return Refuse(Outcome::kLimitReached, "loans");

  const Bank& b = banks_[p->bank.value() - 1];
  Leg leg;
  if (p->currency == national_) {
    leg = {b.reserve, b.loans, c.principal, TransferCode::kLoanDisburse};
  } else {
    leg = {currencies_[p->currency.value() - 1].issuance, c.account, c.principal,
           TransferCode::kLoanDisburse};
  }
  const BankId banks[] = {p->bank};
  if (Outcome o = PostCovered(c.request, std::span(&leg, 1), c.memo, banks, &detail);
      o != Outcome::kOk) {
    return Refuse(o, detail);
  }
  Loan loan;
  loan.id = LoanId(loans_.size() + 1);
  loan.request = c.request;
  loan.product = p->id;
  loan.bank = p->bank;
  loan.currency = p->currency;
  loan.member = c.member;
  loan.group = c.group;
  loan.account = c.account;
  loan.principal = c.principal;
  loan.monthly_rate_bp = p->monthly_rate_bp;
  loan.disbursed_ns = batch_timestamp_ns_;
  loan.schedule = std::move(*schedule);
  journal::EncodeLoan(batch_bytes_, loan);
  PushEvent();
  loans_.push_back(std::move(loan));
  IndexLoan(loans_.back());
  undo_.push_back(Undo(UndoKind::kLoan));
  return Finish(c.request, fp, loans_.back().id.value(), 1);
}

OpResult Ledger::RepayLoan(const RepayLoanCmd& c) {
  const Fingerprint fp{
      Kind::kRepayLoan,
      {c.loan.value(), U(c.amount.minor()), c.account.value(), Fingerprint64(c.memo)},
      kRepayFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (!c.amount.positive()) return Refuse(Outcome::kAmountNotPositive, "amount");
  if (Outcome o = CheckMemo(c.memo); o != Outcome::kOk) return Refuse(o, "memo");
  const Loan* found = FindLoan(c.loan);
  if (found == nullptr) return Refuse(Outcome::kLoanNotFound, "loan");
  const Loan& loan = *found;
  if (loan.status != LoanStatus::kActive) return Refuse(Outcome::kLoanNotActive, "loan");
  const LoanProduct& p = products_[loan.product.value() - 1];
  const char* detail = "";
  if (Outcome o = CheckBorrowerAccount(p, Borrowers(loan.member, loan.group), c.account, &detail);
      o != Outcome::kOk) {
    return Refuse(o, detail);
  }
  const Amount payable = InterestPayable(loan, batch_timestamp_ns_);
  // payable + outstanding fits: BuildSchedule checked principal + all interest does.
  if (c.amount.minor() > payable.minor() + loan.outstanding().minor()) {
    return Refuse(Outcome::kOverpayment, "amount");
  }
  const Amount interest = std::min(c.amount, payable);
  const Amount principal(c.amount.minor() - interest.minor());

  const Bank& b = banks_[loan.bank.value() - 1];
  Leg legs[3];
  size_t n = 0;
  if (loan.currency == national_) {
    if (interest.positive()) legs[n++] = {b.vault, b.fees, interest, TransferCode::kLoanInterest};
    if (principal.positive()) legs[n++] = {b.loans, b.reserve, principal, TransferCode::kLoanRepay};
  } else {
    const AccountId issuance = currencies_[loan.currency.value() - 1].issuance;
    if (interest.positive()) {
      legs[n++] = {c.account, issuance, interest, TransferCode::kLoanInterest};
      legs[n++] = {b.reserve, b.fees, interest, TransferCode::kLoanInterest};
    }
    if (principal.positive())
      legs[n++] = {c.account, issuance, principal, TransferCode::kLoanRepay};
  }
  const BankId banks[] = {loan.bank};
  if (Outcome o = PostCovered(c.request, std::span(legs, n), c.memo, banks, &detail);
      o != Outcome::kOk) {
    return Refuse(o, detail);
  }
  Loan& l = loans_[c.loan.value() - 1];
  Undo u(UndoKind::kLoanState);
  u.a = l.id.value();
  u.b = 1;
  u.old_limit = l.principal_repaid;
  u.old_ceiling = l.interest_paid;
  undo_.push_back(u);
  l.repayments.push_back({batch_timestamp_ns_, interest, principal});
  l.interest_paid = Amount(l.interest_paid.minor() + interest.minor());
  l.principal_repaid = Amount(l.principal_repaid.minor() + principal.minor());
  if (l.outstanding().zero()) l.status = LoanStatus::kRepaid;
  journal::EncodeLoanRepaid(batch_bytes_, l.id, interest, principal, l.status);
  PushEvent();
  return Finish(c.request, fp, l.id.value(), static_cast<uint32_t>(n));
}

OpResult Ledger::WriteOffLoan(const WriteOffLoanCmd& c) {
  const Fingerprint fp{Kind::kWriteOffLoan,
                       {c.loan.value(), Fingerprint64(c.actor), Fingerprint64(c.reason)},
                       kWriteOffFields};
  if (Outcome o = Precheck(c.request); o != Outcome::kOk) return Refuse(o);
  if (auto r = CheckRequest(c.request, fp)) return *r;
  if (!national_.valid()) return Refuse(Outcome::kNoDeployment);
  if (!ValidName(c.actor)) return Refuse(Outcome::kInvalidName, "actor");
  if (!ValidReason(c.reason)) return Refuse(Outcome::kInvalidReason, "reason");
  const Loan* found = FindLoan(c.loan);
  if (found == nullptr) return Refuse(Outcome::kLoanNotFound, "loan");
  if (found->status != LoanStatus::kActive) return Refuse(Outcome::kLoanNotActive, "loan");
  const Amount amount = found->outstanding();
  AYNI_CHECK(amount.positive());  // an active loan owes principal
  uint32_t legs = 0;
  if (found->currency == national_) {
    const Bank& b = banks_[found->bank.value() - 1];
    const Leg leg{b.loans, b.write_off, amount, TransferCode::kLoanWriteOff};
    const BankId banks[] = {found->bank};
    const char* detail = "";
    if (Outcome o = PostCovered(c.request, std::span(&leg, 1), "loan write-off", banks, &detail);
        o != Outcome::kOk) {
      return Refuse(o, detail);
    }
    legs = 1;
  }
  Loan& l = loans_[c.loan.value() - 1];
  Undo u(UndoKind::kLoanState);
  u.a = l.id.value();
  u.b = 0;
  u.old_limit = l.principal_repaid;
  u.old_ceiling = l.interest_paid;
  undo_.push_back(u);
  l.written_off = amount;
  l.status = LoanStatus::kWrittenOff;
  journal::EncodeLoanWrittenOff(batch_bytes_, l.id, amount, c.actor, c.reason);
  PushEvent();
  return Finish(c.request, fp, l.id.value(), legs);
}

// ---- Reads -----------------------------------------------------------------------------

const LoanProduct* Ledger::FindLoanProduct(LoanProductId id) const {
  return FindDense(products_, id);
}

const SolidarityGroup* Ledger::FindGroup(SolidarityGroupId id) const {
  return FindDense(groups_, id);
}

const Loan* Ledger::FindLoan(LoanId id) const { return FindDense(loans_, id); }

const Bank* Ledger::FindBank(BankId id) const { return FindDense(banks_, id); }

const Bank* Ledger::FindBankByCode(std::string_view code) const {
  const auto it = bank_codes_.find(std::string(code));
  return it == bank_codes_.end() ? nullptr : FindBank(it->second);
}

const Currency* Ledger::FindCurrency(CurrencyId id) const { return FindDense(currencies_, id); }

const Currency* Ledger::FindCurrencyByCode(std::string_view code) const {
  const auto it = currency_codes_.find(std::string(code));
  return it == currency_codes_.end() ? nullptr : FindCurrency(it->second);
}

const Circle* Ledger::FindCircle(CircleId id) const { return FindDense(circles_, id); }

const Member* Ledger::FindMember(MemberId id) const { return FindDense(members_, id); }

const Account* Ledger::FindAccount(AccountId id) const { return FindDense(accounts_, id); }

bool Ledger::IsCircleMember(CircleId circle, MemberId member) const {
  const Circle* c = FindCircle(circle);
  return c != nullptr && std::binary_search(c->members.begin(), c->members.end(), member);
}

Amount Ledger::Supply(CurrencyId guaranteed) const {
  const Currency* c = FindCurrency(guaranteed);
  AYNI_CHECK(c != nullptr && c->kind == CurrencyKind::kGuaranteed);
  return Amount(-acct(c->issuance).balance.minor());
}

Coverage Ledger::CoverageOf(BankId bank) const {
  const Bank* b = FindBank(bank);
  AYNI_CHECK(b != nullptr);
  Coverage cov;
  cov.bank = bank;
  cov.reserve = acct(b->reserve).balance;
  Int128 from = 0, to = 0;
  for (size_t i = 1; i < b->due_from.size(); ++i) {
    if (b->due_from[i].valid()) from += acct(b->due_from[i]).balance.minor();
    if (b->due_to[i].valid()) to += acct(b->due_to[i]).balance.minor();
  }
  // Each DUE balance is bounded by int64, and their sum by the gross obligations, which
  // were themselves checked sums of int64 transfers.
  cov.due_from = Amount(static_cast<int64_t>(from));
  cov.due_to = Amount(static_cast<int64_t>(to));
  cov.assets_scaled = (static_cast<Int128>(cov.reserve.minor()) + from + to) * 10000;
  for (CurrencyId cid : b->issued) {
    const Currency& c = currencies_[cid.value() - 1];
    const Amount supply(-acct(c.issuance).balance.minor());
    cov.currencies.push_back({cid, supply, c.policy.coverage_min_bp});
    cov.required_scaled += static_cast<Int128>(supply.minor()) * c.policy.coverage_min_bp;
  }
  return cov;
}

}  // namespace ayni
