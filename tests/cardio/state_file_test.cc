// ayni-vcard's state file: atomic creation, private mode, two slots so that a torn save
// falls back to the previous state, and refusal of damaged files.
#include "cardio/vcard/state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "cardio/channel.h"
#include "cardio/purse_client.h"
#include "tests/cardio/card_fixture.h"

namespace ayni::cardio {
namespace {

class StateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ayni-state-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/card.state";
  }
  void TearDown() override {
    std::remove(path_.c_str());
    std::remove((path_ + ".tmp").c_str());
    rmdir(dir_.c_str());
  }
  void Flip(long offset) {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(offset);
    const char c = static_cast<char>(f.get());
    f.seekp(offset);
    f.put(static_cast<char>(c ^ 0x5a));
  }
  std::string dir_, path_;
};

TEST_F(StateFileTest, MissingFileIsABlankCard) {
  auto r = LoadCardState(path_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_value());
}

TEST_F(StateFileTest, SaveReplacesAtomicallyWithPrivateMode) {
  SeededRandom random(3);
  PurseApplet applet(random);
  AppletChannel channel(applet);
  PurseClient client(channel);
  (void)testing::Personalise(client, testing::TestBank());
  ASSERT_TRUE(SaveCardState(path_, applet.state()).ok());
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);                   // it holds the card's private key
  EXPECT_NE(access((path_ + ".tmp").c_str(), F_OK), 0);  // no temporary left behind
  auto loaded = LoadCardState(path_);
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  EXPECT_EQ(**loaded, applet.state());

  // A second save replaces the first entirely.
  ASSERT_TRUE(client
                  .CreditLoad(testing::TokenFor(client, testing::TestBank(), Amount(77),
                                                testing::LoadNumber(1)))
                  ->ok());
  ASSERT_TRUE(SaveCardState(path_, applet.state()).ok());
  auto again = LoadCardState(path_);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->balance, Amount(77));
}

// Every save after the first rewrites the slot that does not hold the newest state, so a
// write torn by a crash leaves the previous state readable, and the file never changes size.
TEST_F(StateFileTest, ATornSaveFallsBackToThePreviousState) {
  SeededRandom random(5);
  PurseApplet applet(random);
  AppletChannel channel(applet);
  PurseClient client(channel);
  (void)testing::Personalise(client, testing::TestBank());
  ASSERT_TRUE(SaveCardState(path_, applet.state()).ok());  // generation 1, slot 0
  const CardState first = applet.state();
  ASSERT_TRUE(client
                  .CreditLoad(testing::TokenFor(client, testing::TestBank(), Amount(50),
                                                testing::LoadNumber(1)))
                  ->ok());
  ASSERT_TRUE(SaveCardState(path_, applet.state()).ok());  // generation 2, slot 1
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(static_cast<size_t>(st.st_size), 2 * kStateSlotBytes);
  auto newest = LoadCardState(path_);
  ASSERT_TRUE(newest.ok() && newest->has_value());
  EXPECT_EQ((*newest)->balance, Amount(50));

  Flip(static_cast<long>(kStateSlotBytes) + 100);  // the save of generation 2, torn
  auto fallback = LoadCardState(path_);
  ASSERT_TRUE(fallback.ok() && fallback->has_value()) << fallback.status().ToString();
  EXPECT_EQ(**fallback, first);

  // The next save goes over the torn slot; the one it falls back to stays intact.
  ASSERT_TRUE(SaveCardState(path_, applet.state()).ok());
  Flip(100);  // now tear slot 0 (generation 1): slot 1 holds generation 2 again
  auto repaired = LoadCardState(path_);
  ASSERT_TRUE(repaired.ok() && repaired->has_value()) << repaired.status().ToString();
  EXPECT_EQ((*repaired)->balance, Amount(50));
}

TEST_F(StateFileTest, DamagedFilesAreRefused) {
  SeededRandom random(4);
  PurseApplet applet(random);
  ASSERT_TRUE(SaveCardState(path_, applet.state()).ok());
  Flip(40);  // inside the first slot's state: its checksum fails, and the other is empty
  auto flipped = LoadCardState(path_);
  ASSERT_FALSE(flipped.ok());
  EXPECT_EQ(flipped.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(flipped.status().message().find(path_), std::string::npos);
  ASSERT_EQ(truncate(path_.c_str(), 10), 0);
  EXPECT_EQ(LoadCardState(path_).status().code(), StatusCode::kDataLoss);
  // A directory that does not exist: an operational failure naming the path.
  const Status st = SaveCardState(dir_ + "/missing/card.state", applet.state());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("missing"), std::string::npos);
}

}  // namespace
}  // namespace ayni::cardio
