// TaskThread (server/service/task_thread.h): every reply the writer builds is sent through
// one (aynid's finish thread), so its promises are what keeps a call from never being
// answered: tasks run in order, on one thread that is not the caller's; Stop runs what was
// posted before it; a task posted after Stop is refused (false) and never runs, so the
// caller knows to run it itself.
#include "server/service/task_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ayni::server::service {
namespace {

TEST(TaskThreadTest, RunsTasksInOrderOnOneOtherThread) {
  TaskThread t;
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread::id> ids;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(t.Post([&, i] {
      std::lock_guard lk(mu);
      order.push_back(i);
      ids.push_back(std::this_thread::get_id());
    }));
  }
  t.Stop();
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(order[i], i);
  for (const std::thread::id& id : ids) {
    EXPECT_EQ(id, ids[0]);
    EXPECT_NE(id, std::this_thread::get_id());
  }
}

TEST(TaskThreadTest, StopRunsWhatWasPostedThenRefusesTheRest) {
  TaskThread t;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::atomic<int> ran{0};
  ASSERT_TRUE(t.Post([&] {
    gate.wait();  // hold the thread so the next ones are still queued at Stop
    ++ran;
  }));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(t.Post([&] { ++ran; }));
  std::thread stopper([&] { t.Stop(); });
  // Stop has begun or will: either way the ten queued tasks must still run.
  release.set_value();
  stopper.join();
  EXPECT_EQ(ran.load(), 11);
  bool late_ran = false;
  EXPECT_FALSE(t.Post([&] { late_ran = true; }));
  t.Stop();  // idempotent
  EXPECT_FALSE(late_ran);
}

TEST(TaskThreadTest, ATaskThatThrowsDoesNotStopTheOthers) {
  TaskThread t;
  std::atomic<int> ran{0};
  ASSERT_TRUE(t.Post([] { throw 1; }));
  ASSERT_TRUE(t.Post([&] { ++ran; }));
  t.Stop();
  EXPECT_EQ(ran.load(), 1);
}

TEST(TaskThreadTest, StopFromItsOwnTaskDoesNotDeadlock) {
  auto t = std::make_unique<TaskThread>();
  std::promise<void> done;
  ASSERT_TRUE(t->Post([&] {
    t->Stop();  // closes the door; cannot join itself
    done.set_value();
  }));
  done.get_future().wait();
  EXPECT_FALSE(t->Post([] {}));
  t.reset();  // the destructor joins
}

}  // namespace
}  // namespace ayni::server::service
