#include "lmkit/engine/speed_test.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "lmkit/base/error.h"
#include "lmkit/engine/kv_blocks.h"
#include "lmkit/engine/sampling.h"
#include "lmkit/models/model.h"

namespace lmkit::engine {

namespace {

constexpr int64_t kBlockSize = 16;

using Clock = std::chrono::steady_clock;

SpeedStat summarise(const std::vector<double>& rates) {
  SpeedStat s;
  if (rates.empty()) return s;
  double sum = 0;
  for (double r : rates) sum += r;
  s.mean_tokens_per_s = sum / static_cast<double>(rates.size());
  if (rates.size() > 1) {
    double sq = 0;
    for (double r : rates) sq += (r - s.mean_tokens_per_s) * (r - s.mean_tokens_per_s);
    s.stddev_tokens_per_s = std::sqrt(sq / static_cast<double>(rates.size() - 1));
  }
  return s;
}

}  // namespace

SpeedTestResult run_speed_test(CausalLM& model, ThreadPool& pool, const SpeedTestOptions& o) {
  const ModelConfig& config = model.config();
  if (o.n_prompt < 0 || o.n_gen < 0)
    throw_error("bench: prompt and generation lengths must be >= 0");
  if (o.batch <= 0) throw_error("bench: the batch size must be positive");
  if (o.repetitions <= 0) throw_error("bench: repetitions must be positive");
  const int64_t positions = std::max<int64_t>({o.n_prompt, o.n_gen, 1});
  if (positions > config.max_position)
    throw_error("bench: " + std::to_string(positions) + " tokens exceed the model's " +
                std::to_string(config.max_position) + " positions");

  KvBlockAllocator allocator((positions + kBlockSize - 1) / kBlockSize);
  KvCache cache(config, allocator.n_blocks(), kBlockSize);
  std::vector<float> logits(static_cast<size_t>(config.vocab_size));
  Rng rng(o.seed);
  std::vector<int32_t> tokens(static_cast<size_t>(positions));
  for (auto& t : tokens) t = static_cast<int32_t>(rng.next_u64() % static_cast<uint64_t>(config.vocab_size));

  // Runs tokens [begin, begin + n) at positions [begin, begin + n) of `table`.
  auto forward = [&](BlockTable& table, int64_t begin, int64_t n) {
    table.reserve(begin + n);
    SequenceStep step;
    step.tokens = tokens.data() + begin;
    step.n_tokens = n;
    step.start_pos = begin;
    step.block_table = table.blocks().data();
    step.n_table_blocks = static_cast<int64_t>(table.blocks().size());
    model.forward(std::span<const SequenceStep>(&step, 1), cache, logits.data(), pool);
  };

  {
    BlockTable warm(allocator, kBlockSize);
    forward(warm, 0, std::min<int64_t>(positions, std::min<int64_t>(o.batch, 16)));
  }

  SpeedTestResult result;
  std::vector<double> rates;
  if (o.n_prompt > 0) {
    for (int r = 0; r < o.repetitions; ++r) {
      BlockTable table(allocator, kBlockSize);
      const auto t0 = Clock::now();
      for (int64_t done = 0; done < o.n_prompt; done += o.batch)
        forward(table, done, std::min(o.batch, o.n_prompt - done));
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      rates.push_back(static_cast<double>(o.n_prompt) / s);
    }
    result.prefill = summarise(rates);
  }
  rates.clear();
  if (o.n_gen > 0) {
    for (int r = 0; r < o.repetitions; ++r) {
      BlockTable table(allocator, kBlockSize);
      const auto t0 = Clock::now();
      for (int64_t i = 0; i < o.n_gen; ++i) forward(table, i, 1);
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      rates.push_back(static_cast<double>(o.n_gen) / s);
    }
    result.decode = summarise(rates);
  }
  return result;
}

}  // namespace lmkit::engine
