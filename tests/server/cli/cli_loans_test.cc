// The `ayni loans …` commands (issue 7) through the `ayni` binary against a real `aynid`
// on a fresh PostgreSQL database from AYNI_TEST_PG: a product, a solidarity group, a
// disbursement to the group, a repayment typed as an exact decimal, refusals with their
// exit codes, show/list/portfolio as tables, --json and --csv, and the loan book in
// `ayni audit reserves`. The fixture is cli_fixture.h.
#include "cli_fixture.h"

namespace {

using namespace ayni::cli_test;

class CliLoansTest : public CliFixture {
 protected:
  CliLoansTest() : CliFixture("loans") {}
};

TEST_F(CliLoansTest, GroupLoanFromProductToPortfolio) {
  ASSERT_EQ(Ayni({"init", "BRL", "--scale", "100"}).code, 0);
  ASSERT_EQ(Ayni({"bank", "create", "PALMAS", "Banco Palmas"}).code, 0);
  ASSERT_EQ(Ayni({"currency", "create", "PALMAS", "PALMA"}).code, 0);
  std::vector<std::string> members;
  for (const char* name : {"Ana", "Caio", "Dora"}) {
    members.push_back(Shown(Json({"member", "create", "PALMAS", name}), "member id"));
    ASSERT_FALSE(members.back().empty());
  }
  ASSERT_EQ(Ayni({"fund-reserve", "PALMAS", "1000.00"}).code, 0);

  // Usage errors never reach the server.
  Output o = Ayni({"loans", "product", "create", "PALMAS", "Producao", "BRL", "--max", "1e3",
                   "--instalments", "4", "--period-days", "30"});
  EXPECT_EQ(o.code, 64) << o.out << o.err;
  o = Ayni({"loans", "disburse", "1", "10.00"});
  EXPECT_EQ(o.code, 64) << o.err;
  EXPECT_NE(o.err.find("exactly one of --member and --group"), std::string::npos) << o.err;

  auto product = Json({"loans", "product", "create", "PALMAS", "Producao", "BRL", "--max", "600.00",
                       "--rate-bp", "100", "--instalments", "4", "--period-days", "30"});
  EXPECT_EQ(Str(product, "reason"), "REASON_OK");
  EXPECT_EQ(Shown(product, "max principal"), "600.00 BRL");
  const std::string product_id = Shown(product, "product id");
  ASSERT_FALSE(product_id.empty());
  // A rate above the 1%-a-month cap: INVALID_ARGUMENT naming the field, exit 3.
  o = Ayni({"loans", "product", "create", "PALMAS", "Usura", "BRL", "--max", "10", "--rate-bp",
            "101", "--instalments", "1", "--period-days", "30"});
  EXPECT_EQ(o.code, 3) << o.out << o.err;
  EXPECT_NE(o.err.find("monthly_rate_bp"), std::string::npos) << o.err;
  o = Ayni({"loans", "product", "list", "--bank", "PALMAS"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("Producao"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("600.00"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("1.00%"), std::string::npos) << o.out;

  auto group = Json({"loans", "group", "create", "PALMAS", "Mulheres da feira", members[0],
                     members[1], members[2], "--liable", members[0] + "," + members[1]});
  EXPECT_EQ(Str(group, "reason"), "REASON_OK");
  const std::string group_id = Shown(group, "group id");
  ASSERT_FALSE(group_id.empty());

  // Above the product's maximum: refused, exit 2.
  o = Ayni({"loans", "disburse", product_id, "600.01", "--group", group_id});
  EXPECT_EQ(o.code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("REASON_PRINCIPAL_ABOVE_MAX"), std::string::npos) << o.err;
  auto loan = Json({"loans", "disburse", product_id, "400.00", "--group", group_id});
  EXPECT_EQ(Str(loan, "reason"), "REASON_OK");
  EXPECT_EQ(Shown(loan, "principal"), "400.00 BRL");
  const std::string loan_id = Shown(loan, "loan id");
  ASSERT_FALSE(loan_id.empty());

  // Interest 4.00 of the first period, then 100.00 of principal; more than the payoff is
  // refused; three decimals are a usage error.
  o = Ayni({"loans", "repay", loan_id, "1.005"});
  EXPECT_EQ(o.code, 64) << o.err;
  o = Ayni({"loans", "repay", loan_id, "404.01"});
  EXPECT_EQ(o.code, 2) << o.err;
  EXPECT_NE(o.err.find("REASON_OVERPAYMENT"), std::string::npos) << o.err;
  auto repaid = Json({"loans", "repay", loan_id, "104.00"});
  EXPECT_EQ(Str(repaid, "reason"), "REASON_OK");
  EXPECT_EQ(Shown(repaid, "interest paid (total)"), "4.00 BRL");
  EXPECT_EQ(Shown(repaid, "outstanding"), "300.00 BRL");

  o = Ayni({"loans", "show", loan_id});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("group " + group_id), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("300.00 BRL"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("schedule (BRL)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("3.00"), std::string::npos) << o.out;  // interest of instalment 2
  o = Ayni({"--csv", "loans", "show", loan_id});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.rfind("N,DUE,PRINCIPAL,INTEREST\n", 0), 0u) << o.out;
  EXPECT_NE(o.out.find(",100.00,4.00\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(",100.00,1.00\n"), std::string::npos) << o.out;

  o = Ayni({"--csv", "loans", "list", "--bank", "PALMAS", "--member", members[2]});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find(loan_id + "," + product_id + ",group " + group_id + ",BRL,400.00,300.00,"),
            std::string::npos)
      << o.out;
  o = Ayni({"--csv", "loans", "list", "--bank", "PALMAS", "--status", "repaid"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.find("\n"), o.out.size() - 1) << "header only: " << o.out;

  o = Ayni({"loans", "portfolio"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("REPAYMENT_RATE"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("300.00"), std::string::npos) << o.out;
  auto portfolio = Json({"loans", "portfolio", "--bank", "PALMAS"});
  const auto& banks = portfolio.fields().at("reply").struct_value().fields().at("banks");
  ASSERT_EQ(banks.list_value().values_size(), 1);
  const auto& bank = banks.list_value().values(0).struct_value().fields();
  EXPECT_EQ(bank.at("outstanding_minor").string_value(), "30000");  // int64 as a JSON string
  EXPECT_EQ(bank.at("repayment_rate_bp").number_value(), 10000);

  // The audit shows the loan book: LOANS 300.00 and PAR30 0.00%.
  o = Ayni({"--csv", "audit", "reserves"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find(",300.00,"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(",0.00%,COVERED,0.00"), std::string::npos) << o.out;

  // Write-off: a reason is required; then the loan is WRITTEN-OFF.
  o = Ayni({"loans", "write-off", loan_id});
  EXPECT_EQ(o.code, 64) << o.err;
  o = Ayni({"loans", "write-off", loan_id, "--reason", "grupo dissolvido"});
  ASSERT_EQ(o.code, 0) << o.err;
  o = Ayni({"loans", "list", "--bank", "PALMAS", "--status", "written-off"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("WRITTEN-OFF"), std::string::npos) << o.out;
  o = Ayni({"loans", "show", "999"});
  EXPECT_EQ(o.code, 3) << o.err;
  EXPECT_NE(o.err.find("NOT_FOUND"), std::string::npos) << o.err;
}

}  // namespace
