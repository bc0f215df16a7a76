// docs/roles.md is the contract, server/auth/policy.cc its implementation (SPEC §6):
//
// * every method of every ayni.v1 service (walked in the generated descriptor pool) has
//   exactly one row in the matrix, and every row names a real method;
// * each row's rule is the policy table's rule;
// * each cell means what it says, checked by calling Authorize() with probe keys of the
//   role on objects of the key's own bank, of another bank and of a sibling account;
// * the unauthenticated methods the page lists are the ones the policy exempts.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "server/auth/api_key.h"
#include "server/auth/policy.h"
#include "tests/server/auth/proto_methods.h"

#ifndef AYNI_SOURCE_DIR
#error "AYNI_SOURCE_DIR must be defined by the build"
#endif

namespace ayni::auth {
namespace {

constexpr const char* kRoleColumns[] = {"ADMIN",  "TELLER",  "KIOSK",
                                        "MEMBER", "AUDITOR", "CLEARING"};

std::string Trim(std::string s) {
  const char* ws = " \t\r";
  s.erase(0, s.find_first_not_of(ws));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

std::string StripTicks(std::string s) {
  if (s.size() >= 2 && s.front() == '`' && s.back() == '`') return s.substr(1, s.size() - 2);
  return s;
}

// "| a | b |" → {"a", "b"}.
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> out;
  std::string body = Trim(line);
  if (body.size() < 2 || body.front() != '|' || body.back() != '|') return out;
  body = body.substr(1, body.size() - 2);
  std::stringstream ss(body);
  std::string cell;
  while (std::getline(ss, cell, '|')) out.push_back(Trim(cell));
  return out;
}

struct Doc {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // matrix rows, cells as written
  std::vector<std::string> unauthenticated;    // "- `/grpc...`" list items
};

Doc ReadDoc() {
  const std::string path = std::string(AYNI_SOURCE_DIR) + "/docs/roles.md";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  Doc doc;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> c = Cells(line);
    if (!c.empty() && c[0] == "method") doc.header = c;
    if (!c.empty() && c[0].rfind("`/", 0) == 0) doc.rows.push_back(c);
    if (line.rfind("- `/", 0) == 0) doc.unauthenticated.push_back(StripTicks(Trim(line.substr(2))));
  }
  return doc;
}

KeyRecord Probe(Role role, Scope scope) {
  KeyRecord k;
  k.key_id = KeyId(0x77);
  k.role = role;
  k.scope = scope;
  k.label = "probe";
  return k;
}

constexpr BankId kBankA{1}, kBankB{2};
constexpr AccountId kA1{11}, kA2{12}, kB1{21};
constexpr uint64_t kT1 = 31, kT2 = 41;
const Target kSame{.bank = kBankA, .account = kA1, .terminal_id = kT1};
const Target kSibling{.bank = kBankA, .account = kA2, .terminal_id = kT1};  // same bank
const Target kOther{.bank = kBankB, .account = kB1, .terminal_id = kT2};
const Target kEveryBank{};

// Scopes a key of `role` may have, bound to bank A / account a1 / terminal 31.
std::map<ScopeKind, KeyRecord> ProbeKeys(Role role) {
  std::map<ScopeKind, KeyRecord> out;
  for (Scope s : {Scope::Deployment(), Scope::OfBank(kBankA), Scope::OfAccount(kA1),
                  Scope::OfTerminal(kT1)}) {
    if (IsValidRoleScope(role, s)) out.emplace(s.kind, Probe(role, s));
  }
  return out;
}

// Empty when `cell` describes what Authorize() does for `role` on `method`; otherwise why not.
std::string CheckCell(const std::string& cell, Role role, const std::string& method) {
  const auto keys = ProbeKeys(role);
  auto allowed = [&](const KeyRecord& k, const Target& t) {
    return Authorize(k, method, t).allowed();
  };
  const Target all_targets[] = {kSame, kSibling, kOther, kEveryBank};
  auto all = [&](const KeyRecord& k, bool want) {
    for (const Target& t : all_targets) {
      if (allowed(k, t) != want) return false;
    }
    return true;
  };
  if (cell == "—" || cell == "yes") {
    const bool want = cell == "yes";
    for (const auto& [kind, k] : keys) {
      if (!all(k, want)) return "a " + ScopeToString(k.scope) + " key disagrees";
    }
    return "";
  }
  if (cell == "deployment") {
    if (!keys.count(ScopeKind::kDeployment)) return "the role has no deployment scope";
    for (const auto& [kind, k] : keys) {
      if (!all(k, kind == ScopeKind::kDeployment)) {
        return "a " + ScopeToString(k.scope) + " key disagrees";
      }
    }
    return "";
  }
  if (cell == "bank") {
    if (!keys.count(ScopeKind::kBank)) return "the role has no bank scope";
    const KeyRecord& b = keys.at(ScopeKind::kBank);
    if (!allowed(b, kSame) || !allowed(b, kSibling)) return "denied on its own bank";
    if (allowed(b, kOther)) return "allowed on another bank";
    if (allowed(b, kEveryBank)) return "allowed on every bank";
    if (keys.count(ScopeKind::kDeployment) && !all(keys.at(ScopeKind::kDeployment), true)) {
      return "a deployment key is denied";
    }
    return "";
  }
  if (cell == "own account") {
    if (!keys.count(ScopeKind::kAccount)) return "the role has no account scope";
    const KeyRecord& a = keys.at(ScopeKind::kAccount);
    if (!allowed(a, kSame)) return "denied on its own account";
    if (allowed(a, kSibling) || allowed(a, kOther)) return "allowed on another account";
    return "";
  }
  if (cell == "terminal") {
    if (!keys.count(ScopeKind::kTerminal)) return "the role has no terminal scope";
    const KeyRecord& t = keys.at(ScopeKind::kTerminal);
    if (!allowed(t, kSame)) return "denied on its own terminal";
    if (allowed(t, kOther)) return "allowed on another terminal";
    return "";
  }
  return "unknown cell text \"" + cell + "\"";
}

TEST(RolesDoc, HeaderNamesEveryRole) {
  const Doc doc = ReadDoc();
  ASSERT_EQ(doc.header.size(), 8u);
  EXPECT_EQ(doc.header[0], "method");
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(doc.header[i + 1], kRoleColumns[i]);
    EXPECT_EQ(doc.header[i + 1], RoleName(kAllRoles[i]));
  }
  EXPECT_EQ(doc.header[7], "rule");
}

TEST(RolesDoc, ExactlyOneRowPerProtoMethodAndNoOther) {
  const Doc doc = ReadDoc();
  std::map<std::string, int> rows;
  for (const auto& r : doc.rows) ++rows[StripTicks(r[0])];
  std::set<std::string> proto;
  for (const auto& m : testing::AyniMethods()) {
    proto.insert(m.full_name);
    EXPECT_EQ(rows[m.full_name], 1) << "docs/roles.md rows for " << m.full_name;
  }
  EXPECT_GE(proto.size(), 31u);
  for (const auto& r : doc.rows) {
    EXPECT_EQ(proto.count(StripTicks(r[0])), 1u) << "row names no RPC: " << r[0];
  }
  // The policy table has the same methods as the page.
  for (const PolicyRow& row : PolicyTable()) {
    EXPECT_EQ(rows.count(std::string(row.method)), 1u) << "no doc row for " << row.method;
  }
}

TEST(RolesDoc, EveryRowAgreesWithThePolicy) {
  const Doc doc = ReadDoc();
  ASSERT_FALSE(doc.rows.empty());
  for (const auto& r : doc.rows) {
    const std::string method = StripTicks(r[0]);
    ASSERT_EQ(r.size(), 8u) << method;
    const PolicyRow* row = FindPolicy(method);
    ASSERT_NE(row, nullptr) << "no policy row for " << method;
    EXPECT_EQ(StripTicks(r[7]), ScopeRuleName(row->rule)) << method;
    for (size_t i = 0; i < 6; ++i) {
      const Role role = kAllRoles[i];
      const std::string& cell = r[i + 1];
      EXPECT_EQ(cell != "—", row->Allows(role)) << method << " " << RoleName(role);
      const std::string why = CheckCell(cell, role, method);
      EXPECT_TRUE(why.empty()) << method << " " << RoleName(role) << " \"" << cell << "\": " << why;
    }
  }
}

TEST(RolesDoc, UnauthenticatedMethodsAreExempt) {
  const Doc doc = ReadDoc();
  ASSERT_FALSE(doc.unauthenticated.empty());
  for (const std::string& m : doc.unauthenticated) {
    EXPECT_TRUE(IsUnauthenticatedMethod(m)) << m;
    EXPECT_EQ(FindPolicy(m), nullptr) << m;
  }
  EXPECT_TRUE(IsUnauthenticatedMethod("/grpc.health.v1.Health/Check"));
}

}  // namespace
}  // namespace ayni::auth
