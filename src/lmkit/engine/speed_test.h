// Prefill and decode throughput measured the way llama-bench does: "pp" runs a prompt of
// n_prompt random tokens through an empty cache in batches, "tg" generates n_gen tokens one at
// a time from an empty cache. Each test is repeated and averaged after one warm-up pass.
#pragma once
#include <cstdint>

namespace lmkit {
class CausalLM;
class ThreadPool;
}  // namespace lmkit

namespace lmkit::engine {

struct SpeedTestOptions {
  int64_t n_prompt = 512;
  int64_t n_gen = 128;
  int64_t batch = 512;  // prompt tokens per forward pass
  int repetitions = 1;
  uint64_t seed = 1;  // for the random token ids
};

struct SpeedStat {
  double mean_tokens_per_s = 0;
  double stddev_tokens_per_s = 0;
};

struct SpeedTestResult {
  SpeedStat prefill;  // zero when n_prompt == 0
  SpeedStat decode;   // zero when n_gen == 0
};

// Throws lmkit::Error when n_prompt or n_gen exceed the model's positions or are negative.
SpeedTestResult run_speed_test(CausalLM& model, ThreadPool& pool, const SpeedTestOptions& options);

}  // namespace lmkit::engine
