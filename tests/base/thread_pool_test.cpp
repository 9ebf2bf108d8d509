#include "lmkit/base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace lmkit {
namespace {

TEST(ThreadPool, ParallelForCoversRangeExactlyOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      for (int rep = 0; rep < 50; ++rep)
        pool.parallel_for(n, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) hits[i]++;
        });
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 50) << "n=" << n << " i=" << i;
    }
  }
}

TEST(ThreadPool, RunCallsEveryThreadIndexOnce) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> seen(3);
  for (int rep = 0; rep < 1000; ++rep) pool.run([&](int t) { seen[t]++; });
  for (auto& s : seen) EXPECT_EQ(s.load(), 1000);
}

}  // namespace
}  // namespace lmkit
