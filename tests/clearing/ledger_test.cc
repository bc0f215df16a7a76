// The Ledger's commands: every Outcome each command can return, table-driven, with the
// proof that a refusal changes nothing; idempotency; linked groups and their leg ids;
// fees; coverage; batches and AbortBatch; account administration.
#include "clearing/ledger.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "clearing/limits.h"
#include "tests/clearing/ledger_fixture.h"
#include "tests/clearing/loan_fixture.h"

namespace ayni {

// Readable failures: gtest finds this by argument-dependent lookup.
void PrintTo(Outcome o, std::ostream* os) {
  *os << OutcomeName(o) << " (" << static_cast<int>(o) << ")";
}

namespace {

constexpr int64_t kMax = INT64_MAX;

// The fixture's network plus a few things individual cases create.
struct Net : Network {
  MemberId dina;         // a member of bank A who is not in the FEIRA circle
  CircleId horta;        // a second circle at A
  AccountId dina_horta;  // Dina's account in the second circle
  AccountId extra;       // any extra account a case opens
  LoanSetup ls;          // products and a group (AddLoans)
  LoanId loan;           // a loan a case disbursed
};

// ---- State snapshots: what a refusal must leave untouched ---------------------------------

std::string Row(const Account& a) {
  return "#" + std::to_string(a.id.value()) + " " + AccountKindName(a.kind) +
         " bank=" + std::to_string(a.bank.value()) + " cur=" + std::to_string(a.currency.value()) +
         " owner=" + std::to_string(a.owner.value()) +
         " cp=" + std::to_string(a.counterparty.value()) + " " + AccountStatusName(a.status) +
         " limit=" + std::to_string(a.credit_limit.minor()) +
         " ceiling=" + std::to_string(a.ceiling.minor()) +
         " balance=" + std::to_string(a.balance.minor()) +
         " debits=" + std::to_string(a.debits_posted.minor()) +
         " credits=" + std::to_string(a.credits_posted.minor());
}

struct Snapshot {
  std::vector<std::string> accounts, banks, currencies, circles, members, loans;
  size_t account_count = 0, request_count = 0, batch_transfer_count = 0, cycle_count = 0;
  uint64_t sequence = 0;
  std::string head;
  uint64_t national = 0;
};

Snapshot Take(const Ledger& l) {
  Snapshot s;
  for (const Account& a : l.accounts()) s.accounts.push_back(Row(a));
  for (const Bank& b : l.banks()) {
    std::string row = b.code + " " + b.name + " due_from=";
    for (AccountId id : b.due_from) row += std::to_string(id.value()) + ",";
    row += " due_to=";
    for (AccountId id : b.due_to) row += std::to_string(id.value()) + ",";
    row += " issued=";
    for (CurrencyId id : b.issued) row += std::to_string(id.value()) + ",";
    s.banks.push_back(row);
  }
  for (const Currency& c : l.currencies()) {
    s.currencies.push_back(c.code + " " + CurrencyKindName(c.kind) +
                           " issuer=" + std::to_string(c.issuer.value()) +
                           " found_by_code=" + (l.FindCurrencyByCode(c.code) == &c ? "1" : "0"));
  }
  for (const Circle& c : l.circles()) {
    std::string row = c.code + " members=";
    for (MemberId m : c.members) row += std::to_string(m.value()) + ",";
    row += " admins=";
    for (MemberId m : c.admins) row += std::to_string(m.value()) + ",";
    s.circles.push_back(row);
  }
  for (uint64_t i = 1; i <= l.member_count(); ++i) {
    s.members.push_back(l.FindMember(MemberId(i))->name);
  }
  for (const LoanProduct& p : l.loan_products()) s.loans.push_back("product " + p.name);
  for (const SolidarityGroup& g : l.groups()) s.loans.push_back("group " + g.name);
  for (const Loan& x : l.loans()) {
    s.loans.push_back("loan " + std::to_string(x.id.value()) + " " + LoanStatusName(x.status) +
                      " repaid=" + std::to_string(x.principal_repaid.minor()) +
                      " interest=" + std::to_string(x.interest_paid.minor()) +
                      " written_off=" + std::to_string(x.written_off.minor()) +
                      " repayments=" + std::to_string(x.repayments.size()));
  }
  s.account_count = l.account_count();
  s.request_count = l.request_count();
  s.batch_transfer_count = l.batch_open() ? l.batch_transfer_count() : 0;
  s.cycle_count = l.cycles().size();
  s.sequence = l.batch_sequence();
  s.head = HexOf(l.head());
  s.national = l.national().value();
  return s;
}

void ExpectSame(const Snapshot& before, const Snapshot& after) {
  EXPECT_EQ(before.accounts, after.accounts);
  EXPECT_EQ(before.banks, after.banks);
  EXPECT_EQ(before.currencies, after.currencies);
  EXPECT_EQ(before.circles, after.circles);
  EXPECT_EQ(before.members, after.members);
  EXPECT_EQ(before.loans, after.loans);
  EXPECT_EQ(before.account_count, after.account_count);
  EXPECT_EQ(before.request_count, after.request_count);
  EXPECT_EQ(before.batch_transfer_count, after.batch_transfer_count);
  EXPECT_EQ(before.cycle_count, after.cycle_count);
  EXPECT_EQ(before.sequence, after.sequence);
  EXPECT_EQ(before.head, after.head);
  EXPECT_EQ(before.national, after.national);
}

// ---- Helpers that commit a command in its own batch and insist it succeeds ---------------

template <typename F>
OpResult Ok(Network& n, F&& f) {
  const OpResult r = n.One(std::forward<F>(f));
  EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " detail=" << r.detail;
  return r;
}

void DoIssue(Network& n, AccountId acc, int64_t x) {
  Ok(n, [&](RequestId r) { return n.ledger.Issue({r, acc, Amount(x), ""}); });
}
void DoDistribute(Network& n, AccountId acc, int64_t x) {
  Ok(n, [&](RequestId r) { return n.ledger.Distribute({r, acc, Amount(x), ""}); });
}
void DoFund(Network& n, BankId bank, int64_t x) {
  Ok(n, [&](RequestId r) {
    return n.ledger.FundReserve({r, bank, Amount(x), FundSource::kVault, ""});
  });
}
void DoPay(Network& n, AccountId from, AccountId to, int64_t x) {
  Ok(n, [&](RequestId r) { return n.ledger.Pay({r, from, to, Amount(x), ""}); });
}
void DoStatus(Network& n, AccountId acc, AccountStatus s) {
  Ok(n, [&](RequestId r) { return n.ledger.SetAccountStatus({r, acc, s, "teller", "test"}); });
}
void DoLimits(Network& n, AccountId acc, int64_t limit, int64_t ceiling) {
  Ok(n, [&](RequestId r) {
    return n.ledger.SetAccountLimits({r, acc, Amount(limit), Amount(ceiling), "teller", "test"});
  });
}
MemberId DoMember(Network& n, BankId bank, const std::string& name) {
  return MemberId(Ok(n, [&](RequestId r) { return n.ledger.CreateMember({r, bank, name}); }).id);
}
AccountId DoOpen(Network& n, MemberId m, CurrencyId c, AccountKind k = AccountKind::kMember) {
  return AccountId(Ok(n, [&](RequestId r) { return n.ledger.OpenAccount({r, m, c, k}); }).id);
}
void AddDina(Net& n) { n.dina = DoMember(n, n.a, "Dina"); }
// A second circle at A (HORTA, credit limit 10.00) whose only member is Dina.
void AddHorta(Net& n) {
  AddDina(n);
  n.horta = CircleId(
      Ok(n, [&](RequestId r) {
        return n.ledger.CreateCircle({r, n.a, "HORTA", "Horta", 100, Amount(1000), Amount::Max()});
      }).id);
  Ok(n, [&](RequestId r) { return n.ledger.AddCircleMember({r, n.horta, n.dina, false}); });
  n.dina_horta = DoOpen(n, n.dina, n.ledger.FindCircle(n.horta)->currency);
}

AccountId Reserve(const Network& n, BankId b) { return n.ledger.FindBank(b)->reserve; }
AccountId Vault(const Network& n, BankId b) { return n.ledger.FindBank(b)->vault; }
AccountId Fees(const Network& n, BankId b) { return n.ledger.FindBank(b)->fees; }
AccountId Issuance(const Network& n, CurrencyId c) { return n.ledger.FindCurrency(c)->issuance; }
AccountId DueTo(const Network& n, BankId at, BankId cp) {
  return n.ledger.FindBank(at)->due_to[cp.value()];
}
AccountId DueFrom(const Network& n, BankId at, BankId cp) {
  return n.ledger.FindBank(at)->due_from[cp.value()];
}

std::string Bytes(size_t n, char c = 'x') { return std::string(n, c); }

// ---- Every refusal, table-driven ---------------------------------------------------------

using Setup = std::function<void(Net&)>;
using Cmd = std::function<OpResult(Net&, RequestId)>;

struct RefusalCase {
  std::string name;
  Setup setup;  // commits its own batches, after Build
  Cmd cmd;
  Outcome want;
  std::string detail;
  int32_t coverage_bp = 10000;
  int32_t fee_bp = 200;
  bool build = true;  // false: a fresh ledger with no deployment
  bool clean = true;  // false: the setup forced a state the invariant checker rejects
};

void PrintTo(const RefusalCase& c, std::ostream* os) { *os << c.name; }

Setup Issued(int64_t x) {
  return [x](Net& n) { DoIssue(n, n.ana_palma, x); };
}

std::vector<RefusalCase> PayRefusals() {
  auto pay = [](auto from, auto to, int64_t x, std::string memo = "") -> Cmd {
    return [=](Net& n, RequestId r) { return n.ledger.Pay({r, from(n), to(n), Amount(x), memo}); };
  };
  auto ana_palma = [](Net& n) { return n.ana_palma; };
  auto caio_palma = [](Net& n) { return n.caio_palma; };
  auto bia_sol = [](Net& n) { return n.bia_sol; };
  auto ana_feira = [](Net& n) { return n.ana_feira; };
  auto caio_feira = [](Net& n) { return n.caio_feira; };
  auto unknown = [](Net&) { return AccountId(999); };
  auto none = [](Net&) { return AccountId(); };
  return {
      {"pay_zero_amount", Issued(100), pay(ana_palma, caio_palma, 0), Outcome::kAmountNotPositive,
       "amount"},
      {"pay_negative_amount", Issued(100), pay(ana_palma, caio_palma, -1),
       Outcome::kAmountNotPositive, "amount"},
      {"pay_int64_min_amount", Issued(100), pay(ana_palma, caio_palma, INT64_MIN),
       Outcome::kAmountNotPositive, "amount"},
      {"pay_memo_too_long", Issued(100), pay(ana_palma, caio_palma, 1, Bytes(kMemoBytesMax + 1)),
       Outcome::kMemoTooLong, "memo"},
      {"pay_memo_with_nul", Issued(100), pay(ana_palma, caio_palma, 1, std::string("a\0b", 3)),
       Outcome::kInvalidMemo, "memo"},
      {"pay_memo_not_utf8", Issued(100), pay(ana_palma, caio_palma, 1, "caf\xe9"),
       Outcome::kInvalidMemo, "memo"},
      {"pay_memo_overlong_utf8", Issued(100), pay(ana_palma, caio_palma, 1, "\xc0\xaf"),
       Outcome::kInvalidMemo, "memo"},
      {"pay_memo_surrogate", Issued(100), pay(ana_palma, caio_palma, 1, "\xed\xa0\x80"),
       Outcome::kInvalidMemo, "memo"},
      {"pay_memo_truncated_utf8", Issued(100), pay(ana_palma, caio_palma, 1, "\xe2\x82"),
       Outcome::kInvalidMemo, "memo"},
      {"pay_unknown_debit", Issued(100), pay(unknown, caio_palma, 1),
       Outcome::kDebitAccountNotFound, "from"},
      {"pay_debit_id_zero", Issued(100), pay(none, caio_palma, 1), Outcome::kDebitAccountNotFound,
       "from"},
      {"pay_unknown_credit", Issued(100), pay(ana_palma, unknown, 1),
       Outcome::kCreditAccountNotFound, "to"},
      {"pay_credit_id_zero", Issued(100), pay(ana_palma, none, 1), Outcome::kCreditAccountNotFound,
       "to"},
      {"pay_same_account", Issued(100), pay(ana_palma, ana_palma, 1), Outcome::kSameAccount, "to"},
      {"pay_from_system_account", Issued(100),
       pay([](Net& n) { return Reserve(n, n.a); }, caio_palma, 1), Outcome::kWrongAccountKind,
       "from"},
      {"pay_to_system_account", Issued(100),
       pay(
           ana_palma, [](Net& n) { return Issuance(n, n.palma); }, 1),
       Outcome::kWrongAccountKind, "to"},
      {"pay_insufficient_funds_empty", nullptr, pay(ana_palma, caio_palma, 1),
       Outcome::kInsufficientFunds, "from"},
      {"pay_insufficient_funds_by_one", Issued(100), pay(ana_palma, caio_palma, 101),
       Outcome::kInsufficientFunds, "from"},
      {"pay_insufficient_funds_cross_bank", Issued(100), pay(ana_palma, bia_sol, 101),
       Outcome::kInsufficientFunds, "from"},
      {"pay_int64_max_amount", Issued(100), pay(ana_palma, bia_sol, kMax),
       Outcome::kInsufficientFunds, "from"},
      {"pay_exceeds_credit_limit", nullptr, pay(ana_feira, caio_feira, 5001),
       Outcome::kExceedsCreditLimit, "from"},
      {"pay_exceeds_credit_limit_after_debt",
       [](Net& n) { DoPay(n, n.ana_feira, n.caio_feira, 3000); }, pay(ana_feira, caio_feira, 2001),
       Outcome::kExceedsCreditLimit, "from"},
      {"pay_exceeds_ceiling",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 2000);
         DoLimits(n, n.caio_palma, 0, 1000);
       },
       pay(ana_palma, caio_palma, 1001), Outcome::kExceedsCeiling, "to"},
      // The ceiling breaks on the second leg; the first (the burn) must be undone too.
      {"pay_exceeds_ceiling_cross_bank",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 2000);
         DoLimits(n, n.bia_sol, 0, 500);
       },
       pay(ana_palma, bia_sol, 501), Outcome::kExceedsCeiling, "to"},
      {"pay_mutual_credit_ceiling", [](Net& n) { DoLimits(n, n.caio_feira, 5000, 100); },
       pay(ana_feira, caio_feira, 101), Outcome::kExceedsCeiling, "to"},
      {"pay_mutual_credit_to_guaranteed", nullptr, pay(ana_feira, caio_palma, 1),
       Outcome::kNotInCircle, "to"},
      {"pay_guaranteed_to_mutual_credit", Issued(100), pay(ana_palma, caio_feira, 1),
       Outcome::kNotInCircle, "to"},
      {"pay_mutual_credit_to_other_circle", AddHorta,
       pay(
           ana_feira, [](Net& n) { return n.dina_horta; }, 1),
       Outcome::kNotInCircle, "to"},
      {"pay_mutual_credit_from_other_circle", AddHorta,
       pay([](Net& n) { return n.dina_horta; }, ana_feira, 1), Outcome::kNotInCircle, "to"},
      {"pay_debit_frozen",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 100);
         DoStatus(n, n.ana_palma, AccountStatus::kFrozen);
       },
       pay(ana_palma, caio_palma, 1), Outcome::kDebitAccountFrozen, ""},
      {"pay_credit_frozen",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 100);
         DoStatus(n, n.caio_palma, AccountStatus::kFrozen);
       },
       pay(ana_palma, caio_palma, 1), Outcome::kCreditAccountFrozen, ""},
      {"pay_debit_frozen_cross_bank",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 100);
         DoStatus(n, n.ana_palma, AccountStatus::kFrozen);
       },
       pay(ana_palma, bia_sol, 1), Outcome::kDebitAccountFrozen, ""},
      {"pay_credit_frozen_cross_bank",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 100);
         DoStatus(n, n.bia_sol, AccountStatus::kFrozen);
       },
       pay(ana_palma, bia_sol, 1), Outcome::kCreditAccountFrozen, ""},
      {"pay_mutual_credit_debit_frozen",
       [](Net& n) { DoStatus(n, n.ana_feira, AccountStatus::kFrozen); },
       pay(ana_feira, caio_feira, 1), Outcome::kDebitAccountFrozen, ""},
      {"pay_mutual_credit_credit_frozen",
       [](Net& n) { DoStatus(n, n.caio_feira, AccountStatus::kFrozen); },
       pay(ana_feira, caio_feira, 1), Outcome::kCreditAccountFrozen, ""},
      {"pay_debit_closed",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 100);
         DoStatus(n, n.caio_palma, AccountStatus::kClosed);
       },
       pay(caio_palma, ana_palma, 1), Outcome::kDebitAccountClosed, ""},
      {"pay_credit_closed",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 100);
         DoStatus(n, n.caio_palma, AccountStatus::kClosed);
       },
       pay(ana_palma, caio_palma, 1), Outcome::kCreditAccountClosed, ""},
      {"pay_credit_closed_cross_bank",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 100);
         DoStatus(n, n.bia_sol, AccountStatus::kClosed);
       },
       pay(ana_palma, bia_sol, 1), Outcome::kCreditAccountClosed, ""},
      // Bia already holds INT64_MAX: minting 1 more SOL to her on the second leg overflows.
      {"pay_balance_overflow_cross_bank",
       [](Net& n) {
         DoIssue(n, n.ana_palma, kMax);
         DoIssue(n, n.bia_sol, kMax);
       },
       pay(ana_palma, bia_sol, 1), Outcome::kBalanceOverflow, ""},
      // Balance fits (0 + MAX) but Ana's posted credits would reach 2 × MAX.
      {"pay_posted_total_overflow",
       [](Net& n) {
         DoIssue(n, n.ana_palma, kMax);
         DoPay(n, n.ana_palma, n.caio_palma, kMax);
       },
       pay(caio_palma, ana_palma, kMax), Outcome::kBalanceOverflow, ""},
      // A cross-bank payment moves A's obligations into DUE_TO; at fractional coverage the
      // reserve still has to cover what stays in circulation.
      // Over-collateralised (200%): minting at the payee's bank needs twice as much there.
      {"pay_cross_bank_coverage_payee_bank",
       [](Net& n) {
         DoFund(n, n.a, 100);
         DoIssue(n, n.ana_palma, 100);
       },
       pay(ana_palma, bia_sol, 1), Outcome::kCoverageWouldBreak, "", 20000},
      {"pay_cross_bank_coverage_fractional",
       [](Net& n) {
         DoFund(n, n.a, 100);
         DoDistribute(n, n.ana_palma, 200);  // exactly at 50%
       },
       pay(ana_palma, bia_sol, 1), Outcome::kCoverageWouldBreak, "", 5000},
  };
}

std::vector<RefusalCase> IssueRedeemDistributeRefusals() {
  using AA = AccountAmountCmd;
  auto issue = [](auto acc, int64_t x, std::string memo = "") -> Cmd {
    return [=](Net& n, RequestId r) { return n.ledger.Issue(AA{r, acc(n), Amount(x), memo}); };
  };
  auto redeem = [](auto acc, int64_t x, std::string memo = "") -> Cmd {
    return [=](Net& n, RequestId r) { return n.ledger.Redeem(AA{r, acc(n), Amount(x), memo}); };
  };
  auto distribute = [](auto acc, int64_t x, std::string memo = "") -> Cmd {
    return [=](Net& n, RequestId r) { return n.ledger.Distribute(AA{r, acc(n), Amount(x), memo}); };
  };
  auto ana_palma = [](Net& n) { return n.ana_palma; };
  auto caio_palma = [](Net& n) { return n.caio_palma; };
  auto ana_feira = [](Net& n) { return n.ana_feira; };
  auto unknown = [](Net&) { return AccountId(999); };
  auto issuance = [](Net& n) { return Issuance(n, n.palma); };
  auto reserve = [](Net& n) { return Reserve(n, n.a); };
  auto freeze_ana = [](Net& n) { DoStatus(n, n.ana_palma, AccountStatus::kFrozen); };
  auto close_ana = [](Net& n) { DoStatus(n, n.ana_palma, AccountStatus::kClosed); };
  auto funded = [](Net& n) { DoFund(n, n.a, 10000); };
  return {
      // Issue.
      {"issue_zero", nullptr, issue(ana_palma, 0), Outcome::kAmountNotPositive, "amount"},
      {"issue_negative", nullptr, issue(ana_palma, -5), Outcome::kAmountNotPositive, "amount"},
      {"issue_memo_too_long", nullptr, issue(ana_palma, 1, Bytes(kMemoBytesMax + 1)),
       Outcome::kMemoTooLong, "memo"},
      {"issue_memo_not_utf8", nullptr, issue(ana_palma, 1, "\xff"), Outcome::kInvalidMemo,
       "memo"},
      {"issue_unknown_account", nullptr, issue(unknown, 1), Outcome::kAccountNotFound, "account"},
      {"issue_to_issuance", nullptr, issue(issuance, 1), Outcome::kWrongAccountKind, "account"},
      {"issue_to_reserve", nullptr, issue(reserve, 1), Outcome::kWrongAccountKind, "account"},
      {"issue_mutual_credit", nullptr, issue(ana_feira, 1), Outcome::kWrongCurrencyKind, "account"},
      {"issue_frozen", freeze_ana, issue(ana_palma, 1), Outcome::kCreditAccountFrozen, ""},
      {"issue_closed", close_ana, issue(ana_palma, 1), Outcome::kCreditAccountClosed, ""},
      {"issue_ceiling", [](Net& n) { DoLimits(n, n.ana_palma, 0, 100); }, issue(ana_palma, 101),
       Outcome::kExceedsCeiling, "to"},
      // The vault reaches INT64_MIN fine; the reserve would pass INT64_MAX.
      {"issue_reserve_overflow", [](Net& n) { DoIssue(n, n.ana_palma, kMax); },
       issue(caio_palma, 1), Outcome::kBalanceOverflow, ""},
      // Redeem.
      {"redeem_zero", Issued(100), redeem(ana_palma, 0), Outcome::kAmountNotPositive, "amount"},
      {"redeem_negative", Issued(100), redeem(ana_palma, -1), Outcome::kAmountNotPositive,
       "amount"},
      {"redeem_memo_too_long", Issued(100), redeem(ana_palma, 1, Bytes(kMemoBytesMax + 1)),
       Outcome::kMemoTooLong, "memo"},
      {"redeem_unknown_account", Issued(100), redeem(unknown, 1), Outcome::kAccountNotFound,
       "account"},
      {"redeem_from_issuance", Issued(100), redeem(issuance, 1), Outcome::kWrongAccountKind,
       "account"},
      {"redeem_mutual_credit", nullptr, redeem(ana_feira, 1), Outcome::kWrongCurrencyKind,
       "account"},
      {"redeem_insufficient_funds", Issued(100), redeem(ana_palma, 101),
       Outcome::kInsufficientFunds, "from"},
      {"redeem_frozen",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 100);
         DoStatus(n, n.ana_palma, AccountStatus::kFrozen);
       },
       redeem(ana_palma, 1), Outcome::kDebitAccountFrozen, ""},
      // No coverage required, so the supply is unbacked: paying out would take RESERVE
      // below zero.
      {"redeem_reserve_sign", [](Net& n) { DoDistribute(n, n.ana_palma, 100); },
       redeem(ana_palma, 100), Outcome::kSystemAccountSign, "RESERVE", 0},
      // At 50% and exactly at the limit, redeeming 1 burns 1 but pays out 1: the reserve
      // falls by twice what the requirement does.
      {"redeem_coverage_fractional",
       [](Net& n) {
         DoFund(n, n.a, 100);
         DoDistribute(n, n.ana_palma, 200);
       },
       redeem(ana_palma, 1), Outcome::kCoverageWouldBreak, "", 5000},
      // Distribute.
      {"distribute_zero", funded, distribute(ana_palma, 0), Outcome::kAmountNotPositive, "amount"},
      {"distribute_negative", funded, distribute(ana_palma, -1), Outcome::kAmountNotPositive,
       "amount"},
      {"distribute_memo_too_long", funded, distribute(ana_palma, 1, Bytes(kMemoBytesMax + 1)),
       Outcome::kMemoTooLong, "memo"},
      {"distribute_unknown_account", funded, distribute(unknown, 1), Outcome::kAccountNotFound,
       "account"},
      {"distribute_to_reserve", funded, distribute(reserve, 1), Outcome::kWrongAccountKind,
       "account"},
      {"distribute_mutual_credit", funded, distribute(ana_feira, 1), Outcome::kWrongCurrencyKind,
       "account"},
      {"distribute_frozen",
       [](Net& n) {
         DoFund(n, n.a, 10000);
         DoStatus(n, n.ana_palma, AccountStatus::kFrozen);
       },
       distribute(ana_palma, 1), Outcome::kCreditAccountFrozen, ""},
      {"distribute_no_reserve", nullptr, distribute(ana_palma, 1), Outcome::kCoverageWouldBreak,
       ""},
      {"distribute_above_excess", funded, distribute(ana_palma, 10001),
       Outcome::kCoverageWouldBreak, ""},
      {"distribute_above_excess_after_issue",
       [](Net& n) {
         DoIssue(n, n.caio_palma, 5000);
         DoFund(n, n.a, 300);
       },
       distribute(ana_palma, 301), Outcome::kCoverageWouldBreak, ""},
      // A's reserve still holds Ana's deposit, but it is owed to bank B (DUE_TO).
      {"distribute_reserve_owed_to_other_bank",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 100);
         DoPay(n, n.ana_palma, n.bia_sol, 100);
       },
       distribute(ana_palma, 1), Outcome::kCoverageWouldBreak, ""},
      {"distribute_fractional_one_more",
       [](Net& n) {
         DoFund(n, n.a, 100);
         DoDistribute(n, n.ana_palma, 200);
       },
       distribute(ana_palma, 1), Outcome::kCoverageWouldBreak, "", 5000},
      {"distribute_fractional_above_limit", [](Net& n) { DoFund(n, n.a, 100); },
       distribute(ana_palma, 201), Outcome::kCoverageWouldBreak, "", 5000},
      {"distribute_over_collateralised", [](Net& n) { DoFund(n, n.a, 300); },
       distribute(ana_palma, 101), Outcome::kCoverageWouldBreak, "", 30000},
  };
}

std::vector<RefusalCase> FundReserveRefusals() {
  auto fund = [](int64_t x, FundSource src = FundSource::kVault, std::string memo = "",
                 uint64_t bank = 0) -> Cmd {
    return [=](Net& n, RequestId r) {
      return n.ledger.FundReserve({r, bank ? BankId(bank) : n.a, Amount(x), src, memo});
    };
  };
  return {
      {"fund_zero", nullptr, fund(0), Outcome::kAmountNotPositive, "amount"},
      {"fund_negative", nullptr, fund(-100), Outcome::kAmountNotPositive, "amount"},
      {"fund_memo_too_long", nullptr, fund(1, FundSource::kVault, Bytes(kMemoBytesMax + 1)),
       Outcome::kMemoTooLong, "memo"},
      {"fund_bad_source", nullptr, fund(1, static_cast<FundSource>(2)), Outcome::kInvalidKind,
       "source"},
      {"fund_unknown_bank", nullptr, fund(1, FundSource::kVault, "", 99), Outcome::kBankNotFound,
       "bank"},
      // FEES never goes below zero; an empty FEES account cannot fund anything.
      {"fund_from_empty_fees", nullptr, fund(1, FundSource::kFees), Outcome::kSystemAccountSign,
       "FEES"},
      {"fund_from_fees_above_income",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 3000);
         Ok(n, [&](RequestId r) { return n.ledger.Redeem({r, n.ana_palma, Amount(3000), ""}); });
       },
       fund(61, FundSource::kFees), Outcome::kSystemAccountSign, "FEES"},
      {"fund_reserve_overflow", [](Net& n) { DoFund(n, n.a, kMax); }, fund(1),
       Outcome::kBalanceOverflow, ""},
  };
}

std::vector<RefusalCase> SetupRefusals() {
  auto init = [](std::string code, int64_t scale) -> Cmd {
    return [=](Net& n, RequestId r) { return n.ledger.InitDeployment({r, code, scale}); };
  };
  auto bank = [](std::string code, std::string name) -> Cmd {
    return [=](Net& n, RequestId r) { return n.ledger.CreateBank({r, code, name}); };
  };
  auto currency = [](std::string code, int32_t cov = 10000, int32_t fee = 200,
                     int64_t ceiling = kMax, uint64_t bank = 1) -> Cmd {
    return [=](Net& n, RequestId r) {
      return n.ledger.CreateCurrency({r, BankId(bank), code, cov, fee, Amount(ceiling)});
    };
  };
  auto circle = [](std::string code, std::string name = "Circle", int64_t scale = 100,
                   int64_t limit = 0, int64_t ceiling = kMax, uint64_t bank = 1) -> Cmd {
    return [=](Net& n, RequestId r) {
      return n.ledger.CreateCircle(
          {r, BankId(bank), code, name, scale, Amount(limit), Amount(ceiling)});
    };
  };
  auto member = [](std::string name, uint64_t bank = 1) -> Cmd {
    return [=](Net& n, RequestId r) { return n.ledger.CreateMember({r, BankId(bank), name}); };
  };
  return {
      // InitDeployment.
      {"init_again", nullptr, init("USD", 100), Outcome::kDeploymentExists, ""},
      {"init_lowercase_code", nullptr, init("brl", 100), Outcome::kInvalidCode, "national_code",
       10000, 200, false},
      {"init_short_code", nullptr, init("BR", 100), Outcome::kInvalidCode, "national_code", 10000,
       200, false},
      {"init_long_code", nullptr, init("BRLX", 100), Outcome::kInvalidCode, "national_code", 10000,
       200, false},
      {"init_empty_code", nullptr, init("", 100), Outcome::kInvalidCode, "national_code", 10000,
       200, false},
      {"init_scale_zero", nullptr, init("BRL", 0), Outcome::kInvalidScale, "scale", 10000, 200,
       false},
      {"init_scale_not_power_of_ten", nullptr, init("BRL", 50), Outcome::kInvalidScale, "scale",
       10000, 200, false},
      {"init_scale_negative", nullptr, init("BRL", -100), Outcome::kInvalidScale, "scale", 10000,
       200, false},
      {"init_scale_too_large", nullptr, init("BRL", 10'000'000'000), Outcome::kInvalidScale,
       "scale", 10000, 200, false},
      // CreateBank.
      {"bank_no_deployment", nullptr, bank("C", "Banco C"), Outcome::kNoDeployment, "", 10000, 200,
       false},
      {"bank_code_exists", nullptr, bank("A", "Another A"), Outcome::kCodeExists, "code"},
      {"bank_code_lowercase", nullptr, bank("c", "Banco C"), Outcome::kInvalidCode, "code"},
      {"bank_code_empty", nullptr, bank("", "Banco C"), Outcome::kInvalidCode, "code"},
      {"bank_code_leading_digit", nullptr, bank("1C", "Banco C"), Outcome::kInvalidCode, "code"},
      {"bank_code_dash", nullptr, bank("C-D", "Banco C"), Outcome::kInvalidCode, "code"},
      {"bank_code_too_long", nullptr, bank(Bytes(kCodeBytesMax + 1, 'C'), "Banco C"),
       Outcome::kInvalidCode, "code"},
      {"bank_name_empty", nullptr, bank("C", ""), Outcome::kInvalidName, "name"},
      {"bank_name_too_long", nullptr, bank("C", Bytes(kNameBytesMax + 1)), Outcome::kInvalidName,
       "name"},
      {"bank_name_control_char", nullptr, bank("C", "Banco\nC"), Outcome::kInvalidName, "name"},
      // CreateCurrency.
      {"currency_no_deployment", nullptr, currency("NEW"), Outcome::kNoDeployment, "", 10000, 200,
       false},
      {"currency_code_exists", nullptr, currency("PALMA"), Outcome::kCodeExists, "code"},
      {"currency_code_is_circle", nullptr, currency("FEIRA"), Outcome::kCodeExists, "code"},
      {"currency_code_is_national", nullptr, currency("BRL"), Outcome::kCodeExists, "code"},
      {"currency_code_invalid", nullptr, currency("palma2"), Outcome::kInvalidCode, "code"},
      {"currency_coverage_negative", nullptr, currency("NEW", -1), Outcome::kInvalidBasisPoints,
       "coverage_min_bp"},
      {"currency_coverage_too_high", nullptr, currency("NEW", kCoverageBpMax + 1),
       Outcome::kInvalidBasisPoints, "coverage_min_bp"},
      {"currency_fee_negative", nullptr, currency("NEW", 10000, -1), Outcome::kInvalidBasisPoints,
       "redemption_fee_bp"},
      {"currency_fee_too_high", nullptr, currency("NEW", 10000, kFeeBpMax + 1),
       Outcome::kInvalidBasisPoints, "redemption_fee_bp"},
      {"currency_ceiling_negative", nullptr, currency("NEW", 10000, 200, -1),
       Outcome::kInvalidLimit, "default_ceiling"},
      {"currency_unknown_bank", nullptr, currency("NEW", 10000, 200, kMax, 99),
       Outcome::kBankNotFound, "bank"},
      {"currency_bank_zero", nullptr, currency("NEW", 10000, 200, kMax, 0), Outcome::kBankNotFound,
       "bank"},
      // CreateCircle.
      {"circle_no_deployment", nullptr, circle("HORTA"), Outcome::kNoDeployment, "", 10000, 200,
       false},
      {"circle_code_exists", nullptr, circle("FEIRA"), Outcome::kCodeExists, "code"},
      {"circle_code_is_currency", nullptr, circle("SOL"), Outcome::kCodeExists, "code"},
      {"circle_code_invalid", nullptr, circle("Horta"), Outcome::kInvalidCode, "code"},
      {"circle_name_empty", nullptr, circle("HORTA", ""), Outcome::kInvalidName, "name"},
      {"circle_scale_invalid", nullptr, circle("HORTA", "Horta", 7), Outcome::kInvalidScale,
       "scale"},
      {"circle_scale_zero", nullptr, circle("HORTA", "Horta", 0), Outcome::kInvalidScale, "scale"},
      {"circle_limit_negative", nullptr, circle("HORTA", "Horta", 100, -1), Outcome::kInvalidLimit,
       "default_credit_limit"},
      {"circle_ceiling_negative", nullptr, circle("HORTA", "Horta", 100, 0, -1),
       Outcome::kInvalidLimit, "default_ceiling"},
      {"circle_unknown_bank", nullptr, circle("HORTA", "Horta", 100, 0, kMax, 99),
       Outcome::kBankNotFound, "bank"},
      // CreateMember.
      {"member_no_deployment", nullptr, member("Eva"), Outcome::kNoDeployment, "", 10000, 200,
       false},
      {"member_name_empty", nullptr, member(""), Outcome::kInvalidName, "name"},
      {"member_name_too_long", nullptr, member(Bytes(kNameBytesMax + 1)), Outcome::kInvalidName,
       "name"},
      {"member_name_control_char", nullptr, member(std::string("E\x7f")), Outcome::kInvalidName,
       "name"},
      {"member_unknown_bank", nullptr, member("Eva", 99), Outcome::kBankNotFound, "bank"},
  };
}

std::vector<RefusalCase> CircleAndAccountRefusals() {
  auto add = [](auto circle, auto member) -> Cmd {
    return [=](Net& n, RequestId r) {
      return n.ledger.AddCircleMember({r, circle(n), member(n), false});
    };
  };
  auto open = [](auto owner, auto currency, AccountKind kind = AccountKind::kMember) -> Cmd {
    return [=](Net& n, RequestId r) {
      return n.ledger.OpenAccount({r, owner(n), currency(n), kind});
    };
  };
  auto feira_circle = [](Net& n) { return n.circle; };
  auto no_circle = [](Net&) { return CircleId(99); };
  auto ana = [](Net& n) { return n.ana; };
  auto bia = [](Net& n) { return n.bia; };
  auto dina = [](Net& n) { return n.dina; };
  auto no_member = [](Net&) { return MemberId(99); };
  auto palma = [](Net& n) { return n.palma; };
  auto feira = [](Net& n) { return n.feira; };
  auto brl = [](Net& n) { return n.brl; };
  auto no_currency = [](Net&) { return CurrencyId(99); };
  return {
      {"add_member_no_deployment", nullptr, add(feira_circle, ana), Outcome::kNoDeployment, "",
       10000, 200, false},
      {"add_member_unknown_circle", AddDina, add(no_circle, dina), Outcome::kCircleNotFound,
       "circle"},
      {"add_member_unknown_member", nullptr, add(feira_circle, no_member), Outcome::kMemberNotFound,
       "member"},
      {"add_member_of_other_bank", nullptr, add(feira_circle, bia), Outcome::kMemberOfOtherBank,
       "member"},
      {"add_member_already_in_circle", nullptr, add(feira_circle, ana), Outcome::kAlreadyInCircle,
       "member"},
      {"open_no_deployment", nullptr, open(ana, palma), Outcome::kNoDeployment, "", 10000, 200,
       false},
      {"open_system_kind", nullptr, open(ana, palma, AccountKind::kIssuance), Outcome::kInvalidKind,
       "kind"},
      {"open_reserve_kind", nullptr, open(ana, palma, AccountKind::kReserve), Outcome::kInvalidKind,
       "kind"},
      {"open_out_of_range_kind", nullptr, open(ana, palma, static_cast<AccountKind>(200)),
       Outcome::kInvalidKind, "kind"},
      {"open_unknown_owner", nullptr, open(no_member, palma), Outcome::kMemberNotFound, "owner"},
      {"open_unknown_currency", nullptr, open(ana, no_currency), Outcome::kCurrencyNotFound,
       "currency"},
      {"open_national_currency", nullptr, open(ana, brl), Outcome::kWrongCurrencyKind, "currency"},
      {"open_other_banks_currency", nullptr, open(bia, palma), Outcome::kMemberOfOtherBank,
       "currency"},
      {"open_mutual_credit_not_in_circle", AddDina, open(dina, feira), Outcome::kNotInCircle,
       "owner"},
  };
}

std::vector<RefusalCase> AdminRefusals() {
  auto status = [](auto acc, AccountStatus s, std::string actor = "teller",
                   std::string reason = "test") -> Cmd {
    return [=](Net& n, RequestId r) {
      return n.ledger.SetAccountStatus({r, acc(n), s, actor, reason});
    };
  };
  auto limits = [](auto acc, int64_t limit, int64_t ceiling, std::string actor = "teller",
                   std::string reason = "test") -> Cmd {
    return [=](Net& n, RequestId r) {
      return n.ledger.SetAccountLimits({r, acc(n), Amount(limit), Amount(ceiling), actor, reason});
    };
  };
  auto ana_palma = [](Net& n) { return n.ana_palma; };
  auto ana_feira = [](Net& n) { return n.ana_feira; };
  auto caio_palma = [](Net& n) { return n.caio_palma; };
  auto unknown = [](Net&) { return AccountId(999); };
  auto reserve = [](Net& n) { return Reserve(n, n.a); };
  auto due_to = [](Net& n) { return DueTo(n, n.a, n.b); };
  auto close_caio = [](Net& n) { DoStatus(n, n.caio_palma, AccountStatus::kClosed); };
  auto ana_owes = [](Net& n) { DoPay(n, n.ana_feira, n.caio_feira, 3000); };
  const AccountStatus frozen = AccountStatus::kFrozen;
  const AccountStatus closed = AccountStatus::kClosed;
  const AccountStatus active = AccountStatus::kActive;
  return {
      // SetAccountStatus.
      {"status_out_of_range", nullptr, status(ana_palma, static_cast<AccountStatus>(3)),
       Outcome::kInvalidKind, "status"},
      {"status_actor_empty", nullptr, status(ana_palma, frozen, ""), Outcome::kInvalidName,
       "actor"},
      {"status_reason_empty", nullptr, status(ana_palma, frozen, "teller", ""),
       Outcome::kInvalidReason, "reason"},
      {"status_reason_too_long", nullptr,
       status(ana_palma, frozen, "teller", Bytes(kReasonBytesMax + 1)), Outcome::kInvalidReason,
       "reason"},
      {"status_reason_control_char", nullptr, status(ana_palma, frozen, "teller", "a\tb"),
       Outcome::kInvalidReason, "reason"},
      {"status_unknown_account", nullptr, status(unknown, frozen), Outcome::kAccountNotFound,
       "account"},
      {"status_system_account", nullptr, status(reserve, frozen), Outcome::kWrongAccountKind,
       "account"},
      {"status_due_account", nullptr, status(due_to, frozen), Outcome::kWrongAccountKind,
       "account"},
      {"status_close_not_empty", Issued(1), status(ana_palma, closed), Outcome::kAccountNotEmpty,
       "account"},
      {"status_close_mutual_credit_in_debt", ana_owes, status(ana_feira, closed),
       Outcome::kAccountNotEmpty, "account"},
      {"status_closed_is_final_reactivate", close_caio, status(caio_palma, active),
       Outcome::kAccountClosed, "account"},
      {"status_closed_is_final_freeze", close_caio, status(caio_palma, frozen),
       Outcome::kAccountClosed, "account"},
      {"status_closed_is_final_close", close_caio, status(caio_palma, closed),
       Outcome::kAccountClosed, "account"},
      // SetAccountLimits.
      {"limits_credit_negative", nullptr, limits(ana_feira, -1, kMax), Outcome::kInvalidLimit,
       "credit_limit"},
      {"limits_ceiling_negative", nullptr, limits(ana_feira, 0, -1), Outcome::kInvalidLimit,
       "ceiling"},
      {"limits_actor_empty", nullptr, limits(ana_feira, 0, kMax, ""), Outcome::kInvalidName,
       "actor"},
      {"limits_actor_too_long", nullptr, limits(ana_feira, 0, kMax, Bytes(kNameBytesMax + 1)),
       Outcome::kInvalidName, "actor"},
      {"limits_reason_empty", nullptr, limits(ana_feira, 0, kMax, "teller", ""),
       Outcome::kInvalidReason, "reason"},
      {"limits_reason_too_long", nullptr,
       limits(ana_feira, 0, kMax, "teller", Bytes(kReasonBytesMax + 1)), Outcome::kInvalidReason,
       "reason"},
      {"limits_unknown_account", nullptr, limits(unknown, 0, kMax), Outcome::kAccountNotFound,
       "account"},
      {"limits_system_account", nullptr, limits(reserve, 0, kMax), Outcome::kWrongAccountKind,
       "account"},
      {"limits_closed_account", close_caio, limits(caio_palma, 0, kMax), Outcome::kAccountClosed,
       "account"},
      {"limits_guaranteed_credit_limit", nullptr, limits(ana_palma, 1, kMax),
       Outcome::kWrongCurrencyKind, "credit_limit"},
      {"limits_below_current_debt", ana_owes, limits(ana_feira, 2999, kMax),
       Outcome::kExceedsCreditLimit, "credit_limit"},
      {"limits_zero_with_debt", ana_owes, limits(ana_feira, 0, kMax), Outcome::kExceedsCreditLimit,
       "credit_limit"},
      {"limits_ceiling_below_balance", Issued(500), limits(ana_palma, 0, 499),
       Outcome::kExceedsCeiling, "ceiling"},
      {"limits_mutual_credit_ceiling_below_balance", ana_owes,
       limits([](Net& n) { return n.caio_feira; }, 5000, 2999), Outcome::kExceedsCeiling,
       "ceiling"},
  };
}

std::vector<RefusalCase> CycleRefusals() {
  return {
      {"cycle_no_deployment", nullptr, [](Net& n, RequestId r) { return n.ledger.RunCycle({r}); },
       Outcome::kNoDeployment, "", 10000, 200, false},
      // Only an under-covered bank can be short; the rules never let one become so, so the
      // state is forced (and the checker rightly rejects it: clean = false).
      {"cycle_settlement_short",
       [](Net& n) {
         DoIssue(n, n.ana_palma, 100);
         DoPay(n, n.ana_palma, n.bia_sol, 100);
         LedgerTestAccess::ForceMove(n.ledger, Reserve(n, n.a), Vault(n, n.a), 1);
       },
       [](Net& n, RequestId r) { return n.ledger.RunCycle({r}); }, Outcome::kSettlementShort,
       "reserve", 10000, 200, true, false},
  };
}

// ---- Microcredit ---------------------------------------------------------------------------

void AddLoans(Net& n) { n.ls = AddLoanSetup(n); }
LoanId DoDisburse(Net& n, LoanProductId product, MemberId member, SolidarityGroupId group,
                  int64_t principal, AccountId account = AccountId()) {
  return LoanId(
      Ok(n, [&](RequestId r) {
        return n.ledger.DisburseLoan({r, product, member, group, Amount(principal), account, ""});
      }).id);
}
// Ana borrows 1,000.00 in cash (4 × 30 days).
void CashLoan(Net& n) {
  AddLoans(n);
  n.loan = DoDisburse(n, n.ls.cash, n.ana, SolidarityGroupId(), 100'000);
}
// Ana borrows 300.00 PALMA (3 × 14 days), paid into her PALMA account.
void PalmaLoan(Net& n) {
  AddLoans(n);
  n.loan = DoDisburse(n, n.ls.palma, n.ana, SolidarityGroupId(), 30'000, n.ana_palma);
}
void PastDue(Net& n, uint64_t days) { n.clock_ns += days * kDayNs; }

std::vector<RefusalCase> LoanProductRefusals() {
  struct P {
    BankId bank;
    std::string name = "Produção";
    CurrencyId currency;
    int64_t max = 500'000;
    int32_t rate = 100, count = 4, period = 30, grace = 0;
  };
  auto product = [](std::function<void(Net&, P&)> change) -> Cmd {
    return [change](Net& n, RequestId r) {
      P p{n.a, "Produção", n.brl};
      change(n, p);
      return n.ledger.CreateLoanProduct(
          {r, p.bank, p.name, p.currency, Amount(p.max), p.rate, p.count, p.period, p.grace});
    };
  };
  return {
      {"product_no_deployment", nullptr,
       [](Net& n, RequestId r) {
         return n.ledger.CreateLoanProduct(
             {r, BankId(1), "Produção", CurrencyId(1), Amount(1), 0, 1, 30, 0});
       },
       Outcome::kNoDeployment, "", 10000, 200, false},
      {"product_invalid_name", nullptr, product([](Net&, P& p) { p.name = ""; }),
       Outcome::kInvalidName, "name"},
      {"product_max_principal_zero", nullptr, product([](Net&, P& p) { p.max = 0; }),
       Outcome::kAmountNotPositive, "max_principal"},
      {"product_rate_above_cap", nullptr,
       product([](Net&, P& p) { p.rate = kLoanMonthlyRateBpMax + 1; }),
       Outcome::kInvalidBasisPoints, "monthly_rate_bp"},
      {"product_rate_negative", nullptr, product([](Net&, P& p) { p.rate = -1; }),
       Outcome::kInvalidBasisPoints, "monthly_rate_bp"},
      {"product_no_instalments", nullptr, product([](Net&, P& p) { p.count = 0; }),
       Outcome::kInvalidTerms, "instalments"},
      {"product_too_many_instalments", nullptr,
       product([](Net&, P& p) { p.count = kLoanInstalmentsMax + 1; }), Outcome::kInvalidTerms,
       "instalments"},
      {"product_period_zero", nullptr, product([](Net&, P& p) { p.period = 0; }),
       Outcome::kInvalidTerms, "period_days"},
      {"product_period_too_long", nullptr,
       product([](Net&, P& p) { p.period = kLoanPeriodDaysMax + 1; }), Outcome::kInvalidTerms,
       "period_days"},
      {"product_grace_negative", nullptr, product([](Net&, P& p) { p.grace = -1; }),
       Outcome::kInvalidTerms, "grace_days"},
      {"product_grace_too_long", nullptr,
       product([](Net&, P& p) { p.grace = kLoanGraceDaysMax + 1; }), Outcome::kInvalidTerms,
       "grace_days"},
      {"product_unknown_bank", nullptr, product([](Net&, P& p) { p.bank = BankId(99); }),
       Outcome::kBankNotFound, "bank"},
      {"product_unknown_currency", nullptr,
       product([](Net&, P& p) { p.currency = CurrencyId(99); }), Outcome::kCurrencyNotFound,
       "currency"},
      {"product_other_banks_currency", nullptr, product([](Net& n, P& p) { p.currency = n.sol; }),
       Outcome::kWrongCurrencyKind, "currency"},
      {"product_mutual_credit_currency", nullptr,
       product([](Net& n, P& p) { p.currency = n.feira; }), Outcome::kWrongCurrencyKind,
       "currency"},
  };
}

std::vector<RefusalCase> GroupRefusals() {
  auto group = [](std::function<std::vector<MemberId>(Net&)> members,
                  std::function<std::vector<MemberId>(Net&)> liable, BankId bank = BankId(1),
                  std::string name = "Grupo") -> Cmd {
    return [=](Net& n, RequestId r) {
      return n.ledger.CreateSolidarityGroup({r, bank, name, members(n), liable(n)});
    };
  };
  auto three = [](Net& n) { return std::vector<MemberId>{n.ana, n.caio, n.ls.dora}; };
  auto two = [](Net& n) { return std::vector<MemberId>{n.ana, n.caio}; };
  auto ids = [](std::vector<uint64_t> v) {
    return [v](Net&) {
      std::vector<MemberId> out;
      for (uint64_t x : v) out.push_back(MemberId(x));
      return out;
    };
  };
  return {
      {"group_invalid_name", AddLoans, group(three, two, BankId(1), ""), Outcome::kInvalidName,
       "name"},
      {"group_too_small", AddLoans, group(two, two), Outcome::kInvalidGroup, "members"},
      {"group_too_large", AddLoans, group(ids({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), ids({1, 2})),
       Outcome::kInvalidGroup, "members"},
      {"group_duplicate_member", AddLoans,
       group(
           [](Net& n) {
             return std::vector<MemberId>{n.ana, n.caio, n.ana};
           },
           two),
       Outcome::kInvalidGroup, "members"},
      {"group_one_liable", AddLoans,
       group(three, [](Net& n) { return std::vector<MemberId>{n.ana}; }), Outcome::kInvalidGroup,
       "liable"},
      {"group_liable_not_a_member", AddLoans,
       group(three,
             [](Net& n) {
               return std::vector<MemberId>{n.ana, n.bia};
             }),
       Outcome::kInvalidGroup, "liable"},
      {"group_unknown_bank", AddLoans, group(three, two, BankId(99)), Outcome::kBankNotFound,
       "bank"},
      {"group_unknown_member", AddLoans,
       group(
           [](Net& n) {
             return std::vector<MemberId>{n.ana, n.caio, MemberId(99)};
           },
           two),
       Outcome::kMemberNotFound, "members"},
      {"group_member_of_other_bank", AddLoans,
       group(
           [](Net& n) {
             return std::vector<MemberId>{n.ana, n.caio, n.bia};
           },
           two),
       Outcome::kMemberOfOtherBank, "members"},
  };
}

std::vector<RefusalCase> DisburseRefusals() {
  struct D {
    LoanProductId product;
    MemberId member;
    SolidarityGroupId group;
    int64_t principal = 10'000;
    AccountId account;
    std::string memo;
  };
  auto disburse = [](std::function<void(Net&, D&)> change) -> Cmd {
    return [change](Net& n, RequestId r) {
      D d{n.ls.cash, n.ana};
      change(n, d);
      return n.ledger.DisburseLoan(
          {r, d.product, d.member, d.group, Amount(d.principal), d.account, d.memo});
    };
  };
  auto palma = [](Net& n, D& d) {
    d.product = n.ls.palma;
    d.account = n.ana_palma;
  };
  return {
      {"disburse_zero_principal", AddLoans, disburse([](Net&, D& d) { d.principal = 0; }),
       Outcome::kAmountNotPositive, "principal"},
      {"disburse_memo_too_long", AddLoans,
       disburse([](Net&, D& d) { d.memo = Bytes(kMemoBytesMax + 1); }), Outcome::kMemoTooLong,
       "memo"},
      {"disburse_member_and_group", AddLoans, disburse([](Net& n, D& d) { d.group = n.ls.group; }),
       Outcome::kInvalidKind, "borrower"},
      {"disburse_no_borrower", AddLoans, disburse([](Net&, D& d) { d.member = MemberId(); }),
       Outcome::kInvalidKind, "borrower"},
      {"disburse_unknown_product", AddLoans,
       disburse([](Net&, D& d) { d.product = LoanProductId(99); }), Outcome::kLoanProductNotFound,
       "product"},
      {"disburse_unknown_member", AddLoans, disburse([](Net&, D& d) { d.member = MemberId(99); }),
       Outcome::kMemberNotFound, "member"},
      {"disburse_member_of_other_bank", AddLoans, disburse([](Net& n, D& d) { d.member = n.bia; }),
       Outcome::kMemberOfOtherBank, "member"},
      {"disburse_unknown_group", AddLoans, disburse([](Net&, D& d) {
         d.member = MemberId();
         d.group = SolidarityGroupId(99);
       }),
       Outcome::kGroupNotFound, "group"},
      {"disburse_above_max_principal", AddLoans,
       disburse([](Net&, D& d) { d.principal = 500'001; }), Outcome::kPrincipalAboveMax,
       "principal"},
      {"disburse_cash_with_account", AddLoans,
       disburse([](Net& n, D& d) { d.account = n.ana_palma; }), Outcome::kWrongAccountKind,
       "account"},
      {"disburse_palma_unknown_account", AddLoans, disburse([=](Net& n, D& d) {
         palma(n, d);
         d.account = AccountId(999);
       }),
       Outcome::kAccountNotFound, "account"},
      {"disburse_palma_to_system_account", AddLoans, disburse([=](Net& n, D& d) {
         palma(n, d);
         d.account = Issuance(n, n.palma);
       }),
       Outcome::kWrongAccountKind, "account"},
      {"disburse_palma_to_other_currency", AddLoans, disburse([=](Net& n, D& d) {
         palma(n, d);
         d.account = n.ana_feira;
       }),
       Outcome::kWrongCurrencyKind, "account"},
      {"disburse_palma_to_someone_elses_account", AddLoans, disburse([=](Net& n, D& d) {
         palma(n, d);
         d.account = n.caio_palma;
       }),
       Outcome::kNotBorrower, "account"},
      {"disburse_borrower_in_arrears",
       [](Net& n) {
         CashLoan(n);
         PastDue(n, 31);
       },
       disburse([](Net&, D&) {}), Outcome::kBorrowerInArrears, "member"},
      {"disburse_group_member_in_arrears",
       [](Net& n) {
         AddLoans(n);
         DoDisburse(n, n.ls.cash, n.ls.dora, SolidarityGroupId(), 10'000);
         PastDue(n, 31);
       },
       disburse([](Net& n, D& d) {
         d.member = MemberId();
         d.group = n.ls.group;
       }),
       Outcome::kBorrowerInArrears, "group"},
      {"disburse_cash_coverage_would_break",
       [](Net& n) {
         n.ls = AddLoanSetup(n, 0);
         DoIssue(n, n.ana_palma, 50'000);  // reserve 500.00 backs exactly 500.00 PALMA
       },
       disburse([](Net&, D& d) { d.principal = 1; }), Outcome::kCoverageWouldBreak, ""},
      {"disburse_palma_coverage_would_break",
       [](Net& n) {
         n.ls = AddLoanSetup(n, 20'000);  // excess 200.00
       },
       disburse([=](Net& n, D& d) {
         palma(n, d);
         d.principal = 20'001;
       }),
       Outcome::kCoverageWouldBreak, ""},
  };
}

std::vector<RefusalCase> RepayAndWriteOffRefusals() {
  auto repay = [](int64_t amount, std::function<AccountId(Net&)> account = nullptr,
                  std::function<LoanId(Net&)> loan = nullptr) -> Cmd {
    return [=](Net& n, RequestId r) {
      return n.ledger.RepayLoan(
          {r, loan ? loan(n) : n.loan, Amount(amount), account ? account(n) : AccountId(), ""});
    };
  };
  auto write_off = [](std::string actor, std::string reason,
                      std::function<LoanId(Net&)> loan = nullptr) -> Cmd {
    return [=](Net& n, RequestId r) {
      return n.ledger.WriteOffLoan({r, loan ? loan(n) : n.loan, actor, reason});
    };
  };
  auto ana_palma = [](Net& n) { return n.ana_palma; };
  return {
      {"repay_zero", CashLoan, repay(0), Outcome::kAmountNotPositive, "amount"},
      {"repay_unknown_loan", CashLoan, repay(100, nullptr, [](Net&) { return LoanId(99); }),
       Outcome::kLoanNotFound, "loan"},
      {"repay_cash_with_account", CashLoan, repay(100, ana_palma), Outcome::kWrongAccountKind,
       "account"},
      // Interest of the first period (1,000.00 × 1% = 10.00) plus the principal.
      {"repay_overpayment", CashLoan, repay(101'001), Outcome::kOverpayment, "amount"},
      {"repay_repaid_loan",
       [](Net& n) {
         CashLoan(n);
         Ok(n, [&](RequestId r) {
           return n.ledger.RepayLoan({r, n.loan, Amount(101'000), AccountId(), ""});
         });
       },
       repay(1), Outcome::kLoanNotActive, "loan"},
      {"repay_palma_from_someone_elses_account", PalmaLoan,
       repay(100, [](Net& n) { return n.caio_palma; }), Outcome::kNotBorrower, "account"},
      {"repay_palma_insufficient_funds",
       [](Net& n) {
         PalmaLoan(n);
         DoPay(n, n.ana_palma, n.caio_palma, 30'000);
       },
       repay(100, ana_palma), Outcome::kInsufficientFunds, "from"},
      {"write_off_invalid_actor", CashLoan, write_off("", "defaulted"), Outcome::kInvalidName,
       "actor"},
      {"write_off_invalid_reason", CashLoan, write_off("admin", ""), Outcome::kInvalidReason,
       "reason"},
      {"write_off_unknown_loan", CashLoan,
       write_off("admin", "gone", [](Net&) { return LoanId(99); }), Outcome::kLoanNotFound, "loan"},
      {"write_off_twice",
       [](Net& n) {
         CashLoan(n);
         Ok(n, [&](RequestId r) { return n.ledger.WriteOffLoan({r, n.loan, "admin", "gone"}); });
       },
       write_off("admin", "again"), Outcome::kLoanNotActive, "loan"},
  };
}

std::vector<RefusalCase> AllRefusals() {
  std::vector<RefusalCase> all;
  for (auto* f :
       {&PayRefusals, &IssueRedeemDistributeRefusals, &FundReserveRefusals, &SetupRefusals,
        &CircleAndAccountRefusals, &AdminRefusals, &CycleRefusals, &LoanProductRefusals,
        &GroupRefusals, &DisburseRefusals, &RepayAndWriteOffRefusals}) {
    for (RefusalCase& c : f()) all.push_back(std::move(c));
  }
  return all;
}

// Every Outcome is either exercised by the refusal table, exercised by a dedicated test
// below, or listed as one the Ledger never returns. A new Outcome fails this until tested.
TEST(LedgerTest, EveryOutcomeIsCovered) {
  std::set<Outcome> covered;
  for (const RefusalCase& c : AllRefusals()) covered.insert(c.want);
  const std::set<Outcome> elsewhere = {
      Outcome::kOk,
      Outcome::kExists,
      Outcome::kExistsWithDifferentFields,
      Outcome::kRequestIdZero,  // RequestIdZeroRefusedByEveryCommand
      Outcome::kBatchFull,      // BatchFull
      // invoices_test.cc: RegisterRefusals, DecisionRefusals.
      Outcome::kInvoiceNotFound, Outcome::kInvoiceExists, Outcome::kInvoiceWrongState,
      Outcome::kSelfInvoice, Outcome::kInvalidDueDate, Outcome::kInvalidReference,
      // cards_test.cc: registration, load, block and SettleOffline refusals.
      Outcome::kKioskNotFound, Outcome::kCardNotFound, Outcome::kKioskExists,
      Outcome::kCardExists, Outcome::kCardBlocked, Outcome::kLoadAboveLimit,
      Outcome::kInvalidCardTerms,
  };
  // kLimitReached needs millions of objects (kBanksMax, kAccountsMax …) and is
  // impractical here.
  const std::set<Outcome> not_returned = {Outcome::kLimitReached};
  int count = 0;
  const Outcome* all = AllOutcomes(&count);
  for (int i = 0; i < count; ++i) {
    const Outcome o = all[i];
    const int places = covered.contains(o) + elsewhere.contains(o) + not_returned.contains(o);
    EXPECT_EQ(places, 1) << OutcomeName(o);
  }
}

class RefusalTest : public testing::TestWithParam<RefusalCase> {};

TEST_P(RefusalTest, RefusedAndNothingChanged) {
  const RefusalCase& c = GetParam();
  Net n;
  if (c.build) n.Build(c.coverage_bp, c.fee_bp);
  if (c.setup) c.setup(n);
  ASSERT_FALSE(HasFailure()) << "setup failed";
  n.Begin();
  const Snapshot before = Take(n.ledger);
  const RequestId id = n.Next();
  const OpResult r = c.cmd(n, id);
  EXPECT_EQ(r.outcome, c.want) << "got " << OutcomeName(r.outcome) << " (" << r.detail << "), want "
                               << OutcomeName(c.want);
  EXPECT_EQ(std::string(r.detail), c.detail);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.legs, 0u);
  ExpectSame(before, Take(n.ledger));
  EXPECT_EQ(n.ledger.batch_transfer_count(), 0u);
  const SealedBatch b = n.Seal();
  EXPECT_TRUE(b.transfers.empty());
  EXPECT_EQ(b.bytes.size(), kBatchHeaderBytes) << "a refused command left an event in the batch";
  if (c.clean) n.ExpectClean();

  // Refused requests are not recorded: the same id is evaluated anew (and refused again).
  n.Begin();
  const OpResult again = c.cmd(n, id);
  EXPECT_EQ(again.outcome, c.want) << OutcomeName(again.outcome);
  n.Seal();
}

INSTANTIATE_TEST_SUITE_P(Ledger, RefusalTest, testing::ValuesIn(AllRefusals()),
                         [](const testing::TestParamInfo<RefusalCase>& info) {
                           return info.param.name;
                         });

// Every command refuses the zero request id before anything else.
TEST(LedgerTest, RequestIdZeroRefusedByEveryCommand) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 1000);
  const RequestId zero;
  const std::vector<std::pair<const char*, std::function<OpResult()>>> cmds = {
      {"InitDeployment",
       [&] {
         return n.ledger.InitDeployment({zero, "USD", 100});
       }},
      {"CreateBank",
       [&] {
         return n.ledger.CreateBank({zero, "C", "Banco C"});
       }},
      {"CreateCurrency",
       [&] {
         return n.ledger.CreateCurrency({zero, n.a, "NEW", 10000, 200});
       }},
      {"CreateCircle",
       [&] {
         return n.ledger.CreateCircle({zero, n.a, "HORTA", "Horta", 100, Amount(0), Amount(kMax)});
       }},
      {"CreateMember",
       [&] {
         return n.ledger.CreateMember({zero, n.a, "Eva"});
       }},
      {"AddCircleMember",
       [&] {
         return n.ledger.AddCircleMember({zero, n.circle, n.ana, false});
       }},
      {"OpenAccount",
       [&] {
         return n.ledger.OpenAccount({zero, n.ana, n.palma, AccountKind::kMember});
       }},
      {"Pay",
       [&] {
         return n.ledger.Pay({zero, n.ana_palma, n.caio_palma, Amount(1), ""});
       }},
      {"Issue",
       [&] {
         return n.ledger.Issue({zero, n.ana_palma, Amount(1), ""});
       }},
      {"Redeem",
       [&] {
         return n.ledger.Redeem({zero, n.ana_palma, Amount(1), ""});
       }},
      {"Distribute",
       [&] {
         return n.ledger.Distribute({zero, n.ana_palma, Amount(1), ""});
       }},
      {"FundReserve",
       [&] {
         return n.ledger.FundReserve({zero, n.a, Amount(1), FundSource::kVault, ""});
       }},
      {"SetAccountStatus",
       [&] {
         return n.ledger.SetAccountStatus(
             {zero, n.ana_palma, AccountStatus::kFrozen, "teller", "test"});
       }},
      {"SetAccountLimits",
       [&] {
         return n.ledger.SetAccountLimits(
             {zero, n.ana_palma, Amount(0), Amount(5), "teller", "test"});
       }},
      {"RunCycle", [&] { return n.ledger.RunCycle({zero}); }},
      {"CreateLoanProduct",
       [&] {
         return n.ledger.CreateLoanProduct(
             {zero, n.a, "Produção", n.brl, Amount(100), 100, 4, 30, 0});
       }},
      {"CreateSolidarityGroup",
       [&] {
         return n.ledger.CreateSolidarityGroup(
             {zero, n.a, "Grupo", {n.ana, n.caio, MemberId(3)}, {n.ana, n.caio}});
       }},
      {"DisburseLoan",
       [&] {
         return n.ledger.DisburseLoan(
             {zero, LoanProductId(1), n.ana, SolidarityGroupId(), Amount(1), AccountId(), ""});
       }},
      {"RepayLoan",
       [&] {
         return n.ledger.RepayLoan({zero, LoanId(1), Amount(1), AccountId(), ""});
       }},
      {"WriteOffLoan",
       [&] {
         return n.ledger.WriteOffLoan({zero, LoanId(1), "admin", "gone"});
       }},
  };
  n.Begin();
  const Snapshot before = Take(n.ledger);
  for (const auto& [name, cmd] : cmds) {
    SCOPED_TRACE(name);
    const OpResult r = cmd();
    EXPECT_EQ(r.outcome, Outcome::kRequestIdZero) << OutcomeName(r.outcome);
    ExpectSame(before, Take(n.ledger));
  }
  const SealedBatch b = n.Seal();
  EXPECT_EQ(b.bytes.size(), kBatchHeaderBytes);
  n.ExpectClean();
}

// ---- Successful commands -------------------------------------------------------------------

TEST(LedgerTest, PaySameCurrencyOneLeg) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 10000);
  const RequestId id = n.Next();
  n.Begin();
  const std::string memo = Bytes(kMemoBytesMax, 'm');  // the longest memo is fine
  const OpResult r = n.ledger.Pay({id, n.ana_palma, n.caio_palma, Amount(2500), memo});
  const SealedBatch b = n.Seal();
  ASSERT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome);
  EXPECT_EQ(r.legs, 1u);
  EXPECT_EQ(r.timestamp_ns, b.timestamp_ns);
  ASSERT_EQ(b.transfers.size(), 1u);
  const Transfer& t = b.transfers[0];
  EXPECT_EQ(t.id, DeriveTransferId(id, 0));
  EXPECT_EQ(t.request, id);
  EXPECT_EQ(t.leg, 0u);
  EXPECT_EQ(t.debit, n.ana_palma);
  EXPECT_EQ(t.credit, n.caio_palma);
  EXPECT_EQ(t.currency, n.palma);
  EXPECT_EQ(t.amount, Amount(2500));
  EXPECT_EQ(t.code, TransferCode::kPayment);
  EXPECT_EQ(t.memo, memo);
  EXPECT_EQ(t.timestamp_ns, b.timestamp_ns);
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(7500));
  EXPECT_EQ(n.Balance(n.caio_palma), Amount(2500));
  EXPECT_EQ(n.ledger.Supply(n.palma), Amount(10000));
  EXPECT_EQ(SortedTouched(b), (std::vector<AccountId>{n.ana_palma, n.caio_palma}));
  // Paying everything left is fine: a guaranteed member may reach exactly zero.
  DoPay(n, n.ana_palma, n.caio_palma, 7500);
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(0));
  n.ExpectClean();
}

TEST(LedgerTest, PayCrossBankThreeLegsWithDerivedIds) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 10000);
  const RequestId id = n.Next();
  n.Begin();
  const OpResult r = n.ledger.Pay({id, n.ana_palma, n.bia_sol, Amount(3000), "feira"});
  const SealedBatch b = n.Seal();
  ASSERT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome);
  EXPECT_EQ(r.legs, 3u);
  ASSERT_EQ(b.transfers.size(), 3u);
  struct Want {
    AccountId debit, credit;
    CurrencyId currency;
    TransferCode code;
  };
  const Want want[] = {
      {n.ana_palma, Issuance(n, n.palma), n.palma, TransferCode::kPayment},
      {Issuance(n, n.sol), n.bia_sol, n.sol, TransferCode::kPayment},
      {DueTo(n, n.a, n.b), DueFrom(n, n.b, n.a), n.brl, TransferCode::kInterbank},
  };
  std::set<TransferId> ids;
  for (uint32_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const Transfer& t = b.transfers[i];
    EXPECT_EQ(t.id, DeriveTransferId(id, i));
    EXPECT_EQ(t.leg, i);
    EXPECT_EQ(t.request, id);
    EXPECT_EQ(t.debit, want[i].debit);
    EXPECT_EQ(t.credit, want[i].credit);
    EXPECT_EQ(t.currency, want[i].currency);
    EXPECT_EQ(t.code, want[i].code);
    EXPECT_EQ(t.amount, Amount(3000));
    EXPECT_EQ(t.memo, "feira");
    ids.insert(t.id);
  }
  EXPECT_EQ(ids.size(), 3u);
  std::vector<AccountId> touched = {n.ana_palma,        n.bia_sol,          Issuance(n, n.palma),
                                    Issuance(n, n.sol), DueTo(n, n.a, n.b), DueFrom(n, n.b, n.a)};
  std::sort(touched.begin(), touched.end());
  EXPECT_EQ(SortedTouched(b), touched);
  EXPECT_EQ(n.Due(AccountKind::kDueTo, n.a, n.b), Amount(-3000));
  EXPECT_EQ(n.Due(AccountKind::kDueFrom, n.b, n.a), Amount(3000));
  EXPECT_EQ(n.ledger.Supply(n.palma), Amount(7000));
  EXPECT_EQ(n.ledger.Supply(n.sol), Amount(3000));
  EXPECT_TRUE(n.ledger.CoverageOf(n.a).covered());
  EXPECT_TRUE(n.ledger.CoverageOf(n.b).covered());
  const auto obligations = n.ledger.OpenObligations();
  ASSERT_EQ(obligations.size(), 1u);
  EXPECT_EQ(obligations[0], (Obligation{n.a, n.b, Amount(3000)}));
  n.ExpectClean();
}

TEST(LedgerTest, PayBetweenTwoCurrenciesOfOneBankHasNoInterbankLeg) {
  Net n;
  n.Build();
  const CurrencyId palma2 =
      CurrencyId(Ok(n, [&](RequestId r) {
                   return n.ledger.CreateCurrency({r, n.a, "PALMA2", 10000, 200});
                 }).id);
  const AccountId caio2 = DoOpen(n, n.caio, palma2);
  DoIssue(n, n.ana_palma, 1000);
  const OpResult r = Ok(n, [&](RequestId id) {
    return n.ledger.Pay({id, n.ana_palma, caio2, Amount(400), ""});
  });
  EXPECT_EQ(r.legs, 2u);
  EXPECT_EQ(n.ledger.Supply(n.palma), Amount(600));
  EXPECT_EQ(n.ledger.Supply(palma2), Amount(400));
  EXPECT_EQ(n.Balance(caio2), Amount(400));
  EXPECT_TRUE(n.ledger.OpenObligations().empty());
  n.ExpectClean();
}

TEST(LedgerTest, MutualCreditDownToTheLimit) {
  Net n;
  n.Build();
  DoPay(n, n.ana_feira, n.caio_feira, 5000);  // exactly the default limit of 50.00
  EXPECT_EQ(n.Balance(n.ana_feira), Amount(-5000));
  EXPECT_EQ(n.Balance(n.caio_feira), Amount(5000));
  DoPay(n, n.caio_feira, n.ana_feira, 7000);
  EXPECT_EQ(n.Balance(n.caio_feira), Amount(-2000));
  EXPECT_EQ(n.Balance(n.ana_feira), Amount(2000));
  n.ExpectClean();
}

TEST(LedgerTest, RedeemLegsAndFees) {
  struct Case {
    const char* name;
    int32_t fee_bp;
    int64_t amount;
    uint32_t legs;
    int64_t paid, fee;  // hand-computed: fee = floor(amount × bp / 10000)
  };
  const std::vector<Case> cases = {
      {"fee_rounds_to_zero", 200, 1, 2, 1, 0},    {"fee_0_98_rounds_down", 200, 49, 2, 49, 0},
      {"fee_exactly_one", 200, 50, 3, 49, 1},     {"fee_1_98_rounds_down", 200, 99, 3, 98, 1},
      {"worked_example", 200, 3000, 3, 2940, 60}, {"fee_2_5_percent", 250, 12345, 3, 12037, 308},
      {"no_fee_policy", 0, 100, 2, 100, 0},       {"fee_takes_everything", 10000, 100, 2, 0, 100},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Net n;
    n.Build(10000, c.fee_bp);
    DoIssue(n, n.ana_palma, c.amount);
    const RequestId id = n.Next();
    n.Begin();
    const OpResult r = n.ledger.Redeem({id, n.ana_palma, Amount(c.amount), ""});
    const SealedBatch b = n.Seal();
    ASSERT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
    EXPECT_EQ(r.legs, c.legs);
    ASSERT_EQ(b.transfers.size(), c.legs);
    EXPECT_EQ(b.transfers[0].debit, n.ana_palma);
    EXPECT_EQ(b.transfers[0].credit, Issuance(n, n.palma));
    EXPECT_EQ(b.transfers[0].amount, Amount(c.amount));
    EXPECT_EQ(b.transfers[0].code, TransferCode::kRedeem);
    for (uint32_t i = 0; i < c.legs; ++i) EXPECT_EQ(b.transfers[i].id, DeriveTransferId(id, i));
    for (uint32_t i = 1; i < c.legs; ++i) {
      const Transfer& t = b.transfers[i];
      EXPECT_EQ(t.debit, Reserve(n, n.a));
      if (t.credit == Fees(n, n.a)) {
        EXPECT_EQ(t.amount, Amount(c.fee));
        EXPECT_EQ(t.code, TransferCode::kFee);
      } else {
        EXPECT_EQ(t.credit, Vault(n, n.a));
        EXPECT_EQ(t.amount, Amount(c.paid));
        EXPECT_EQ(t.code, TransferCode::kRedeem);
      }
    }
    EXPECT_EQ(n.Balance(n.ana_palma), Amount(0));
    EXPECT_EQ(n.ledger.Supply(n.palma), Amount(0));
    EXPECT_EQ(n.Sys(n.a, AccountKind::kReserve), Amount(0));
    EXPECT_EQ(n.Sys(n.a, AccountKind::kFees), Amount(c.fee));
    // Issue put −amount into the vault; the redemption paid amount − fee back out.
    EXPECT_EQ(n.Sys(n.a, AccountKind::kVault), Amount(-c.amount + c.paid));
    n.ExpectClean();
  }
}

TEST(LedgerTest, FundReserveFromVaultAndFees) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 3000);
  Ok(n, [&](RequestId r) { return n.ledger.Redeem({r, n.ana_palma, Amount(3000), ""}); });
  ASSERT_EQ(n.Sys(n.a, AccountKind::kFees), Amount(60));
  Ok(n, [&](RequestId r) {
    return n.ledger.FundReserve({r, n.a, Amount(60), FundSource::kFees, "retained"});
  });
  EXPECT_EQ(n.Sys(n.a, AccountKind::kFees), Amount(0));
  EXPECT_EQ(n.Sys(n.a, AccountKind::kReserve), Amount(60));
  const OpResult r = Ok(n, [&](RequestId id) {
    return n.ledger.FundReserve({id, n.b, Amount(500), FundSource::kVault, "grant"});
  });
  EXPECT_EQ(r.legs, 1u);
  EXPECT_EQ(n.Sys(n.b, AccountKind::kReserve), Amount(500));
  EXPECT_EQ(n.Sys(n.b, AccountKind::kVault), Amount(-500));
  EXPECT_EQ(n.ledger.CoverageOf(n.b).ExcessAtPar(), Amount(500));
  n.ExpectClean();
}

TEST(LedgerTest, DistributeUpToTheExcessAtFullCoverage) {
  Net n;
  n.Build();
  DoFund(n, n.a, 10000);
  EXPECT_EQ(n.ledger.CoverageOf(n.a).ExcessAtPar(), Amount(10000));
  DoDistribute(n, n.ana_palma, 6000);
  DoDistribute(n, n.caio_palma, 4000);  // exactly the remaining excess
  EXPECT_EQ(n.ledger.Supply(n.palma), Amount(10000));
  EXPECT_EQ(n.ledger.CoverageOf(n.a).ExcessAtPar(), Amount(0));
  EXPECT_TRUE(n.ledger.CoverageOf(n.a).covered());
  n.Begin();
  const Snapshot before = Take(n.ledger);
  const OpResult r = n.ledger.Distribute({n.Next(), n.ana_palma, Amount(1), ""});
  EXPECT_EQ(r.outcome, Outcome::kCoverageWouldBreak) << OutcomeName(r.outcome);
  ExpectSame(before, Take(n.ledger));
  n.Seal();
  n.ExpectClean();
}

TEST(LedgerTest, DistributeUnderFractionalCoverageUpToExactlyTheLimit) {
  Net n;
  n.Build(5000);
  DoFund(n, n.a, 100);
  // 50%: a reserve of 1.00 backs 2.00 in circulation.
  DoDistribute(n, n.ana_palma, 150);
  DoDistribute(n, n.caio_palma, 50);
  EXPECT_EQ(n.ledger.Supply(n.palma), Amount(200));
  const Coverage cov = n.ledger.CoverageOf(n.a);
  EXPECT_TRUE(cov.covered());
  EXPECT_EQ(cov.assets_scaled, cov.required_scaled);
  n.Begin();
  const Snapshot before = Take(n.ledger);
  const OpResult r = n.ledger.Distribute({n.Next(), n.ana_palma, Amount(1), ""});
  EXPECT_EQ(r.outcome, Outcome::kCoverageWouldBreak) << OutcomeName(r.outcome);
  ExpectSame(before, Take(n.ledger));
  n.Seal();
  // More reserve makes room again: 1 minor unit of reserve backs 2 at 50%.
  DoFund(n, n.a, 1);
  DoDistribute(n, n.ana_palma, 2);
  EXPECT_EQ(n.ledger.Supply(n.palma), Amount(202));
  n.ExpectClean();
}

// ---- Idempotency ---------------------------------------------------------------------------

TEST(LedgerTest, IdenticalRetryAcrossBatchesReturnsOriginal) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 10000);
  const RequestId id = n.Next();
  const PayCmd cmd{id, n.ana_palma, n.bia_sol, Amount(3000), "rent"};
  n.Begin();
  const OpResult first = n.ledger.Pay(cmd);
  const SealedBatch b1 = n.Seal();
  ASSERT_EQ(first.outcome, Outcome::kOk);
  ASSERT_EQ(b1.transfers.size(), 3u);

  for (int attempt = 0; attempt < 2; ++attempt) {
    SCOPED_TRACE(attempt);
    n.Begin();
    const Snapshot before = Take(n.ledger);
    const OpResult again = n.ledger.Pay(cmd);
    EXPECT_EQ(again.outcome, Outcome::kExists) << OutcomeName(again.outcome);
    EXPECT_TRUE(again.ok());
    EXPECT_EQ(again.id, first.id);
    EXPECT_EQ(again.timestamp_ns, first.timestamp_ns);
    EXPECT_EQ(again.legs, first.legs);
    ExpectSame(before, Take(n.ledger));
    const SealedBatch b = n.Seal();
    EXPECT_TRUE(b.transfers.empty());
    EXPECT_GT(b.timestamp_ns, first.timestamp_ns);
  }
  // Even when the same payment could no longer be made, its retry is still the original.
  DoStatus(n, n.ana_palma, AccountStatus::kFrozen);
  n.Begin();
  const OpResult frozen_retry = n.ledger.Pay(cmd);
  EXPECT_EQ(frozen_retry.outcome, Outcome::kExists) << OutcomeName(frozen_retry.outcome);
  EXPECT_EQ(frozen_retry.timestamp_ns, first.timestamp_ns);
  n.Seal();
  EXPECT_EQ(n.Balance(n.bia_sol), Amount(3000));
  n.ExpectClean();
}

TEST(LedgerTest, IdenticalRetryWithinOneBatch) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 10000);
  const RequestId id = n.Next();
  const PayCmd cmd{id, n.ana_palma, n.bia_sol, Amount(1000), ""};
  n.Begin();
  const OpResult first = n.ledger.Pay(cmd);
  ASSERT_EQ(first.outcome, Outcome::kOk);
  const size_t requests = n.ledger.request_count();
  const OpResult again = n.ledger.Pay(cmd);
  EXPECT_EQ(again.outcome, Outcome::kExists) << OutcomeName(again.outcome);
  EXPECT_EQ(again.timestamp_ns, first.timestamp_ns);
  EXPECT_EQ(again.legs, 3u);
  EXPECT_EQ(n.ledger.batch_transfer_count(), 3u);
  EXPECT_EQ(n.ledger.request_count(), requests);
  const SealedBatch b = n.Seal();
  EXPECT_EQ(b.transfers.size(), 3u);
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(9000));
  EXPECT_EQ(n.Balance(n.bia_sol), Amount(1000));
  n.ExpectClean();
}

// The same request id with one field changed: refused, naming the field, nothing changed.
struct IdemCase {
  std::string name;
  Setup setup;
  // variant −1: the original command; variant i: field i changed.
  std::function<OpResult(Net&, RequestId, int)> cmd;
  std::vector<std::string> fields;
};

void PrintTo(const IdemCase& c, std::ostream* os) { *os << c.name; }

std::vector<IdemCase> IdemCases() {
  auto pick = [](int variant, int field, auto original, auto changed) {
    return variant == field ? changed : original;
  };
  return {
      {"pay",
       Issued(10000),
       [=](Net& n, RequestId r, int v) {
         return n.ledger.Pay({r, pick(v, 0, n.ana_palma, n.caio_feira),
                              pick(v, 1, n.bia_sol, n.caio_palma), Amount(pick(v, 2, 300, 301)),
                              pick(v, 3, std::string("rent"), std::string("rent!"))});
       },
       {"from", "to", "amount", "memo"}},
      {"issue",
       nullptr,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.Issue({r, pick(v, 0, n.ana_palma, n.caio_palma),
                                Amount(pick(v, 1, 500, 501)),
                                pick(v, 2, std::string(""), std::string("x"))});
       },
       {"account", "amount", "memo"}},
      {"redeem",
       Issued(10000),
       [=](Net& n, RequestId r, int v) {
         return n.ledger.Redeem({r, pick(v, 0, n.ana_palma, n.caio_palma),
                                 Amount(pick(v, 1, 500, 499)),
                                 pick(v, 2, std::string("a"), std::string("b"))});
       },
       {"account", "amount", "memo"}},
      {"distribute",
       [](Net& n) { DoFund(n, n.a, 10000); },
       [=](Net& n, RequestId r, int v) {
         return n.ledger.Distribute({r, pick(v, 0, n.ana_palma, n.caio_palma),
                                     Amount(pick(v, 1, 500, 1)),
                                     pick(v, 2, std::string("benefit"), std::string(""))});
       },
       {"account", "amount", "memo"}},
      {"fund_reserve",
       nullptr,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.FundReserve({r, pick(v, 0, n.a, n.b), Amount(pick(v, 1, 500, 5)),
                                      pick(v, 2, FundSource::kVault, FundSource::kFees),
                                      pick(v, 3, std::string("grant"), std::string("Grant"))});
       },
       {"bank", "amount", "source", "memo"}},
      {"init_deployment",
       nullptr,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.InitDeployment({r, pick(v, 0, std::string("USD"), std::string("EUR")),
                                         pick(v, 1, int64_t{100}, int64_t{1000})});
       },
       {"national_code", "scale"}},
      {"create_bank",
       nullptr,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.CreateBank({r, pick(v, 0, std::string("C"), std::string("D")),
                                     pick(v, 1, std::string("Banco C"), std::string("Banco D"))});
       },
       {"code", "name"}},
      {"create_currency",
       nullptr,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.CreateCurrency({r, pick(v, 0, n.a, n.b),
                                         pick(v, 1, std::string("NEW"), std::string("OTHER")),
                                         pick(v, 2, 10000, 5000), pick(v, 3, 200, 100),
                                         Amount(pick(v, 4, kMax, int64_t{100}))});
       },
       {"bank", "code", "coverage_min_bp", "redemption_fee_bp", "default_ceiling"}},
      {"create_circle",
       nullptr,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.CreateCircle(
             {r, pick(v, 0, n.a, n.b), pick(v, 1, std::string("HORTA"), std::string("ROCA")),
              pick(v, 2, std::string("Horta"), std::string("Roça")),
              pick(v, 3, int64_t{100}, int64_t{10}), Amount(pick(v, 4, 1000, 2000)),
              Amount(pick(v, 5, kMax, int64_t{5000}))});
       },
       {"bank", "code", "name", "scale", "default_credit_limit", "default_ceiling"}},
      {"create_member",
       nullptr,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.CreateMember(
             {r, pick(v, 0, n.a, n.b), pick(v, 1, std::string("Eva"), std::string("Eve"))});
       },
       {"bank", "name"}},
      {"add_circle_member",
       AddDina,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.AddCircleMember({r, pick(v, 0, n.circle, CircleId(2)),
                                          pick(v, 1, n.dina, n.caio), pick(v, 2, false, true)});
       },
       {"circle", "member", "admin"}},
      {"open_account",
       nullptr,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.OpenAccount({r, pick(v, 0, n.ana, n.caio), pick(v, 1, n.palma, n.feira),
                                      pick(v, 2, AccountKind::kMerchant, AccountKind::kMember)});
       },
       {"owner", "currency", "kind"}},
      {"set_account_status",
       nullptr,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.SetAccountStatus(
             {r, pick(v, 0, n.ana_palma, n.caio_palma),
              pick(v, 1, AccountStatus::kFrozen, AccountStatus::kActive),
              pick(v, 2, std::string("teller"), std::string("manager")),
              pick(v, 3, std::string("lost card"), std::string("found card"))});
       },
       {"account", "status", "actor", "reason"}},
      {"set_account_limits",
       nullptr,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.SetAccountLimits(
             {r, pick(v, 0, n.ana_feira, n.caio_feira), Amount(pick(v, 1, 8000, 8001)),
              Amount(pick(v, 2, kMax, int64_t{100000})),
              pick(v, 3, std::string("circle"), std::string("admin")),
              pick(v, 4, std::string("vote 12"), std::string("vote 13"))});
       },
       {"account", "credit_limit", "ceiling", "actor", "reason"}},
      {"create_loan_product",
       nullptr,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.CreateLoanProduct(
             {r, pick(v, 0, n.a, n.b), pick(v, 1, std::string("Produção"), std::string("Feira")),
              pick(v, 2, n.brl, n.palma), Amount(pick(v, 3, 500'000, 500'001)), pick(v, 4, 100, 99),
              pick(v, 5, 4, 5), pick(v, 6, 30, 7), pick(v, 7, 0, 10)});
       },
       {"bank", "name", "currency", "max_principal", "monthly_rate_bp", "instalments",
        "period_days", "grace_days"}},
      {"create_solidarity_group",
       [](Net& n) { n.ls = AddLoanSetup(n); },
       [=](Net& n, RequestId r, int v) {
         const std::vector<MemberId> members = {n.ana, n.caio, n.ls.dora};
         const std::vector<MemberId> other = {n.ana, n.caio, MemberId(1)};
         const std::vector<MemberId> liable = {n.ana, n.caio};
         const std::vector<MemberId> all_liable = members;
         return n.ledger.CreateSolidarityGroup(
             {r, pick(v, 0, n.a, n.b), pick(v, 1, std::string("Grupo"), std::string("Grupo 2")),
              pick(v, 2, members, other), pick(v, 3, liable, all_liable)});
       },
       {"bank", "name", "members", "liable"}},
      {"disburse_loan",
       [](Net& n) { n.ls = AddLoanSetup(n); },
       [=](Net& n, RequestId r, int v) {
         return n.ledger.DisburseLoan(
             {r, pick(v, 0, n.ls.palma, n.ls.cash), pick(v, 1, n.ana, n.caio),
              pick(v, 2, SolidarityGroupId(), n.ls.group), Amount(pick(v, 3, 10'000, 10'001)),
              pick(v, 4, n.ana_palma, AccountId()),
              pick(v, 5, std::string("sewing machine"), std::string(""))});
       },
       {"product", "member", "group", "principal", "account", "memo"}},
      {"repay_loan",
       PalmaLoan,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.RepayLoan({r, pick(v, 0, n.loan, LoanId(2)), Amount(pick(v, 1, 500, 501)),
                                    pick(v, 2, n.ana_palma, n.caio_palma),
                                    pick(v, 3, std::string("week 1"), std::string("week 2"))});
       },
       {"loan", "amount", "account", "memo"}},
      {"write_off_loan",
       CashLoan,
       [=](Net& n, RequestId r, int v) {
         return n.ledger.WriteOffLoan(
             {r, pick(v, 0, n.loan, LoanId(2)),
              pick(v, 1, std::string("admin"), std::string("manager")),
              pick(v, 2, std::string("moved away"), std::string("deceased"))});
       },
       {"loan", "actor", "reason"}},
  };
}

class IdempotencyTest : public testing::TestWithParam<IdemCase> {};

TEST_P(IdempotencyTest, RetryExistsAndChangedFieldIsNamed) {
  const IdemCase& c = GetParam();
  Net n;
  if (c.name == "init_deployment") {
    // A fresh ledger: the deployment itself is the command under test.
  } else {
    n.Build();
  }
  if (c.setup) c.setup(n);
  ASSERT_FALSE(HasFailure()) << "setup failed";
  const RequestId id = n.Next();
  n.Begin();
  const OpResult first = c.cmd(n, id, -1);
  n.Seal();
  ASSERT_EQ(first.outcome, Outcome::kOk) << OutcomeName(first.outcome) << " " << first.detail;

  n.Begin();
  const Snapshot before = Take(n.ledger);
  const OpResult again = c.cmd(n, id, -1);
  EXPECT_EQ(again.outcome, Outcome::kExists) << OutcomeName(again.outcome);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.timestamp_ns, first.timestamp_ns);
  EXPECT_EQ(again.legs, first.legs);
  for (int i = 0; i < static_cast<int>(c.fields.size()); ++i) {
    SCOPED_TRACE(c.fields[i]);
    const OpResult r = c.cmd(n, id, i);
    EXPECT_EQ(r.outcome, Outcome::kExistsWithDifferentFields) << OutcomeName(r.outcome);
    EXPECT_EQ(std::string(r.detail), c.fields[i]);
    EXPECT_FALSE(r.ok());
  }
  // The same id used for another kind of operation.
  const OpResult other = c.name == "create_member" ? n.ledger.CreateBank({id, "Z", "Zeta"})
                                                   : n.ledger.CreateMember({id, BankId(1), "Zed"});
  EXPECT_EQ(other.outcome, Outcome::kExistsWithDifferentFields) << OutcomeName(other.outcome);
  EXPECT_EQ(std::string(other.detail), "operation");
  ExpectSame(before, Take(n.ledger));
  const SealedBatch b = n.Seal();
  EXPECT_EQ(b.bytes.size(), kBatchHeaderBytes);
  n.ExpectClean();
}

INSTANTIATE_TEST_SUITE_P(Ledger, IdempotencyTest, testing::ValuesIn(IdemCases()),
                         [](const testing::TestParamInfo<IdemCase>& info) {
                           return info.param.name;
                         });

TEST(LedgerTest, DifferentOperationKindNamesOperation) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 1000);
  const RequestId id = n.Next();
  Ok(n, [&](RequestId) { return n.ledger.Pay({id, n.ana_palma, n.caio_palma, Amount(10), ""}); });
  n.Begin();
  const Snapshot before = Take(n.ledger);
  for (const OpResult& r :
       {n.ledger.Issue({id, n.ana_palma, Amount(10), ""}),
        n.ledger.Redeem({id, n.ana_palma, Amount(10), ""}),
        n.ledger.Distribute({id, n.ana_palma, Amount(10), ""}), n.ledger.RunCycle({id})}) {
    EXPECT_EQ(r.outcome, Outcome::kExistsWithDifferentFields) << OutcomeName(r.outcome);
    EXPECT_EQ(std::string(r.detail), "operation");
  }
  ExpectSame(before, Take(n.ledger));
  n.Seal();
  n.ExpectClean();
}

TEST(LedgerTest, RefusedRequestIsNotRecordedAndCanBeRetried) {
  Net n;
  n.Build();
  const RequestId id = n.Next();
  const PayCmd cmd{id, n.ana_palma, n.bia_sol, Amount(500), ""};
  n.Begin();
  const size_t requests = n.ledger.request_count();
  EXPECT_EQ(n.ledger.Pay(cmd).outcome, Outcome::kInsufficientFunds);
  EXPECT_EQ(n.ledger.request_count(), requests);
  // Another command under the same id is judged on its own, not as a mismatch.
  EXPECT_EQ(n.ledger.Pay({id, n.ana_palma, n.bia_sol, Amount(0), ""}).outcome,
            Outcome::kAmountNotPositive);
  n.Seal();
  DoIssue(n, n.ana_palma, 500);  // fix the cause
  n.Begin();
  const OpResult r = n.ledger.Pay(cmd);
  EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome);
  EXPECT_EQ(r.legs, 3u);
  EXPECT_EQ(n.ledger.request_count(), requests + 2);  // the issue and this payment
  n.Seal();
  EXPECT_EQ(n.Balance(n.bia_sol), Amount(500));
  n.Begin();
  EXPECT_EQ(n.ledger.Pay(cmd).outcome, Outcome::kExists);
  n.Seal();
  n.ExpectClean();
}

// ---- Batches ---------------------------------------------------------------------------------

TEST(LedgerTest, AbortBatchUndoesEverything) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 10000);
  DoPay(n, n.ana_feira, n.caio_feira, 1000);
  AddDina(n);
  const Snapshot before = Take(n.ledger);
  const Hash256 head = n.ledger.head();
  const uint64_t sequence = n.ledger.batch_sequence();
  const uint64_t start = n.next_request;

  // The same commands, with the same request ids, run twice: aborted, then committed.
  auto run = [&](bool expect_fresh) {
    n.next_request = start;
    std::vector<OpResult> results;
    auto step = [&](const OpResult& r) {
      EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome) << " " << r.detail;
      results.push_back(r);
      return r.id;
    };
    const BankId c(step(n.ledger.CreateBank({n.Next(), "C", "Banco C"})));
    const CurrencyId luz(step(n.ledger.CreateCurrency({n.Next(), c, "LUZ", 10000, 200})));
    const CircleId roca(step(
        n.ledger.CreateCircle({n.Next(), c, "ROCA", "Roça", 100, Amount(2000), Amount::Max()})));
    const MemberId eva(step(n.ledger.CreateMember({n.Next(), c, "Eva"})));
    step(n.ledger.AddCircleMember({n.Next(), roca, eva, true}));
    step(n.ledger.AddCircleMember({n.Next(), n.circle, n.dina, false}));
    const AccountId eva_luz(step(n.ledger.OpenAccount({n.Next(), eva, luz, AccountKind::kMember})));
    const AccountId dina_feira(
        step(n.ledger.OpenAccount({n.Next(), n.dina, n.feira, AccountKind::kMember})));
    step(n.ledger.Pay({n.Next(), n.ana_palma, eva_luz, Amount(2500), ""}));
    step(n.ledger.Pay({n.Next(), n.ana_palma, n.bia_sol, Amount(1500), ""}));
    step(n.ledger.Pay({n.Next(), n.caio_feira, dina_feira, Amount(400), ""}));
    step(n.ledger.Issue({n.Next(), n.caio_palma, Amount(700), ""}));
    step(n.ledger.Redeem({n.Next(), n.ana_palma, Amount(100), ""}));
    step(n.ledger.FundReserve({n.Next(), n.b, Amount(300), FundSource::kVault, ""}));
    step(n.ledger.Distribute({n.Next(), n.bia_sol, Amount(300), ""}));
    step(n.ledger.SetAccountStatus(
        {n.Next(), n.caio_palma, AccountStatus::kFrozen, "teller", "check"}));
    step(n.ledger.SetAccountLimits(
        {n.Next(), n.ana_feira, Amount(9000), Amount(50000), "circle", "vote"}));
    step(n.ledger.RunCycle({n.Next()}));
    if (expect_fresh) {
      for (const OpResult& r : results) EXPECT_NE(r.outcome, Outcome::kExists);
    }
    return results;
  };

  n.Begin();
  const std::vector<OpResult> aborted = run(true);
  EXPECT_GT(n.ledger.batch_transfer_count(), 0u);
  n.ledger.AbortBatch();
  EXPECT_FALSE(n.ledger.batch_open());
  ExpectSame(before, Take(n.ledger));
  EXPECT_EQ(n.ledger.head(), head);
  EXPECT_EQ(n.ledger.batch_sequence(), sequence);
  EXPECT_EQ(n.ledger.FindBankByCode("C"), nullptr);
  EXPECT_EQ(n.ledger.FindCurrencyByCode("LUZ"), nullptr);
  EXPECT_EQ(n.ledger.FindCurrencyByCode("ROCA"), nullptr);
  EXPECT_FALSE(n.ledger.IsCircleMember(n.circle, n.dina));
  EXPECT_TRUE(n.ledger.OpenObligations().empty());
  n.ExpectClean();

  // The requests were forgotten: the same ids run again as new, with the same results.
  n.Begin();
  const std::vector<OpResult> committed = run(true);
  const SealedBatch b = n.Seal();
  ASSERT_EQ(committed.size(), aborted.size());
  for (size_t i = 0; i < committed.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(committed[i].id, aborted[i].id);
    EXPECT_EQ(committed[i].legs, aborted[i].legs);
  }
  EXPECT_EQ(b.sequence, sequence + 1);
  EXPECT_EQ(b.prev_hash, head);
  n.ExpectClean();
}

TEST(LedgerTest, AbortBatchUndoesTheDeployment) {
  Ledger l;
  l.BeginBatch(1000);
  ASSERT_EQ(l.InitDeployment({R(1), "BRL", 100}).outcome, Outcome::kOk);
  ASSERT_EQ(l.CreateBank({R(2), "A", "Banco A"}).outcome, Outcome::kOk);
  ASSERT_EQ(l.CreateBank({R(3), "B", "Banco B"}).outcome, Outcome::kOk);
  l.AbortBatch();
  EXPECT_FALSE(l.deployed());
  EXPECT_EQ(l.currency_count(), 0u);
  EXPECT_EQ(l.bank_count(), 0u);
  EXPECT_EQ(l.account_count(), 0u);
  EXPECT_EQ(l.request_count(), 0u);
  EXPECT_EQ(l.FindCurrencyByCode("BRL"), nullptr);
  EXPECT_EQ(l.FindBankByCode("A"), nullptr);
  EXPECT_EQ(l.batch_sequence(), 0u);
  EXPECT_EQ(l.head(), Hash256{});
  // The same requests, this time with another national currency, are new again.
  l.BeginBatch(2000);
  EXPECT_EQ(l.InitDeployment({R(1), "ARS", 1}).outcome, Outcome::kOk);
  EXPECT_EQ(l.CreateBank({R(2), "A", "Banco A"}).outcome, Outcome::kOk);
  EXPECT_EQ(l.CreateBank({R(2), "A", "Banco A"}).outcome, Outcome::kExists);
  const SealedBatch b = l.SealBatch();
  EXPECT_EQ(b.sequence, 1u);
  EXPECT_EQ(b.touched_accounts.size(), 5u);  // A's national system accounts
  EXPECT_EQ(l.FindCurrency(l.national())->code, "ARS");
  EXPECT_TRUE(CheckInvariants(l).empty());
  const StoredBatch stored{b.sequence, b.bytes, b.hash};
  EXPECT_TRUE(CheckJournal(l, std::span(&stored, 1)).empty());
}

// SealedBatch.touched_accounts lists every account the batch changed, so that a store can
// write exactly those rows. That must hold for a batch that follows an aborted one.
TEST(LedgerTest, TouchedAccountsAfterAbortedBatch) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 1000);
  const RequestId id = n.Next();
  n.Begin();
  ASSERT_EQ(n.ledger.Pay({id, n.ana_palma, n.caio_palma, Amount(10), ""}).outcome, Outcome::kOk);
  n.ledger.AbortBatch();
  n.Begin();
  ASSERT_EQ(n.ledger.Pay({id, n.ana_palma, n.caio_palma, Amount(10), ""}).outcome, Outcome::kOk);
  const SealedBatch b = n.Seal();
  EXPECT_EQ(SortedTouched(b), (std::vector<AccountId>{n.ana_palma, n.caio_palma}))
      << "accounts touched in the aborted batch are missing from the next batch";
  n.ExpectClean();
}

TEST(LedgerTest, BatchTimestampsStrictlyIncrease) {
  Net n;
  n.Build();
  n.ledger.BeginBatch(5);  // a clock that went backwards
  const SealedBatch b1 = n.Seal();
  EXPECT_GT(b1.timestamp_ns, n.clock_ns);
  n.ledger.BeginBatch(5);
  const SealedBatch b2 = n.Seal();
  EXPECT_EQ(b2.timestamp_ns, b1.timestamp_ns + 1);
  EXPECT_EQ(b2.prev_hash, b1.hash);
  EXPECT_EQ(b2.sequence, b1.sequence + 1);
  n.ExpectClean();
}

TEST(LedgerTest, BatchFull) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 1'000'000);
  n.Begin();
  // kBatchRequestsMax cross-bank payments of three legs fill a batch exactly.
  for (size_t i = 0; i < kBatchRequestsMax; ++i) {
    const OpResult r = n.ledger.Pay({n.Next(), n.ana_palma, n.bia_sol, Amount(1), ""});
    ASSERT_EQ(r.outcome, Outcome::kOk) << i << ": " << OutcomeName(r.outcome);
  }
  EXPECT_EQ(n.ledger.batch_transfer_count(), kBatchTransfersMax);
  const Snapshot before = Take(n.ledger);
  const RequestId id = n.Next();
  const OpResult full = n.ledger.Pay({id, n.ana_palma, n.caio_palma, Amount(1), ""});
  EXPECT_EQ(full.outcome, Outcome::kBatchFull) << OutcomeName(full.outcome);
  ExpectSame(before, Take(n.ledger));
  const SealedBatch b = n.Seal();
  EXPECT_EQ(b.transfers.size(), kBatchTransfersMax);
  // Not recorded: the next batch takes it.
  n.Begin();
  EXPECT_EQ(n.ledger.Pay({id, n.ana_palma, n.caio_palma, Amount(1), ""}).outcome, Outcome::kOk);
  n.Seal();
  EXPECT_EQ(n.Balance(n.bia_sol), Amount(static_cast<int64_t>(kBatchRequestsMax)));
  n.ExpectClean();
}

// A linked group that does not fit in what is left of the batch must not push the batch
// past kBatchTransfersMax.
TEST(LedgerTest, BatchNeverExceedsTransfersMax) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 1'000'000);
  n.Begin();
  for (size_t i = 0; i + 1 < kBatchRequestsMax; ++i) {
    ASSERT_EQ(n.ledger.Pay({n.Next(), n.ana_palma, n.bia_sol, Amount(1), ""}).outcome,
              Outcome::kOk);
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(n.ledger.Pay({n.Next(), n.ana_palma, n.caio_palma, Amount(1), ""}).outcome,
              Outcome::kOk);
  }
  ASSERT_EQ(n.ledger.batch_transfer_count(), kBatchTransfersMax - 1);
  const OpResult r = n.ledger.Pay({n.Next(), n.ana_palma, n.bia_sol, Amount(1), ""});
  EXPECT_EQ(r.outcome, Outcome::kBatchFull) << OutcomeName(r.outcome);
  EXPECT_LE(n.ledger.batch_transfer_count(), kBatchTransfersMax);
  const SealedBatch b = n.Seal();
  EXPECT_LE(b.transfers.size(), kBatchTransfersMax);
}

// ---- Account administration ------------------------------------------------------------------

TEST(LedgerTest, FreezePayUnfreezePay) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 1000);
  const OpResult frozen = Ok(n, [&](RequestId r) {
    return n.ledger.SetAccountStatus({r, n.ana_palma, AccountStatus::kFrozen, "teller", "lost"});
  });
  EXPECT_EQ(frozen.id, n.ana_palma.value());
  EXPECT_EQ(n.ledger.FindAccount(n.ana_palma)->status, AccountStatus::kFrozen);
  n.Begin();
  EXPECT_EQ(n.ledger.Pay({n.Next(), n.ana_palma, n.caio_palma, Amount(10), ""}).outcome,
            Outcome::kDebitAccountFrozen);
  EXPECT_EQ(n.ledger.Pay({n.Next(), n.caio_palma, n.ana_palma, Amount(10), ""}).outcome,
            Outcome::kCreditAccountFrozen);
  EXPECT_EQ(n.ledger.Redeem({n.Next(), n.ana_palma, Amount(10), ""}).outcome,
            Outcome::kDebitAccountFrozen);
  n.Seal();
  // Limits can still change while frozen.
  DoLimits(n, n.ana_palma, 0, 100000);
  DoStatus(n, n.ana_palma, AccountStatus::kActive);
  DoPay(n, n.ana_palma, n.caio_palma, 10);
  EXPECT_EQ(n.Balance(n.ana_palma), Amount(990));
  EXPECT_EQ(n.Balance(n.caio_palma), Amount(10));
  n.ExpectClean();
}

TEST(LedgerTest, CloseNeedsZeroBalanceAndIsFinal) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 1000);
  n.Begin();
  EXPECT_EQ(
      n.ledger.SetAccountStatus({n.Next(), n.ana_palma, AccountStatus::kClosed, "teller", "bye"})
          .outcome,
      Outcome::kAccountNotEmpty);
  n.Seal();
  DoPay(n, n.ana_palma, n.caio_palma, 1000);
  // Closing a frozen account is fine once it is empty.
  DoStatus(n, n.ana_palma, AccountStatus::kFrozen);
  DoStatus(n, n.ana_palma, AccountStatus::kClosed);
  EXPECT_EQ(n.ledger.FindAccount(n.ana_palma)->status, AccountStatus::kClosed);
  n.Begin();
  const Snapshot before = Take(n.ledger);
  EXPECT_EQ(n.ledger.Pay({n.Next(), n.caio_palma, n.ana_palma, Amount(1), ""}).outcome,
            Outcome::kCreditAccountClosed);
  EXPECT_EQ(n.ledger.Issue({n.Next(), n.ana_palma, Amount(1), ""}).outcome,
            Outcome::kCreditAccountClosed);
  EXPECT_EQ(n.ledger.Distribute({n.Next(), n.ana_palma, Amount(1), ""}).outcome,
            Outcome::kCreditAccountClosed);
  for (AccountStatus s : {AccountStatus::kActive, AccountStatus::kFrozen, AccountStatus::kClosed}) {
    EXPECT_EQ(n.ledger.SetAccountStatus({n.Next(), n.ana_palma, s, "teller", "undo"}).outcome,
              Outcome::kAccountClosed);
  }
  ExpectSame(before, Take(n.ledger));
  n.Seal();
  // A mutual-credit account back at exactly zero closes too.
  DoPay(n, n.ana_feira, n.caio_feira, 300);
  DoPay(n, n.caio_feira, n.ana_feira, 300);
  DoStatus(n, n.ana_feira, AccountStatus::kClosed);
  n.ExpectClean();
}

TEST(LedgerTest, SetAccountLimits) {
  Net n;
  n.Build();
  DoPay(n, n.ana_feira, n.caio_feira, 3000);
  // Down to exactly the current debt is allowed; one below is not.
  const OpResult r = Ok(n, [&](RequestId id) {
    return n.ledger.SetAccountLimits(
        {id, n.ana_feira, Amount(3000), Amount::Max(), "circle", "vote"});
  });
  EXPECT_EQ(r.id, n.ana_feira.value());
  EXPECT_EQ(n.ledger.FindAccount(n.ana_feira)->credit_limit, Amount(3000));
  n.Begin();
  EXPECT_EQ(n.ledger.Pay({n.Next(), n.ana_feira, n.caio_feira, Amount(1), ""}).outcome,
            Outcome::kExceedsCreditLimit);
  n.Seal();
  DoLimits(n, n.ana_feira, 8000, kMax);
  DoPay(n, n.ana_feira, n.caio_feira, 5000);
  EXPECT_EQ(n.Balance(n.ana_feira), Amount(-8000));
  // Guaranteed accounts take a ceiling but never a credit limit.
  DoIssue(n, n.ana_palma, 500);
  DoLimits(n, n.ana_palma, 0, 500);  // exactly the balance
  n.Begin();
  EXPECT_EQ(n.ledger.Issue({n.Next(), n.ana_palma, Amount(1), ""}).outcome,
            Outcome::kExceedsCeiling);
  n.Seal();
  EXPECT_EQ(n.ledger.FindAccount(n.ana_palma)->ceiling, Amount(500));
  n.ExpectClean();
}

TEST(LedgerTest, SetUpBoundariesAccepted) {
  Net n;
  n.Build();
  Ok(n, [&](RequestId r) {
    return n.ledger.CreateBank({r, Bytes(kCodeBytesMax, 'Z'), Bytes(kNameBytesMax, 'n')});
  });
  Ok(n, [&](RequestId r) {
    return n.ledger.CreateCurrency({r, n.a, "MAXCOV", kCoverageBpMax, kFeeBpMax, Amount(0)});
  });
  Ok(n, [&](RequestId r) { return n.ledger.CreateCurrency({r, n.b, "ZEROCOV", 0, 0}); });
  Ok(n, [&](RequestId r) {
    return n.ledger.CreateCircle({r, n.b, "FINE_9", "Fine", 1'000'000'000, Amount(0), Amount(0)});
  });
  Ok(n, [&](RequestId r) { return n.ledger.CreateMember({r, n.a, "Zoë Ñandú"}); });
  EXPECT_EQ(n.ledger.bank_count(), 3u);
  ASSERT_NE(n.ledger.FindCurrencyByCode("FINE_9"), nullptr);
  EXPECT_EQ(n.ledger.FindCurrencyByCode("FINE_9")->scale, 1'000'000'000);
  EXPECT_EQ(n.ledger.FindCurrencyByCode("MAXCOV")->scale, 100);  // the national scale
  // A new bank gets DUE accounts with every existing bank.
  const Bank& z = *n.ledger.FindBankByCode(Bytes(kCodeBytesMax, 'Z'));
  EXPECT_TRUE(z.due_from[n.a.value()].valid());
  EXPECT_TRUE(z.due_to[n.b.value()].valid());
  EXPECT_TRUE(n.ledger.FindBank(n.a)->due_from[z.id.value()].valid());
  n.ExpectClean();
}

TEST(LedgerTest, OpenAccountUsesCurrencyDefaults) {
  Net n;
  n.Build();
  AddDina(n);
  Ok(n, [&](RequestId r) { return n.ledger.AddCircleMember({r, n.circle, n.dina, false}); });
  const AccountId dina_feira = DoOpen(n, n.dina, n.feira, AccountKind::kMerchant);
  const Account& a = *n.ledger.FindAccount(dina_feira);
  EXPECT_EQ(a.kind, AccountKind::kMerchant);
  EXPECT_EQ(a.credit_limit, Amount(5000));
  EXPECT_EQ(a.owner, n.dina);
  EXPECT_EQ(a.bank, n.a);
  EXPECT_EQ(n.ledger.FindAccount(n.ana_palma)->credit_limit, Amount(0));
  DoPay(n, dina_feira, n.ana_feira, 5000);
  n.ExpectClean();
}

// ---- Clearing -------------------------------------------------------------------------------

TEST(LedgerTest, RunCycleIsIdempotent) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 10000);
  DoPay(n, n.ana_palma, n.bia_sol, 3000);
  const RequestId id = n.Next();
  CycleReport rep;
  n.Begin();
  const OpResult first = n.ledger.RunCycle({id}, &rep);
  n.Seal();
  ASSERT_EQ(first.outcome, Outcome::kOk);
  EXPECT_EQ(first.id, 1u);
  EXPECT_EQ(first.legs, 2u);
  EXPECT_EQ(rep.number, 1u);
  n.Begin();
  CycleReport again_rep;
  const OpResult again = n.ledger.RunCycle({id}, &again_rep);
  EXPECT_EQ(again.outcome, Outcome::kExists);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(again.timestamp_ns, first.timestamp_ns);
  EXPECT_EQ(again_rep.number, rep.number);
  EXPECT_EQ(again_rep.plan.instructions, rep.plan.instructions);
  EXPECT_EQ(n.ledger.batch_transfer_count(), 0u);
  n.Seal();
  EXPECT_EQ(n.ledger.cycles().size(), 1u);
  EXPECT_EQ(n.Sys(n.b, AccountKind::kReserve), Amount(3000));
  n.ExpectClean();
}

TEST(LedgerTest, SettlementShortReportsTheDebtor) {
  Net n;
  n.Build();
  DoIssue(n, n.ana_palma, 100);
  DoPay(n, n.ana_palma, n.bia_sol, 100);
  LedgerTestAccess::ForceMove(n.ledger, Reserve(n, n.a), Vault(n, n.a), 1);
  CycleReport rep;
  n.Begin();
  const OpResult r = n.ledger.RunCycle({n.Next()}, &rep);
  n.Seal();
  EXPECT_EQ(r.outcome, Outcome::kSettlementShort);
  EXPECT_EQ(rep.short_debtors, std::vector<BankId>{n.a});
  EXPECT_TRUE(n.ledger.cycles().empty());
  EXPECT_EQ(n.Due(AccountKind::kDueTo, n.a, n.b), Amount(-100));
}

}  // namespace
}  // namespace ayni

namespace ayni {
namespace {

// Memos are UTF-8 text: accents, symbols, astral characters, tabs and newlines are fine.
TEST(LedgerMemo, AcceptsRealText) {
  Network n;
  n.Build();
  ASSERT_EQ(n.One([&](RequestId r) { return n.ledger.Issue({r, n.ana_palma, Amount(500)}); }).outcome,
            Outcome::kOk);
  const std::string memo = "Feira de S\xc3\xa3o Jo\xc3\xa3o \xe2\x9c\x93 \xf0\x9d\x84\x9e\tlinha\n2";
  const OpResult r = n.One(
      [&](RequestId id) { return n.ledger.Pay({id, n.ana_palma, n.caio_palma, Amount(1), memo}); });
  EXPECT_EQ(r.outcome, Outcome::kOk) << OutcomeName(r.outcome);
  n.ExpectClean();
}

}  // namespace
}  // namespace ayni
