// The `ayni loans …` grammar (loan_args.cc): each verb parses into the right Command and
// LoanArgs, and each usage error is refused before any RPC with the command's usage line.
#include <gtest/gtest.h>

#include <sstream>

#include "server/cli/args.h"

namespace ayni::cli {
namespace {

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream is(line);
  std::string w;
  while (is >> w) out.push_back(w);
  return out;
}

Invocation Parse(const std::string& line) {
  auto r = ParseArgs(Split(line), "");
  EXPECT_TRUE(r.ok()) << line << ": " << r.status().message();
  return r.ok() ? *r : Invocation{};
}

// The usage error's message, which must name `usage_start`'s command.
std::string Refused(const std::string& line, const std::string& usage_start) {
  auto r = ParseArgs(Split(line), "");
  EXPECT_FALSE(r.ok()) << line;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("usage: ayni " + usage_start), std::string::npos)
      << r.status().message();
  return r.status().message();
}

TEST(LoanArgsTest, ProductCreateWithTerms) {
  const Invocation i = Parse(
      "loans product create PALMAS Producao BRL --max 600.00 --rate-bp 100 --instalments 4 "
      "--period-days 30 --grace-days 15");
  EXPECT_EQ(i.command.verb, Verb::kLoanProductCreate);
  EXPECT_EQ(i.command.name, "loans product create");
  EXPECT_EQ(i.command.bank_code, "PALMAS");
  EXPECT_EQ(i.command.text, "Producao");
  EXPECT_EQ(i.command.currency_code, "BRL");
  EXPECT_EQ(i.command.loan.max_principal, "600.00");
  EXPECT_EQ(i.command.loan.rate_bp, 100);
  EXPECT_EQ(i.command.loan.instalments, 4);
  EXPECT_EQ(i.command.loan.period_days, 30);
  EXPECT_EQ(i.command.loan.grace_days, 15);
}

TEST(LoanArgsTest, ProductCreateRefusals) {
  Refused("loans product create PALMAS P BRL --instalments 4 --period-days 30",
          "loans product create");  // no --max
  Refused("loans product create PALMAS P BRL --max 1e3 --instalments 4 --period-days 30",
          "loans product create");
  EXPECT_NE(Refused("loans product create PALMAS P BRL --max 10 --instalments -1 --period-days 30",
                    "loans product create")
                .find("--instalments"),
            std::string::npos);
  Refused("loans product create PALMAS P BRL --max 10 --instalments 4", "loans product create");
}

TEST(LoanArgsTest, GroupCreateTakesMembersAndLiable) {
  const Invocation i = Parse("loans group create PALMAS Feira 3 4 5 --liable 3,4");
  EXPECT_EQ(i.command.verb, Verb::kLoanGroupCreate);
  EXPECT_EQ(i.command.loan.members, (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(i.command.loan.liable, (std::vector<uint64_t>{3, 4}));
  Refused("loans group create PALMAS Feira 3 4 5", "loans group create");  // no --liable
  Refused("loans group create PALMAS Feira 3 4", "loans group create");    // too few
  Refused("loans group create PALMAS Feira 3 4 4 --liable 3,4", "loans group create");
  Refused("loans group create PALMAS Feira 3 4 5 --liable 3,9", "loans group create");
  Refused("loans group create PALMAS Feira 3 4 5 --liable 3,", "loans group create");
}

TEST(LoanArgsTest, DisburseNeedsExactlyOneBorrower) {
  Invocation i = Parse("loans disburse 7 120.00 --group 2 --memo maquina");
  EXPECT_EQ(i.command.verb, Verb::kLoanDisburse);
  EXPECT_EQ(i.command.id, 7u);
  EXPECT_EQ(i.command.amount, "120.00");
  EXPECT_EQ(i.command.loan.group, 2u);
  EXPECT_EQ(i.command.loan.member, 0u);
  EXPECT_EQ(i.command.memo, "maquina");
  i = Parse("loans disburse 7 50 --member 3 --account 11");
  EXPECT_EQ(i.command.loan.member, 3u);
  EXPECT_EQ(i.command.loan.account, 11u);
  Refused("loans disburse 7 50", "loans disburse");
  Refused("loans disburse 7 50 --member 3 --group 2", "loans disburse");
  Refused("loans disburse 0 50 --member 3", "loans disburse");
  Refused("loans disburse 7 -5 --member 3", "loans disburse");
}

TEST(LoanArgsTest, RepayWriteOffShowListPortfolio) {
  Invocation i = Parse("loans repay 5 31.20 --account 9");
  EXPECT_EQ(i.command.verb, Verb::kLoanRepay);
  EXPECT_EQ(i.command.id, 5u);
  EXPECT_EQ(i.command.amount, "31.20");
  EXPECT_EQ(i.command.loan.account, 9u);
  i = Parse("loans write-off 5 --reason dissolvido");
  EXPECT_EQ(i.command.verb, Verb::kLoanWriteOff);
  EXPECT_EQ(i.command.reason, "dissolvido");
  Refused("loans write-off 5", "loans write-off");
  i = Parse("--csv loans show 5");
  EXPECT_EQ(i.command.verb, Verb::kLoanShow);
  EXPECT_EQ(i.global.format, OutputFormat::kCsv);
  i = Parse("--csv loans list --bank PALMAS --member 3 --status written-off");
  EXPECT_EQ(i.command.verb, Verb::kLoanList);
  EXPECT_EQ(i.command.loan.member, 3u);
  ASSERT_TRUE(i.command.loan.status.has_value());
  EXPECT_EQ(*i.command.loan.status, 2);
  i = Parse("loans list --bank PALMAS");
  EXPECT_FALSE(i.command.loan.status.has_value());
  Refused("loans list", "loans list");  // --bank is required
  Refused("loans list --bank PALMAS --status late", "loans list");
  i = Parse("loans portfolio");
  EXPECT_EQ(i.command.verb, Verb::kLoanPortfolio);
  EXPECT_TRUE(i.command.bank_code.empty());
  i = Parse("--json loans portfolio --bank SOL");
  EXPECT_EQ(i.command.bank_code, "SOL");
  // --csv is for listings only.
  Refused("--csv loans repay 5 1", "loans repay");
}

TEST(LoanArgsTest, UsageTextListsTheLoanCommands) {
  const std::string u = UsageText();
  for (const char* c :
       {"loans product create", "loans product list", "loans group create", "loans disburse",
        "loans repay", "loans write-off", "loans show", "loans list", "loans portfolio"}) {
    EXPECT_NE(u.find(c), std::string::npos) << c;
  }
}

}  // namespace
}  // namespace ayni::cli
