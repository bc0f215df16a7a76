// Ledger::Restore: rebuild the whole ledger from its journal (journal.h, docs/journal.md).
//
// The chain and the balances are first verified by the independent replayer; then each
// event is applied to the ledger's tables without re-running any rule (the journal holds
// only what the rules accepted). Cycle reports are recomputed from the cycle's own
// reversal transfers, which are exactly its gross obligations.
#include <algorithm>
#include <optional>

#include "clearing/journal.h"
#include "clearing/journal_reader.h"
#include "clearing/ledger.h"

namespace ayni {

Status Ledger::Restore(std::span<const StoredBatch> batches) {
  if (national_.valid() || batch_open_ || sequence_ != 0) {
    return Status::FailedPrecondition("Restore needs a fresh ledger");
  }
  const Replay replay = ReplayJournal(batches);
  if (!replay.ok()) {
    const JournalFault& f = replay.faults.front();
    return Status::DataLoss(std::string("journal does not verify: ") +
                            JournalFaultKindName(f.kind) + " at batch " + std::to_string(f.batch) +
                            ": " + f.detail);
  }
  for (const StoredBatch& b : batches) {
    JournalReader header(b.bytes);
    header.U32(), header.U16(), header.U64();
    const uint64_t timestamp_ns = header.U64();
    if (!RestoreBatch(b.bytes, timestamp_ns)) {
      return Status::DataLoss("batch " + std::to_string(b.sequence) +
                              " verifies but does not rebuild (ids out of order)");
    }
    sequence_ = b.sequence;
    head_ = b.hash;
    last_timestamp_ns_ = timestamp_ns;
  }
  return Status::Ok();
}

void Ledger::RestoreAccount(const Account& a) {
  accounts_.push_back(a);
  touched_in_.push_back(0);
  auto grow = [](std::vector<AccountId>& v, uint64_t index) {
    if (v.size() <= index) v.resize(index + 1);
  };
  if (a.kind == AccountKind::kDueFrom || a.kind == AccountKind::kDueTo) {
    Bank& b = banks_[a.bank.value() - 1];
    auto& v = a.kind == AccountKind::kDueFrom ? b.due_from : b.due_to;
    grow(v, a.counterparty.value());
    v[a.counterparty.value()] = a.id;
    return;
  }
  if (IsMemberKind(a.kind)) return;
  Bank& b = banks_[a.bank.value() - 1];
  Currency& c = currencies_[a.currency.value() - 1];
  switch (a.kind) {
    case AccountKind::kVault:
      b.vault = a.id;
      break;
    case AccountKind::kReserve:
      b.reserve = a.id;
      break;
    case AccountKind::kLoans:
      b.loans = a.id;
      break;
    case AccountKind::kFees:
      b.fees = a.id;
      break;
    case AccountKind::kWriteOff:
      b.write_off = a.id;
      break;
    case AccountKind::kIssuance:
      c.issuance = a.id;
      break;
    case AccountKind::kCardFloat:
      c.card_float = a.id;
      break;
    case AccountKind::kCardLosses:
      c.card_losses = a.id;
      break;
    case AccountKind::kSuspense:
      c.suspense = a.id;
      break;
    default:
      break;
  }
}

bool Ledger::RestoreBatch(std::span<const uint8_t> bytes, uint64_t timestamp_ns) {
  JournalReader rd(bytes);
  rd.U32(), rd.U16(), rd.U64(), rd.U64();
  const uint32_t events = rd.U32();
  std::vector<Transfer> settlement;  // this batch's settlement legs, for cycle reports
  for (uint32_t e = 0; e < events && !rd.failed(); ++e) {
    const auto tag = static_cast<EventTag>(rd.U8());
    switch (tag) {
      case EventTag::kTransfer: {
        Transfer t;
        t.id = TransferId(rd.Wide());
        t.request = RequestId(rd.Wide());
        t.leg = rd.U32();
        t.debit = AccountId(rd.U64());
        t.credit = AccountId(rd.U64());
        t.currency = CurrencyId(rd.U64());
        t.amount = Amount(rd.I64());
        t.code = static_cast<TransferCode>(rd.U16());
        t.timestamp_ns = rd.U64();
        t.memo = rd.Str();
        if (rd.failed() || FindAccount(t.debit) == nullptr || FindAccount(t.credit) == nullptr) {
          return false;
        }
        // The replayer has already checked that these sums fit.
        Account& d = acct(t.debit);
        Account& c = acct(t.credit);
        d.balance = Amount(d.balance.minor() - t.amount.minor());
        d.debits_posted = Amount(d.debits_posted.minor() + t.amount.minor());
        c.balance = Amount(c.balance.minor() + t.amount.minor());
        c.credits_posted = Amount(c.credits_posted.minor() + t.amount.minor());
        if (d.kind == AccountKind::kDueFrom || d.kind == AccountKind::kDueTo) {
          bank_due_net_[d.bank.value() - 1] -= t.amount.minor();
        }
        if (c.kind == AccountKind::kDueFrom || c.kind == AccountKind::kDueTo) {
          bank_due_net_[c.bank.value() - 1] += t.amount.minor();
        }
        if (t.code == TransferCode::kSettlement) settlement.push_back(std::move(t));
        break;
      }
      case EventTag::kDeploymentCreated: {
        Currency cur;
        cur.id = CurrencyId(rd.U64());
        cur.code = rd.Str();
        cur.kind = CurrencyKind::kNational;
        cur.scale = rd.I64();
        if (cur.id.value() != currencies_.size() + 1) return false;
        currency_codes_.emplace(cur.code, cur.id);
        currencies_.push_back(cur);
        national_ = cur.id;
        break;
      }
      case EventTag::kBankCreated: {
        Bank b;
        b.id = BankId(rd.U64());
        b.code = rd.Str();
        b.name = rd.Str();
        if (b.id.value() != banks_.size() + 1) return false;
        bank_codes_.emplace(b.code, b.id);
        banks_.push_back(std::move(b));
        bank_due_net_.push_back(0);
        break;
      }
      case EventTag::kCurrencyCreated: {
        Currency c;
        c.id = CurrencyId(rd.U64());
        c.code = rd.Str();
        c.kind = static_cast<CurrencyKind>(rd.U8());
        c.scale = rd.I64();
        c.issuer = BankId(rd.U64());
        c.circle = CircleId(rd.U64());
        c.policy.coverage_min_bp = rd.I32();
        c.policy.redemption_fee_bp = rd.I32();
        c.policy.default_credit_limit = Amount(rd.I64());
        c.policy.default_ceiling = Amount(rd.I64());
        if (c.id.value() != currencies_.size() + 1 || FindBank(c.issuer) == nullptr) return false;
        if (c.kind == CurrencyKind::kGuaranteed)
          banks_[c.issuer.value() - 1].issued.push_back(c.id);
        currency_codes_.emplace(c.code, c.id);
        currencies_.push_back(std::move(c));
        break;
      }
      case EventTag::kCircleCreated: {
        Circle c;
        c.id = CircleId(rd.U64());
        c.bank = BankId(rd.U64());
        c.code = rd.Str();
        c.name = rd.Str();
        c.currency = CurrencyId(rd.U64());
        if (c.id.value() != circles_.size() + 1) return false;
        circles_.push_back(std::move(c));
        break;
      }
      case EventTag::kMemberCreated: {
        Member m;
        m.id = MemberId(rd.U64());
        m.bank = BankId(rd.U64());
        m.name = rd.Str();
        if (m.id.value() != members_.size() + 1) return false;
        members_.push_back(std::move(m));
        break;
      }
      case EventTag::kCircleMemberAdded: {
        const CircleId circle(rd.U64());
        const MemberId member(rd.U64());
        const bool admin = rd.U8() != 0;
        if (FindCircle(circle) == nullptr) return false;
        Circle& c = circles_[circle.value() - 1];
        c.members.insert(std::upper_bound(c.members.begin(), c.members.end(), member), member);
        if (admin)
          c.admins.insert(std::upper_bound(c.admins.begin(), c.admins.end(), member), member);
        break;
      }
      case EventTag::kAccountOpened: {
        Account a;
        a.id = AccountId(rd.U64());
        a.bank = BankId(rd.U64());
        a.currency = CurrencyId(rd.U64());
        a.kind = static_cast<AccountKind>(rd.U8());
        a.owner = MemberId(rd.U64());
        a.counterparty = BankId(rd.U64());
        a.credit_limit = Amount(rd.I64());
        a.ceiling = Amount(rd.I64());
        if (a.id.value() != accounts_.size() + 1 || FindBank(a.bank) == nullptr ||
            FindCurrency(a.currency) == nullptr) {
          return false;
        }
        RestoreAccount(a);
        break;
      }
      case EventTag::kAccountStatusChanged: {
        const AccountId id(rd.U64());
        const auto status = static_cast<AccountStatus>(rd.U8());
        rd.Str(), rd.Str();
        if (FindAccount(id) == nullptr) return false;
        acct(id).status = status;
        break;
      }
      case EventTag::kAccountLimitsChanged: {
        const AccountId id(rd.U64());
        const Amount limit(rd.I64());
        const Amount ceiling(rd.I64());
        rd.Str(), rd.Str();
        if (FindAccount(id) == nullptr) return false;
        acct(id).credit_limit = limit;
        acct(id).ceiling = ceiling;
        break;
      }
      case EventTag::kCycleSettled: {
        CycleReport rep;
        rep.request = RequestId(rd.Wide());
        rep.number = rd.U64();
        rd.I64(), rd.I64(), rd.U32();
        rep.timestamp_ns = timestamp_ns;
        if (rep.number != cycles_.size() + 1) return false;
        // A cycle's reversal legs (DUE_FROM → DUE_TO) are exactly its gross obligations.
        for (const Transfer& t : settlement) {
          const Account& d = acct(t.debit);
          if (t.request == rep.request && d.kind == AccountKind::kDueFrom) {
            rep.obligations.push_back({d.counterparty, d.bank, t.amount});
          }
        }
        std::sort(rep.obligations.begin(), rep.obligations.end(),
                  [](const Obligation& x, const Obligation& y) {
                    return std::pair(x.debtor, x.creditor) < std::pair(y.debtor, y.creditor);
                  });
        Result<NettingPlan> plan = ComputeNetting(rep.obligations);
        if (!plan.ok()) return false;
        rep.plan = std::move(plan).value();
        cycles_.push_back(std::move(rep));
        break;
      }
      case EventTag::kRequestCommitted: {
        const RequestId id(rd.Wide());
        RequestRecord r{};
        r.kind = static_cast<Kind>(rd.U8());
        r.legs = rd.U32();
        for (uint64_t& f : r.fields) f = rd.U64();
        r.result_id = rd.U64();
        r.timestamp_ns = rd.U64();
        if (rd.failed() || id.zero() || requests_.Find(id) != nullptr) return false;
        requests_.Insert(id, r);
        break;
      }
      case EventTag::kLoanProductCreated: {
        LoanProduct p;
        p.id = LoanProductId(rd.U64());
        p.bank = BankId(rd.U64());
        p.name = rd.Str();
        p.currency = CurrencyId(rd.U64());
        p.max_principal = Amount(rd.I64());
        p.monthly_rate_bp = rd.I32();
        p.instalments = rd.I32();
        p.period_days = rd.I32();
        p.grace_days = rd.I32();
        if (rd.failed() || p.id.value() != products_.size() + 1 || FindBank(p.bank) == nullptr ||
            FindCurrency(p.currency) == nullptr) {
          return false;
        }
        products_.push_back(std::move(p));
        break;
      }
      case EventTag::kSolidarityGroupCreated: {
        SolidarityGroup g;
        g.id = SolidarityGroupId(rd.U64());
        g.bank = BankId(rd.U64());
        g.name = rd.Str();
        const uint8_t n = rd.U8();
        for (uint8_t k = 0; k < n && !rd.failed(); ++k) {
          const MemberId m(rd.U64());
          g.members.push_back(m);
          if (rd.U8() != 0) g.liable.push_back(m);
        }
        if (rd.failed() || g.id.value() != groups_.size() + 1 ||
            !std::is_sorted(g.members.begin(), g.members.end())) {
          return false;
        }
        for (MemberId m : g.members) {
          if (FindMember(m) == nullptr) return false;
        }
        groups_.push_back(std::move(g));
        break;
      }
      case EventTag::kLoanDisbursed: {
        Loan l;
        l.id = LoanId(rd.U64());
        l.request = RequestId(rd.Wide());
        l.product = LoanProductId(rd.U64());
        l.bank = BankId(rd.U64());
        l.currency = CurrencyId(rd.U64());
        l.member = MemberId(rd.U64());
        l.group = SolidarityGroupId(rd.U64());
        l.account = AccountId(rd.U64());
        l.principal = Amount(rd.I64());
        l.monthly_rate_bp = rd.I32();
        l.disbursed_ns = rd.U64();
        const uint16_t n = rd.U16();
        for (uint16_t k = 0; k < n && !rd.failed(); ++k) {
          Instalment in;
          in.due_ns = rd.U64();
          in.principal = Amount(rd.I64());
          in.interest = Amount(rd.I64());
          l.schedule.push_back(in);
        }
        const LoanProduct* p = FindLoanProduct(l.product);
        if (rd.failed() || l.id.value() != loans_.size() + 1 || p == nullptr ||
            l.member.valid() == l.group.valid() ||
            (l.member.valid() && FindMember(l.member) == nullptr) ||
            (l.group.valid() && FindGroup(l.group) == nullptr) || !l.principal.positive()) {
          return false;
        }
        // The journal carries the schedule for auditors; it must be the one the rules give.
        const std::optional<std::vector<Instalment>> want =
            BuildSchedule(l.principal, *p, l.disbursed_ns);
        if (!want || *want != l.schedule) return false;
        loans_.push_back(std::move(l));
        IndexLoan(loans_.back());
        break;
      }
      case EventTag::kLoanRepaid: {
        const LoanId id(rd.U64());
        const Amount interest(rd.I64());
        const Amount principal(rd.I64());
        const auto status = static_cast<LoanStatus>(rd.U8());
        if (rd.failed() || FindLoan(id) == nullptr) return false;
        Loan& l = loans_[id.value() - 1];
        l.repayments.push_back({timestamp_ns, interest, principal});
        l.interest_paid = Amount(l.interest_paid.minor() + interest.minor());
        l.principal_repaid = Amount(l.principal_repaid.minor() + principal.minor());
        l.status = status;
        break;
      }
      case EventTag::kLoanWrittenOff: {
        const LoanId id(rd.U64());
        const Amount principal(rd.I64());
        rd.Str(), rd.Str();
        if (rd.failed() || FindLoan(id) == nullptr) return false;
        Loan& l = loans_[id.value() - 1];
        l.written_off = principal;
        l.status = LoanStatus::kWrittenOff;
        break;
      }
      case EventTag::kInvoiceRegistered:
      case EventTag::kInvoiceStatusChanged:
      case EventTag::kSetoffRun:
        if (!RestoreInvoiceEvent(static_cast<uint8_t>(tag), rd, timestamp_ns)) return false;
        break;
      case EventTag::kKioskRegistered:
      case EventTag::kCardRegistered:
      case EventTag::kCardLoadAuthorized:
      case EventTag::kCardBlocked:
      case EventTag::kCardLoadState:
      case EventTag::kCardReceipt:
      case EventTag::kCardEvidence:
        if (!RestoreCardEvent(static_cast<uint8_t>(tag), rd, timestamp_ns)) return false;
        break;
      default:
        return false;
    }
  }
  return !rd.failed() && rd.done();
}

}  // namespace ayni
