// Test helpers for the ledger: a small network builder, request ids, and
// LedgerTestAccess, the only way tests reach past the ledger's rules (to corrupt state on
// purpose and prove that the checkers can fail).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "clearing/invariants.h"
#include "clearing/journal.h"
#include "clearing/ledger.h"

namespace ayni {

class LedgerTestAccess {
 public:
  static Account& MutableAccount(Ledger& l, AccountId id) { return l.acct(id); }
  static Currency& MutableCurrency(Ledger& l, CurrencyId id) {
    return l.currencies_[id.value() - 1];
  }
  static Circle& MutableCircle(Ledger& l, CircleId id) { return l.circles_[id.value() - 1]; }
  static Loan& MutableLoan(Ledger& l, LoanId id) { return l.loans_[id.value() - 1]; }
  static CardRecord& MutableCard(Ledger& l, const CardId& id) {
    return l.cards_.cards[l.cards_.card_by_id.at(id)];
  }
  // Moves `amount` from one account to another with no rule checked, keeping the
  // per-bank aggregates consistent: for building states the rules would refuse.
  static void ForceMove(Ledger& l, AccountId debit, AccountId credit, int64_t amount) {
    Account& d = l.acct(debit);
    Account& c = l.acct(credit);
    d.balance = Amount(d.balance.minor() - amount);
    d.debits_posted = Amount(d.debits_posted.minor() + amount);
    c.balance = Amount(c.balance.minor() + amount);
    c.credits_posted = Amount(c.credits_posted.minor() + amount);
    if (d.kind == AccountKind::kDueFrom || d.kind == AccountKind::kDueTo) {
      l.bank_due_net_[d.bank.value() - 1] -= amount;
    }
    if (c.kind == AccountKind::kDueFrom || c.kind == AccountKind::kDueTo) {
      l.bank_due_net_[c.bank.value() - 1] += amount;
    }
  }
};

// Sequential request ids: R(1), R(2), …; distinct per test.
inline RequestId R(uint64_t n) { return RequestId::FromParts(0xA1, n); }

// touched_accounts comes in first-touch order, each account once: this sorts a copy and
// fails the test on a duplicate.
inline std::vector<AccountId> SortedTouched(const SealedBatch& b) {
  std::vector<AccountId> v = b.touched_accounts;
  std::sort(v.begin(), v.end());
  EXPECT_TRUE(std::adjacent_find(v.begin(), v.end()) == v.end())
      << "an account is listed twice in touched_accounts of batch " << b.sequence;
  return v;
}

// Keeps every sealed batch, as a store would, so the journal can be replayed.
struct Journal {
  std::vector<StoredBatch> batches;
  void Add(const SealedBatch& b) { batches.push_back({b.sequence, b.bytes, b.hash}); }
};

// Two banks sharing BRL (scale 100): A issues PALMA, B issues SOL; a circle at A with
// currency FEIRA (default credit limit 50.00); members Ana (A), Bia (B), Caio (A).
struct Network {
  Ledger ledger;
  Journal journal;
  uint64_t next_request = 1;
  uint64_t clock_ns = 1'000'000'000;
  BankId a, b;
  CurrencyId brl, palma, sol, feira;
  CircleId circle;
  MemberId ana, bia, caio;
  AccountId ana_palma, bia_sol, caio_palma, ana_feira, caio_feira;

  RequestId Next() { return R(next_request++); }
  void Begin() { ledger.BeginBatch(clock_ns += 1000); }
  SealedBatch Seal() {
    SealedBatch b = ledger.SealBatch();
    journal.Add(b);
    return b;
  }
  // Runs one command in its own batch and seals it.
  template <typename F>
  OpResult One(F&& f) {
    Begin();
    OpResult r = f(Next());
    Seal();
    return r;
  }
  Amount Balance(AccountId id) const { return ledger.FindAccount(id)->balance; }
  Amount Sys(BankId bank, AccountKind kind) const;
  Amount Due(AccountKind kind, BankId at, BankId counterparty) const {
    const Bank& b = *ledger.FindBank(at);
    const AccountId id = kind == AccountKind::kDueFrom ? b.due_from[counterparty.value()]
                                                       : b.due_to[counterparty.value()];
    return ledger.FindAccount(id)->balance;
  }

  void Build(int32_t coverage_bp = 10000, int32_t fee_bp = 200);
  void ExpectClean() const {
    const auto faults = CheckInvariants(ledger);
    EXPECT_TRUE(faults.empty()) << FormatFaults(faults);
    const auto jfaults = CheckJournal(ledger, journal.batches);
    EXPECT_TRUE(jfaults.empty()) << FormatFaults(jfaults);
  }
};

inline Amount Network::Sys(BankId bank, AccountKind kind) const {
  const Bank& b = *ledger.FindBank(bank);
  AccountId id;
  switch (kind) {
    case AccountKind::kVault: id = b.vault; break;
    case AccountKind::kReserve: id = b.reserve; break;
    case AccountKind::kLoans: id = b.loans; break;
    case AccountKind::kFees: id = b.fees; break;
    case AccountKind::kWriteOff: id = b.write_off; break;
    default: ADD_FAILURE() << "not a per-bank national account"; return Amount();
  }
  return ledger.FindAccount(id)->balance;
}

inline void Network::Build(int32_t coverage_bp, int32_t fee_bp) {
  Begin();
  auto must = [](const OpResult& r) {
    EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
    return r.id;
  };
  brl = CurrencyId(must(ledger.InitDeployment({Next(), "BRL", 100})));
  a = BankId(must(ledger.CreateBank({Next(), "A", "Banco Palmas"})));
  b = BankId(must(ledger.CreateBank({Next(), "B", "Banco Sol"})));
  palma = CurrencyId(must(ledger.CreateCurrency({Next(), a, "PALMA", coverage_bp, fee_bp})));
  sol = CurrencyId(must(ledger.CreateCurrency({Next(), b, "SOL", coverage_bp, fee_bp})));
  circle = CircleId(must(ledger.CreateCircle({Next(), a, "FEIRA", "Feira solidária", 100,
                                              Amount(5000), Amount::Max()})));
  feira = ledger.FindCircle(circle)->currency;
  ana = MemberId(must(ledger.CreateMember({Next(), a, "Ana"})));
  bia = MemberId(must(ledger.CreateMember({Next(), b, "Bia"})));
  caio = MemberId(must(ledger.CreateMember({Next(), a, "Caio"})));
  must(ledger.AddCircleMember({Next(), circle, ana, true}));
  must(ledger.AddCircleMember({Next(), circle, caio, false}));
  ana_palma = AccountId(must(ledger.OpenAccount({Next(), ana, palma, AccountKind::kMember})));
  bia_sol = AccountId(must(ledger.OpenAccount({Next(), bia, sol, AccountKind::kMember})));
  caio_palma = AccountId(must(ledger.OpenAccount({Next(), caio, palma, AccountKind::kMerchant})));
  ana_feira = AccountId(must(ledger.OpenAccount({Next(), ana, feira, AccountKind::kMember})));
  caio_feira = AccountId(must(ledger.OpenAccount({Next(), caio, feira, AccountKind::kMember})));
  Seal();
}

}  // namespace ayni
