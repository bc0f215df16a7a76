// ayni's command line: every command parses into the right Command, and every usage error
// is refused with a message and the command's usage line.
#include "server/cli/args.h"

#include <gtest/gtest.h>

#include <sstream>

#include "proto/client/channel.h"  // CheckServerAddress

namespace ayni::cli {
namespace {

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream is(line);
  std::string w;
  while (is >> w) out.push_back(w);
  return out;
}

Invocation Parse(const std::vector<std::string>& args, std::string_view env = "") {
  auto r = ParseArgs(args, env);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : Invocation{};
}
Invocation Parse(const std::string& line) { return Parse(Split(line)); }

TEST(ArgsTest, InitWithScale) {
  Invocation i = Parse("init BRL --scale 100");
  EXPECT_EQ(i.command.verb, Verb::kInit);
  EXPECT_EQ(i.command.name, "init");
  EXPECT_EQ(i.command.code, "BRL");
  EXPECT_EQ(i.command.scale, 100);
  EXPECT_EQ(i.global.server, kDefaultServer);
  EXPECT_EQ(i.global.format, OutputFormat::kTable);
  EXPECT_FALSE(i.command.request_id.has_value());
}

TEST(ArgsTest, GlobalOptionsAnywhereAndEnvironment) {
  Invocation i = Parse("--server 127.0.0.1:9000 --json bank list --key-file /tmp/k");
  EXPECT_EQ(i.command.verb, Verb::kBankList);
  EXPECT_EQ(i.global.server, "127.0.0.1:9000");
  EXPECT_EQ(i.global.key_file, "/tmp/k");
  EXPECT_EQ(i.global.format, OutputFormat::kJson);
  Invocation e = Parse({"bank", "list"}, "localhost:7000");
  EXPECT_EQ(e.global.server, "localhost:7000");
  Invocation o =
      Parse(std::vector<std::string>{"--server=127.0.0.2:1", "bank", "list"}, "localhost:7000");
  EXPECT_EQ(o.global.server, "127.0.0.2:1");
  Invocation c = Parse("--csv --timeout 5 currency list --bank PALMAS");
  EXPECT_EQ(c.global.format, OutputFormat::kCsv);
  EXPECT_EQ(c.global.timeout_s, 5);
  EXPECT_EQ(c.command.bank_code, "PALMAS");
}

TEST(ArgsTest, SetupCommands) {
  Invocation b = Parse({"bank", "create", "PALMAS", "Banco Palmas"});
  EXPECT_EQ(b.command.verb, Verb::kBankCreate);
  EXPECT_EQ(b.command.code, "PALMAS");
  EXPECT_EQ(b.command.text, "Banco Palmas");

  Invocation cur = Parse("currency create PALMAS PALMA --coverage-bp 12000 --fee-bp 150");
  EXPECT_EQ(cur.command.verb, Verb::kCurrencyCreate);
  EXPECT_EQ(cur.command.bank_code, "PALMAS");
  EXPECT_EQ(cur.command.code, "PALMA");
  EXPECT_EQ(cur.command.coverage_bp, 12000);
  EXPECT_EQ(cur.command.fee_bp, 150);
  Invocation cur2 = Parse("currency create PALMAS PALMA");
  EXPECT_FALSE(cur2.command.coverage_bp.has_value());
  EXPECT_FALSE(cur2.command.fee_bp.has_value());

  EXPECT_EQ(Parse("currency list").command.verb, Verb::kCurrencyList);

  Invocation ci = Parse({"circle", "create", "PALMAS", "FEIRA", "Feira livre", "--credit-limit",
                         "500.00", "--scale", "1000"});
  EXPECT_EQ(ci.command.verb, Verb::kCircleCreate);
  EXPECT_EQ(ci.command.bank_code, "PALMAS");
  EXPECT_EQ(ci.command.code, "FEIRA");
  EXPECT_EQ(ci.command.text, "Feira livre");
  EXPECT_EQ(ci.command.amount, "500.00");
  EXPECT_EQ(ci.command.scale, 1000);

  Invocation am = Parse("circle add-member 3 7 --admin");
  EXPECT_EQ(am.command.verb, Verb::kCircleAddMember);
  EXPECT_EQ(am.command.id, 3u);
  EXPECT_EQ(am.command.other_id, 7u);
  EXPECT_TRUE(am.command.flag);
  EXPECT_FALSE(Parse("circle add-member 3 7").command.flag);

  Invocation m = Parse({"member", "create", "PALMAS", "Ana Souza"});
  EXPECT_EQ(m.command.verb, Verb::kMemberCreate);
  EXPECT_EQ(m.command.bank_code, "PALMAS");
  EXPECT_EQ(m.command.text, "Ana Souza");
}

TEST(ArgsTest, AccountCommands) {
  Invocation o = Parse("account open 4 PALMA --merchant");
  EXPECT_EQ(o.command.verb, Verb::kAccountOpen);
  EXPECT_EQ(o.command.id, 4u);
  EXPECT_EQ(o.command.currency_code, "PALMA");
  EXPECT_TRUE(o.command.flag);
  EXPECT_EQ(Parse("account show 9").command.id, 9u);
  Invocation l = Parse("account list --bank PALMAS --member 3");
  EXPECT_EQ(l.command.verb, Verb::kAccountList);
  EXPECT_EQ(l.command.bank_code, "PALMAS");
  EXPECT_EQ(l.command.member_filter, 3u);

  const std::pair<const char*, Verb> status[] = {{"freeze", Verb::kAccountFreeze},
                                                 {"unfreeze", Verb::kAccountUnfreeze},
                                                 {"close", Verb::kAccountClose}};
  for (auto [word, verb] : status) {
    Invocation s =
        Parse({"account", word, "12", "--actor", "teller Maria", "--reason", "lost card"});
    EXPECT_EQ(s.command.verb, verb) << word;
    EXPECT_EQ(s.command.id, 12u);
    EXPECT_EQ(s.command.actor, "teller Maria");
    EXPECT_EQ(s.command.reason, "lost card");
  }

  Invocation lim = Parse(
      "account limits 12 --credit-limit 50 --ceiling 1000.5 --actor a "
      "--reason r");
  EXPECT_EQ(lim.command.verb, Verb::kAccountLimits);
  EXPECT_EQ(lim.command.amount, "50");
  EXPECT_EQ(lim.command.ceiling, "1000.5");
  EXPECT_FALSE(
      Parse("account limits 12 --credit-limit 0 --actor a --reason r").command.ceiling.has_value());
}

TEST(ArgsTest, MoneyCommands) {
  const std::pair<const char*, Verb> single[] = {
      {"issue", Verb::kIssue}, {"redeem", Verb::kRedeem}, {"distribute", Verb::kDistribute}};
  for (auto [word, verb] : single) {
    Invocation i = Parse({word, "5", "100.00", "--memo", "feira de sábado"});
    EXPECT_EQ(i.command.verb, verb) << word;
    EXPECT_EQ(i.command.id, 5u);
    EXPECT_EQ(i.command.amount, "100.00");
    EXPECT_EQ(i.command.memo, "feira de sábado");
  }
  Invocation p = Parse("pay 5 6 30 --memo=pão");
  EXPECT_EQ(p.command.verb, Verb::kPay);
  EXPECT_EQ(p.command.id, 5u);
  EXPECT_EQ(p.command.other_id, 6u);
  EXPECT_EQ(p.command.amount, "30");
  EXPECT_EQ(p.command.memo, "pão");
  Invocation f = Parse("fund-reserve PALMAS 2000.00 --from-fees --memo grant");
  EXPECT_EQ(f.command.verb, Verb::kFundReserve);
  EXPECT_EQ(f.command.bank_code, "PALMAS");
  EXPECT_EQ(f.command.amount, "2000.00");
  EXPECT_TRUE(f.command.flag);
  EXPECT_FALSE(Parse("fund-reserve PALMAS 1").command.flag);
}

TEST(ArgsTest, ReadClearingAuditAndKeys) {
  EXPECT_EQ(Parse("coverage").command.bank_code, "");
  EXPECT_EQ(Parse("coverage PALMAS").command.bank_code, "PALMAS");
  EXPECT_EQ(Parse("clearing run").command.verb, Verb::kClearingRun);
  EXPECT_FALSE(Parse("clearing show").command.cycle_number.has_value());
  EXPECT_EQ(Parse("clearing show 4").command.cycle_number, 4u);
  EXPECT_EQ(Parse("clearing list").command.verb, Verb::kClearingList);
  EXPECT_EQ(Parse("audit reserves --bank SOL").command.bank_code, "SOL");
  EXPECT_EQ(Parse("audit reserves").command.verb, Verb::kAuditReserves);
  EXPECT_EQ(Parse("audit journal").command.verb, Verb::kAuditJournal);

  Invocation k = Parse({"key", "create", "TELLER", "bank", "PALMAS", "caixa 1"});
  EXPECT_EQ(k.command.verb, Verb::kKeyCreate);
  EXPECT_EQ(k.command.role, 2u);
  EXPECT_EQ(k.command.scope_kind, 2u);
  EXPECT_EQ(k.command.scope_ref, "PALMAS");
  EXPECT_EQ(k.command.text, "caixa 1");
  Invocation kd =
      Parse({"key", "create", "clearing", "deployment", "nightly cycle", "--token-file", "/tmp/t"});
  EXPECT_EQ(kd.command.role, 6u);
  EXPECT_EQ(kd.command.scope_kind, 1u);
  EXPECT_EQ(kd.command.scope_ref, "");
  EXPECT_EQ(kd.command.token_file, "/tmp/t");
  EXPECT_EQ(Parse("key create member account 17 ana").command.scope_ref, "17");
  Invocation kl = Parse("key list --all");
  EXPECT_EQ(kl.command.verb, Verb::kKeyList);
  EXPECT_TRUE(kl.command.include_revoked);
  Invocation kr = Parse("key revoke 8 --actor admin --reason leaked");
  EXPECT_EQ(kr.command.verb, Verb::kKeyRevoke);
  EXPECT_EQ(kr.command.id, 8u);
}

TEST(ArgsTest, StatusCircleListStatementAndKeyPrefix) {
  EXPECT_EQ(Parse("status").command.verb, Verb::kStatus);
  Invocation cl = Parse("--csv circle list --bank PALMAS");
  EXPECT_EQ(cl.command.verb, Verb::kCircleList);
  EXPECT_EQ(cl.command.bank_code, "PALMAS");
  Invocation st = Parse("--csv account statement 23");
  EXPECT_EQ(st.command.verb, Verb::kAccountStatement);
  EXPECT_EQ(st.command.id, 23u);
  Invocation kr = Parse("key revoke ayni_4e6eba207d57fd14_ --actor a --reason r");
  EXPECT_EQ(kr.command.id, 0x4e6eba207d57fd14u);
  for (const char* bad : {"ayni_4E6EBA207D57FD14_", "ayni_0000000000000000_", "ayni_4e6e_",
                          "ayni_4e6eba207d57fd1g_"}) {
    EXPECT_FALSE(ParseArgs({"key", "revoke", bad, "--actor", "a", "--reason", "r"}, "").ok())
        << bad;
  }
}

TEST(ArgsTest, RequestId) {
  Invocation i = Parse("pay 1 2 3 --request-id 000102030405060708090a0b0c0d0e0F");
  ASSERT_TRUE(i.command.request_id.has_value());
  EXPECT_EQ((*i.command.request_id)[0], 0);
  EXPECT_EQ((*i.command.request_id)[15], 15);
  EXPECT_EQ(HexOf(i.command.request_id->data(), 16), "000102030405060708090a0b0c0d0e0f");
}

TEST(ArgsTest, Help) {
  EXPECT_TRUE(Parse("--help").help);
  EXPECT_TRUE(Parse("help").help);
  EXPECT_TRUE(Parse("pay --help").help);
  const std::string usage = UsageText();
  for (const char* cmd : {"init", "bank create", "account limits", "fund-reserve", "audit journal",
                          "key revoke", "clearing show"}) {
    EXPECT_NE(usage.find(std::string("ayni ") + cmd), std::string::npos) << cmd;
  }
}

struct UsageCase {
  std::vector<std::string> args;
  const char* message_part;
};

TEST(ArgsTest, EveryUsageErrorIsRefusedWithAUsageLine) {
  const UsageCase cases[] = {
      {{}, "no command"},
      {{"frobnicate"}, "unknown command"},
      {{"bank"}, "unknown command"},
      {{"bank", "delete", "X"}, "unknown command"},
      {{"bank", "list", "extra"}, "too many arguments"},
      {{"bank", "create", "PALMAS"}, "too few arguments"},
      {{"bank", "create", "", "Name"}, "CODE must not be empty"},
      {{"bank", "list", "--bogus"}, "unknown option --bogus"},
      {{"--bogus", "bank", "list"}, "unknown option --bogus"},
      {{"bank", "list", "--server"}, "--server needs a value"},
      {{"bank", "list", "--json=yes"}, "takes no value"},
      {{"bank", "list", "--json", "--csv"}, "exclude each other"},
      {{"--csv", "pay", "1", "2", "3"}, "--csv is for list commands"},
      {{"bank", "list", "--timeout", "0"}, "--timeout"},
      {{"bank", "list", "--key-file="}, "--key-file must not be empty"},
      {{"init", "BRLX"}, "ISO 4217"},
      {{"init", "BRL", "--scale", "150"}, "power of ten"},
      {{"init", "BRL", "--scale", "0"}, "power of ten"},
      {{"init", "BRL", "--scale", "10000000000"}, "power of ten"},
      {{"init", "BRL", "--scale", "1e2"}, "power of ten"},
      {{"currency", "create", "P", "C", "--coverage-bp", "0"}, "--coverage-bp"},
      {{"currency", "create", "P", "C", "--coverage-bp", "100001"}, "--coverage-bp"},
      {{"currency", "create", "P", "C", "--fee-bp", "10001"}, "--fee-bp"},
      {{"currency", "create", "P", "C", "--fee-bp", "-1"}, "--fee-bp"},
      {{"circle", "create", "P", "C", "Name"}, "missing --credit-limit"},
      {{"circle", "create", "P", "C", "Name", "--credit-limit", "1e3"}, "plain decimal"},
      {{"circle", "add-member", "x", "7"}, "CIRCLE_ID"},
      {{"circle", "add-member", "3", "0"}, "MEMBER_ID"},
      {{"member", "create", "P"}, "too few"},
      {{"account", "open", "4"}, "too few"},
      {{"account", "open", "4", "PALMA", "--admin"}, "unknown option --admin"},
      {{"account", "show", "-1"}, "ACCOUNT_ID"},
      {{"account", "show", "18446744073709551616"}, "ACCOUNT_ID"},
      {{"account", "list", "--member", "abc"}, "--member"},
      {{"account", "freeze", "3", "--reason", "r"}, "missing --actor"},
      {{"account", "unfreeze", "3", "--actor", "a"}, "missing --reason"},
      {{"account", "close", "3", "--actor", "", "--reason", "r"}, "--actor must not be empty"},
      {{"account", "limits", "3", "--actor", "a", "--reason", "r"}, "missing --credit-limit"},
      {{"account", "limits", "3", "--credit-limit", "5", "--ceiling", "-1", "--actor", "a",
        "--reason", "r"},
       "plain decimal"},
      {{"issue", "5"}, "too few"},
      {{"issue", "5", "10.5.0"}, "plain decimal"},
      {{"redeem", "5", "-10"}, "plain decimal"},
      {{"distribute", "5", "+10"}, "plain decimal"},
      {{"pay", "5", "6", "1,50"}, "plain decimal"},
      {{"pay", "5", "6", "1.5e2"}, "plain decimal"},
      {{"pay", "5", "6", "0x10"}, "plain decimal"},
      {{"pay", "5", "6", "nan"}, "plain decimal"},
      {{"pay", "5", "6", ".5"}, "plain decimal"},
      {{"pay", "5", "6", "5."}, "plain decimal"},
      {{"pay", "5", "5", "1"}, "same account"},
      {{"pay", "5", "6", "1", "--memo"}, "--memo needs a value"},
      {{"pay", "5", "6", "1", "--memo", "a", "--memo", "b"}, "given twice"},
      {{"pay", "5", "6", "1", "--request-id", "00"}, "--request-id"},
      {{"pay", "5", "6", "1", "--request-id", "00000000000000000000000000000000"}, "--request-id"},
      {{"pay", "5", "6", "1", "--request-id", "zz0102030405060708090a0b0c0d0e0f"}, "--request-id"},
      {{"fund-reserve", "P", "ten"}, "plain decimal"},
      {{"fund-reserve", "P", "1", "--from-vault"}, "unknown option"},
      {{"coverage", "A", "B"}, "too many"},
      {{"clearing", "show", "0"}, "CYCLE_NUMBER"},
      {{"clearing", "run", "--memo", "x"}, "unknown option --memo"},
      {{"audit", "reserves", "PALMAS"}, "too many"},
      {{"audit", "kiosks"}, "unknown command"},
      {{"key", "create", "root", "deployment", "x"}, "ROLE"},
      {{"key", "create", "admin", "planet", "x"}, "SCOPE_KIND"},
      {{"key", "create", "admin", "deployment", "3", "x"}, "takes no ID"},
      {{"key", "create", "teller", "bank", "x"}, "needs an ID"},
      {{"key", "create", "member", "account", "abc", "x"}, "ID must be a positive integer"},
      {{"key", "create", "member", "account", "0", "x"}, "ID must be a positive integer"},
      {{"key", "revoke", "8", "--actor", "a"}, "missing --reason"},
      {{"key", "revoke", "x", "--actor", "a", "--reason", "r"}, "KEY_ID"},
      {{"status", "now"}, "too many"},
      {{"account", "statement"}, "too few"},
      {{"account", "statement", "0"}, "ACCOUNT_ID"},
      {{"circle", "list", "PALMAS"}, "too many"},
  };
  for (const UsageCase& c : cases) {
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    auto r = ParseArgs(c.args, "");
    ASSERT_FALSE(r.ok()) << joined;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << joined;
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos)
        << joined << " → " << r.status().message();
    EXPECT_NE(r.status().message().find("usage: ayni "), std::string::npos)
        << joined << " → " << r.status().message();
  }
}

TEST(ArgsTest, DecimalSyntax) {
  for (const char* ok : {"0", "1", "30.00", "0.5", "123456789.123456789"}) {
    EXPECT_TRUE(IsDecimalSyntax(ok)) << ok;
  }
  for (const char* bad : {"", ".", "1.", ".5", "-1", "+1", "1e3", "1E3", "1,5", " 1", "1 ", "0x1",
                          "inf", "nan", "1.2.3", "1_000", "١"}) {
    EXPECT_FALSE(IsDecimalSyntax(bad)) << bad;
  }
}

TEST(ArgsTest, ServerAddressLoopbackOnly) {
  for (const char* ok : {"127.0.0.1:7443", "localhost:1", "[::1]:7443", "127.1.2.3:65535"}) {
    EXPECT_TRUE(CheckServerAddress(ok).ok()) << ok;
  }
  for (const char* remote : {"10.0.0.1:7443", "example.org:7443", "[2001:db8::1]:7443",
                             "127.0.0.1.evil.com:7443", "0.0.0.0:7443", "128.0.0.1:1"}) {
    Status s = CheckServerAddress(remote);
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << remote;
    EXPECT_NE(s.message().find("TLS"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("--tls-ca FILE (or set AYNI_TLS_CA)"), std::string::npos)
        << s.message();
    // With TLS any host is fine.
    EXPECT_TRUE(CheckServerAddress(remote, /*tls=*/true).ok()) << remote;
  }
  EXPECT_TRUE(CheckServerAddress("unix:/var/tmp/ayni/aynid.sock").ok());
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000", ":7443",
                          "::1:7443", "[::1]7443", "127.0.0.1:x", "unix:", "unix:relative.sock"}) {
    EXPECT_EQ(CheckServerAddress(bad).code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(CheckServerAddress(bad, /*tls=*/true).code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ArgsTest, TlsCaFromFlagOrEnvironmentAndServerNameOverride) {
  Invocation i = Parse("bank list");
  EXPECT_EQ(i.global.tls_ca, "");
  EXPECT_EQ(i.global.tls_server_name, "");

  auto r = ParseArgs(Split("--tls-ca /etc/ayni/ca.pem bank list"), "", "");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->global.tls_ca, "/etc/ayni/ca.pem");

  r = ParseArgs(Split("bank list"), "", "/env/ca.pem");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->global.tls_ca, "/env/ca.pem");

  r = ParseArgs(Split("bank list --tls-ca=/flag/ca.pem --tls-server-name ayni.example"), "",
                "/env/ca.pem");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->global.tls_ca, "/flag/ca.pem");  // the flag wins
  EXPECT_EQ(r->global.tls_server_name, "ayni.example");
  EXPECT_EQ(r->command.verb, Verb::kBankList);

  r = ParseArgs(Split("--tls-server-name ayni.example bank list"), "", "");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--tls-server-name needs TLS"), std::string::npos)
      << r.status().message();
  r = ParseArgs({"--tls-ca=", "bank", "list"}, "", "");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--tls-ca must not be empty"), std::string::npos);
  r = ParseArgs({"--tls-ca", "a.pem", "--tls-server-name=", "bank", "list"}, "", "");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("--tls-server-name must not be empty"), std::string::npos);
  EXPECT_NE(UsageText().find("--tls-ca FILE"), std::string::npos);
}

}  // namespace
}  // namespace ayni::cli
