// API keys (SPEC §6 "Auth"): bearer tokens, their stored records, and the registry that
// holds the records.
//
// A token is `ayni_<key id: 16 lower-case hex>_<secret: 43 base64url chars, no padding>`,
// the secret being 32 bytes from libsodium's randombytes_buf. The server stores only
// BLAKE2b-256(secret) beside the key's id, role, scope, label and timestamps (KeyRecord,
// a plain struct that maps to one table row); the token itself is returned once, when the
// key is minted, and never stored, logged or printed. Verification compares hashes in
// constant time (sodium_memcmp).
//
// Role and ScopeKind mirror ayni.v1.Role and ayni.v1.ScopeKind (setup.proto): the same
// numbers, names "ROLE_" / "SCOPE_KIND_" + the upper-case *Name() text
// (tests/server/auth/auth_test.cc checks the mirror).
//
// Value types are thread-compatible. KeyRegistry implementations are thread-safe:
// InMemoryKeyRegistry serves many concurrent readers (every authenticated RPC) and rare
// writers behind a std::shared_mutex.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "clearing/ids.h"
#include "clearing/status.h"

namespace ayni::auth {

// ---- Roles and scopes ----------------------------------------------------------------

enum class Role : uint8_t {
  kAdmin = 1,     // deployment (creates banks and keys, everything) or one bank
  kTeller = 2,    // one bank: its members, deposits, redemptions, loads, loans
  kKiosk = 3,     // one terminal: receipts, deny-list, card-signed load requests
  kMember = 4,    // one account: pays from it, reads it
  kAuditor = 5,   // read-only, deployment or one bank
  kClearing = 6,  // deployment: runs clearing cycles and set-off
};
inline constexpr Role kAllRoles[] = {Role::kAdmin,  Role::kTeller,  Role::kKiosk,
                                     Role::kMember, Role::kAuditor, Role::kClearing};

enum class ScopeKind : uint8_t {
  kDeployment = 1,  // the whole deployment; id is 0
  kBank = 2,        // one bank; id is a bank id
  kAccount = 3,     // one account; id is an account id
  kTerminal = 4,    // one kiosk; id is its kiosk id (CardService.RegisterKiosk)
};

struct Scope {
  ScopeKind kind = ScopeKind::kDeployment;
  uint64_t id = 0;

  static Scope Deployment() { return {ScopeKind::kDeployment, 0}; }
  static Scope OfBank(BankId b) { return {ScopeKind::kBank, b.value()}; }
  static Scope OfAccount(AccountId a) { return {ScopeKind::kAccount, a.value()}; }
  static Scope OfTerminal(uint64_t terminal_id) { return {ScopeKind::kTerminal, terminal_id}; }
  friend bool operator==(const Scope&, const Scope&) = default;
};

const char* RoleName(Role r);            // "ADMIN", "TELLER", …
const char* ScopeKindName(ScopeKind k);  // "DEPLOYMENT", "BANK", …
std::optional<Role> RoleFromNumber(uint32_t n);
std::optional<ScopeKind> ScopeKindFromNumber(uint32_t n);
std::string ScopeToString(const Scope& s);  // "deployment", "bank 3", "account 17", …

// The allowed role/scope pairs (setup.proto, message Scope): ADMIN deployment|bank,
// TELLER bank, KIOSK terminal, MEMBER account, AUDITOR deployment|bank, CLEARING
// deployment. A scope other than deployment must name a non-zero id; deployment has id 0.
// Any other pair is INVALID_ARGUMENT at key creation and is denied everything if it ever
// reaches Authorize.
bool IsValidRoleScope(Role role, const Scope& scope);
Status ValidateRoleScope(Role role, const Scope& scope);

// ---- Tokens ---------------------------------------------------------------------------

struct KeyTag {};
using KeyId = DenseId<KeyTag>;  // 0 is "none" (created_by of the bootstrap key)

inline constexpr std::string_view kTokenPrefix = "ayni_";
inline constexpr size_t kKeyIdHexChars = 16;  // the 64-bit key id, lower-case hex
inline constexpr size_t kSecretBytes = 32;    // 256 bits from randombytes_buf
inline constexpr size_t kSecretChars = 43;    // base64url of 32 bytes, no padding
// "ayni_" + 16 + "_" + 43 = 65 characters; anything else is malformed.
inline constexpr size_t kTokenChars = kTokenPrefix.size() + kKeyIdHexChars + 1 + kSecretChars;
inline constexpr size_t kLabelBytesMax = 120;  // setup.proto ApiKey.label

using SecretHash = std::array<uint8_t, 32>;  // BLAKE2b-256(secret bytes)

// A token split into its key id and decoded secret. The secret is wiped on destruction;
// the type has no printing helper other than Redacted(), which omits the secret.
class ParsedToken {
 public:
  ParsedToken(KeyId id, const std::array<uint8_t, kSecretBytes>& secret);
  ParsedToken(const ParsedToken& other);
  ParsedToken& operator=(const ParsedToken& other);
  ~ParsedToken();

  KeyId key_id() const { return id_; }
  const std::array<uint8_t, kSecretBytes>& secret() const { return secret_; }
  SecretHash Hash() const;
  std::string Redacted() const;  // "ayni_<id hex>_…" — safe to log

 private:
  KeyId id_;
  std::array<uint8_t, kSecretBytes> secret_;
};

// Parses a bare token (no "Bearer "). INVALID_ARGUMENT with a message saying what is
// wrong (never echoing the secret part) when it is not exactly the format above: wrong
// prefix, key id not 16 lower-case hex digits or zero, secret not 43 canonical base64url
// characters, extra or missing '_'-separated parts.
Result<ParsedToken> ParseToken(std::string_view token);

// Takes the token out of an `authorization` metadata value "Bearer <token>" (scheme
// case-insensitive, exactly one space). INVALID_ARGUMENT otherwise; the message never
// echoes the value.
Result<std::string_view> BearerToken(std::string_view authorization);

// Safe text for logs about a presented token: "ayni_<id hex>_…" when the key-id part is
// well-formed, "<malformed token>" otherwise. Never contains any secret character.
std::string RedactToken(std::string_view token);

std::string KeyIdHex(KeyId id);  // 16 lower-case hex digits

// ---- Stored records -------------------------------------------------------------------

// One API key as stored (one row of a future api_keys table). Holds no secret: only its
// hash. Plain data.
struct KeyRecord {
  KeyId key_id;
  Role role = Role::kMember;
  Scope scope;
  std::string label;         // 1–120 bytes, what the key is for
  SecretHash secret_hash{};  // BLAKE2b-256 of the 32 secret bytes
  uint64_t created_at_ns = 0;
  KeyId created_by;            // 0 for the bootstrap admin key
  uint64_t expires_at_ns = 0;  // 0: never
  uint64_t revoked_at_ns = 0;  // 0: not revoked
  std::string revoked_by;      // actor of the revocation
  std::string revoke_reason;

  bool revoked() const { return revoked_at_ns != 0; }
  bool expired(uint64_t now_ns) const { return expires_at_ns != 0 && now_ns >= expires_at_ns; }
  std::string TokenPrefix() const;  // "ayni_<id hex>_", to recognise a key without its secret
};

// For logs and error messages: id, role, scope, label, state. Never the hash.
std::string ToString(const KeyRecord& k);

// A freshly minted key: the record to store and the token to hand out once.
struct MintedKey {
  KeyRecord record;
  std::string token;  // the only copy of the secret; never store or log it
};

struct MintKeyArgs {
  KeyId key_id;  // 0: a random non-zero id
  Role role = Role::kMember;
  Scope scope;
  std::string label;
  uint64_t created_at_ns = 0;
  KeyId created_by;
  uint64_t expires_at_ns = 0;
};

// Generates a 32-byte secret with randombytes_buf and returns the record and token.
// INVALID_ARGUMENT when the role/scope pair is not allowed or the label is not 1–120 bytes.
Result<MintedKey> MintKey(const MintKeyArgs& args);

// Whether `token`'s secret is the one whose hash `record` holds, compared in constant
// time. Also false when the key ids differ.
bool SecretMatches(const KeyRecord& record, const ParsedToken& token);

// ---- Registry -------------------------------------------------------------------------

// Where key records live, by key id. Thread-safe. The in-memory implementation below
// serves tests and a database-less server; a PostgreSQL one maps KeyRecord to a row.
class KeyRegistry {
 public:
  virtual ~KeyRegistry() = default;
  virtual std::optional<KeyRecord> Find(KeyId id) const = 0;
  // ALREADY_EXISTS when the id is taken (retry MintKey with another random id);
  // INVALID_ARGUMENT for id 0 or a role/scope pair that is not allowed.
  virtual Status Add(KeyRecord record) = 0;
  // Marks the key revoked at `at_ns`. NOT_FOUND for an unknown id. Revoking a revoked key
  // is OK and keeps the first revocation's time, actor and reason.
  virtual Status Revoke(KeyId id, uint64_t at_ns, std::string by, std::string reason) = 0;
  // Every record, by key id.
  virtual std::vector<KeyRecord> List() const = 0;
};

class InMemoryKeyRegistry final : public KeyRegistry {
 public:
  std::optional<KeyRecord> Find(KeyId id) const override;
  Status Add(KeyRecord record) override;
  Status Revoke(KeyId id, uint64_t at_ns, std::string by, std::string reason) override;
  std::vector<KeyRecord> List() const override;

 private:
  mutable std::shared_mutex mu_;
  std::map<KeyId, KeyRecord> keys_;  // guarded by mu_
};

// Who is calling: parses `token`, finds its record, checks the secret in constant time,
// then that the key is neither revoked nor expired at `now_ns`. Every failure is
// UNAUTHENTICATED with a message naming the cause (malformed, unknown key, wrong secret,
// revoked, expired) and at most the redacted token.
Result<KeyRecord> Authenticate(const KeyRegistry& registry, std::string_view token,
                               uint64_t now_ns);

}  // namespace ayni::auth
