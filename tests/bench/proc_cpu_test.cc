// bench/loadgen/proc_cpu.h: the /proc parsers, and the readers against this process.
#include "bench/loadgen/proc_cpu.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <ctime>

namespace ayni::bench {
namespace {

// A real line's shape (proc(5)): pid (comm) state ppid pgrp session tty tpgid flags minflt
// cminflt majflt cmajflt utime stime cutime cstime priority …
constexpr const char* kLine =
    "4242 (post gres) x) S 17 4242 4242 0 -1 4194368 900 0 0 0 123 45 600 70 20 0 1 0 "
    "5000 100000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcCpu, ParseStatCountsFieldsAfterTheLastParenthesis) {
  const std::optional<StatTicks> t = ParseStat(kLine);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->ppid, 17);
  EXPECT_EQ(t->own, 123u + 45u);
  EXPECT_EQ(t->children, 600u + 70u);
}

TEST(ProcCpu, ParseStatRefusesWhatIsNotAStatLine) {
  for (const char* bad : {"", "4242 no parenthesis S 1 2 3", "4242 (short) S 17 1 2 3",
                          "4242 (x) S 17 4242 4242 0 -1 4194368 900 0 0 0 12a 45 600 70 20",
                          "4242 (x) S -- 4242 4242 0 -1 4194368 900 0 0 0 123 45 600 70 20"}) {
    EXPECT_FALSE(ParseStat(bad).has_value()) << bad;
  }
}

TEST(ProcCpu, ParseMachineBusyLeavesOutIdleAndIowait) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const std::optional<uint64_t> busy =
      ParseMachineBusy("cpu  100 2 30 9000 400 5 6 7 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n");
  ASSERT_TRUE(busy.has_value());
  EXPECT_EQ(*busy, 100u + 2 + 30 + 5 + 6 + 7);
  EXPECT_FALSE(ParseMachineBusy("cpu0 1 2 3 4 5 6 7 8\n").has_value());
  EXPECT_FALSE(ParseMachineBusy("cpu  1 2 3\n").has_value());
}

// Burns CPU until this process's own ticks have grown by `ticks`.
void Burn(uint64_t ticks) {
  const uint64_t start = ParseStat(*ReadSmallFile("/proc/self/stat"))->own;
  volatile uint64_t x = 0;
  while (ParseStat(*ReadSmallFile("/proc/self/stat"))->own < start + ticks) {
    for (int i = 0; i < 1'000'000; ++i) x = x + static_cast<uint64_t>(i);
  }
}

TEST(ProcCpu, ProcessTreeTicksCountsAChildThatExitedInTheWindow) {
  const std::optional<uint64_t> before = ProcessTreeTicks(getpid());
  ASSERT_TRUE(before.has_value());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Burn(20);
    std::_Exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  const std::optional<uint64_t> after = ProcessTreeTicks(getpid());
  ASSERT_TRUE(after.has_value());
  // The child's 20 ticks are in this process's cutime now that it is reaped.
  EXPECT_GE(*after - *before, 20u);
}

TEST(ProcCpu, ProcessTreeTicksCountsALiveChild) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Burn(20);
    const char c = 1;
    (void)!write(ready[1], &c, 1);
    pause();  // alive until killed
    std::_Exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  const std::optional<uint64_t> live = ProcessTreeTicks(getpid());
  const std::optional<StatTicks> self = ParseStat(*ReadSmallFile("/proc/self/stat"));
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(ready[0]);
  close(ready[1]);
  ASSERT_TRUE(live.has_value() && self.has_value());
  EXPECT_GE(*live, self->own + self->children + 20u);  // children: reaped ones only
}

TEST(ProcCpu, ReadersAnswerForThisMachineAndNotForAMissingProcess) {
  EXPECT_TRUE(MachineBusyTicks().has_value());
  EXPECT_FALSE(ProcessTreeTicks(0x3fffffff).has_value());  // above pid_max
}

}  // namespace
}  // namespace ayni::bench
