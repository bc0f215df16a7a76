#include "server/auth/policy.h"

#include <array>
#include <string>

namespace ayni::auth {
namespace {

constexpr RoleMask kAdmin = RoleBit(Role::kAdmin);
constexpr RoleMask kTeller = RoleBit(Role::kTeller);
constexpr RoleMask kMember = RoleBit(Role::kMember);
constexpr RoleMask kAuditor = RoleBit(Role::kAuditor);
constexpr RoleMask kClearing = RoleBit(Role::kClearing);
// KIOSK appears only in CardService rows: receipts, the deny-list, card-signed loads.
constexpr RoleMask kKiosk = RoleBit(Role::kKiosk);

// Everyone who may look at deployment-wide metadata.
constexpr RoleMask kReaders = kAdmin | kTeller | kMember | kAuditor | kClearing;

constexpr bool kWrites = true;
constexpr bool kReads = false;

using R = ScopeRule;

// The implementation of docs/roles.md. One row per RPC of every ayni.v1 service.
constexpr std::array kTable = {
    // ---- SetupService ----
    PolicyRow{"/ayni.v1.SetupService/InitDeployment", kAdmin, R::kDeploymentOnly, kWrites},
    PolicyRow{"/ayni.v1.SetupService/GetDeployment", kReaders, R::kAnyScope, kReads},
    PolicyRow{"/ayni.v1.SetupService/CreateBank", kAdmin, R::kDeploymentOnly, kWrites},
    PolicyRow{"/ayni.v1.SetupService/ListBanks", kReaders, R::kAnyScope, kReads},
    PolicyRow{"/ayni.v1.SetupService/CreateCurrency", kAdmin, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.SetupService/ListCurrencies", kReaders, R::kAnyScope, kReads},
    PolicyRow{"/ayni.v1.SetupService/CreateCircle", kAdmin, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.SetupService/ListCircles", kAdmin | kTeller | kAuditor, R::kReadOwnBank,
              kReads},
    PolicyRow{"/ayni.v1.SetupService/CreateMember", kAdmin | kTeller, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.SetupService/AddCircleMember", kAdmin | kTeller, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.SetupService/OpenAccount", kAdmin | kTeller, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.SetupService/SetAccountStatus", kAdmin | kTeller, R::kBankOfTarget,
              kWrites},
    PolicyRow{"/ayni.v1.SetupService/SetAccountLimits", kAdmin | kTeller, R::kBankOfTarget,
              kWrites},
    PolicyRow{"/ayni.v1.SetupService/CreateApiKey", kAdmin, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.SetupService/RevokeApiKey", kAdmin, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.SetupService/ListApiKeys", kAdmin | kAuditor, R::kReadOwnBank, kReads},
    // ---- LedgerService ----
    PolicyRow{"/ayni.v1.LedgerService/Pay", kAdmin | kTeller | kMember, R::kDebitAccount, kWrites},
    PolicyRow{"/ayni.v1.LedgerService/BatchPay", kAdmin | kTeller | kMember, R::kDebitAccount,
              kWrites},
    PolicyRow{"/ayni.v1.LedgerService/GetAccount", kAdmin | kTeller | kMember | kAuditor,
              R::kReadAccount, kReads},
    PolicyRow{"/ayni.v1.LedgerService/ListAccounts", kAdmin | kTeller | kAuditor, R::kReadOwnBank,
              kReads},
    PolicyRow{"/ayni.v1.LedgerService/Statement", kAdmin | kTeller | kMember | kAuditor,
              R::kReadAccount, kReads},
    // ---- ReservesService ----
    PolicyRow{"/ayni.v1.ReservesService/Issue", kAdmin | kTeller, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.ReservesService/Redeem", kAdmin | kTeller, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.ReservesService/FundReserve", kAdmin, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.ReservesService/Distribute", kAdmin, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.ReservesService/GetCoverage", kAdmin | kTeller | kAuditor | kClearing,
              R::kReadOwnBank, kReads},
    // ---- ClearingService ----
    PolicyRow{"/ayni.v1.ClearingService/RunInterbankCycle", kAdmin | kClearing, R::kDeploymentOnly,
              kWrites},
    PolicyRow{"/ayni.v1.ClearingService/GetCycle", kAdmin | kAuditor | kClearing, R::kAnyScope,
              kReads},
    PolicyRow{"/ayni.v1.ClearingService/ListCycles", kAdmin | kAuditor | kClearing, R::kAnyScope,
              kReads},
    // ---- AuditService ----
    PolicyRow{"/ayni.v1.AuditService/ReserveAudit", kAdmin | kAuditor | kClearing, R::kReadOwnBank,
              kReads},
    PolicyRow{"/ayni.v1.AuditService/VerifyJournal", kAdmin | kAuditor, R::kDeploymentOnly, kReads},
    // ---- SetoffService ----
    // Target: RegisterInvoice, the creditor's bank; Confirm/Dispute, the debtor's bank and
    // the caller's own account when its owner is the debtor; ListInvoices, the filtered
    // member's bank (0 without a filter) and the caller's account when it is that member's.
    PolicyRow{"/ayni.v1.SetoffService/RegisterInvoice", kAdmin | kTeller, R::kBankOfTarget,
              kWrites},
    PolicyRow{"/ayni.v1.SetoffService/ConfirmInvoice", kAdmin | kTeller | kMember,
              R::kDebitAccount, kWrites},
    PolicyRow{"/ayni.v1.SetoffService/DisputeInvoice", kAdmin | kTeller | kMember,
              R::kDebitAccount, kWrites},
    PolicyRow{"/ayni.v1.SetoffService/ListInvoices", kAdmin | kTeller | kMember | kAuditor,
              R::kReadAccount, kReads},
    PolicyRow{"/ayni.v1.SetoffService/RunSetoff", kAdmin | kClearing, R::kDeploymentOnly, kWrites},
    PolicyRow{"/ayni.v1.SetoffService/GetSetoffRun", kAdmin | kAuditor | kClearing,
              R::kDeploymentOnly, kReads},
    // ---- LoanService ----
    PolicyRow{"/ayni.v1.LoanService/CreateLoanProduct", kAdmin | kTeller, R::kBankOfTarget,
              kWrites},
    PolicyRow{"/ayni.v1.LoanService/ListLoanProducts", kAdmin | kTeller | kAuditor, R::kReadOwnBank,
              kReads},
    PolicyRow{"/ayni.v1.LoanService/CreateSolidarityGroup", kAdmin | kTeller, R::kBankOfTarget,
              kWrites},
    PolicyRow{"/ayni.v1.LoanService/DisburseLoan", kAdmin | kTeller, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.LoanService/RepayLoan", kAdmin | kTeller, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.LoanService/WriteOffLoan", kAdmin, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.LoanService/GetLoan", kAdmin | kTeller | kAuditor, R::kReadOwnBank, kReads},
    PolicyRow{"/ayni.v1.LoanService/ListLoans", kAdmin | kTeller | kAuditor, R::kReadOwnBank,
              kReads},
    PolicyRow{"/ayni.v1.LoanService/GetPortfolio", kAdmin | kTeller | kAuditor, R::kReadOwnBank,
              kReads},
    // ---- CardService ----
    // Target: RegisterKiosk, the merchant account's bank; RegisterCard, the member
    // account's bank; AuthorizeLoad, BlockCard and GetCard, the card's bank (AuthorizeLoad
    // also the caller's own kiosk); SubmitOfflineBatch, the kiosk of the batch's terminal
    // id; CardAudit, the bank asked for (0: the caller's own bank, or every bank).
    PolicyRow{"/ayni.v1.CardService/RegisterKiosk", kAdmin | kTeller, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.CardService/RegisterCard", kAdmin | kTeller, R::kBankOfTarget, kWrites},
    PolicyRow{"/ayni.v1.CardService/AuthorizeLoad", kAdmin | kTeller | kKiosk, R::kBankOrTerminal,
              kWrites},
    PolicyRow{"/ayni.v1.CardService/BlockCard", kAdmin | kTeller, R::kBankOfTarget, kWrites},
    // Deduplicated per record (card, counter), not by a request id.
    PolicyRow{"/ayni.v1.CardService/SubmitOfflineBatch", kKiosk, R::kTerminal, kWrites},
    // Card ids and bank public keys only: what every kiosk needs offline.
    PolicyRow{"/ayni.v1.CardService/GetDenyList", kAdmin | kTeller | kKiosk | kAuditor,
              R::kAnyScope, kReads},
    PolicyRow{"/ayni.v1.CardService/GetCard", kAdmin | kTeller | kAuditor, R::kReadOwnBank, kReads},
    PolicyRow{"/ayni.v1.CardService/CardAudit", kAdmin | kAuditor, R::kReadOwnBank, kReads},
};

// AUDITOR is read-only (SPEC §6): no row that changes state may allow it.
constexpr bool AuditorNeverWrites() {
  for (const PolicyRow& row : kTable) {
    if (row.changes_state && (row.roles & kAuditor) != 0) return false;
  }
  return true;
}
static_assert(AuditorNeverWrites(), "AUDITOR must be read-only");

constexpr std::string_view kUnauthenticated[] = {
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
};

std::string Who(const KeyRecord& key) {
  return std::string(RoleName(key.role)) + " key " + KeyIdHex(key.key_id) + " (" +
         ScopeToString(key.scope) + ")";
}

std::string BankText(BankId b) {
  return b.valid() ? "bank " + std::to_string(b.value()) : "every bank";
}

Decision DenyRule(const KeyRecord& key, ScopeRule rule, const std::string& why) {
  return Decision::Deny(Who(key) + ": " + why + " (rule " + ScopeRuleName(rule) + ")");
}

bool SameBank(const KeyRecord& key, const Target& t) {
  return key.scope.kind == ScopeKind::kBank && t.bank.valid() && key.scope.id == t.bank.value();
}

}  // namespace

const char* ScopeRuleName(ScopeRule r) {
  switch (r) {
    case ScopeRule::kDeploymentOnly:
      return "kDeploymentOnly";
    case ScopeRule::kAnyScope:
      return "kAnyScope";
    case ScopeRule::kBankOfTarget:
      return "kBankOfTarget";
    case ScopeRule::kReadOwnBank:
      return "kReadOwnBank";
    case ScopeRule::kReadAccount:
      return "kReadAccount";
    case ScopeRule::kDebitAccount:
      return "kDebitAccount";
    case ScopeRule::kTerminal:
      return "kTerminal";
    case ScopeRule::kBankOrTerminal:
      return "kBankOrTerminal";
  }
  return "?";
}

std::span<const PolicyRow> PolicyTable() { return kTable; }

const PolicyRow* FindPolicy(std::string_view method) {
  for (const PolicyRow& row : kTable) {
    if (row.method == method) return &row;
  }
  return nullptr;
}

bool IsUnauthenticatedMethod(std::string_view method) {
  for (std::string_view m : kUnauthenticated) {
    if (m == method) return true;
  }
  return false;
}

Decision CheckScope(ScopeRule rule, const KeyRecord& key, const Target& t) {
  const bool deployment = key.scope.kind == ScopeKind::kDeployment;
  switch (rule) {
    case ScopeRule::kAnyScope:
      return Decision::Allow();
    case ScopeRule::kDeploymentOnly:
      if (deployment) return Decision::Allow();
      return DenyRule(key, rule, "only a deployment-scoped key may call this");
    case ScopeRule::kBankOfTarget:
      if (deployment || SameBank(key, t)) return Decision::Allow();
      return DenyRule(key, rule,
                      "may administer only objects of its own bank, not of " + BankText(t.bank));
    case ScopeRule::kReadOwnBank:
      if (deployment || SameBank(key, t)) return Decision::Allow();
      return DenyRule(key, rule, "may read only its own bank, not " + BankText(t.bank));
    case ScopeRule::kReadAccount:
    case ScopeRule::kDebitAccount: {
      const char* verb = rule == ScopeRule::kReadAccount ? "read" : "debit";
      if (deployment || SameBank(key, t)) return Decision::Allow();
      if (key.scope.kind == ScopeKind::kAccount && t.account.valid() &&
          key.scope.id == t.account.value()) {
        return Decision::Allow();
      }
      const std::string whose =
          key.scope.kind == ScopeKind::kAccount ? "its own account" : "accounts of its own bank";
      return DenyRule(key, rule,
                      std::string("may ") + verb + " only " + whose + ", not account " +
                          std::to_string(t.account.value()) + " of " + BankText(t.bank));
    }
    case ScopeRule::kTerminal:
      if (key.scope.kind == ScopeKind::kTerminal && t.terminal_id != 0 &&
          key.scope.id == t.terminal_id) {
        return Decision::Allow();
      }
      return DenyRule(
          key, rule,
          "may act only for its own terminal, not terminal " + std::to_string(t.terminal_id));
    case ScopeRule::kBankOrTerminal:
      if (deployment || SameBank(key, t)) return Decision::Allow();
      if (key.scope.kind == ScopeKind::kTerminal && t.terminal_id != 0 &&
          key.scope.id == t.terminal_id) {
        return Decision::Allow();
      }
      if (key.scope.kind == ScopeKind::kTerminal) {
        return DenyRule(key, rule, "may act only for its own terminal, not terminal " +
                                       std::to_string(t.terminal_id));
      }
      return DenyRule(key, rule,
                      "may administer only objects of its own bank, not of " + BankText(t.bank));
  }
  return DenyRule(key, rule, "unknown rule");
}

Decision Authorize(const KeyRecord& key, std::string_view method, const Target& target) {
  const PolicyRow* row = FindPolicy(method);
  if (row == nullptr) {
    return Decision::Deny(std::string(method) + ": no policy row for this method (denied)");
  }
  // "<method>: " before every reason, built only for a denial.
  const auto where = [method] { return std::string(method) + ": "; };
  if (key.revoked()) return Decision::Deny(where() + Who(key) + " is revoked");
  if (!IsValidRoleScope(key.role, key.scope)) {
    return Decision::Deny(where() + Who(key) + ": role and scope do not go together");
  }
  if (!row->Allows(key.role)) {
    return Decision::Deny(where() + "role " + RoleName(key.role) + " may not call this method");
  }
  Decision d = CheckScope(row->rule, key, target);
  if (d.allowed()) return d;
  return Decision::Deny(where() + d.status().message());
}

}  // namespace ayni::auth
