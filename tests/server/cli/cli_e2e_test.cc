// The `ayni` binary driving a real `aynid` (127.0.0.1, port 0) on a fresh PostgreSQL
// database made from AYNI_TEST_PG (deploy/pg.sh): a small scripted day — set-up, deposits,
// payments within and across banks, a refusal, an exact retry, a redemption with fee,
// funding and distribution (one refused for coverage), a clearing cycle, the audits, keys —
// checking exit codes and the amounts shown. Without AYNI_TEST_PG the test fails, never
// skips.
#include "cli_fixture.h"

namespace {

using namespace ayni::cli_test;

class CliE2eTest : public CliFixture {
 protected:
  CliE2eTest() : CliFixture("e2e") {}
};

TEST_F(CliE2eTest, ScriptedDay) {
  Output o = Ayni({"init", "BRL", "--scale", "100"});
  ASSERT_EQ(o.code, 0) << o.out << o.err;

  ASSERT_EQ(Ayni({"bank", "create", "PALMAS", "Banco Palmas"}).code, 0);
  ASSERT_EQ(Ayni({"bank", "create", "SOL", "Banco Sol"}).code, 0);
  ASSERT_EQ(Ayni({"currency", "create", "PALMAS", "PALMA"}).code, 0);
  ASSERT_EQ(Ayni({"currency", "create", "SOL", "SOLAR", "--fee-bp", "200"}).code, 0);
  o = Ayni({"bank", "create", "PALMAS", "Again"});
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("REASON_CODE_EXISTS"), std::string::npos) << o.err;

  const std::string ana = Shown(Json({"member", "create", "PALMAS", "Ana"}), "member id");
  const std::string bia = Shown(Json({"member", "create", "SOL", "Bia"}), "member id");
  ASSERT_FALSE(ana.empty());
  ASSERT_FALSE(bia.empty());
  const std::string ana_acct = Shown(Json({"account", "open", ana, "PALMA"}), "account id");
  const std::string bia_acct =
      Shown(Json({"account", "open", bia, "SOLAR", "--merchant"}), "account id");
  ASSERT_FALSE(ana_acct.empty());
  ASSERT_FALSE(bia_acct.empty());

  // Deposit, then a cross-bank payment.
  o = Ayni({"issue", ana_acct, "100.00"});
  ASSERT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("100.00 PALMA"), std::string::npos) << o.out;
  auto pay = Json({"pay", ana_acct, bia_acct, "30", "--memo", "feira"});
  EXPECT_EQ(Str(pay, "reason"), "REASON_OK");
  EXPECT_EQ(Shown(pay, "cross bank"), "yes");
  const std::string rid = Str(pay, "request_id");
  ASSERT_EQ(rid.size(), 32u);

  // The exact retry is a no-op that succeeds; too many decimals never reach the server.
  o = Ayni({"pay", ana_acct, bia_acct, "30", "--memo", "feira", "--request-id", rid});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("already done"), std::string::npos) << o.out;
  o = Ayni({"pay", ana_acct, bia_acct, "1.005"});
  EXPECT_EQ(o.code, 64) << o.out << o.err;
  o = Ayni({"pay", ana_acct, bia_acct, "70.01"});
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("REASON_INSUFFICIENT_FUNDS"), std::string::npos) << o.err;

  o = Ayni({"account", "show", ana_acct});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("70.00 PALMA"), std::string::npos) << o.out;
  o = Ayni({"account", "show", bia_acct});
  EXPECT_NE(o.out.find("30.00 SOLAR"), std::string::npos) << o.out;

  // Clearing moves 30.00 BRL of reserve from PALMAS to SOL.
  o = Ayni({"clearing", "run"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("30.00 BRL"), std::string::npos) << o.out;

  // Redemption with the 2% fee.
  o = Ayni({"redeem", bia_acct, "10.00"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("0.20 BRL"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("9.80 BRL"), std::string::npos) << o.out;

  // A municipal programme funds PALMAS' reserve; distributing more than the excess fails.
  EXPECT_EQ(Ayni({"fund-reserve", "PALMAS", "50.00", "--memo", "programa municipal"}).code, 0);
  EXPECT_EQ(Ayni({"distribute", ana_acct, "50.00"}).code, 0);
  o = Ayni({"distribute", ana_acct, "0.01"});
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("REASON_COVERAGE_WOULD_BREAK"), std::string::npos) << o.err;

  o = Ayni({"coverage"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("PALMAS"), std::string::npos) << o.out;
  o = Ayni({"audit", "reserves"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("every bank COVERED"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("signed by clearing"), std::string::npos) << o.out;
  o = Ayni({"audit", "journal"});
  EXPECT_EQ(o.code, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("OK"), std::string::npos) << o.out;

  // Ana's statement: deposit, payment, distribution, with the balance after each.
  o = Ayni({"--csv", "account", "statement", ana_acct});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find(",ISSUE,"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(",100.00,100.00,"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(",-30.00,70.00,feira"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(",50.00,120.00,"), std::string::npos) << o.out;

  o = Ayni({"--csv", "bank", "list"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.rfind("ID,CODE,NAME,CURRENCIES\n", 0), 0u) << o.out;
  o = Ayni({"account", "list", "--bank", "PALMAS"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("RESERVE"), std::string::npos) << o.out;

  // Keys: an auditor key written to a file, used, then revoked.
  const std::string auditor_file = dir_ + "/auditor.key";
  auto key =
      Json({"key", "create", "auditor", "deployment", "night audit", "--token-file", auditor_file});
  const std::string key_id = Shown(key, "key id");
  ASSERT_FALSE(key_id.empty());
  struct stat st;
  ASSERT_EQ(stat(auditor_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  o = Ayni({"bank", "list"}, auditor_file);
  EXPECT_EQ(o.code, 0) << o.err;
  o = Ayni({"bank", "create", "X", "Y"}, auditor_file);
  EXPECT_EQ(o.code, 3) << o.out << o.err;
  EXPECT_NE(o.err.find("PERMISSION_DENIED"), std::string::npos) << o.err;
  EXPECT_EQ(Ayni({"key", "revoke", key_id, "--actor", "admin", "--reason", "test"}).code, 0);
  o = Ayni({"key", "list", "--all"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("revoked"), std::string::npos) << o.out;
}

}  // namespace
