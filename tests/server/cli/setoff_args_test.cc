// ayni's invoice and set-off commands: dates, parsing into Commands, and usage errors.
#include <gtest/gtest.h>

#include <sstream>

#include "clearing/dates.h"
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

Result<Invocation> Try(const std::string& line) { return ParseArgs(Split(line), ""); }

Invocation Parse(const std::string& line) {
  auto r = Try(line);
  EXPECT_TRUE(r.ok()) << line << ": " << r.status().message();
  return r.ok() ? *r : Invocation{};
}

constexpr const char* kHex = "0123456789abcdef0123456789abcdef";

TEST(DatesTest, RoundTripsAndRefusesNonDays) {
  EXPECT_EQ(ParseDate("1970-01-01"), 0);
  EXPECT_EQ(ParseDate("2024-10-04"), 20000);
  EXPECT_EQ(ParseDate("2024-02-29"), 19782);
  EXPECT_EQ(ParseDate("9999-12-31"), 2932896);
  EXPECT_EQ(FormatDay(20000), "2024-10-04");
  EXPECT_EQ(FormatDay(0), "1970-01-01");
  EXPECT_EQ(FormatDay(2932896), "9999-12-31");
  EXPECT_EQ(FormatDay(-1), "-1");
  for (int64_t d = 0; d < 2932897; d += 997) EXPECT_EQ(ParseDate(FormatDay(d)), d) << d;
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "1969-12-31",
                          "24-10-04", "2024/10/04", "2024-1-04", "2024-10-04x", "", "today"}) {
    EXPECT_FALSE(ParseDate(bad).has_value()) << bad;
  }
  EXPECT_EQ(DayOfNs(86'400'000'000'000ull * 20000 + 5), 20000);
}

TEST(SetoffArgsTest, InvoiceCommands) {
  Invocation i = Parse("invoice register 3 4 PALMA 80.50 --due 2026-11-10 --reference NF-1");
  EXPECT_EQ(i.command.verb, Verb::kInvoiceRegister);
  EXPECT_EQ(i.command.id, 3u);
  EXPECT_EQ(i.command.other_id, 4u);
  EXPECT_EQ(i.command.currency_code, "PALMA");
  EXPECT_EQ(i.command.amount, "80.50");
  EXPECT_EQ(i.command.day, ParseDate("2026-11-10"));
  EXPECT_EQ(i.command.reference, "NF-1");
  EXPECT_FALSE(i.command.invoice_id.has_value());
  i = Parse(std::string("invoice register 3 4 PALMA 1 --due 2026-11-10 --invoice-id ") + kHex);
  ASSERT_TRUE(i.command.invoice_id.has_value());
  EXPECT_EQ((*i.command.invoice_id)[15], 0xef);

  i = Parse(std::string("invoice confirm ") + kHex);
  EXPECT_EQ(i.command.verb, Verb::kInvoiceConfirm);
  ASSERT_TRUE(i.command.invoice_id.has_value());
  i = Parse(std::string("invoice dispute ") + kHex + " --reason wrong");
  EXPECT_EQ(i.command.verb, Verb::kInvoiceDispute);
  EXPECT_EQ(i.command.reason, "wrong");

  i = Parse("--csv invoice list --member 7 --status Confirmed --open");
  EXPECT_EQ(i.command.verb, Verb::kInvoiceList);
  EXPECT_EQ(i.command.member_filter, 7u);
  EXPECT_EQ(i.command.invoice_status, 2u);
  EXPECT_TRUE(i.command.open_only);
  EXPECT_EQ(i.global.format, OutputFormat::kCsv);
}

TEST(SetoffArgsTest, SetoffCommands) {
  Invocation i = Parse("setoff run --cutoff 2026-11-30 --mutual-credit --dry-run --currency FEIRA");
  EXPECT_EQ(i.command.verb, Verb::kSetoffRun);
  EXPECT_EQ(i.command.day, ParseDate("2026-11-30"));
  EXPECT_TRUE(i.command.mutual_credit);
  EXPECT_TRUE(i.command.dry_run);
  EXPECT_EQ(i.command.currency_code, "FEIRA");
  i = Parse("setoff run");
  EXPECT_FALSE(i.command.day.has_value());  // today, decided when it runs
  EXPECT_FALSE(i.command.dry_run);
  EXPECT_FALSE(i.command.mutual_credit);

  i = Parse("--csv setoff show");
  EXPECT_EQ(i.command.verb, Verb::kSetoffShow);
  EXPECT_FALSE(i.command.run_id || i.command.run_number);
  i = Parse("setoff show 2");
  EXPECT_EQ(i.command.run_number, 2u);
  i = Parse(std::string("setoff show ") + kHex);
  EXPECT_TRUE(i.command.run_id.has_value());
}

TEST(SetoffArgsTest, UsageErrors) {
  struct Case {
    const char* line;
    const char* says;
  };
  const Case cases[] = {
      {"invoice register 3 4 PALMA 80", "missing --due"},
      {"invoice register 3 3 PALMA 80 --due 2026-11-10", "same member"},
      {"invoice register 0 4 PALMA 80 --due 2026-11-10", "DEBTOR_MEMBER_ID"},
      {"invoice register 3 4 PALMA 1e3 --due 2026-11-10", "AMOUNT"},
      {"invoice register 3 4 PALMA 8 --due 2026-02-30", "--due must be a date"},
      {"invoice register 3 4 PALMA 8 --due 2026-11-10 --invoice-id 12", "--invoice-id"},
      {"invoice confirm abc", "INVOICE_ID"},
      {"invoice dispute 0123456789abcdef0123456789abcdef", "missing --reason"},
      {"invoice list --status paid", "--status must be one of"},
      {"setoff run --cutoff tomorrow", "--cutoff must be a date"},
      {"setoff show x", "RUN must be"},
      {"setoff show 0", "RUN must be"},
      {"--csv invoice confirm 0123456789abcdef0123456789abcdef", "--csv is for list commands"},
  };
  for (const Case& c : cases) {
    auto r = Try(c.line);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.line;
    EXPECT_NE(r.status().message().find(c.says), std::string::npos)
        << c.line << ": " << r.status().message();
    EXPECT_NE(r.status().message().find("usage: ayni "), std::string::npos) << c.line;
  }
}

}  // namespace
}  // namespace ayni::cli
