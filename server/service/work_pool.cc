#include "server/service/work_pool.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <utility>

namespace ayni::server::service {

WorkPool::WorkPool(size_t threads) {
  if (threads == 0) threads = std::thread::hardware_concurrency();
  threads = std::clamp<size_t>(threads, 1, kWorkPoolThreadsMax);
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkPool::~WorkPool() { Stop(); }

bool WorkPool::Post(std::function<void()> task) {
  {
    std::lock_guard lk(mu_);
    if (stop_) return false;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void WorkPool::Stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  }
}

void WorkPool::Run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopped and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (...) {
    }
  }
}

void WorkPool::ForEachChunk(size_t n, size_t chunk_min, std::function<void(size_t, size_t)> each,
                            std::function<void()> done) {
  if (n == 0) {
    done();
    return;
  }
  chunk_min = std::max<size_t>(chunk_min, 1);
  const size_t chunks = std::clamp<size_t>(n / chunk_min, 1, size());
  struct Shared {
    std::function<void(size_t, size_t)> each;
    std::function<void()> done;
    std::atomic<size_t> left;
  };
  auto shared = std::make_shared<Shared>();
  shared->each = std::move(each);
  shared->done = std::move(done);
  shared->left.store(chunks);
  for (size_t c = 0; c < chunks; ++c) {
    const size_t begin = n * c / chunks, end = n * (c + 1) / chunks;
    auto task = [shared, begin, end] {
      shared->each(begin, end);
      if (shared->left.fetch_sub(1) == 1) shared->done();
    };
    if (!Post(task)) task();
  }
}

}  // namespace ayni::server::service
