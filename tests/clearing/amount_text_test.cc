// Amounts typed into ayni: exact at scales 1, 100 and 1000; refused when not a plain
// decimal, when they have more decimals than the currency, when out of range.
#include "clearing/amount_text.h"

#include <gtest/gtest.h>

namespace ayni::cli {
namespace {

struct Good {
  const char* text;
  int64_t scale;
  int64_t minor;
  const char* shown;  // FormatAmount(minor, scale, "X")
};

TEST(AmountTextTest, ParsesExactlyAndFormatsBack) {
  const Good cases[] = {
      {"30", 100, 3000, "30.00 X"},
      {"30.5", 100, 3050, "30.50 X"},
      {"30.05", 100, 3005, "30.05 X"},
      {"0.01", 100, 1, "0.01 X"},
      {"7", 1, 7, "7 X"},
      {"1234567", 1, 1234567, "1234567 X"},
      {"1.5", 1000, 1500, "1.500 X"},
      {"0.001", 1000, 1, "0.001 X"},
      {"12.345", 1000, 12345, "12.345 X"},
      {"92233720368547758.07", 100, INT64_MAX, "92233720368547758.07 X"},
      // 0.1 + 0.2 is exactly 0.3 here: no binary floating point anywhere.
      {"0.3", 100, 30, "0.30 X"},
  };
  for (const Good& c : cases) {
    auto r = ParseAmount(c.text, c.scale, AmountSign::kPositive, "AMOUNT", "X");
    ASSERT_TRUE(r.ok()) << c.text << ": " << r.status().message();
    EXPECT_EQ(*r, c.minor) << c.text;
    EXPECT_EQ(FormatAmount(*r, c.scale, "X"), c.shown);
  }
}

TEST(AmountTextTest, ZeroOnlyWhereAllowed) {
  auto z = ParseAmount("0", 100, AmountSign::kNonNegative, "--credit-limit", "FEIRA");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(*z, 0);
  auto p = ParseAmount("0.00", 100, AmountSign::kPositive, "AMOUNT", "PALMA");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("greater than zero"), std::string::npos);
}

struct Bad {
  const char* text;
  int64_t scale;
  const char* message_part;
};

TEST(AmountTextTest, Refusals) {
  const Bad cases[] = {
      {"1.5", 1, "has 1 decimal places; PALMA has 0"},
      {"1.005", 100, "has 3 decimal places; PALMA has 2"},
      {"0.0001", 1000, "has 4 decimal places; PALMA has 3"},
      {"1e3", 100, "plain decimal"},
      {"1.5e0", 1000, "plain decimal"},
      {"1,50", 100, "plain decimal"},
      {"-1", 100, "plain decimal"},
      {"+1", 100, "plain decimal"},
      {"", 100, "plain decimal"},
      {"NaN", 100, "plain decimal"},
      {"Infinity", 100, "plain decimal"},
      {"0x10", 100, "plain decimal"},
      {"1.", 100, "plain decimal"},
      {".1", 100, "plain decimal"},
      {" 1", 100, "plain decimal"},
      {"92233720368547758.08", 100, "out of range"},
      {"99999999999999999999", 1, "out of range"},
      {"1", 150, "not a power of ten"},
  };
  for (const Bad& c : cases) {
    auto r = ParseAmount(c.text, c.scale, AmountSign::kPositive, "AMOUNT", "PALMA");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.message_part), std::string::npos)
        << c.text << " → " << r.status().message();
  }
}

TEST(AmountTextTest, Formatting) {
  EXPECT_EQ(FormatAmount(-5, 100, "BRL"), "-0.05 BRL");
  EXPECT_EQ(FormatAmount(INT64_MIN, 100, ""), "-92233720368547758.08");
  EXPECT_EQ(FormatAmount(0, 1000, "FEIRA"), "0.000 FEIRA");
  EXPECT_EQ(FormatAmount(3000, 100, "PALMA"), "30.00 PALMA");
  EXPECT_EQ(FormatCeiling(INT64_MAX, 100, "PALMA"), "none");
  EXPECT_EQ(FormatCeiling(100000, 100, "PALMA"), "1000.00 PALMA");
  EXPECT_EQ(FormatBasisPoints(10000), "100.00%");
  EXPECT_EQ(FormatBasisPoints(12345), "123.45%");
  EXPECT_EQ(FormatBasisPoints(200), "2.00%");
  EXPECT_EQ(FormatBasisPoints(0), "0.00%");
}

}  // namespace
}  // namespace ayni::cli
