#include "clearing/outcome.h"

#include <array>
#include <iterator>

namespace ayni {
namespace {

struct Entry {
  Outcome outcome;
  const char* name;
};

constexpr Entry kEntries[] = {
    {Outcome::kOk, "ok"},
    {Outcome::kExists, "exists"},
    {Outcome::kExistsWithDifferentFields, "exists_with_different_fields"},
    {Outcome::kAmountNotPositive, "amount_not_positive"},
    {Outcome::kMemoTooLong, "memo_too_long"},
    {Outcome::kInvalidCode, "invalid_code"},
    {Outcome::kInvalidName, "invalid_name"},
    {Outcome::kInvalidScale, "invalid_scale"},
    {Outcome::kInvalidBasisPoints, "invalid_basis_points"},
    {Outcome::kInvalidLimit, "invalid_limit"},
    {Outcome::kInvalidReason, "invalid_reason"},
    {Outcome::kRequestIdZero, "request_id_zero"},
    {Outcome::kSameAccount, "same_account"},
    {Outcome::kInvalidKind, "invalid_kind"},
    {Outcome::kInvalidMemo, "invalid_memo"},
    {Outcome::kNoDeployment, "no_deployment"},
    {Outcome::kBankNotFound, "bank_not_found"},
    {Outcome::kCurrencyNotFound, "currency_not_found"},
    {Outcome::kCircleNotFound, "circle_not_found"},
    {Outcome::kMemberNotFound, "member_not_found"},
    {Outcome::kDebitAccountNotFound, "debit_account_not_found"},
    {Outcome::kCreditAccountNotFound, "credit_account_not_found"},
    {Outcome::kAccountNotFound, "account_not_found"},
    {Outcome::kDeploymentExists, "deployment_exists"},
    {Outcome::kCodeExists, "code_exists"},
    {Outcome::kDebitAccountFrozen, "debit_account_frozen"},
    {Outcome::kCreditAccountFrozen, "credit_account_frozen"},
    {Outcome::kDebitAccountClosed, "debit_account_closed"},
    {Outcome::kCreditAccountClosed, "credit_account_closed"},
    {Outcome::kAccountClosed, "account_closed"},
    {Outcome::kWrongCurrencyKind, "wrong_currency_kind"},
    {Outcome::kWrongAccountKind, "wrong_account_kind"},
    {Outcome::kNotInCircle, "not_in_circle"},
    {Outcome::kAlreadyInCircle, "already_in_circle"},
    {Outcome::kAccountNotEmpty, "account_not_empty"},
    {Outcome::kMemberOfOtherBank, "member_of_other_bank"},
    {Outcome::kInsufficientFunds, "insufficient_funds"},
    {Outcome::kExceedsCreditLimit, "exceeds_credit_limit"},
    {Outcome::kExceedsCeiling, "exceeds_ceiling"},
    {Outcome::kSystemAccountSign, "system_account_sign"},
    {Outcome::kCoverageWouldBreak, "coverage_would_break"},
    {Outcome::kSettlementShort, "settlement_short"},
    {Outcome::kBalanceOverflow, "balance_overflow"},
    {Outcome::kBatchFull, "batch_full"},
    {Outcome::kLimitReached, "limit_reached"},
    {Outcome::kInvalidTerms, "invalid_terms"},
    {Outcome::kInvalidGroup, "invalid_group"},
    {Outcome::kLoanProductNotFound, "loan_product_not_found"},
    {Outcome::kGroupNotFound, "group_not_found"},
    {Outcome::kLoanNotFound, "loan_not_found"},
    {Outcome::kPrincipalAboveMax, "principal_above_max"},
    {Outcome::kBorrowerInArrears, "borrower_in_arrears"},
    {Outcome::kNotBorrower, "not_borrower"},
    {Outcome::kLoanNotActive, "loan_not_active"},
    {Outcome::kOverpayment, "overpayment"},
    {Outcome::kInvoiceNotFound, "invoice_not_found"},
    {Outcome::kInvoiceExists, "invoice_exists"},
    {Outcome::kInvoiceWrongState, "invoice_wrong_state"},
    {Outcome::kSelfInvoice, "self_invoice"},
    {Outcome::kInvalidDueDate, "invalid_due_date"},
    {Outcome::kInvalidReference, "invalid_reference"},
    {Outcome::kKioskNotFound, "kiosk_not_found"},
    {Outcome::kCardNotFound, "card_not_found"},
    {Outcome::kKioskExists, "kiosk_exists"},
    {Outcome::kCardExists, "card_exists"},
    {Outcome::kCardBlocked, "card_blocked"},
    {Outcome::kLoadAboveLimit, "load_above_limit"},
    {Outcome::kInvalidCardTerms, "invalid_card_terms"},
};

}  // namespace

const char* OutcomeName(Outcome outcome) {
  for (const Entry& e : kEntries) {
    if (e.outcome == outcome) return e.name;
  }
  return "unknown_outcome";
}

const Outcome* AllOutcomes(int* count) {
  static const auto kAll = [] {
    std::array<Outcome, std::size(kEntries)> a{};
    for (size_t i = 0; i < std::size(kEntries); ++i) a[i] = kEntries[i].outcome;
    return a;
  }();
  *count = static_cast<int>(kAll.size());
  return kAll.data();
}

bool IsInvalidInput(Outcome o) {
  const auto n = static_cast<uint16_t>(o);
  return (n >= 10 && n < 30) || (n >= 150 && n < 160) || (n >= 170 && n < 180) || o == Outcome::kInvalidTerms ||
         o == Outcome::kInvalidGroup;
}

}  // namespace ayni
