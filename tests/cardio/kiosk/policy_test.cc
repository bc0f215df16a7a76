// The offline policy and the kiosk settings: every verdict, every duration form.
#include "cardio/kiosk/policy.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "cardio/kiosk/config.h"

namespace ayni::cardio::kiosk {
namespace {

TEST(PolicyTest, EveryVerdict) {
  const OfflinePolicy policy{3600, 7200};
  const uint64_t now = 1'000'000;
  struct Case {
    const char* name;
    uint64_t fetched_s;
    std::optional<uint64_t> oldest_unsent_s;
    bool ok;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"fresh, nothing queued", now - 10, std::nullopt, true, ""},
      {"never synced", 0, std::nullopt, false, "no deny-list"},
      {"deny-list at the limit", now - 3600, std::nullopt, true, ""},
      {"deny-list one second too old", now - 3601, std::nullopt, false, "deny-list is 1h 0m"},
      {"unsent at the limit", now - 10, now - 7200, true, ""},
      {"unsent too old", now - 10, now - 7201, false, "oldest receipt"},
      {"clock behind the sync", now + 500, now + 500, true, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Status st = CheckOfflinePolicy(policy, c.fetched_s, c.oldest_unsent_s, now);
    EXPECT_EQ(st.ok(), c.ok) << st.message();
    if (!c.ok) {
      EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
      EXPECT_EQ(st.message().rfind("go online: sync first", 0), 0u) << st.message();
      EXPECT_NE(st.message().find(c.message_part), std::string::npos) << st.message();
    }
  }
}

TEST(PolicyTest, Durations) {
  EXPECT_EQ(*ParseDuration("90", "d"), 90u);
  EXPECT_EQ(*ParseDuration("90s", "d"), 90u);
  EXPECT_EQ(*ParseDuration("30m", "d"), 1800u);
  EXPECT_EQ(*ParseDuration("24h", "d"), 86400u);
  EXPECT_EQ(*ParseDuration("3d", "d"), 259200u);
  for (const char* bad : {"", "h", "1.5h", "-1h", "1w", "1 h", "99999999999d"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseDuration(bad, "--max-unsent-age").ok());
  }
  EXPECT_NE(ParseDuration("1w", "--max-unsent-age").status().message().find("--max-unsent-age"),
            std::string::npos);
  EXPECT_EQ(FormatDuration(45), "45s");
  EXPECT_EQ(FormatDuration(90061), "1d 1h 1m");
}

TEST(ConfigTest, FileThenFlags) {
  KioskSettings s;
  const Status st = ApplyConfigText(s,
                                    "# kiosk\n"
                                    "terminal_id = 7e000000000000000000000000000001\n"
                                    "kiosk_id=4\n"
                                    "  server = bank.example:7443  \n"
                                    "\n"
                                    "max_deny_list_age = 12h\n"
                                    "scale = 1000\n");
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(s.identity.terminal_id.ToHex(), "7e000000000000000000000000000001");
  EXPECT_EQ(s.identity.kiosk_id, 4u);
  EXPECT_EQ(s.server, "bank.example:7443");
  EXPECT_EQ(s.identity.policy.max_deny_list_age_s, 43200u);
  EXPECT_EQ(s.identity.policy.max_unsent_age_s, 72u * 3600);  // the default
  EXPECT_EQ(s.identity.scale, 1000);
  ASSERT_TRUE(ApplySetting(s, "server", "127.0.0.1:1").ok());  // a flag wins
  EXPECT_EQ(s.server, "127.0.0.1:1");

  struct Bad {
    const char* text;
    const char* part;
  };
  for (const Bad& b : std::vector<Bad>{{"terminal_id = 00000000000000000000000000000000", "line 1"},
                                       {"x\n", "key = value"},
                                       {"\ncolour = red", "line 2: unknown setting"},
                                       {"scale = 12", "power of ten"},
                                       {"kiosk_id = -1", "kiosk_id"},
                                       {"max_unsent_age = soon", "duration"}}) {
    SCOPED_TRACE(b.text);
    KioskSettings t;
    const Status bad = ApplyConfigText(t, b.text);
    EXPECT_FALSE(bad.ok());
    EXPECT_NE(bad.message().find(b.part), std::string::npos) << bad.message();
  }
}

}  // namespace
}  // namespace ayni::cardio::kiosk
