// The domain model of SPEC §2: banks, currencies, circles, members, accounts, transfers.
//
// Plain data. The Ledger (ledger.h) owns every instance and is the only writer; readers
// get const references. Enum numbers are stable (journal bytes and databases store them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "clearing/amount.h"
#include "clearing/ids.h"

namespace ayni {

enum class CurrencyKind : uint8_t {
  kNational = 0,      // the deployment's national money (e.g. BRL); system accounts only
  kGuaranteed = 1,    // issued by one bank, backed by its reserve
  kMutualCredit = 2,  // issued by members of one circle paying below zero
};

enum class AccountKind : uint8_t {
  kMember = 0,
  kMerchant = 1,
  kIssuance = 2,    // guaranteed currency: minus the circulating supply (≤ 0)
  kReserve = 3,     // national: reserve and microcredit fund (≥ 0)
  kVault = 4,       // national: cash in/out at the teller (no per-bank sign rule)
  kLoans = 5,       // national: loans receivable (≥ 0)
  kFees = 6,        // national: income (≥ 0)
  kWriteOff = 7,    // national: loan losses (≥ 0)
  kCardFloat = 8,   // guaranteed: value loaded on cards (≥ 0)
  kCardLosses = 9,  // guaranteed: offline overspend the bank absorbs (no sign rule)
  kSuspense = 10,   // guaranteed: receipts for frozen or closed merchants (no sign rule)
  kDueFrom = 11,    // national: owed to this bank by the counterparty bank (≥ 0)
  kDueTo = 12,      // national: owed by this bank to the counterparty bank (≤ 0)
};

enum class AccountStatus : uint8_t { kActive = 0, kFrozen = 1, kClosed = 2 };

enum class TransferCode : uint16_t {
  kPayment = 1,
  kIssue = 2,
  kRedeem = 3,
  kLoanDisburse = 4,
  kLoanRepay = 5,
  kCardLoad = 6,
  kCardSettle = 7,
  kInterbank = 8,
  kFee = 9,
  kFundReserve = 10,
  kDistribute = 11,
  kSettlement = 12,    // clearing cycle: RESERVE → RESERVE and DUE reversals
  kLoanInterest = 13,  // interest on a loan: VAULT → FEES, or burn and RESERVE → FEES
  kLoanWriteOff = 14,  // LOANS → WRITE_OFF
  kCardReturn = 15,    // CARD_FLOAT → member: a load the card never applied (cards.h)
};

const char* CurrencyKindName(CurrencyKind k);
const char* AccountKindName(AccountKind k);
const char* AccountStatusName(AccountStatus s);
const char* TransferCodeName(TransferCode c);
inline bool IsMemberKind(AccountKind k) {
  return k == AccountKind::kMember || k == AccountKind::kMerchant;
}
bool IsValidAccountKind(uint8_t k);

// Sign rule of invariant 2 for system accounts.
enum class SignRule : uint8_t { kNone, kNonNegative, kNonPositive };
SignRule SignRuleOf(AccountKind k);

struct Bank {
  BankId id;
  std::string code;
  std::string name;
  AccountId vault, reserve, loans, fees, write_off;
  // Indexed by the counterparty's BankId value; entry 0 and the bank itself are unset.
  std::vector<AccountId> due_from, due_to;
  std::vector<CurrencyId> issued;  // guaranteed currencies this bank issues
};

struct CurrencyPolicy {
  int32_t coverage_min_bp = 10000;   // guaranteed: reserve must cover supply at this ratio
  int32_t redemption_fee_bp = 200;   // guaranteed: fee on redemption, rounded down
  Amount default_credit_limit;       // mutual credit: how far below zero members may go
  Amount default_ceiling = Amount::Max();
};

struct Currency {
  CurrencyId id;
  std::string code;
  CurrencyKind kind = CurrencyKind::kNational;
  int64_t scale = 100;
  BankId issuer;     // guaranteed: the issuing bank; mutual credit: the circle's host bank
  CircleId circle;   // mutual credit only
  CurrencyPolicy policy;
  AccountId issuance, card_float, card_losses, suspense;  // guaranteed only
};

struct Member {
  MemberId id;
  BankId bank;
  std::string name;
};

struct Circle {
  CircleId id;
  BankId bank;  // host bank
  std::string code;
  std::string name;
  CurrencyId currency;
  std::vector<MemberId> members;  // sorted
  std::vector<MemberId> admins;   // sorted, subset of members
};

struct Account {
  AccountId id;
  BankId bank;
  CurrencyId currency;
  AccountKind kind = AccountKind::kMember;
  MemberId owner;     // member and merchant accounts
  BankId counterparty;  // DUE_FROM / DUE_TO
  AccountStatus status = AccountStatus::kActive;
  Amount credit_limit;  // mutual credit: balance may go down to -credit_limit
  Amount ceiling = Amount::Max();
  Amount balance;  // credits - debits
  Amount debits_posted, credits_posted;
};

struct Transfer {
  TransferId id;
  RequestId request;
  uint32_t leg = 0;
  AccountId debit, credit;
  CurrencyId currency;
  Amount amount;
  TransferCode code = TransferCode::kPayment;
  uint64_t timestamp_ns = 0;
  std::string memo;
};

}  // namespace ayni
