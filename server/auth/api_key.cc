#include "server/auth/api_key.h"

#include <sodium.h>

#include <cstring>
#include <mutex>
#include <utility>

#include "clearing/hash.h"

namespace ayni::auth {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int LowerHexNibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::string EncodeSecret(const std::array<uint8_t, kSecretBytes>& secret) {
  char buf[sodium_base64_ENCODED_LEN(kSecretBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(buf, sizeof buf, secret.data(), secret.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::string s(buf);
  sodium_memzero(buf, sizeof buf);
  return s;
}

}  // namespace

// ---- Roles and scopes ----------------------------------------------------------------

const char* RoleName(Role r) {
  switch (r) {
    case Role::kAdmin:
      return "ADMIN";
    case Role::kTeller:
      return "TELLER";
    case Role::kKiosk:
      return "KIOSK";
    case Role::kMember:
      return "MEMBER";
    case Role::kAuditor:
      return "AUDITOR";
    case Role::kClearing:
      return "CLEARING";
  }
  return "?";
}

const char* ScopeKindName(ScopeKind k) {
  switch (k) {
    case ScopeKind::kDeployment:
      return "DEPLOYMENT";
    case ScopeKind::kBank:
      return "BANK";
    case ScopeKind::kAccount:
      return "ACCOUNT";
    case ScopeKind::kTerminal:
      return "TERMINAL";
  }
  return "?";
}

std::optional<Role> RoleFromNumber(uint32_t n) {
  if (n < 1 || n > 6) return std::nullopt;
  return static_cast<Role>(n);
}

std::optional<ScopeKind> ScopeKindFromNumber(uint32_t n) {
  if (n < 1 || n > 4) return std::nullopt;
  return static_cast<ScopeKind>(n);
}

std::string ScopeToString(const Scope& s) {
  switch (s.kind) {
    case ScopeKind::kDeployment:
      return "deployment";
    case ScopeKind::kBank:
      return "bank " + std::to_string(s.id);
    case ScopeKind::kAccount:
      return "account " + std::to_string(s.id);
    case ScopeKind::kTerminal:
      return "terminal " + std::to_string(s.id);
  }
  return "?";
}

bool IsValidRoleScope(Role role, const Scope& scope) {
  if ((scope.kind == ScopeKind::kDeployment) != (scope.id == 0)) return false;
  switch (role) {
    case Role::kAdmin:
    case Role::kAuditor:
      return scope.kind == ScopeKind::kDeployment || scope.kind == ScopeKind::kBank;
    case Role::kTeller:
      return scope.kind == ScopeKind::kBank;
    case Role::kKiosk:
      return scope.kind == ScopeKind::kTerminal;
    case Role::kMember:
      return scope.kind == ScopeKind::kAccount;
    case Role::kClearing:
      return scope.kind == ScopeKind::kDeployment;
  }
  return false;
}

Status ValidateRoleScope(Role role, const Scope& scope) {
  if (IsValidRoleScope(role, scope)) return Status::Ok();
  return Status::InvalidArgument(std::string("scope: role ") + RoleName(role) +
                                 " cannot have scope " + ScopeToString(scope) +
                                 " (allowed: ADMIN deployment|bank, TELLER bank, KIOSK "
                                 "terminal, MEMBER account, AUDITOR deployment|bank, CLEARING "
                                 "deployment; a non-deployment scope needs a non-zero id)");
}

// ---- Tokens ---------------------------------------------------------------------------

ParsedToken::ParsedToken(KeyId id, const std::array<uint8_t, kSecretBytes>& secret)
    : id_(id), secret_(secret) {}
ParsedToken::ParsedToken(const ParsedToken& other) = default;
ParsedToken& ParsedToken::operator=(const ParsedToken& other) = default;
ParsedToken::~ParsedToken() { sodium_memzero(secret_.data(), secret_.size()); }

SecretHash ParsedToken::Hash() const { return Blake2b256(secret_); }

std::string ParsedToken::Redacted() const {
  return std::string(kTokenPrefix) + KeyIdHex(id_) + "_…";
}

std::string KeyIdHex(KeyId id) {
  std::string s(kKeyIdHexChars, '0');
  uint64_t v = id.value();
  for (size_t i = kKeyIdHexChars; i-- > 0; v >>= 4) s[i] = kHexDigits[v & 15];
  return s;
}

Result<ParsedToken> ParseToken(std::string_view token) {
  EnsureSodium();
  if (token.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return Status::InvalidArgument("API key: does not start with \"ayni_\"");
  }
  std::string_view rest = token.substr(kTokenPrefix.size());
  const size_t sep = rest.find('_');
  if (sep == std::string_view::npos) {
    return Status::InvalidArgument("API key: expected ayni_<key id>_<secret>, found no secret");
  }
  const std::string_view id_hex = rest.substr(0, sep);
  const std::string_view secret_text = rest.substr(sep + 1);
  if (id_hex.size() != kKeyIdHexChars) {
    return Status::InvalidArgument("API key: key id must be 16 lower-case hex digits, got " +
                                   std::to_string(id_hex.size()) + " characters");
  }
  uint64_t id = 0;
  for (char c : id_hex) {
    const int n = LowerHexNibble(c);
    if (n < 0) {
      return Status::InvalidArgument("API key: key id must be 16 lower-case hex digits");
    }
    id = (id << 4) | static_cast<uint64_t>(n);
  }
  if (id == 0) return Status::InvalidArgument("API key: key id 0 is not a key");
  // The secret alphabet includes '_', so an extra part shows up as a wrong length (and a
  // 43-character tail with a stray '_' is refused by the canonical re-encoding below).
  if (secret_text.size() != kSecretChars) {
    return Status::InvalidArgument("API key: secret must be 43 base64url characters, got " +
                                   std::to_string(secret_text.size()));
  }
  for (char c : secret_text) {
    if (!IsBase64UrlChar(c)) {
      return Status::InvalidArgument("API key: secret is not base64url (A-Z a-z 0-9 - _)");
    }
  }
  std::array<uint8_t, kSecretBytes> secret{};
  size_t len = 0;
  const char* end = nullptr;
  const int rc =
      sodium_base642bin(secret.data(), secret.size(), secret_text.data(), secret_text.size(),
                        nullptr, &len, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  const bool canonical = rc == 0 && len == kSecretBytes &&
                         end == secret_text.data() + secret_text.size() &&
                         EncodeSecret(secret) == secret_text;
  if (!canonical) {
    sodium_memzero(secret.data(), secret.size());
    return Status::InvalidArgument("API key: secret is not the canonical base64url of 32 bytes");
  }
  ParsedToken parsed(KeyId(id), secret);
  sodium_memzero(secret.data(), secret.size());
  return parsed;
}

Result<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) {
    return Status::InvalidArgument("authorization: expected \"Bearer <API key>\"");
  }
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = authorization[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) {
      return Status::InvalidArgument("authorization: expected \"Bearer <API key>\"");
    }
  }
  return authorization.substr(kScheme.size());
}

std::string RedactToken(std::string_view token) {
  if (token.size() < kTokenPrefix.size() + kKeyIdHexChars + 1 ||
      token.substr(0, kTokenPrefix.size()) != kTokenPrefix ||
      token[kTokenPrefix.size() + kKeyIdHexChars] != '_') {
    return "<malformed token>";
  }
  const std::string_view id_hex = token.substr(kTokenPrefix.size(), kKeyIdHexChars);
  for (char c : id_hex) {
    if (LowerHexNibble(c) < 0) return "<malformed token>";
  }
  return std::string(kTokenPrefix) + std::string(id_hex) + "_…";
}

// ---- Records --------------------------------------------------------------------------

std::string KeyRecord::TokenPrefix() const {
  return std::string(kTokenPrefix) + KeyIdHex(key_id) + "_";
}

std::string ToString(const KeyRecord& k) {
  std::string s = "key " + KeyIdHex(k.key_id) + " " + RoleName(k.role) + " " +
                  ScopeToString(k.scope) + " \"" + k.label + "\"";
  if (k.revoked()) s += " revoked";
  if (k.expires_at_ns != 0) s += " expires_at_ns=" + std::to_string(k.expires_at_ns);
  return s;
}

Result<MintedKey> MintKey(const MintKeyArgs& args) {
  EnsureSodium();
  if (Status s = ValidateRoleScope(args.role, args.scope); !s.ok()) return s;
  if (args.label.empty() || args.label.size() > kLabelBytesMax) {
    return Status::InvalidArgument("label: " + std::to_string(args.label.size()) +
                                   " bytes, must be 1–120");
  }
  KeyId id = args.key_id;
  while (!id.valid()) {
    uint64_t v = 0;
    randombytes_buf(&v, sizeof v);
    id = KeyId(v);
  }
  std::array<uint8_t, kSecretBytes> secret{};
  randombytes_buf(secret.data(), secret.size());

  MintedKey out;
  out.record.key_id = id;
  out.record.role = args.role;
  out.record.scope = args.scope;
  out.record.label = args.label;
  out.record.secret_hash = Blake2b256(secret);
  out.record.created_at_ns = args.created_at_ns;
  out.record.created_by = args.created_by;
  out.record.expires_at_ns = args.expires_at_ns;
  out.token = std::string(kTokenPrefix) + KeyIdHex(id) + "_" + EncodeSecret(secret);
  sodium_memzero(secret.data(), secret.size());
  AYNI_CHECK(out.token.size() == kTokenChars);
  return out;
}

bool SecretMatches(const KeyRecord& record, const ParsedToken& token) {
  if (record.key_id != token.key_id()) return false;
  const SecretHash h = token.Hash();
  return sodium_memcmp(h.data(), record.secret_hash.data(), h.size()) == 0;
}

// ---- Registry -------------------------------------------------------------------------

std::optional<KeyRecord> InMemoryKeyRegistry::Find(KeyId id) const {
  std::shared_lock lock(mu_);
  auto it = keys_.find(id);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

Status InMemoryKeyRegistry::Add(KeyRecord record) {
  if (!record.key_id.valid()) return Status::InvalidArgument("key_id: 0 is not a key");
  if (Status s = ValidateRoleScope(record.role, record.scope); !s.ok()) return s;
  std::unique_lock lock(mu_);
  const KeyId id = record.key_id;
  if (!keys_.try_emplace(id, std::move(record)).second) {
    return {StatusCode::kAlreadyExists, "key " + KeyIdHex(id) + " exists"};
  }
  return Status::Ok();
}

Status InMemoryKeyRegistry::Revoke(KeyId id, uint64_t at_ns, std::string by, std::string reason) {
  AYNI_CHECK(at_ns != 0);
  std::unique_lock lock(mu_);
  auto it = keys_.find(id);
  if (it == keys_.end()) return Status::NotFound("key " + KeyIdHex(id) + " not found");
  KeyRecord& k = it->second;
  if (k.revoked()) return Status::Ok();
  k.revoked_at_ns = at_ns;
  k.revoked_by = std::move(by);
  k.revoke_reason = std::move(reason);
  return Status::Ok();
}

std::vector<KeyRecord> InMemoryKeyRegistry::List() const {
  std::shared_lock lock(mu_);
  std::vector<KeyRecord> out;
  out.reserve(keys_.size());
  for (const auto& [id, k] : keys_) out.push_back(k);
  return out;
}

// ---- Authentication -------------------------------------------------------------------

Result<KeyRecord> Authenticate(const KeyRegistry& registry, std::string_view token,
                               uint64_t now_ns) {
  Result<ParsedToken> parsed = ParseToken(token);
  if (!parsed.ok()) return Unauthenticated(parsed.status().message());
  // "API key <redacted token>: <why>", built only for a refusal.
  const auto refuse = [&parsed](std::string_view why) {
    return Unauthenticated("API key " + parsed->Redacted() + ": " + std::string(why));
  };
  std::optional<KeyRecord> rec = registry.Find(parsed->key_id());
  if (!rec) return refuse("unknown key");
  if (!SecretMatches(*rec, *parsed)) return refuse("wrong secret");
  if (rec->revoked()) return refuse("revoked");
  if (rec->expired(now_ns)) return refuse("expired");
  return std::move(*rec);
}

}  // namespace ayni::auth
