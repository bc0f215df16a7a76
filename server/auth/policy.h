// Authorization (SPEC §6 "Auth", §10): which key may call which RPC on which object.
//
// The policy is a table with one row per RPC full name ("/ayni.v1.LedgerService/Pay"):
// the roles that may call it and the scope rule that applies. docs/roles.md is the
// contract; this table is its implementation, and tests/server/auth/roles_doc_test.cc
// checks that both agree and that every method of every ayni.v1 service has exactly one
// row. An RPC without a row is denied (fail closed).
//
// Authorize() is pure: the service resolves the request into a Target (which bank owns
// the debited, read or administered object, which account, which terminal) from the
// request and its read of the ledger, then asks. Nothing here touches the ledger, the
// network or a clock. Thread-safe (the table is immutable).
//
// Typical use in a service handler, after Authenticate() (api_key.h):
//
//   Target t{.bank = payer.bank, .account = payer.id};
//   if (Decision d = Authorize(key, "/ayni.v1.LedgerService/Pay", t); !d.allowed())
//     return ToGrpc(d.status());  // PERMISSION_DENIED, message names the rule
//
// BatchPay is authorized once per item (each item's payer is its own Target).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "clearing/ids.h"
#include "clearing/status.h"
#include "server/auth/api_key.h"

namespace ayni::auth {

// How a key's scope must relate to the call's Target. Names appear in docs/roles.md.
enum class ScopeRule : uint8_t {
  // Only keys with deployment scope (InitDeployment, CreateBank, clearing cycles, the
  // whole-journal audit).
  kDeploymentOnly,
  // Any key of an allowed role, whatever its scope: deployment-wide metadata (banks,
  // currencies) and signed clearing reports, which hold no member account.
  kAnyScope,
  // Administers an object of Target.bank (member, account, circle, currency, key,
  // deposit, redemption, reserve): deployment scope, or bank scope of that very bank.
  kBankOfTarget,
  // Reads data of Target.bank (listing, coverage, audit): deployment scope, or bank scope
  // of that bank. Target.bank 0 means "every bank": deployment scope only.
  kReadOwnBank,
  // Reads one account (Target.account, kept by Target.bank): deployment scope, bank scope
  // of the account's bank, or account scope of that very account (MEMBER).
  kReadAccount,
  // Debits Target.account (the payer, kept by Target.bank): deployment scope, bank scope
  // of the payer's bank (TELLER/ADMIN), or account scope of the payer (MEMBER). The
  // payee is not part of the Target: a payment may credit any bank's member
  // (kCreditMayBeAnyBank in SPEC terms).
  kDebitAccount,
  // Acts for one kiosk terminal (Target.terminal): terminal scope of that terminal
  // (SubmitOfflineBatch: the kiosk the batch's terminal id belongs to).
  kTerminal,
  // Administers an object of Target.bank (kBankOfTarget) — or, for a terminal-scoped key,
  // acts for its own terminal (Target.terminal). AuthorizeLoad: a teller of the card's
  // bank, or any registered kiosk forwarding the card's own signed request.
  kBankOrTerminal,
};
const char* ScopeRuleName(ScopeRule r);  // "kDebitAccount", …

// What the service knows about the object a call touches. Zero ids mean "none"/"every".
struct Target {
  // The bank that keeps the debited/read account, owns the administered object (member,
  // circle, currency, key's scope), or is named by the request (FundReserve, coverage).
  // 0: the request names every bank (e.g. a listing without a bank filter) or a
  // deployment-wide object (a deployment-scoped API key).
  BankId bank;
  // The debited (Pay: payer) or read account, for kDebitAccount / kReadAccount.
  AccountId account;
  // The kiosk (its kiosk id, which a KIOSK key's terminal scope names), for kTerminal and
  // kBankOrTerminal.
  uint64_t terminal_id = 0;
};

// Bit set of roles.
using RoleMask = uint8_t;
constexpr RoleMask RoleBit(Role r) { return static_cast<RoleMask>(1u << static_cast<int>(r)); }

struct PolicyRow {
  std::string_view method;  // full gRPC name: "/ayni.v1.<Service>/<Method>"
  RoleMask roles;           // who may call it at all
  ScopeRule rule;           // how the caller's scope must match the Target
  bool changes_state;       // the request carries a request_id (AUDITOR never allowed)
  bool Allows(Role r) const { return (roles & RoleBit(r)) != 0; }
};

// Every row, in service order. Immutable.
std::span<const PolicyRow> PolicyTable();
// The row of `method`, or nullptr when the method has none (it is then always denied).
const PolicyRow* FindPolicy(std::string_view method);

// Methods served without any API key: health checks and server reflection (both reveal
// no ledger data; load balancers and kiosks probe health without a key).
bool IsUnauthenticatedMethod(std::string_view method);

class Decision {
 public:
  static Decision Allow() { return Decision(Status::Ok()); }
  static Decision Deny(std::string message) {
    return Decision(Status(StatusCode::kPermissionDenied, std::move(message)));
  }
  bool allowed() const { return status_.ok(); }
  // OK when allowed; PERMISSION_DENIED with a message naming the method, the key and the
  // rule otherwise.
  const Status& status() const { return status_; }

 private:
  explicit Decision(Status s) : status_(std::move(s)) {}
  Status status_;
};

// May `key` call `method` on `target`? Denies (PERMISSION_DENIED) an unknown method, a
// revoked key, a role/scope pair that is not allowed, a role without a place in the
// method's row, and a scope that fails the row's rule. Authentication (secret, expiry)
// is Authenticate()'s job and happens first.
Decision Authorize(const KeyRecord& key, std::string_view method, const Target& target);

// The scope rule alone, for a key whose role the row allows. Exposed for tests.
Decision CheckScope(ScopeRule rule, const KeyRecord& key, const Target& target);

}  // namespace ayni::auth
