// The gRPC clients' output (ayni, ayni-kiosk): aligned tables, RFC 4180 CSV, valid JSON, and the
// exit-code mapping.
#include "proto/client/output.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

namespace ayni::cli {
namespace {

bool ValidJsonObject(const std::string& s) {
  google::protobuf::Struct st;
  return google::protobuf::util::JsonStringToMessage(s, &st).ok();
}

TEST(OutputTest, TableAlignsColumnsAndRightAlignsNumbers) {
  Table t({"ID", "NAME", "BALANCE"}, {true, false, true});
  t.AddRow({"1", "Ana", "30.00 PALMA"});
  t.AddRow({"12", "Bia Conceição", "1200.50 PALMA"});
  EXPECT_EQ(t.rows(), 2u);
  EXPECT_EQ(t.RenderText(),
            "ID  NAME                 BALANCE\n"
            " 1  Ana              30.00 PALMA\n"
            "12  Bia Conceição  1200.50 PALMA\n");
}

TEST(OutputTest, TableHasNoTrailingSpaces) {
  Table t({"A", "B"});
  t.AddRow({"long value", ""});
  for (char c : {' '}) {
    const std::string s = t.RenderText();
    EXPECT_EQ(s.find(std::string(1, c) + "\n"), std::string::npos) << s;
  }
}

TEST(OutputTest, CsvQuotesOnlyWhatNeedsIt) {
  Table t({"CODE", "NAME", "NOTE"});
  t.AddRow({"PALMAS", "Banco Palmas, Fortaleza", "say \"oi\""});
  t.AddRow({"SOL", "Banco\nSol", "plain"});
  EXPECT_EQ(t.RenderCsv(),
            "CODE,NAME,NOTE\n"
            "PALMAS,\"Banco Palmas, Fortaleza\",\"say \"\"oi\"\"\"\n"
            "SOL,\"Banco\nSol\",plain\n");
}

TEST(OutputTest, FieldsAreAligned) {
  EXPECT_EQ(RenderFields({{"bank", "PALMAS"}, {"bank id", "1"}}),
            "bank:    PALMAS\n"
            "bank id: 1\n");
}

TEST(OutputTest, JsonIsValidAndEscaped) {
  JsonObject inner;
  inner.Add("amount", "30.00").Add("currency", "PALMA");
  JsonObject o;
  o.Add("command", "pay")
      .Add("detail", std::string("quote \" backslash \\ newline \n tab \t nul ") +
                         std::string(1, '\0') + " bell \x07 é")
      .Add("exit_code", int64_t{2})
      .Add("ok", false)
      .Add("min", int64_t{INT64_MIN})
      .AddRaw("shown", inner.str())
      .AddRaw("list", JsonArray({"1", "\"a\"", inner.str()}))
      .AddRaw("empty", JsonArray({}));
  const std::string s = o.str();
  EXPECT_TRUE(ValidJsonObject(s)) << s;
  EXPECT_NE(s.find("\\u0000"), std::string::npos);
  EXPECT_NE(s.find("\\u0007"), std::string::npos);
  EXPECT_NE(s.find("\"exit_code\":2"), std::string::npos);
  google::protobuf::Struct st;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(s, &st).ok());
  EXPECT_EQ(st.fields().at("command").string_value(), "pay");
  EXPECT_EQ(st.fields().at("shown").struct_value().fields().at("amount").string_value(), "30.00");
  EXPECT_EQ(st.fields().at("list").list_value().values_size(), 3);
  EXPECT_EQ(JsonQuote("é"), "\"é\"");
  EXPECT_FALSE(ValidJsonObject("{\"a\":}"));  // the checker itself can fail
}

TEST(OutputTest, ExitCodes) {
  EXPECT_EQ(ExitCodeForReason(0), kExitOk);       // REASON_OK
  EXPECT_EQ(ExitCodeForReason(1), kExitOk);       // REASON_EXISTS: an identical retry
  EXPECT_EQ(ExitCodeForReason(2), kExitRefused);  // EXISTS_WITH_DIFFERENT_FIELDS
  for (int r : {10, 12, 19, 30, 31, 37, 50, 51, 63, 80, 81, 84, 85, 86, 100, 101}) {
    EXPECT_EQ(ExitCodeForReason(r), kExitRefused) << r;
  }
  EXPECT_EQ(ExitCodeForGrpc(0), kExitOk);
  for (int c = 1; c <= 16; ++c) EXPECT_EQ(ExitCodeForGrpc(c), kExitTransport) << c;
  EXPECT_EQ(GrpcCodeName(14), "UNAVAILABLE");
  EXPECT_EQ(GrpcCodeName(16), "UNAUTHENTICATED");
  EXPECT_EQ(GrpcCodeName(7), "PERMISSION_DENIED");
  EXPECT_EQ(GrpcCodeName(99), "CODE_99");
  // The codes are distinct and stable (scripts branch on them).
  EXPECT_EQ(kExitAuditFault, 1);
  EXPECT_EQ(kExitRefused, 2);
  EXPECT_EQ(kExitTransport, 3);
  EXPECT_EQ(kExitUsage, 64);
}

}  // namespace
}  // namespace ayni::cli
