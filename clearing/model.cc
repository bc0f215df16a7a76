#include "clearing/model.h"

namespace ayni {

const char* CurrencyKindName(CurrencyKind k) {
  switch (k) {
    case CurrencyKind::kNational: return "NATIONAL";
    case CurrencyKind::kGuaranteed: return "GUARANTEED";
    case CurrencyKind::kMutualCredit: return "MUTUAL_CREDIT";
  }
  return "UNKNOWN";
}

const char* AccountKindName(AccountKind k) {
  switch (k) {
    case AccountKind::kMember: return "MEMBER";
    case AccountKind::kMerchant: return "MERCHANT";
    case AccountKind::kIssuance: return "ISSUANCE";
    case AccountKind::kReserve: return "RESERVE";
    case AccountKind::kVault: return "VAULT";
    case AccountKind::kLoans: return "LOANS";
    case AccountKind::kFees: return "FEES";
    case AccountKind::kWriteOff: return "WRITE_OFF";
    case AccountKind::kCardFloat: return "CARD_FLOAT";
    case AccountKind::kCardLosses: return "CARD_LOSSES";
    case AccountKind::kSuspense: return "SUSPENSE";
    case AccountKind::kDueFrom: return "DUE_FROM";
    case AccountKind::kDueTo: return "DUE_TO";
  }
  return "UNKNOWN";
}

const char* AccountStatusName(AccountStatus s) {
  switch (s) {
    case AccountStatus::kActive: return "ACTIVE";
    case AccountStatus::kFrozen: return "FROZEN";
    case AccountStatus::kClosed: return "CLOSED";
  }
  return "UNKNOWN";
}

const char* TransferCodeName(TransferCode c) {
  switch (c) {
    case TransferCode::kPayment: return "PAYMENT";
    case TransferCode::kIssue: return "ISSUE";
    case TransferCode::kRedeem: return "REDEEM";
    case TransferCode::kLoanDisburse: return "LOAN_DISBURSE";
    case TransferCode::kLoanRepay: return "LOAN_REPAY";
    case TransferCode::kCardLoad: return "CARD_LOAD";
    case TransferCode::kCardSettle: return "CARD_SETTLE";
    case TransferCode::kInterbank: return "INTERBANK";
    case TransferCode::kFee: return "FEE";
    case TransferCode::kFundReserve: return "FUND_RESERVE";
    case TransferCode::kDistribute: return "DISTRIBUTE";
    case TransferCode::kSettlement: return "SETTLEMENT";
    case TransferCode::kLoanInterest: return "LOAN_INTEREST";
    case TransferCode::kLoanWriteOff: return "LOAN_WRITE_OFF";
    case TransferCode::kCardReturn: return "CARD_RETURN";
  }
  return "UNKNOWN";
}

bool IsValidAccountKind(uint8_t k) { return k <= static_cast<uint8_t>(AccountKind::kDueTo); }

SignRule SignRuleOf(AccountKind k) {
  switch (k) {
    case AccountKind::kReserve:
    case AccountKind::kLoans:
    case AccountKind::kFees:
    case AccountKind::kWriteOff:
    case AccountKind::kCardFloat:
    case AccountKind::kDueFrom:
      return SignRule::kNonNegative;
    case AccountKind::kIssuance:
    case AccountKind::kDueTo:
      return SignRule::kNonPositive;
    // SPEC §2 lists VAULT among the ≤ 0 accounts, but its own worked example pays a
    // redemption at bank B out of reserve that arrived by clearing (VAULT_B = +29.40):
    // a bank's vault is its net cash flow and may be positive. Deployment-wide, Σ VAULT
    // ≤ 0 still holds (it is minus every non-negative national balance).
    case AccountKind::kVault:
    case AccountKind::kMember:
    case AccountKind::kMerchant:
    case AccountKind::kCardLosses:
    case AccountKind::kSuspense:
      return SignRule::kNone;
  }
  return SignRule::kNone;
}

}  // namespace ayni
