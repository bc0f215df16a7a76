// Outcome: every business result of a ledger command (STYLE: errors of kind 2).
//
// An exhaustive enum with stable numbers: the numbers are mirrored in the proto and
// stored in databases, so a value is never renumbered or reused. Refusals are returned as
// data and never matched as strings. Input that is malformed (bad text, out-of-range
// fields) is also an Outcome here; the server decides which map to INVALID_ARGUMENT
// (IsInvalidInput) and which to FAILED_PRECONDITION.
#pragma once

#include <cstdint>

namespace ayni {

// Retired before release and never to be reused: 11, 56, 58, 65, 66.
enum class Outcome : uint16_t {
  kOk = 0,
  // Idempotency (invariant 5).
  kExists = 1,                     // identical retry of a committed request
  kExistsWithDifferentFields = 2,  // same request id, other fields (the field is named)

  // Malformed input: nothing about the ledger's state is needed to refuse these.
  kAmountNotPositive = 10,
  kMemoTooLong = 12,
  kInvalidCode = 13,
  kInvalidName = 14,
  kInvalidScale = 15,
  kInvalidBasisPoints = 16,
  kInvalidLimit = 17,
  kInvalidReason = 18,
  kRequestIdZero = 19,
  kSameAccount = 20,
  kInvalidKind = 21,
  kInvalidMemo = 22,  // a NUL byte or text that is not UTF-8

  // Unknown things.
  kNoDeployment = 30,  // the national currency is not initialised yet
  kBankNotFound = 31,
  kCurrencyNotFound = 32,
  kCircleNotFound = 33,
  kMemberNotFound = 34,
  kDebitAccountNotFound = 35,
  kCreditAccountNotFound = 36,
  kAccountNotFound = 37,

  // State refusals.
  kDeploymentExists = 50,
  kCodeExists = 51,
  kDebitAccountFrozen = 52,
  kCreditAccountFrozen = 53,
  kDebitAccountClosed = 54,
  kCreditAccountClosed = 55,
  kAccountClosed = 57,
  kWrongCurrencyKind = 59,
  kWrongAccountKind = 60,
  kNotInCircle = 61,
  kAlreadyInCircle = 62,
  kAccountNotEmpty = 63,
  kMemberOfOtherBank = 64,

  // Money rules.
  kInsufficientFunds = 80,       // a guaranteed member account would go below 0
  kExceedsCreditLimit = 81,      // a mutual-credit account would go below -limit
  kExceedsCeiling = 82,          // an account would go above its ceiling
  kSystemAccountSign = 83,       // a system account would leave its sign (invariant 2)
  kCoverageWouldBreak = 84,      // invariant 3
  kSettlementShort = 85,         // a net debtor's reserve cannot pay its settlement
  kBalanceOverflow = 86,         // a balance or posted total would overflow int64

  // Capacity.
  kBatchFull = 100,
  kLimitReached = 101,

  // Microcredit (appended: numbers are stable).
  kInvalidTerms = 102,         // malformed: instalments, period or grace out of range
  kInvalidGroup = 103,         // malformed: group size, duplicate or non-member liable
  kLoanProductNotFound = 104,
  kGroupNotFound = 105,
  kLoanNotFound = 106,
  kPrincipalAboveMax = 107,    // the product's maximum principal
  kBorrowerInArrears = 108,    // the borrower, a group member or a member's group is late
  kNotBorrower = 109,          // the account does not belong to the borrower
  kLoanNotActive = 110,        // repaid or written off already
  kOverpayment = 111,          // more than interest payable plus outstanding principal
  // Invoices and set-off (clearing/invoices.h).
  kInvoiceNotFound = 140,
  kInvoiceExists = 141,      // the invoice id is taken by another registration
  kInvoiceWrongState = 142,  // e.g. confirming a disputed invoice
  // Malformed invoice input (IsInvalidInput).
  kSelfInvoice = 150,        // debtor and creditor are the same member
  kInvalidDueDate = 151,     // a day outside 0 … kUnixDayMax
  kInvalidReference = 152,   // too long, not UTF-8, or control characters
  // Cards and kiosks (clearing/cards.h).
  kKioskNotFound = 160,
  kCardNotFound = 161,
  kKioskExists = 162,   // the terminal id or the public key is registered already
  kCardExists = 163,    // the card id or the public key is registered already
  kCardBlocked = 164,   // a blocked card takes no more loads
  kLoadAboveLimit = 165,  // amount above balance_max, or caps above the certificate's
  // Malformed card input (IsInvalidInput).
  kInvalidCardTerms = 170,  // limits, expiry, or a zero card, terminal or key
};

// Stable snake-case name ("insufficient_funds"), for logs, CLI and reports.
const char* OutcomeName(Outcome outcome);
// Every defined outcome, in numeric order: lets tests and the proto mirror walk them all.
const Outcome* AllOutcomes(int* count);
// True for outcomes that mean the request itself was malformed (INVALID_ARGUMENT): 10–29,
// 150–159, 170–179, kInvalidTerms and kInvalidGroup.
bool IsInvalidInput(Outcome outcome);
// True for kOk and kExists: the request's effects are (now or already) committed.
inline bool IsCommitted(Outcome o) { return o == Outcome::kOk || o == Outcome::kExists; }

}  // namespace ayni
