// TaskThread: one thread that runs posted tasks in order. The service uses it for work
// that may block on the database outside the ledger's write path (API key write-through),
// so gRPC threads never block. Post is thread-safe; tasks run one at a time; Stop runs the
// tasks already posted, then joins. Tasks must not throw (a throw is swallowed).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace ayni::server::service {

class TaskThread {
 public:
  TaskThread();
  ~TaskThread();  // Stop()
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;

  // False when stopped (the task is dropped and never runs).
  [[nodiscard]] bool Post(std::function<void()> task);
  void Stop();

 private:
  void Run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::thread thread_;
};

}  // namespace ayni::server::service
