// Obligation set-off (MTCS, SPEC §4) and mutual credit as extra liquidity (issue 6).
//
// Set-off: member enterprises (firms) owe each other invoices. The run cancels the largest
// amount of debt that can be cancelled around cycles without changing any firm's net
// position. Per currency, with a_e the amount of invoice e, the debt remaining after the
// run is a flow f_e in [0, a_e] with the same net position at every firm as a; the run
// minimises Σ f_e, and invoice e is set off by a_e − f_e. The cancelled part a − f is a
// non-negative circulation, so it lies on cycles: an invoice between two different
// strongly connected components of the invoice graph is never set off and stays out of
// the solver. What is left is a min-cost flow problem, solved by LEMON's NetworkSimplex in
// exact integer arithmetic: the result is an optimum, not a heuristic's approximation.
//
// Mutual credit: after set-off, remainders between members of one circle, in the circle's
// mutual-credit currency, may be paid with PAYMENT transfers as far as each member's credit
// limit and ceiling allow. PlanMutualCredit plans those payments; posting them is the
// ledger's job.
//
// Net internal debt, as reported here (SPEC §4 quotes published results in these terms
// without defining them), is the debt still owed between member firms: Σ of invoice amounts
// before the run, Σ of remainders after set-off, Σ of remainders less mutual-credit
// payments after that.
// No set-off can bring it below Σ of the firms' positive net positions (`net_balance`).
//
// Pure functions, no shared state: thread-compatible. Deterministic: the same invoices,
// in any order, give the same notices.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "clearing/amount.h"
#include "clearing/ids.h"
#include "clearing/limits.h"
#include "clearing/status.h"

namespace ayni {

// A confirmed, unpaid obligation: `debtor` owes `creditor` `amount` (> 0) in `currency`.
// Firms are members (member enterprises).
struct Invoice {
  InvoiceId id;
  MemberId debtor, creditor;
  Amount amount;
  CurrencyId currency;
  friend bool operator==(const Invoice&, const Invoice&) = default;
};

// What the run does to one invoice: set_off + remainder == the invoice's amount.
struct SetoffNotice {
  InvoiceId invoice;
  Amount set_off;
  Amount remainder;
  friend bool operator==(const SetoffNotice&, const SetoffNotice&) = default;
};

// A firm's position in one currency, the same before and after the run.
struct FirmPosition {
  CurrencyId currency;
  MemberId firm;
  Amount receivable, payable;  // gross, over the run's invoices
  Amount net;                  // receivable − payable: > 0 net creditor, < 0 net debtor
  friend bool operator==(const FirmPosition&, const FirmPosition&) = default;
};

// Totals of one currency. gross = set_off + remaining.
struct CurrencySetoff {
  CurrencyId currency;
  size_t invoices = 0;
  // Invoices inside a strongly connected component, i.e. that entered the solver.
  size_t solver_invoices = 0;
  Amount gross;        // Σ amounts: net internal debt before the run
  Amount set_off;      // Σ set off
  Amount remaining;    // Σ remainders: net internal debt after set-off
  Amount net_balance;  // Σ positive net positions: the floor no set-off can go below
  friend bool operator==(const CurrencySetoff&, const CurrencySetoff&) = default;
};

struct SetoffResult {
  std::vector<SetoffNotice> notices;       // notices[i] is for invoices[i]
  std::vector<CurrencySetoff> currencies;  // one per currency present, by id
  std::vector<FirmPosition> positions;     // one per (currency, firm) present, by ids
};

// Refuses (INVALID_ARGUMENT, naming the invoice and what is wrong) more than
// `invoices_max` invoices, a zero invoice id, a repeated id, a zero firm or currency id, a
// self-invoice, a non-positive amount, and any firm's gross payable or receivable, or any
// currency's gross, beyond int64. A caller may run with a lower `invoices_max` than
// kSetoffInvoicesMax (a deployment's own bound); never a higher one.
Result<SetoffResult> ComputeSetoff(std::span<const Invoice> invoices,
                                   size_t invoices_max = kSetoffInvoicesMax);

// ---- Mutual credit as liquidity ---------------------------------------------------------

// How far a circle member's balance in the circle's currency may still move, now:
// `down` = balance + credit limit (how much it may pay out on net), `up` = ceiling −
// balance (how much it may receive on net), nullopt when it has no ceiling.
struct MemberHeadroom {
  MemberId member;
  Amount down;
  std::optional<Amount> up;
};

// One PAYMENT transfer debtor → creditor in the circle's currency, towards one invoice.
struct MutualCreditPayment {
  InvoiceId invoice;
  MemberId from, to;
  Amount amount;  // > 0, ≤ the invoice's remainder
  friend bool operator==(const MutualCreditPayment&, const MutualCreditPayment&) = default;
};

struct MutualCreditPlan {
  std::vector<MutualCreditPayment> payments;  // in invoice order
  // Net internal debt in the circle's currency over the invoices of that currency.
  Amount debt_before;               // Σ amounts
  Amount debt_after_setoff;         // Σ remainders
  Amount debt_after_mutual_credit;  // Σ remainders − Σ payments
};

// Plans payments for the invoices in `currency` (the circle's mutual-credit currency), given
// the set-off run over `invoices` (setoff.notices[i] for invoices[i]) and each member's
// headroom. Firms without a headroom entry are not circle members: their invoices are not
// paid (mutual credit never leaves its circle, SPEC §2 invariant 4).
//
// A simple deterministic greedy, not an optimum: one pass over the invoices in the given
// order pays each remainder as far as the debtor's `down` and the creditor's `up` allow,
// and every payment moves both members' headroom (the payee may pass it on to a later
// invoice). Each member's net outflow stays within [−up, down].
//
// Refuses (INVALID_ARGUMENT) notices that do not match the invoices, a zero currency, a
// repeated or zero member, and a negative headroom.
Result<MutualCreditPlan> PlanMutualCredit(CurrencyId currency, std::span<const Invoice> invoices,
                                          const SetoffResult& setoff,
                                          std::span<const MemberHeadroom> headroom);

}  // namespace ayni
