// The receipt log: durable appends, exactly once, a torn tail ignored with a warning and
// cut off, corruption elsewhere refused, marks that survive a restart.
#include "cardio/kiosk/receipt_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/cardio/card_fixture.h"
#include "tests/cardio/kiosk/kiosk_test_support.h"

namespace ayni::cardio::kiosk {
namespace {

// A debit record signed by a test card key (the log does not verify; the kiosk does).
SignedRecord Debit(uint32_t counter, int64_t amount = 100) {
  static const KeyPair card = KeyPairFromSeed(cardio::testing::FilledSeed(0x33));
  OfflineRecord r;
  r.type = RecordType::kDebit;
  r.scheme_id = 1;
  r.card_id = cardio::testing::TestCardId();
  r.counter = counter;
  r.amount = Amount(amount);
  r.balance_after = Amount(100000 - amount * counter);
  r.terminal_id = cardio::testing::TestTerminal();
  r.terminal_sequence = counter;
  r.terminal_time_s = cardio::testing::kNow;
  r.offline_amount = Amount(amount * counter);
  r.offline_count = counter;
  return {r, SignWithPrefix(card, kRecordPrefix, EncodeRecordBody(r))};
}

off_t SizeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_size;
}

void AppendRaw(const std::string& path, const Bytes& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::app);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

class ReceiptLogTest : public ::testing::Test {
 protected:
  Result<ReceiptLog> Open() {
    warnings_.clear();
    return ReceiptLog::Open(path_, &warnings_);
  }
  testing::TempDir dir_;
  std::string path_ = dir_.file("receipts.log");
  std::vector<std::string> warnings_;
};

TEST_F(ReceiptLogTest, AddIsOnDiskWhenItReturnsAndExactlyOnce) {
  Result<ReceiptLog> log = Open();
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<bool> first = log.value().Add(Debit(1), 1000);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  // On disk now: a second reader sees it while the first log is still open.
  {
    std::vector<std::string> w;
    Result<ReceiptLog> other = ReceiptLog::Open(path_, &w);
    ASSERT_TRUE(other.ok());
    ASSERT_EQ(other->receipts().size(), 1u);
    EXPECT_EQ(other->receipts()[0].record, Debit(1));
    EXPECT_EQ(other->receipts()[0].taken_s, 1000u);
  }
  Result<bool> again = log.value().Add(Debit(1), 2000);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);  // the same bytes: nothing written
  EXPECT_EQ(SizeOf(path_), static_cast<off_t>(kReceiptEntrySize));
  EXPECT_EQ(log->receipts().size(), 1u);
  EXPECT_TRUE(log->Contains(EncodeSignedRecord(Debit(1))));
  EXPECT_FALSE(log->Contains(EncodeSignedRecord(Debit(2))));
}

TEST_F(ReceiptLogTest, TornTailIsIgnoredWithAWarningAndCutOff) {
  {
    Result<ReceiptLog> log = Open();
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE(log.value().Add(Debit(1), 10).ok());
  }
  const Bytes second =
      EncodeReceiptEntry(ReceiptState::kUnsent, EncodeSignedRecord(Debit(2)), 20, 0, 0);
  struct Case {
    const char* name;
    Bytes tail;
  };
  Bytes bad_sum = second;
  bad_sum.back() ^= 1;
  const std::vector<Case> cases = {
      {"partial entry", Bytes(second.begin(), second.begin() + 100)},
      {"one byte", Bytes(1, 'R')},
      {"whole entry, wrong checksum", bad_sum},
      {"whole entry of zeros", Bytes(kReceiptEntrySize, 0)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    AppendRaw(path_, c.tail);
    Result<ReceiptLog> log = Open();
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_EQ(warnings_.size(), 1u);
    EXPECT_NE(warnings_[0].find("torn"), std::string::npos) << warnings_[0];
    EXPECT_EQ(log->receipts().size(), 1u);
    EXPECT_EQ(SizeOf(path_), static_cast<off_t>(kReceiptEntrySize));  // cut off
  }
  // Appends after a cut land on an entry boundary; a restart sees both, no warning.
  {
    Result<ReceiptLog> log = Open();
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE(log.value().Add(Debit(2), 20).ok());
  }
  Result<ReceiptLog> log = Open();
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE(warnings_.empty());
  EXPECT_EQ(log->receipts().size(), 2u);
}

TEST_F(ReceiptLogTest, CorruptionBeforeTheTailIsDataLoss) {
  {
    Result<ReceiptLog> log = Open();
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE(log.value().Add(Debit(1), 10).ok());
    ASSERT_TRUE(log.value().Add(Debit(2), 20).ok());
  }
  {
    std::fstream f(path_, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(50);
    f.put('\x7f');
  }
  Result<ReceiptLog> log = Open();
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(log.status().message().find("entry 0"), std::string::npos);
  EXPECT_EQ(SizeOf(path_), static_cast<off_t>(2 * kReceiptEntrySize));  // left for repair
}

TEST_F(ReceiptLogTest, MarksSurviveARestart) {
  {
    Result<ReceiptLog> log = Open();
    ASSERT_TRUE(log.ok());
    for (uint32_t i = 1; i <= 3; ++i) ASSERT_TRUE(log.value().Add(Debit(i), 100 * i).ok());
    EXPECT_EQ(log->OldestUnsentTime(), 100u);
    const std::vector<ReceiptMark> marks = {
        {EncodeSignedRecord(Debit(1)), ReceiptState::kSent, 0, 7},
        {EncodeSignedRecord(Debit(3)), ReceiptState::kRejected, 4, 7},
    };
    ASSERT_TRUE(log.value().Mark(marks, 999).ok());
    // A mark for a record not in the log writes nothing.
    const std::vector<ReceiptMark> stray = {
        {EncodeSignedRecord(Debit(9)), ReceiptState::kSent, 0, 8}};
    EXPECT_EQ(log.value().Mark(stray, 999).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(SizeOf(path_), static_cast<off_t>(5 * kReceiptEntrySize));
  }
  Result<ReceiptLog> log = Open();
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->receipts().size(), 3u);
  EXPECT_EQ(log->receipts()[0].state, ReceiptState::kSent);
  EXPECT_EQ(log->receipts()[0].batch_sequence, 7u);
  EXPECT_EQ(log->receipts()[1].state, ReceiptState::kUnsent);
  EXPECT_EQ(log->receipts()[2].state, ReceiptState::kRejected);
  EXPECT_EQ(log->receipts()[2].reject, 4);
  ASSERT_EQ(log->Unsent().size(), 1u);
  EXPECT_EQ(log->Unsent()[0]->record, Debit(2));
  EXPECT_EQ(log->OldestUnsentTime(), 200u);
  // A mark again (a re-upload answered DUPLICATE) is harmless.
  const std::vector<ReceiptMark> again = {
      {EncodeSignedRecord(Debit(2)), ReceiptState::kSent, 0, 8}};
  ASSERT_TRUE(log.value().Mark(again, 1000).ok());
  EXPECT_FALSE(log->OldestUnsentTime().has_value());
}

}  // namespace
}  // namespace ayni::cardio::kiosk
