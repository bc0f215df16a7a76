// WorkPool: a few threads that run posted tasks, for CPU work the writer thread and the
// gRPC threads should not do alone — above all the Ed25519 verification of offline
// records, which SPEC §9 wants at the verification limit of every core.
//
// Post is thread-safe; tasks run in any order on any pool thread; Stop runs the tasks
// already posted, then joins. Tasks must not throw (a throw is swallowed) and must not
// block on the writer.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ayni::server::service {

class WorkPool {
 public:
  // `threads` 0: one per hardware thread (at least 1, at most kWorkPoolThreadsMax).
  explicit WorkPool(size_t threads = 0);
  ~WorkPool();  // Stop()
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // False when stopped (the task is dropped and never runs).
  [[nodiscard]] bool Post(std::function<void()> task);
  void Stop();
  size_t size() const { return threads_.size(); }

  // Runs each(begin, end) over [0, n) split into at most size() chunks of at least
  // `chunk_min` items each, in parallel, then done() once on the thread that finished
  // last. A chunk the pool no longer takes (stopping) runs on the calling thread. n 0:
  // done() at once.
  void ForEachChunk(size_t n, size_t chunk_min, std::function<void(size_t, size_t)> each,
                    std::function<void()> done);

 private:
  void Run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::vector<std::thread> threads_;
};

// Bounds the pool: more threads than this only add contention on a 2–16 core server.
inline constexpr size_t kWorkPoolThreadsMax = 16;

}  // namespace ayni::server::service
