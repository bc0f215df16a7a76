// Amount arithmetic, decimal text, wide ids, derived transfer ids and outcome names.
#include "clearing/amount.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "clearing/hash.h"
#include "clearing/ids.h"
#include "clearing/outcome.h"

namespace ayni {
namespace {

constexpr int64_t kMax = INT64_MAX;
constexpr int64_t kMin = INT64_MIN;

// ---- Checked arithmetic ----------------------------------------------------------------

enum class Op { kAdd, kSub };

struct ArithCase {
  const char* name;
  Op op;
  int64_t a, b;
  std::optional<int64_t> want;  // nullopt: overflow
};

TEST(AmountTest, CheckedAddAndSub) {
  const std::vector<ArithCase> cases = {
      {"add_small", Op::kAdd, 2, 3, 5},
      {"add_negative", Op::kAdd, -7, 3, -4},
      {"add_to_max", Op::kAdd, kMax - 1, 1, kMax},
      {"add_past_max", Op::kAdd, kMax, 1, std::nullopt},
      {"add_max_max", Op::kAdd, kMax, kMax, std::nullopt},
      {"add_to_min", Op::kAdd, kMin + 1, -1, kMin},
      {"add_past_min", Op::kAdd, kMin, -1, std::nullopt},
      {"add_min_min", Op::kAdd, kMin, kMin, std::nullopt},
      {"add_max_min", Op::kAdd, kMax, kMin, -1},
      {"add_zero_to_min", Op::kAdd, kMin, 0, kMin},
      {"sub_small", Op::kSub, 5, 3, 2},
      {"sub_to_negative", Op::kSub, 3, 5, -2},
      {"sub_to_min", Op::kSub, -1, kMax, kMin},
      {"sub_past_min", Op::kSub, kMin, 1, std::nullopt},
      {"sub_min_from_zero", Op::kSub, 0, kMin, std::nullopt},
      {"sub_min_from_minus_one", Op::kSub, -1, kMin, kMax},
      {"sub_past_max", Op::kSub, kMax, -1, std::nullopt},
      {"sub_min_min", Op::kSub, kMin, kMin, 0},
      {"sub_max_from_min", Op::kSub, kMin, kMax, std::nullopt},
  };
  for (const ArithCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Amount a(c.a), b(c.b);
    const std::optional<Amount> got = c.op == Op::kAdd ? a.CheckedAdd(b) : a.CheckedSub(b);
    ASSERT_EQ(got.has_value(), c.want.has_value());
    if (c.want) {
      EXPECT_EQ(got->minor(), *c.want);
    }
  }
}

TEST(AmountTest, CheckedNeg) {
  EXPECT_EQ(Amount(5).CheckedNeg(), Amount(-5));
  EXPECT_EQ(Amount(0).CheckedNeg(), Amount(0));
  EXPECT_EQ(Amount(kMax).CheckedNeg(), Amount(-kMax));
  EXPECT_EQ(Amount(-kMax).CheckedNeg(), Amount(kMax));
  EXPECT_EQ(Amount(kMin).CheckedNeg(), std::nullopt);
}

TEST(AmountTest, PredicatesAndOrder) {
  EXPECT_TRUE(Amount(1).positive());
  EXPECT_FALSE(Amount(0).positive());
  EXPECT_TRUE(Amount(-1).negative());
  EXPECT_FALSE(Amount(0).negative());
  EXPECT_TRUE(Amount().zero());
  EXPECT_TRUE(Amount::Zero().zero());
  EXPECT_EQ(Amount::Max().minor(), kMax);
  EXPECT_LT(Amount(kMin), Amount(-1));
  EXPECT_LT(Amount(-1), Amount(0));
  EXPECT_LT(Amount(0), Amount(kMax));
  static_assert(!std::is_constructible_v<Amount, double>, "no construction from floating point");
  static_assert(!std::is_constructible_v<Amount, float>, "no construction from floating point");
}

// ---- Fees ------------------------------------------------------------------------------

TEST(AmountTest, FeeFloorRoundsDown) {
  struct Case {
    int64_t amount;
    int32_t bp;
    int64_t want;  // hand-computed floor(amount * bp / 10000)
  };
  const std::vector<Case> cases = {
      {3000, 200, 60},      // SPEC worked example: 2% of 30.00 is 0.60
      {1, 200, 0},          // 0.02 rounds down to 0
      {49, 200, 0},         // 0.98 -> 0
      {50, 200, 1},         // exactly 1
      {99, 200, 1},         // 1.98 -> 1
      {100, 200, 2},        //
      {12345, 250, 308},    // 308.625 -> 308
      {9999, 1, 0},         // 0.9999 -> 0
      {10000, 1, 1},        //
      {0, 200, 0},          //
      {100, 0, 0},          // no fee
      {100, 10000, 100},    // 100%
      {kMax, 10000, kMax},  // no overflow through the 128-bit product
      {kMax, 9999, 9222449699651090329},
      {kMax, 1, 922337203685477},
      {kMax, 200, 184467440737095516},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.amount) + " @ " + std::to_string(c.bp) + "bp");
    EXPECT_EQ(Amount(c.amount).FeeFloor(c.bp), Amount(c.want));
  }
}

// ---- Scales ----------------------------------------------------------------------------

TEST(AmountTest, IsValidScale) {
  int64_t s = 1;
  for (int digits = 0; digits <= 9; ++digits, s *= 10) {
    SCOPED_TRACE(s);
    EXPECT_TRUE(IsValidScale(s));
    EXPECT_EQ(ScaleDigits(s), digits);
  }
  for (int64_t bad : {int64_t{0}, int64_t{-1}, int64_t{-10}, int64_t{-100}, int64_t{2}, int64_t{5},
                      int64_t{11}, int64_t{99}, int64_t{101}, int64_t{1000000001},
                      int64_t{10000000000}, int64_t{100000000000000000}, kMax, kMin}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(IsValidScale(bad));
  }
}

// ---- Decimal text ----------------------------------------------------------------------

TEST(AmountTest, ParseDecimalAccepts) {
  struct Case {
    const char* text;
    int64_t scale;
    int64_t want;
  };
  const std::vector<Case> cases = {
      {"12.34", 100, 1234},
      {"-0.5", 100, -50},
      {"100", 100, 10000},
      {"0", 100, 0},
      {"-0", 100, 0},
      {"0.00", 100, 0},
      {"0.05", 100, 5},
      {"-0.05", 100, -5},
      {"+1.5", 10, 15},
      {"007.10", 100, 710},
      {".5", 10, 5},
      {"7", 1, 7},
      {"1.000000001", 1000000000, 1000000001},
      {"9223372036854775807", 1, kMax},
      {"-9223372036854775808", 1, kMin},  // INT64_MIN itself parses
      {"92233720368547758.07", 100, kMax},
      {"-92233720368547758.08", 100, kMin},
      {"-9223372036.854775808", 1000000000, kMin},
      {"9223372036.854775807", 1000000000, kMax},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.text) + " @ " + std::to_string(c.scale));
    const Result<Amount> r = ParseDecimal(c.text, c.scale);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r.value(), Amount(c.want));
  }
}

TEST(AmountTest, ParseDecimalRefuses) {
  struct Case {
    const char* name;
    const char* text;
    int64_t scale;
  };
  const std::vector<Case> cases = {
      {"empty", "", 100},
      {"lone_minus", "-", 100},
      {"lone_plus", "+", 100},
      {"two_points", "1.2.3", 100},
      {"two_points_adjacent", "1..2", 100},
      {"trailing_point", "1.", 100},
      {"lone_point", ".", 100},
      {"sign_and_point", "-.", 100},
      {"letter", "1a", 100},
      {"exponent", "1e5", 100},
      {"comma", "1,50", 100},
      {"leading_space", " 1", 100},
      {"trailing_space", "1 ", 100},
      {"double_sign", "--1", 100},
      {"sign_after_digits", "1-", 100},
      {"too_many_decimals", "1.234", 100},
      {"too_many_decimals_zero", "1.000", 100},
      {"decimals_for_scale_one", "1.5", 1},
      {"decimals_for_scale_one_zero", "1.0", 1},
      {"overflow_int64_max_plus_one", "9223372036854775808", 1},
      {"overflow_below_int64_min", "-9223372036854775809", 1},
      {"overflow_scaled", "92233720368547758.08", 100},
      {"overflow_scaled_integer", "92233720368547759", 100},
      {"overflow_padding", "92233720368547758", 1000},
      {"overflow_huge", "99999999999999999999999999", 1},
      {"invalid_scale", "1", 3},
      {"zero_scale", "1", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Result<Amount> r = ParseDecimal(c.text, c.scale);
    EXPECT_FALSE(r.ok()) << "parsed as " << (r.ok() ? r.value().minor() : 0);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(AmountTest, FormatDecimalExact) {
  struct Case {
    int64_t minor;
    int64_t scale;
    const char* want;
  };
  const std::vector<Case> cases = {
      {-5, 100, "-0.05"},
      {5, 100, "0.05"},
      {0, 100, "0.00"},
      {1234, 100, "12.34"},
      {-1234, 100, "-12.34"},
      {10000, 100, "100.00"},
      {7, 1, "7"},
      {-7, 1, "-7"},
      {0, 1, "0"},
      {15, 10, "1.5"},
      {1, 1000000000, "0.000000001"},
      {kMax, 100, "92233720368547758.07"},
      {kMin, 100, "-92233720368547758.08"},
      {kMin, 1, "-9223372036854775808"},
      {kMax, 1000000000, "9223372036.854775807"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(FormatDecimal(Amount(c.minor), c.scale), c.want);
  }
}

TEST(AmountTest, DecimalRoundTrips) {
  const std::vector<int64_t> values = {
      0,       1,        -1,         5,    -5,   9,        10,       99,          100,       101,
      1234567, -1234567, 1000000000, kMax, kMin, kMax - 1, kMin + 1, -1000000001, 999999999, 42};
  int64_t scale = 1;
  for (int d = 0; d <= 9; ++d, scale *= 10) {
    for (int64_t v : values) {
      SCOPED_TRACE(std::to_string(v) + " @ " + std::to_string(scale));
      const std::string text = FormatDecimal(Amount(v), scale);
      const Result<Amount> back = ParseDecimal(text, scale);
      ASSERT_TRUE(back.ok()) << text << ": " << back.status().ToString();
      EXPECT_EQ(back.value(), Amount(v)) << text;
      // Text -> amount -> text is also exact for canonical text.
      EXPECT_EQ(FormatDecimal(back.value(), scale), text);
    }
  }
}

// ---- Wide ids --------------------------------------------------------------------------

TEST(WideIdTest, HexRoundTrip) {
  const RequestId id = RequestId::FromParts(0x0123456789abcdefull, 0xfedcba9876543210ull);
  EXPECT_EQ(id.ToHex(), "0123456789abcdeffedcba9876543210");
  EXPECT_EQ(id.bytes()[0], 0x01);  // big-endian: text order is byte order
  EXPECT_EQ(id.bytes()[15], 0x10);
  const auto back = RequestId::FromHex(id.ToHex());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, id);
  const auto upper = RequestId::FromHex("0123456789ABCDEFFEDCBA9876543210");
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(*upper, id);

  const std::vector<RequestId> ids = {RequestId(), RequestId::FromParts(0, 1),
                                      RequestId::FromParts(UINT64_MAX, UINT64_MAX),
                                      RequestId::FromParts(1, 0)};
  for (const RequestId& r : ids) {
    SCOPED_TRACE(r.ToHex());
    EXPECT_EQ(r.ToHex().size(), 32u);
    const auto rt = RequestId::FromHex(r.ToHex());
    ASSERT_TRUE(rt.has_value());
    EXPECT_EQ(*rt, r);
  }
  EXPECT_TRUE(RequestId().zero());
  EXPECT_TRUE(RequestId::FromParts(0, 0).zero());
  EXPECT_FALSE(RequestId::FromParts(0, 1).zero());
  EXPECT_LT(RequestId::FromParts(0, UINT64_MAX), RequestId::FromParts(1, 0));
}

TEST(WideIdTest, BadHexRefused) {
  const std::vector<std::string> bad = {
      "",
      "0",
      "0123456789abcdeffedcba987654321",    // 31 digits
      "0123456789abcdeffedcba98765432100",  // 33 digits
      "0123456789abcdeffedcba987654321g",   // not hex
      "0x23456789abcdeffedcba9876543210",   // prefix
      " 123456789abcdeffedcba9876543210",   // space
      "0123456789abcdeffedcba987654321-",
      std::string(32, 'z'),
      std::string("0123456789abcdef\0edcba9876543210", 32),
  };
  for (const std::string& s : bad) {
    SCOPED_TRACE(s);
    EXPECT_FALSE(RequestId::FromHex(s).has_value());
    EXPECT_FALSE(TransferId::FromHex(s).has_value());
  }
}

TEST(WideIdTest, DeriveTransferIdDeterministicAndDistinct) {
  EnsureSodium();
  const RequestId r1 = RequestId::FromParts(0xA1, 1);
  const RequestId r2 = RequestId::FromParts(0xA1, 2);
  EXPECT_EQ(DeriveTransferId(r1, 0), DeriveTransferId(r1, 0));
  EXPECT_EQ(DeriveTransferId(r2, 7), DeriveTransferId(r2, 7));
  std::set<TransferId> seen;
  for (const RequestId& r : {r1, r2, RequestId::FromParts(0, 1), RequestId::FromParts(1, 0)}) {
    for (uint32_t leg : {0u, 1u, 2u, 3u, 255u, 256u, 65536u, UINT32_MAX}) {
      const TransferId t = DeriveTransferId(r, leg);
      EXPECT_FALSE(t.zero());
      // A transfer id is not the request id's bytes.
      EXPECT_NE(t.bytes(), r.bytes());
      EXPECT_TRUE(seen.insert(t).second) << r.ToHex() << " leg " << leg;
    }
  }
  EXPECT_EQ(seen.size(), 32u);
}

// ---- Outcomes --------------------------------------------------------------------------

TEST(OutcomeTest, NamesAndNumbersUnique) {
  int count = 0;
  const Outcome* all = AllOutcomes(&count);
  ASSERT_NE(all, nullptr);
  ASSERT_GT(count, 40);
  std::set<std::string> names;
  std::set<uint16_t> numbers;
  for (int i = 0; i < count; ++i) {
    const Outcome o = all[i];
    const std::string name = OutcomeName(o);
    const auto number = static_cast<uint16_t>(o);
    SCOPED_TRACE(name);
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(name.find("unknown"), std::string::npos);
    for (char ch : name) {
      EXPECT_TRUE((ch >= 'a' && ch <= 'z') || ch == '_') << "not snake case";
    }
    EXPECT_TRUE(names.insert(name).second) << "duplicate name";
    EXPECT_TRUE(numbers.insert(number).second) << "duplicate number";
    if (i > 0) {
      EXPECT_LT(static_cast<uint16_t>(all[i - 1]), number) << "not in numeric order";
    }
  }
  EXPECT_EQ(all[0], Outcome::kOk);
  EXPECT_STREQ(OutcomeName(Outcome::kOk), "ok");
  EXPECT_STREQ(OutcomeName(Outcome::kInsufficientFunds), "insufficient_funds");
  EXPECT_STREQ(OutcomeName(static_cast<Outcome>(999)), "unknown_outcome");
  // Stable numbers that the proto mirrors.
  EXPECT_EQ(static_cast<uint16_t>(Outcome::kExists), 1);
  EXPECT_EQ(static_cast<uint16_t>(Outcome::kInsufficientFunds), 80);
  EXPECT_EQ(static_cast<uint16_t>(Outcome::kLimitReached), 101);
  EXPECT_EQ(static_cast<uint16_t>(Outcome::kOverpayment), 111);
  EXPECT_TRUE(numbers.contains(static_cast<uint16_t>(Outcome::kLimitReached)));
}

TEST(OutcomeTest, Classification) {
  int count = 0;
  const Outcome* all = AllOutcomes(&count);
  for (int i = 0; i < count; ++i) {
    const auto n = static_cast<uint16_t>(all[i]);
    SCOPED_TRACE(OutcomeName(all[i]));
    const bool malformed_loan =
        all[i] == Outcome::kInvalidTerms || all[i] == Outcome::kInvalidGroup;
    EXPECT_EQ(IsInvalidInput(all[i]), (n >= 10 && n < 30) || (n >= 150 && n < 160) || (n >= 170 && n < 180) ||
                                        malformed_loan);
    EXPECT_EQ(IsCommitted(all[i]), all[i] == Outcome::kOk || all[i] == Outcome::kExists);
  }
  EXPECT_TRUE(IsInvalidInput(Outcome::kAmountNotPositive));
  EXPECT_TRUE(IsInvalidInput(Outcome::kInvalidKind));
  EXPECT_FALSE(IsInvalidInput(Outcome::kInsufficientFunds));
  EXPECT_FALSE(IsInvalidInput(Outcome::kNoDeployment));
  EXPECT_TRUE(IsInvalidInput(Outcome::kInvalidTerms));
  EXPECT_FALSE(IsInvalidInput(Outcome::kBorrowerInArrears));
}

}  // namespace
}  // namespace ayni
