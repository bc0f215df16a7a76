// The ISO 7816-4 short APDU codec: every case, every malformed shape, and status words.
#include "cardio/apdu.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace ayni::cardio {
namespace {

struct ParseCase {
  const char* name;
  Bytes bytes;
  bool ok;
  size_t data_size = 0;
  std::optional<uint16_t> le;
};

TEST(ApduTest, ParseCommandEveryShape) {
  Bytes case3 = {0x80, 0x50, 0, 0, 3, 1, 2, 3};
  Bytes case4 = case3;
  case4.push_back(0x0C);
  Bytes longest = {0x80, 0x42, 0, 0, 0xFF};
  longest.resize(5 + 255, 0xAB);
  longest.push_back(0x00);
  Bytes lc_short = {0x80, 0x50, 0, 0, 4, 1, 2, 3};
  Bytes lc_long = {0x80, 0x50, 0, 0, 1, 1, 2, 3};
  const std::vector<ParseCase> cases = {
      {"empty", {}, false},
      {"three_bytes", {0x80, 0x5C, 0}, false},
      {"case1", {0x80, 0x5C, 0, 0}, true, 0, std::nullopt},
      {"case2", {0x80, 0x5C, 0, 0, 0x24}, true, 0, 0x24},
      {"case2_le00_is_256", {0x80, 0x5C, 0, 0, 0x00}, true, 0, 256},
      {"case3", case3, true, 3, std::nullopt},
      {"case4", case4, true, 3, 0x0C},
      {"case4_longest", longest, true, 255, 256},
      {"extended_lc00", {0x80, 0x50, 0, 0, 0, 0, 1, 1}, false},
      {"lc_more_than_data", lc_short, false},
      {"lc_less_than_data", lc_long, false},
  };
  for (const ParseCase& c : cases) {
    SCOPED_TRACE(c.name);
    Result<CommandApdu> r = ParseCommandApdu(c.bytes);
    ASSERT_EQ(r.ok(), c.ok) << (r.ok() ? "" : r.status().ToString());
    if (!c.ok) {
      EXPECT_FALSE(r.status().message().empty());
      continue;
    }
    EXPECT_EQ(r->data.size(), c.data_size);
    EXPECT_EQ(r->le, c.le);
    EXPECT_EQ(EncodeCommandApdu(*r), c.bytes);  // the shortest form is the only form
  }
}

TEST(ApduTest, ResponseRoundTripAndRefusals) {
  const Bytes data = {1, 2, 3};
  const Bytes wire = EncodeResponseApdu(data, Sw::kInsufficientBalance);
  EXPECT_EQ(wire, (Bytes{1, 2, 3, 0x91, 0x10}));
  Result<ResponseApdu> r = ParseResponseApdu(wire);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data, data);
  EXPECT_EQ(r->sw, Sw::kInsufficientBalance);
  EXPECT_FALSE(ParseResponseApdu(Bytes{0x90}).ok());
  EXPECT_FALSE(ParseResponseApdu(Bytes(259, 0)).ok());
  EXPECT_TRUE(ParseResponseApdu(Bytes(258, 0)).ok());
}

TEST(ApduTest, StatusWordNames) {
  EXPECT_EQ(SwName(Sw::kOk), "9000 ok");
  EXPECT_EQ(SwName(Sw::kGoOnlineCount), "9131 go online: offline payment count cap reached");
  EXPECT_EQ(SwName(WrongLe(0xD2)), "6cd2 wrong Le (use 210)");
  EXPECT_EQ(SwName(static_cast<Sw>(0x1234)), "1234 unknown status word");
  EXPECT_TRUE(IsGoOnline(Sw::kGoOnlineExpired));
  EXPECT_FALSE(IsGoOnline(Sw::kLimitExceeded));
}

}  // namespace
}  // namespace ayni::cardio
