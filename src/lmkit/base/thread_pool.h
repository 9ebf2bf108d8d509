// A fixed pool of worker threads shared by all kernels. The calling thread takes part as
// thread 0, so a pool of size 1 runs everything inline. Workers spin briefly before sleeping
// because a decode step issues hundreds of short parallel regions.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace lmkit {

class ThreadPool {
 public:
  // n_threads <= 0 means one per available core.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(thread_index) once on each thread, thread_index in [0, size()); returns when all
  // calls have returned. Not reentrant: fn must not call run() on the same pool.
  void run(const std::function<void(int)>& fn);

  // Splits [0, n) into size() contiguous chunks of near-equal length and calls
  // fn(begin, end) for each non-empty chunk.
  template <class F>
  void parallel_for(int64_t n, F&& fn) {
    if (n <= 0) return;
    if (n_threads_ == 1 || n == 1) {
      fn(int64_t{0}, n);
      return;
    }
    run([&](int t) {
      int64_t begin = n * t / n_threads_;
      int64_t end = n * (t + 1) / n_threads_;
      if (begin < end) fn(begin, end);
    });
  }

  static int default_thread_count();

 private:
  void worker_loop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace lmkit
