// Helpers for the scheduler tests: collecting a request's events into its whole result, and
// reference results from Generator (the single-sequence engine the scheduler must match).
#pragma once
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "lmkit/engine/generator.h"
#include "lmkit/engine/scheduler.h"

namespace lmkit::engine::testing {

// Everything a request's events added up to.
struct Outcome {
  std::vector<int32_t> ids;
  std::string text;
  std::vector<PositionLogprobs> logprobs;
  std::vector<PositionLogprobs> prompt_logprobs;
  int events_with_prompt_logprobs = 0;
  int n_events = 0;
  int events_after_first = 0;
  bool finished = false;
  Event last;  // the finished event
};

// Collects events per key (any label the test chooses) and lets the test wait, without
// sleeping, until requests have finished. The wait is bounded so a hang fails instead of
// blocking the test run.
class Collector {
 public:
  EventCallback callback(int key, std::function<void(const Event&)> also = {}) {
    return [this, key, also](const Event& ev) {
      {
        std::lock_guard lock(mutex_);
        Outcome& o = outcomes_[key];
        EXPECT_FALSE(o.finished) << "request " << key << " got an event after its final one";
        o.ids.insert(o.ids.end(), ev.ids.begin(), ev.ids.end());
        o.text += ev.text;
        o.logprobs.insert(o.logprobs.end(), ev.logprobs.begin(), ev.logprobs.end());
        if (!ev.prompt_logprobs.empty()) {
          o.prompt_logprobs = ev.prompt_logprobs;
          ++o.events_with_prompt_logprobs;
        }
        if (o.n_events > 0) ++o.events_after_first;
        ++o.n_events;
        EXPECT_EQ(ev.completion_tokens, static_cast<int64_t>(o.ids.size()));
        if (ev.finished) {
          o.finished = true;
          o.last = ev;
          ++n_finished_;
        }
      }
      cv_.notify_all();  // before `also`, which may hold this thread until the test acts
      if (also) also(ev);
    };
  }

  // True when `n` requests have finished within a generous bound.
  bool wait_finished(int n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::minutes(5), [&] { return n_finished_ >= n; });
  }
  bool wait_events(int key, int n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::minutes(5),
                        [&] { return outcomes_[key].n_events >= n; });
  }
  Outcome get(int key) {
    std::lock_guard lock(mutex_);
    return outcomes_[key];
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<int, Outcome> outcomes_;
  int n_finished_ = 0;
};

inline void expect_same_logprobs(const std::vector<PositionLogprobs>& a,
                                 const std::vector<PositionLogprobs>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].chosen.id, b[i].chosen.id);
    EXPECT_EQ(a[i].chosen.logprob, b[i].chosen.logprob) << "position " << i;
    ASSERT_EQ(a[i].top.size(), b[i].top.size());
    for (size_t k = 0; k < a[i].top.size(); ++k) {
      EXPECT_EQ(a[i].top[k].id, b[i].top[k].id);
      EXPECT_EQ(a[i].top[k].logprob, b[i].top[k].logprob);
    }
  }
}

// The scheduler's outcome equals Generator's result for the same request, bit for bit.
inline void expect_same_as_generator(const Outcome& got, const GenerateResult& want,
                                     const std::string& label) {
  SCOPED_TRACE(label);
  ASSERT_TRUE(got.finished);
  EXPECT_EQ(got.ids, want.ids);
  EXPECT_EQ(got.text, want.text);
  EXPECT_EQ(got.last.finish_reason, want.finish_reason);
  EXPECT_EQ(got.last.stop_string, want.stop_string);
  EXPECT_EQ(got.last.eos_token, want.eos_token);
  EXPECT_EQ(got.last.prompt_tokens, want.prompt_tokens);
  EXPECT_EQ(got.last.completion_tokens, static_cast<int64_t>(want.ids.size()));
  EXPECT_TRUE(got.last.error.empty()) << got.last.error;
  expect_same_logprobs(got.logprobs, want.logprobs);
}

}  // namespace lmkit::engine::testing
