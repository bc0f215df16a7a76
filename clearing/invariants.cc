#include "clearing/invariants.h"

#include <map>

namespace ayni {
namespace {

std::string AccountLabel(const Ledger& l, const Account& a) {
  const Currency* c = l.FindCurrency(a.currency);
  const Bank* b = l.FindBank(a.bank);
  std::string s = "account " + std::to_string(a.id.value()) + " (" + AccountKindName(a.kind);
  if (b != nullptr) s += " @" + b->code;
  if (c != nullptr) s += ", " + c->code;
  return s + ")";
}

}  // namespace

const char* FaultKindName(FaultKind k) {
  switch (k) {
    case FaultKind::kCurrencyNotBalanced: return "currency_not_balanced";
    case FaultKind::kPostedTotalsMismatch: return "posted_totals_mismatch";
    case FaultKind::kBelowFloor: return "below_floor";
    case FaultKind::kAboveCeiling: return "above_ceiling";
    case FaultKind::kSystemAccountSign: return "system_account_sign";
    case FaultKind::kCoverageBroken: return "coverage_broken";
    case FaultKind::kOutsideCircle: return "outside_circle";
    case FaultKind::kDuePairMismatch: return "due_pair_mismatch";
    case FaultKind::kClosedNotEmpty: return "closed_not_empty";
    case FaultKind::kJournal: return "journal";
    case FaultKind::kLoanBookMismatch: return "loan_book_mismatch";
    case FaultKind::kCardFloatMismatch: return "card_float_mismatch";
  }
  return "unknown";
}

std::vector<Fault> CheckInvariants(const Ledger& l) {
  std::vector<Fault> faults;
  std::vector<Int128> sums(l.currency_count(), 0);
  for (const Account& a : l.accounts()) {
    const Currency& cur = *l.FindCurrency(a.currency);
    sums[a.currency.value() - 1] += a.balance.minor();
    if (static_cast<Int128>(a.credits_posted.minor()) - a.debits_posted.minor() !=
        a.balance.minor()) {
      faults.push_back({FaultKind::kPostedTotalsMismatch, a.id.value(),
                        AccountLabel(l, a) + ": balance is not credits minus debits"});
    }
    if (a.status == AccountStatus::kClosed && !a.balance.zero()) {
      faults.push_back({FaultKind::kClosedNotEmpty, a.id.value(),
                        AccountLabel(l, a) + ": closed with a balance"});
    }
    if (IsMemberKind(a.kind)) {
      const int64_t floor = cur.kind == CurrencyKind::kGuaranteed ? 0 : -a.credit_limit.minor();
      if (a.balance.minor() < floor) {
        faults.push_back({FaultKind::kBelowFloor, a.id.value(),
                          AccountLabel(l, a) + ": balance " + std::to_string(a.balance.minor()) +
                              " below " + std::to_string(floor)});
      }
      if (a.balance > a.ceiling) {
        faults.push_back({FaultKind::kAboveCeiling, a.id.value(),
                          AccountLabel(l, a) + ": balance above its ceiling"});
      }
      if (cur.kind == CurrencyKind::kMutualCredit && !l.IsCircleMember(cur.circle, a.owner)) {
        faults.push_back({FaultKind::kOutsideCircle, a.id.value(),
                          AccountLabel(l, a) + ": owner is not a member of the circle"});
      }
      continue;
    }
    const SignRule rule = SignRuleOf(a.kind);
    if ((rule == SignRule::kNonNegative && a.balance.negative()) ||
        (rule == SignRule::kNonPositive && a.balance.positive())) {
      faults.push_back({FaultKind::kSystemAccountSign, a.id.value(),
                        AccountLabel(l, a) + ": balance " + std::to_string(a.balance.minor()) +
                            " has the wrong sign"});
    }
  }
  for (size_t i = 0; i < sums.size(); ++i) {
    if (sums[i] != 0) {
      const Currency& c = *l.FindCurrency(CurrencyId(i + 1));
      faults.push_back({FaultKind::kCurrencyNotBalanced, i + 1,
                        "currency " + c.code + ": balances sum to " +
                            std::to_string(static_cast<int64_t>(sums[i])) + ", not 0"});
    }
  }
  // The loan book agrees with the ledger: a national-money loan is receivable in LOANS
  // from disbursement until repaid or written off.
  std::vector<Int128> book(l.bank_count(), 0);
  for (const Loan& loan : l.loans()) {
    if (loan.currency == l.national() && loan.status == LoanStatus::kActive) {
      book[loan.bank.value() - 1] += loan.outstanding().minor();
    }
  }
  for (const Bank& b : l.banks()) {
    const int64_t loans = l.FindAccount(b.loans)->balance.minor();
    if (book[b.id.value() - 1] != loans) {
      faults.push_back({FaultKind::kLoanBookMismatch, b.id.value(),
                        "bank " + b.code + ": national-money loans outstanding " +
                            std::to_string(static_cast<int64_t>(book[b.id.value() - 1])) +
                            " but LOANS holds " + std::to_string(loans)});
    }
  }
  // The card book agrees with CARD_FLOAT: what the cards hold by the bank's reckoning
  // (shadow balances) plus what was loaded but not yet shown applied or returned.
  std::vector<Int128> on_cards(l.currency_count(), 0);
  for (const CardRecord& c : l.cards()) on_cards[c.currency.value() - 1] += c.shadow.minor();
  for (const CardLoadRecord& load : l.card_loads()) {
    if (load.state != CardLoadState::kPending) continue;
    const CardRecord* c = l.FindCard(load.card);
    if (c != nullptr) on_cards[c->currency.value() - 1] += load.amount.minor();
  }
  for (const Currency& c : l.currencies()) {
    if (c.kind != CurrencyKind::kGuaranteed || !c.card_float.valid()) continue;
    const int64_t held = l.FindAccount(c.card_float)->balance.minor();
    if (on_cards[c.id.value() - 1] != held) {
      faults.push_back({FaultKind::kCardFloatMismatch, c.id.value(),
                        "currency " + c.code + ": CARD_FLOAT holds " + std::to_string(held) +
                            " but the cards' shadow balances and pending loads sum to " +
                            std::to_string(static_cast<int64_t>(on_cards[c.id.value() - 1]))});
    }
  }
  for (const Bank& b : l.banks()) {
    const Coverage cov = l.CoverageOf(b.id);
    if (!cov.covered()) {
      faults.push_back({FaultKind::kCoverageBroken, b.id.value(),
                        "bank " + b.code + ": reserve and inter-bank positions do not cover the "
                                           "supply at the policy's minimum"});
    }
    for (size_t other = 1; other < b.due_from.size(); ++other) {
      if (!b.due_from[other].valid()) continue;
      const Bank& o = *l.FindBank(BankId(other));
      const Account& from = *l.FindAccount(b.due_from[other]);
      const Account& to = *l.FindAccount(o.due_to[b.id.value()]);
      if (from.balance.minor() != -static_cast<Int128>(to.balance.minor())) {
        faults.push_back({FaultKind::kDuePairMismatch, b.id.value(),
                          "DUE_FROM:" + o.code + "@" + b.code + " is not minus DUE_TO:" + b.code +
                              "@" + o.code});
      }
    }
  }
  return faults;
}

std::vector<Fault> CheckJournal(const Ledger& l, std::span<const StoredBatch> batches) {
  std::vector<Fault> faults;
  const Replay r = ReplayJournal(batches);
  for (const JournalFault& f : r.faults) {
    faults.push_back({FaultKind::kJournal, f.account,
                      std::string(JournalFaultKindName(f.kind)) + ": batch " +
                          std::to_string(f.batch) + ": " + f.detail});
  }
  if (!r.ok()) return faults;  // balances of an untrusted journal mean nothing
  if (r.head != l.head() || r.batches != l.batch_sequence()) {
    faults.push_back({FaultKind::kJournal, 0,
                      "hash_mismatch: journal head " + HexOf(r.head) + " at batch " +
                          std::to_string(r.batches) + " differs from the ledger's " +
                          HexOf(l.head()) + " at batch " + std::to_string(l.batch_sequence())});
  }
  const auto accounts = l.accounts();
  if (r.accounts.size() != accounts.size()) {
    faults.push_back({FaultKind::kJournal, 0,
                      "account_mismatch: journal opens " + std::to_string(r.accounts.size()) +
                          " accounts, ledger has " + std::to_string(accounts.size())});
  }
  const size_t n = std::min(r.accounts.size(), accounts.size());
  for (size_t i = 0; i < n; ++i) {
    const Account& a = accounts[i];
    const ReplayAccount& ra = r.accounts[i];
    if (a.balance != ra.balance || a.debits_posted != ra.debits_posted ||
        a.credits_posted != ra.credits_posted) {
      faults.push_back({FaultKind::kJournal, a.id.value(),
                        "balance_mismatch: " + AccountLabel(l, a) + ": ledger " +
                            std::to_string(a.balance.minor()) + ", journal " +
                            std::to_string(ra.balance.minor())});
    }
  }
  return faults;
}

std::string FormatFaults(const std::vector<Fault>& faults) {
  std::string s;
  for (const Fault& f : faults) {
    s += FaultKindName(f.kind);
    s += ": ";
    s += f.detail;
    s += '\n';
  }
  return s;
}

}  // namespace ayni
