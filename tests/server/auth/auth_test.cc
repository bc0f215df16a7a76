// API keys and the authorization policy (SPEC §6 "Auth", §10): token format and parsing,
// hash-only storage, constant-time verification, the registry, and a walk of every
// ayni.v1 method × every role × {same bank, other bank, deployment scope} against an
// expectation table written here independently of server/auth/policy.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ayni/v1/setup.pb.h"
#include "clearing/hash.h"
#include "server/auth/api_key.h"
#include "server/auth/policy.h"
#include "tests/server/auth/proto_methods.h"

namespace ayni::auth {
namespace {

using testing::AyniMethods;

Result<MintedKey> Mint(Role role, Scope scope, std::string label = "test key") {
  MintKeyArgs a;
  a.role = role;
  a.scope = scope;
  a.label = std::move(label);
  a.created_at_ns = 1000;
  return MintKey(a);
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// ---- Mirror of the proto enums ------------------------------------------------------

TEST(Mirror, RoleAndScopeKindMatchProto) {
  const auto* role = ayni::v1::Role_descriptor();
  ASSERT_EQ(role->value_count(), 7);  // UNSPECIFIED + six roles
  for (Role r : kAllRoles) {
    const auto* v = role->FindValueByNumber(static_cast<int>(r));
    ASSERT_NE(v, nullptr) << RoleName(r);
    EXPECT_EQ(v->name(), std::string("ROLE_") + RoleName(r));
  }
  const auto* kind = ayni::v1::ScopeKind_descriptor();
  ASSERT_EQ(kind->value_count(), 5);
  for (uint32_t n = 1; n <= 4; ++n) {
    auto k = ScopeKindFromNumber(n);
    ASSERT_TRUE(k.has_value());
    EXPECT_EQ(kind->FindValueByNumber(static_cast<int>(n))->name(),
              std::string("SCOPE_KIND_") + ScopeKindName(*k));
  }
  EXPECT_FALSE(RoleFromNumber(0).has_value());
  EXPECT_FALSE(RoleFromNumber(7).has_value());
  EXPECT_FALSE(ScopeKindFromNumber(0).has_value());
  EXPECT_FALSE(ScopeKindFromNumber(5).has_value());
}

// ---- Tokens ---------------------------------------------------------------------------

TEST(Token, RoundTrip) {
  Result<MintedKey> m = Mint(Role::kTeller, Scope::OfBank(BankId(1)));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::string& token = m->token;
  EXPECT_EQ(token.size(), kTokenChars);
  EXPECT_EQ(token.substr(0, 5), "ayni_");
  EXPECT_EQ(token.substr(5, 16), KeyIdHex(m->record.key_id));
  EXPECT_EQ(token[21], '_');
  EXPECT_TRUE(m->record.key_id.valid());
  EXPECT_EQ(m->record.TokenPrefix(), token.substr(0, 22));

  Result<ParsedToken> p = ParseToken(token);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->key_id(), m->record.key_id);
  EXPECT_TRUE(SecretMatches(m->record, *p));
  EXPECT_EQ(p->Hash(), m->record.secret_hash);

  InMemoryKeyRegistry reg;
  ASSERT_TRUE(reg.Add(m->record).ok());
  Result<KeyRecord> who = Authenticate(reg, token, 2000);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->key_id, m->record.key_id);
  EXPECT_EQ(who->role, Role::kTeller);
  EXPECT_EQ(who->scope, Scope::OfBank(BankId(1)));

  const std::string header = "Bearer " + token;  // BearerToken returns a view into it
  Result<std::string_view> bearer = BearerToken(header);
  ASSERT_TRUE(bearer.ok());
  EXPECT_EQ(*bearer, token);
  EXPECT_TRUE(BearerToken("bearer " + token).ok());
}

TEST(Token, ExplicitKeyIdAndFreshSecrets) {
  MintKeyArgs a{.key_id = KeyId(0xabc),
                .role = Role::kAdmin,
                .scope = Scope::Deployment(),
                .label = "bootstrap"};
  Result<MintedKey> m1 = MintKey(a);
  Result<MintedKey> m2 = MintKey(a);
  ASSERT_TRUE(m1.ok() && m2.ok());
  EXPECT_EQ(m1->token.substr(0, 22), "ayni_0000000000000abc_");
  EXPECT_NE(m1->token, m2->token);
  EXPECT_NE(m1->record.secret_hash, m2->record.secret_hash);
}

TEST(Token, MalformedRefused) {
  Result<MintedKey> m = Mint(Role::kAdmin, Scope::Deployment());
  ASSERT_TRUE(m.ok());
  const std::string good = m->token;
  const std::string id = good.substr(5, 16);
  const std::string secret = good.substr(22);
  struct Case {
    std::string token;
    std::string message_part;
  };
  const Case cases[] = {
      {"", "ayni_"},
      {"ayk_" + id + "_" + secret, "does not start with"},
      {"AYNI_" + id + "_" + secret, "does not start with"},
      {"ayni" + id + "_" + secret, "does not start with"},
      {"ayni_" + id + secret, "key id"},                                      // missing separator
      {"ayni_" + id, "no secret"},                                            // missing secret
      {"ayni_" + id + "_", "43 base64url"},                                   // empty secret
      {"ayni_" + id.substr(1) + "_" + secret, "16 lower-case hex"},           // short id
      {"ayni_0" + id + "_" + secret, "16 lower-case hex"},                    // long id
      {"ayni_" + std::string(15, '0') + "g_" + secret, "16 lower-case hex"},  // bad hex
      {"ayni_" + Upper(std::string(16, 'a')) + "_" + secret, "16 lower-case hex"},
      {"ayni_" + std::string(16, '0') + "_" + secret, "key id 0"},
      {"ayni_" + id + "_" + secret.substr(1), "43 base64url"},         // short secret
      {"ayni_" + id + "_" + secret + "A", "43 base64url"},             // long secret
      {"ayni_" + id + "_" + secret + "_extra", "43 base64url"},        // extra part
      {"ayni_" + id + "_" + secret.substr(0, 42) + "=", "base64url"},  // padding char
      {"ayni_" + id + "_" + secret.substr(0, 42) + "+", "base64url"},  // std alphabet
      {"ayni_" + id + "_" + secret.substr(0, 20) + " " + secret.substr(21), "base64url"},
      // 43 chars whose last one carries non-zero unused bits: not canonical.
      {"ayni_" + id + "_" + std::string(42, 'A') + "B", "canonical"},
  };
  for (const Case& c : cases) {
    Result<ParsedToken> p = ParseToken(c.token);
    ASSERT_FALSE(p.ok()) << c.token;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.token;
    EXPECT_NE(p.status().message().find(c.message_part), std::string::npos)
        << c.token << " → " << p.status().message();
    // Messages never echo the secret part.
    EXPECT_EQ(p.status().message().find(secret.substr(0, 20)), std::string::npos);
  }
  EXPECT_FALSE(BearerToken(good).ok());
  EXPECT_FALSE(BearerToken("Basic " + good).ok());
  EXPECT_FALSE(BearerToken("Bearer").ok());
  EXPECT_FALSE(BearerToken("Bearer ").ok());
}

TEST(Auth, WrongUnknownRevokedExpiredRefused) {
  InMemoryKeyRegistry reg;
  Result<MintedKey> m = Mint(Role::kMember, Scope::OfAccount(AccountId(5)));
  ASSERT_TRUE(m.ok());
  MintedKey k = *m;
  k.record.expires_at_ns = 10'000;
  ASSERT_TRUE(reg.Add(k.record).ok());
  ASSERT_TRUE(Authenticate(reg, k.token, 9'999).ok());

  auto expect_unauth = [&](const std::string& token, uint64_t now, const char* part) {
    Result<KeyRecord> r = Authenticate(reg, token, now);
    ASSERT_FALSE(r.ok()) << part;
    EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
    EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
    if (token.size() > 22) {
      EXPECT_EQ(r.status().message().find(token.substr(22)), std::string::npos);
    }
  };
  // Same id, another valid secret.
  std::string wrong = k.token;
  wrong[22] = wrong[22] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(ParseToken(wrong).ok());
  expect_unauth(wrong, 1, "wrong secret");
  // A valid token of a key that was never stored.
  Result<MintedKey> other = Mint(Role::kMember, Scope::OfAccount(AccountId(5)));
  ASSERT_TRUE(other.ok());
  expect_unauth(other->token, 1, "unknown key");
  // Another key's secret under this key's id.
  expect_unauth(k.token.substr(0, 22) + other->token.substr(22), 1, "wrong secret");
  expect_unauth("not-a-token", 1, "does not start");  // malformed: a clear message
  expect_unauth("ayni_zz", 1, "no secret");
  expect_unauth(k.token, 10'000, "expired");
  ASSERT_TRUE(reg.Revoke(k.record.key_id, 5'000, "admin", "lost phone").ok());
  expect_unauth(k.token, 6'000, "revoked");
}

TEST(Auth, HashOnlyStorageAndNoSecretInText) {
  Result<MintedKey> m = Mint(Role::kAuditor, Scope::OfBank(BankId(2)), "auditor maria");
  ASSERT_TRUE(m.ok());
  const std::string secret_text = m->token.substr(22);
  Result<ParsedToken> p = ParseToken(m->token);
  ASSERT_TRUE(p.ok());
  const auto& secret = p->secret();

  InMemoryKeyRegistry reg;
  ASSERT_TRUE(reg.Add(m->record).ok());
  const KeyRecord stored = *reg.Find(m->record.key_id);
  // The record holds BLAKE2b-256(secret), not the secret.
  EXPECT_NE(std::memcmp(stored.secret_hash.data(), secret.data(), secret.size()), 0);
  EXPECT_EQ(stored.secret_hash, p->Hash());
  for (const std::string* text : {&stored.label, &stored.revoked_by, &stored.revoke_reason}) {
    EXPECT_EQ(text->find(secret_text), std::string::npos);
  }
  // No printing helper reveals the secret (text or hash).
  for (const std::string& text : {ToString(stored), stored.TokenPrefix(), p->Redacted(),
                                  RedactToken(m->token), ScopeToString(stored.scope)}) {
    EXPECT_EQ(text.find(secret_text.substr(0, 8)), std::string::npos) << text;
    EXPECT_EQ(text.find(HexOf(stored.secret_hash).substr(0, 16)), std::string::npos) << text;
  }
  EXPECT_EQ(RedactToken(m->token), m->token.substr(0, 22) + "…");
  EXPECT_EQ(RedactToken("garbage"), "<malformed token>");
  EXPECT_EQ(RedactToken("ayni_XXXXXXXXXXXXXXXX_secret"), "<malformed token>");
}

TEST(Mint, RefusesBadRoleScopeAndLabel) {
  EXPECT_FALSE(Mint(Role::kTeller, Scope::Deployment()).ok());
  EXPECT_FALSE(Mint(Role::kMember, Scope::OfBank(BankId(1))).ok());
  EXPECT_FALSE(Mint(Role::kKiosk, Scope::OfBank(BankId(1))).ok());
  EXPECT_FALSE(Mint(Role::kClearing, Scope::OfBank(BankId(1))).ok());
  EXPECT_FALSE(Mint(Role::kAdmin, Scope::OfBank(BankId(0))).ok());  // bank 0
  EXPECT_FALSE(Mint(Role::kAdmin, Scope{ScopeKind::kDeployment, 3}).ok());
  EXPECT_FALSE(Mint(Role::kAdmin, Scope::Deployment(), "").ok());
  EXPECT_FALSE(Mint(Role::kAdmin, Scope::Deployment(), std::string(121, 'x')).ok());
  EXPECT_TRUE(Mint(Role::kAdmin, Scope::Deployment(), std::string(120, 'x')).ok());
  Result<MintedKey> bad = Mint(Role::kTeller, Scope::Deployment());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("TELLER"), std::string::npos);
}

// ---- Registry -------------------------------------------------------------------------

TEST(Registry, AddFindRevokeList) {
  InMemoryKeyRegistry reg;
  Result<MintedKey> a = Mint(Role::kAdmin, Scope::Deployment());
  Result<MintedKey> b = Mint(Role::kTeller, Scope::OfBank(BankId(1)));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(reg.Add(a->record).ok());
  ASSERT_TRUE(reg.Add(b->record).ok());
  EXPECT_EQ(reg.Add(a->record).code(), StatusCode::kAlreadyExists);
  KeyRecord zero = a->record;
  zero.key_id = KeyId();
  EXPECT_EQ(reg.Add(zero).code(), StatusCode::kInvalidArgument);
  KeyRecord bad_pair = a->record;
  bad_pair.key_id = KeyId(77);
  bad_pair.role = Role::kMember;
  EXPECT_EQ(reg.Add(bad_pair).code(), StatusCode::kInvalidArgument);

  EXPECT_FALSE(reg.Find(KeyId(12345)).has_value());
  EXPECT_EQ(reg.Revoke(KeyId(12345), 1, "x", "y").code(), StatusCode::kNotFound);
  ASSERT_TRUE(reg.Revoke(b->record.key_id, 100, "admin ana", "teller left").ok());
  ASSERT_TRUE(reg.Revoke(b->record.key_id, 200, "admin bia", "again").ok());
  const KeyRecord r = *reg.Find(b->record.key_id);
  EXPECT_TRUE(r.revoked());
  EXPECT_EQ(r.revoked_at_ns, 100u);  // the first revocation stands
  EXPECT_EQ(r.revoked_by, "admin ana");
  EXPECT_EQ(r.revoke_reason, "teller left");

  std::vector<KeyRecord> all = reg.List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_LT(all[0].key_id, all[1].key_id);
}

TEST(Registry, ConcurrentReadersAndWriter) {
  InMemoryKeyRegistry reg;
  Result<MintedKey> k = Mint(Role::kMember, Scope::OfAccount(AccountId(9)));
  ASSERT_TRUE(k.ok());
  ASSERT_TRUE(reg.Add(k->record).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        if (!Authenticate(reg, k->token, 1).ok()) failures.fetch_add(1);
      }
    });
  }
  for (uint64_t i = 1; i <= 200; ++i) {
    KeyRecord r = k->record;
    r.key_id = KeyId(k->record.key_id.value() ^ (i << 1));
    if (r.key_id != k->record.key_id) (void)reg.Add(r);
  }
  stop.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(reg.List().size(), 201u);
}

// ---- Policy: the walk ------------------------------------------------------------------

constexpr BankId kBankA{1}, kBankB{2};
constexpr AccountId kA1{11}, kA2{12}, kB1{21};
constexpr uint64_t kTerminalA = 31, kTerminalB = 41;

KeyRecord Key(Role role, Scope scope) {
  KeyRecord k;
  k.key_id = KeyId(0x1234);
  k.role = role;
  k.scope = scope;
  k.label = "probe";
  return k;
}

// The key of `role` bound to bank A in the role's own way (bank A; account a1 of bank A;
// terminal 31 of bank A). CLEARING has no such scope: its bank-A key is an invalid pair.
KeyRecord SameBankKey(Role role) {
  switch (role) {
    case Role::kMember:
      return Key(role, Scope::OfAccount(kA1));
    case Role::kKiosk:
      return Key(role, Scope::OfTerminal(kTerminalA));
    default:
      return Key(role, Scope::OfBank(kBankA));
  }
}

const Target kSameTarget{.bank = kBankA, .account = kA1, .terminal_id = kTerminalA};
const Target kOtherTarget{.bank = kBankB, .account = kB1, .terminal_id = kTerminalB};

// Per method, per role in the order ADMIN TELLER KIOSK MEMBER AUDITOR CLEARING, three
// results: [key of bank A on a bank-A object, key of bank A on a bank-B object,
// deployment-scoped key]. 'Y' allowed, '.' denied. Written from SPEC §6, not derived
// from policy.cc.
// clang-format off
const std::map<std::string, std::string> kExpected = {
    // method                                           ADM TEL KIO MEM AUD CLR
    {"/ayni.v1.SetupService/InitDeployment",           "..Y ... ... ... ... ..."},
    {"/ayni.v1.SetupService/GetDeployment",            "YYY YY. ... YY. YYY ..Y"},
    {"/ayni.v1.SetupService/CreateBank",               "..Y ... ... ... ... ..."},
    {"/ayni.v1.SetupService/ListBanks",                "YYY YY. ... YY. YYY ..Y"},
    {"/ayni.v1.SetupService/CreateCurrency",           "Y.Y ... ... ... ... ..."},
    {"/ayni.v1.SetupService/ListCurrencies",           "YYY YY. ... YY. YYY ..Y"},
    {"/ayni.v1.SetupService/CreateCircle",             "Y.Y ... ... ... ... ..."},
    {"/ayni.v1.SetupService/ListCircles",              "Y.Y Y.. ... ... Y.Y ..."},
    {"/ayni.v1.SetupService/CreateMember",             "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.SetupService/AddCircleMember",          "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.SetupService/OpenAccount",              "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.SetupService/SetAccountStatus",         "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.SetupService/SetAccountLimits",         "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.SetupService/CreateApiKey",             "Y.Y ... ... ... ... ..."},
    {"/ayni.v1.SetupService/RevokeApiKey",             "Y.Y ... ... ... ... ..."},
    {"/ayni.v1.SetupService/ListApiKeys",              "Y.Y ... ... ... Y.Y ..."},
    {"/ayni.v1.LedgerService/Pay",                     "Y.Y Y.. ... Y.. ... ..."},
    {"/ayni.v1.LedgerService/BatchPay",                "Y.Y Y.. ... Y.. ... ..."},
    {"/ayni.v1.LedgerService/GetAccount",              "Y.Y Y.. ... Y.. Y.Y ..."},
    {"/ayni.v1.LedgerService/ListAccounts",            "Y.Y Y.. ... ... Y.Y ..."},
    {"/ayni.v1.LedgerService/Statement",               "Y.Y Y.. ... Y.. Y.Y ..."},
    {"/ayni.v1.ReservesService/Issue",                 "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.ReservesService/Redeem",                "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.ReservesService/FundReserve",           "Y.Y ... ... ... ... ..."},
    {"/ayni.v1.ReservesService/Distribute",            "Y.Y ... ... ... ... ..."},
    {"/ayni.v1.ReservesService/GetCoverage",           "Y.Y Y.. ... ... Y.Y ..Y"},
    {"/ayni.v1.ClearingService/RunInterbankCycle",     "..Y ... ... ... ... ..Y"},
    {"/ayni.v1.ClearingService/GetCycle",              "YYY ... ... ... YYY ..Y"},
    {"/ayni.v1.ClearingService/ListCycles",            "YYY ... ... ... YYY ..Y"},
    {"/ayni.v1.AuditService/ReserveAudit",             "Y.Y ... ... ... Y.Y ..Y"},
    {"/ayni.v1.AuditService/VerifyJournal",            "..Y ... ... ... ..Y ..."},
    {"/ayni.v1.SetoffService/RegisterInvoice",         "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.SetoffService/ConfirmInvoice",          "Y.Y Y.. ... Y.. ... ..."},
    {"/ayni.v1.SetoffService/DisputeInvoice",          "Y.Y Y.. ... Y.. ... ..."},
    {"/ayni.v1.SetoffService/ListInvoices",            "Y.Y Y.. ... Y.. Y.Y ..."},
    {"/ayni.v1.SetoffService/RunSetoff",               "..Y ... ... ... ... ..Y"},
    {"/ayni.v1.SetoffService/GetSetoffRun",            "..Y ... ... ... ..Y ..Y"},
    {"/ayni.v1.LoanService/CreateLoanProduct",         "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.LoanService/ListLoanProducts",          "Y.Y Y.. ... ... Y.Y ..."},
    {"/ayni.v1.LoanService/CreateSolidarityGroup",     "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.LoanService/DisburseLoan",              "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.LoanService/RepayLoan",                 "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.LoanService/WriteOffLoan",              "Y.Y ... ... ... ... ..."},
    {"/ayni.v1.LoanService/GetLoan",                   "Y.Y Y.. ... ... Y.Y ..."},
    {"/ayni.v1.LoanService/ListLoans",                 "Y.Y Y.. ... ... Y.Y ..."},
    {"/ayni.v1.LoanService/GetPortfolio",              "Y.Y Y.. ... ... Y.Y ..."},
    // Cards (SPEC §5): a kiosk submits only its own batches and forwards card-signed loads
    // for its own terminal (any card of the deployment); a teller loads its bank's cards.
    {"/ayni.v1.CardService/RegisterKiosk",             "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.CardService/RegisterCard",              "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.CardService/AuthorizeLoad",             "Y.Y Y.. Y.. ... ... ..."},
    {"/ayni.v1.CardService/BlockCard",                 "Y.Y Y.. ... ... ... ..."},
    {"/ayni.v1.CardService/SubmitOfflineBatch",        "... ... Y.. ... ... ..."},
    {"/ayni.v1.CardService/GetDenyList",               "YYY YY. YY. ... YYY ..."},
    {"/ayni.v1.CardService/GetCard",                   "Y.Y Y.. ... ... Y.Y ..."},
    {"/ayni.v1.CardService/CardAudit",                 "Y.Y ... ... ... Y.Y ..."},
};
// clang-format on

TEST(Policy, EveryMethodHasOneRowAndOneExpectation) {
  std::set<std::string> proto;
  for (const auto& m : AyniMethods()) {
    EXPECT_TRUE(proto.insert(m.full_name).second) << m.full_name;
    EXPECT_NE(FindPolicy(m.full_name), nullptr) << "no policy row: " << m.full_name;
    EXPECT_EQ(kExpected.count(m.full_name), 1u) << "no expectation: " << m.full_name;
  }
  EXPECT_GE(proto.size(), 54u);
  std::set<std::string> rows;
  for (const PolicyRow& row : PolicyTable()) {
    EXPECT_TRUE(rows.insert(std::string(row.method)).second) << "duplicate " << row.method;
    EXPECT_EQ(proto.count(std::string(row.method)), 1u) << "row for no method " << row.method;
  }
  for (const auto& [method, _] : kExpected) EXPECT_EQ(proto.count(method), 1u) << method;
}

TEST(Policy, WalkEveryMethodEveryRoleEveryScope) {
  int checked = 0;
  for (const auto& m : AyniMethods()) {
    auto it = kExpected.find(m.full_name);
    ASSERT_NE(it, kExpected.end()) << m.full_name;
    const std::string& want = it->second;
    ASSERT_EQ(want.size(), 6u * 4u - 1u) << m.full_name;
    for (size_t ri = 0; ri < 6; ++ri) {
      const Role role = kAllRoles[ri];
      const KeyRecord bank_key = SameBankKey(role);
      const KeyRecord dep_key = Key(role, Scope::Deployment());
      const Decision got[3] = {Authorize(bank_key, m.full_name, kSameTarget),
                               Authorize(bank_key, m.full_name, kOtherTarget),
                               Authorize(dep_key, m.full_name, kSameTarget)};
      for (size_t v = 0; v < 3; ++v) {
        const bool allow = want[ri * 4 + v] == 'Y';
        EXPECT_EQ(got[v].allowed(), allow) << m.full_name << " " << RoleName(role) << " "
                                           << (v == 0   ? "same bank"
                                               : v == 1 ? "other bank"
                                                        : "deployment scope")
                                           << ": " << got[v].status().message();
        if (!got[v].allowed()) {
          EXPECT_EQ(got[v].status().code(), StatusCode::kPermissionDenied);
          EXPECT_NE(got[v].status().message().find(m.full_name), std::string::npos);
        }
        ++checked;
      }
      // A deployment-scoped key's answer does not depend on which bank is targeted.
      EXPECT_EQ(Authorize(dep_key, m.full_name, kOtherTarget).allowed(), got[2].allowed());
    }
  }
  EXPECT_EQ(checked, static_cast<int>(kExpected.size()) * 6 * 3);  // every expectation walked
}

Decision Pay(const KeyRecord& k, BankId payer_bank, AccountId payer) {
  return Authorize(k, "/ayni.v1.LedgerService/Pay", Target{.bank = payer_bank, .account = payer});
}

TEST(Policy, TellerPaysFromOwnBankToAnyBank) {
  const KeyRecord teller = Key(Role::kTeller, Scope::OfBank(kBankA));
  // From an A account (to a B member: the payee is not part of the target).
  EXPECT_TRUE(Pay(teller, kBankA, kA1).allowed());
  EXPECT_TRUE(Pay(teller, kBankA, kA2).allowed());
  // Never from a B account.
  Decision d = Pay(teller, kBankB, kB1);
  ASSERT_FALSE(d.allowed());
  EXPECT_EQ(d.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(d.status().message().find("kDebitAccount"), std::string::npos);
  EXPECT_NE(d.status().message().find("account 21 of bank 2"), std::string::npos)
      << d.status().message();
  // Nor reads or administers B.
  EXPECT_FALSE(
      Authorize(teller, "/ayni.v1.LedgerService/GetAccount", Target{.bank = kBankB, .account = kB1})
          .allowed());
  EXPECT_FALSE(Authorize(teller, "/ayni.v1.SetupService/SetAccountStatus",
                         Target{.bank = kBankB, .account = kB1})
                   .allowed());
  EXPECT_FALSE(
      Authorize(teller, "/ayni.v1.ReservesService/Issue", Target{.bank = kBankB, .account = kB1})
          .allowed());
}

TEST(Policy, MemberPaysOnlyFromItsOwnAccount) {
  const KeyRecord member = Key(Role::kMember, Scope::OfAccount(kA1));
  EXPECT_TRUE(Pay(member, kBankA, kA1).allowed());
  EXPECT_FALSE(Pay(member, kBankA, kA2).allowed());  // same bank, another account
  EXPECT_FALSE(Pay(member, kBankB, kB1).allowed());
  Decision d = Pay(member, kBankA, kA2);
  EXPECT_NE(d.status().message().find("its own account"), std::string::npos);
  EXPECT_TRUE(
      Authorize(member, "/ayni.v1.LedgerService/Statement", Target{.bank = kBankA, .account = kA1})
          .allowed());
  EXPECT_FALSE(
      Authorize(member, "/ayni.v1.LedgerService/Statement", Target{.bank = kBankA, .account = kA2})
          .allowed());
  EXPECT_FALSE(
      Authorize(member, "/ayni.v1.ReservesService/Redeem", Target{.bank = kBankA, .account = kA1})
          .allowed());
}

// Every key variant the walk uses, plus a few more.
std::vector<KeyRecord> AllProbeKeys(Role role) {
  return {SameBankKey(role), Key(role, Scope::Deployment()), Key(role, Scope::OfBank(kBankB)),
          Key(role, Scope::OfAccount(kA1)), Key(role, Scope::OfTerminal(kTerminalA))};
}
const Target kTargets[] = {kSameTarget, kOtherTarget, Target{}};

TEST(Policy, AuditorIsDeniedEveryStateChangingMethod) {
  int writes = 0;
  for (const auto& m : AyniMethods()) {
    const PolicyRow* row = FindPolicy(m.full_name);
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(row->changes_state, m.changes_state) << m.full_name;
    if (!m.changes_state) continue;
    ++writes;
    for (const KeyRecord& k : AllProbeKeys(Role::kAuditor)) {
      for (const Target& t : kTargets) {
        EXPECT_FALSE(Authorize(k, m.full_name, t).allowed()) << m.full_name;
      }
    }
  }
  EXPECT_GE(writes, 18);
}

// A kiosk key reaches CardService only, and there only its own terminal's calls and the
// deny-list: nothing of the other services.
TEST(Policy, KioskReachesOnlyItsCardCalls) {
  const std::set<std::string> kiosk_methods = {"/ayni.v1.CardService/SubmitOfflineBatch",
                                               "/ayni.v1.CardService/AuthorizeLoad",
                                               "/ayni.v1.CardService/GetDenyList"};
  int allowed = 0;
  for (const auto& m : AyniMethods()) {
    for (const KeyRecord& k : AllProbeKeys(Role::kKiosk)) {
      for (const Target& t : kTargets) {
        const bool ok = Authorize(k, m.full_name, t).allowed();
        if (!kiosk_methods.count(m.full_name)) {
          EXPECT_FALSE(ok) << m.full_name;
        }
        allowed += ok ? 1 : 0;
      }
    }
  }
  EXPECT_GT(allowed, 0);
  const KeyRecord kiosk = Key(Role::kKiosk, Scope::OfTerminal(kTerminalA));
  // Its own batches only: another kiosk's terminal, or an unknown one (0), is denied.
  const char* submit = "/ayni.v1.CardService/SubmitOfflineBatch";
  EXPECT_TRUE(Authorize(kiosk, submit, {.terminal_id = kTerminalA}).allowed());
  Decision d = Authorize(kiosk, submit, {.bank = kBankA, .terminal_id = kTerminalB});
  ASSERT_FALSE(d.allowed());
  EXPECT_NE(d.status().message().find("its own terminal"), std::string::npos);
  EXPECT_FALSE(Authorize(kiosk, submit, {}).allowed());
  // A card-signed load at its own kiosk, for a card of any bank.
  const char* load = "/ayni.v1.CardService/AuthorizeLoad";
  EXPECT_TRUE(Authorize(kiosk, load, {.bank = kBankB, .terminal_id = kTerminalA}).allowed());
  EXPECT_FALSE(Authorize(kiosk, load, {.bank = kBankA}).allowed());
  // A teller loads only its own bank's cards, whatever kiosk is named.
  const KeyRecord teller = Key(Role::kTeller, Scope::OfBank(kBankA));
  EXPECT_TRUE(Authorize(teller, load, {.bank = kBankA}).allowed());
  EXPECT_FALSE(Authorize(teller, load, {.bank = kBankB, .terminal_id = kTerminalA}).allowed());
  EXPECT_TRUE(IsUnauthenticatedMethod("/grpc.health.v1.Health/Check"));
  EXPECT_TRUE(IsUnauthenticatedMethod("/grpc.health.v1.Health/Watch"));
  EXPECT_FALSE(IsUnauthenticatedMethod("/ayni.v1.LedgerService/Pay"));
  EXPECT_FALSE(IsUnauthenticatedMethod("/grpc.health.v1.Health/"));
}

TEST(Policy, ClearingRunsCyclesButNeverPays) {
  const KeyRecord clearing = Key(Role::kClearing, Scope::Deployment());
  EXPECT_TRUE(Authorize(clearing, "/ayni.v1.ClearingService/RunInterbankCycle", {}).allowed());
  Decision d = Pay(clearing, kBankA, kA1);
  ASSERT_FALSE(d.allowed());
  EXPECT_NE(d.status().message().find("role CLEARING may not call"), std::string::npos);
}

TEST(Policy, BankAdminCannotCreateBanksOrDeploymentKeys) {
  const KeyRecord admin = Key(Role::kAdmin, Scope::OfBank(kBankA));
  Decision d = Authorize(admin, "/ayni.v1.SetupService/CreateBank", {});
  ASSERT_FALSE(d.allowed());
  EXPECT_NE(d.status().message().find("kDeploymentOnly"), std::string::npos);
  EXPECT_TRUE(
      Authorize(Key(Role::kAdmin, Scope::Deployment()), "/ayni.v1.SetupService/CreateBank", {})
          .allowed());
  // CreateApiKey: Target.bank is the bank the new key's scope lies in; 0 = deployment.
  EXPECT_TRUE(Authorize(admin, "/ayni.v1.SetupService/CreateApiKey", {.bank = kBankA}).allowed());
  EXPECT_FALSE(Authorize(admin, "/ayni.v1.SetupService/CreateApiKey", {.bank = kBankB}).allowed());
  EXPECT_FALSE(Authorize(admin, "/ayni.v1.SetupService/CreateApiKey", {}).allowed());
  // A listing of every bank (filter 0) needs deployment scope.
  EXPECT_FALSE(Authorize(admin, "/ayni.v1.LedgerService/ListAccounts", {}).allowed());
  EXPECT_TRUE(
      Authorize(Key(Role::kAuditor, Scope::Deployment()), "/ayni.v1.AuditService/ReserveAudit", {})
          .allowed());
}

TEST(Policy, FailsClosed) {
  const KeyRecord admin = Key(Role::kAdmin, Scope::Deployment());
  for (const char* m : {"/ayni.v1.LedgerService/Refund", "/ayni.v1.LedgerService/pay",
                        "/ayni.v1.LedgerService/Pay/", "", "Pay", "/grpc.health.v1.Health/Check"}) {
    Decision d = Authorize(admin, m, kSameTarget);
    EXPECT_FALSE(d.allowed()) << m;
    EXPECT_EQ(d.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(d.status().message().find("no policy row"), std::string::npos);
  }
  KeyRecord revoked = admin;
  revoked.revoked_at_ns = 5;
  EXPECT_FALSE(Authorize(revoked, "/ayni.v1.SetupService/ListBanks", {}).allowed());
  // A record with an impossible role/scope pair gets nothing, even where kAnyScope applies.
  EXPECT_FALSE(
      Authorize(Key(Role::kTeller, Scope::Deployment()), "/ayni.v1.SetupService/ListBanks", {})
          .allowed());
  EXPECT_FALSE(Authorize(Key(Role::kMember, Scope::OfBank(kBankA)), "/ayni.v1.LedgerService/Pay",
                         kSameTarget)
                   .allowed());
  // Account/bank rules never pass on a zero target.
  EXPECT_FALSE(Pay(Key(Role::kMember, Scope::OfAccount(kA1)), BankId(), AccountId()).allowed());
  EXPECT_FALSE(Pay(Key(Role::kTeller, Scope::OfBank(kBankA)), BankId(), kA1).allowed());
}

TEST(Policy, TerminalRule) {
  const KeyRecord kiosk = Key(Role::kKiosk, Scope::OfTerminal(kTerminalA));
  EXPECT_TRUE(CheckScope(ScopeRule::kTerminal, kiosk, {.terminal_id = kTerminalA}).allowed());
  EXPECT_FALSE(CheckScope(ScopeRule::kTerminal, kiosk, {.terminal_id = kTerminalB}).allowed());
  EXPECT_FALSE(CheckScope(ScopeRule::kTerminal, kiosk, {}).allowed());
  EXPECT_FALSE(CheckScope(ScopeRule::kTerminal, Key(Role::kAdmin, Scope::Deployment()),
                          {.terminal_id = kTerminalA})
                   .allowed());
}

}  // namespace
}  // namespace ayni::auth
