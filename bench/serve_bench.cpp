// Continuous batching against one-at-a-time serving, on the engine (no HTTP in the way):
//   bench_serve_bench [SHAPE] [TYPE] [THREADS] [PROMPT_TOKENS] [GEN_TOKENS] [LEVELS...]
// defaults: qwen2.5-0.5b q8_0 2 64 32 1 4 16 64.
// For each concurrency level C: C requests (distinct random prompts, greedy, exactly
// GEN_TOKENS new tokens each) are submitted at once to a Scheduler and run to the end
// ("batched"); then the same C requests go through the same Scheduler one after another, each
// submitted when the previous one finished ("sequential", the reference). Both use one
// Scheduler with prefix caching off, so no request reuses another's work. Reported per level:
// aggregate generated tokens/s of each, their ratio, and the mean and maximum time to first
// token of the batched run. Prints one JSON object per level, then a Markdown table.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/base/thread_pool.h"
#include "lmkit/engine/scheduler.h"
#include "lmkit/models/model.h"
#include "lmkit/tensor/dtype.h"

namespace {

using Clock = std::chrono::steady_clock;
using lmkit::engine::Event;
using lmkit::engine::Request;
using lmkit::engine::Scheduler;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct RunResult {
  double seconds = 0;
  int64_t generated = 0;
  std::vector<double> ttft;  // seconds from submit to the first generated token
};

// Submits `prompts` in groups of `concurrency` at once (1: strictly one after another) and
// waits for each group to finish.
RunResult run(Scheduler& s, const std::vector<std::vector<int32_t>>& prompts, int64_t gen_tokens,
              size_t concurrency) {
  RunResult r;
  const auto t0 = Clock::now();
  for (size_t begin = 0; begin < prompts.size(); begin += concurrency) {
    const size_t end = std::min(prompts.size(), begin + concurrency);
    std::mutex m;
    std::condition_variable cv;
    size_t finished = 0;
    std::vector<Request> reqs;
    std::vector<lmkit::engine::EventCallback> cbs;
    std::vector<double> first(end - begin, -1);
    const auto submitted = Clock::now();
    for (size_t i = begin; i < end; ++i) {
      Request q;
      q.prompt = prompts[i];
      q.options.sampling.temperature = 0;
      q.options.max_tokens = gen_tokens;
      q.options.ignore_eos = true;
      reqs.push_back(std::move(q));
      cbs.push_back([&, k = i - begin](const Event& ev) {
        std::lock_guard lock(m);
        if (first[k] < 0 && !ev.ids.empty()) first[k] = seconds_between(submitted, Clock::now());
        if (ev.finished) {
          r.generated += ev.completion_tokens;
          if (!ev.error.empty()) std::fprintf(stderr, "request failed: %s\n", ev.error.c_str());
          ++finished;
          cv.notify_all();
        }
      });
    }
    s.submit_all(std::move(reqs), std::move(cbs));
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return finished == end - begin; });
    r.ttft.insert(r.ttft.end(), first.begin(), first.end());
  }
  r.seconds = seconds_between(t0, Clock::now());
  return r;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string shape = argc > 1 ? argv[1] : "qwen2.5-0.5b";
  const std::string type = argc > 2 ? argv[2] : "q8_0";
  const int threads = argc > 3 ? std::stoi(argv[3]) : 2;
  const int64_t prompt_tokens = argc > 4 ? std::stoll(argv[4]) : 64;
  const int64_t gen_tokens = argc > 5 ? std::stoll(argv[5]) : 32;
  std::vector<size_t> levels;
  for (int i = 6; i < argc; ++i) levels.push_back(static_cast<size_t>(std::stoul(argv[i])));
  if (levels.empty()) levels = {1, 4, 16, 64};

  auto model = lmkit::make_random_causal_lm(shape, lmkit::dtype_from_name(type), /*seed=*/1);
  lmkit::ThreadPool pool(threads);
  lmkit::engine::EngineConfig cfg;
  cfg.max_batch_size = static_cast<int64_t>(*std::max_element(levels.begin(), levels.end()));
  cfg.context_size = prompt_tokens + gen_tokens;
  cfg.max_waiting = cfg.max_batch_size;
  cfg.prefix_caching = false;
  // Room for every sequence of the largest level at full length: the bench measures batching,
  // not preemption.
  cfg.kv_cache_bytes = static_cast<int64_t>(lmkit::KvCache::bytes_per_block(model->config(), 16)) *
                       cfg.max_batch_size * ((cfg.context_size + 15) / 16);
  Scheduler s(*model, nullptr, pool, cfg);

  std::mt19937 rng(7);
  const auto vocab = static_cast<uint32_t>(model->config().vocab_size);
  // Warm-up (page in the weights, grow the model's scratch buffers): not measured.
  {
    std::vector<std::vector<int32_t>> warm(2, std::vector<int32_t>(static_cast<size_t>(prompt_tokens), 1));
    run(s, warm, gen_tokens, 2);
  }
  std::string table =
      "| streams | batched tok/s | sequential tok/s | ratio | TTFT mean s | TTFT max s |\n"
      "| --- | --- | --- | --- | --- | --- |\n";
  for (size_t level : levels) {
    std::vector<std::vector<int32_t>> prompts(level);
    for (auto& p : prompts) {
      p.resize(static_cast<size_t>(prompt_tokens));
      for (auto& id : p) id = static_cast<int32_t>(rng() % vocab);
    }
    const RunResult batched = run(s, prompts, gen_tokens, level);
    const RunResult sequential = run(s, prompts, gen_tokens, 1);
    const double b = static_cast<double>(batched.generated) / batched.seconds;
    const double q = static_cast<double>(sequential.generated) / sequential.seconds;
    double mean = 0, worst = 0;
    for (double t : batched.ttft) {
      mean += t;
      worst = std::max(worst, t);
    }
    mean /= static_cast<double>(batched.ttft.size());
    nlohmann::json j = {{"shape", shape},          {"type", type},
                        {"threads", threads},      {"prompt_tokens", prompt_tokens},
                        {"gen_tokens", gen_tokens}, {"streams", level},
                        {"batched_tok_s", b},      {"sequential_tok_s", q},
                        {"ratio", b / q},          {"ttft_mean_s", mean},
                        {"ttft_max_s", worst},     {"batched_s", batched.seconds},
                        {"sequential_s", sequential.seconds}};
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    char row[256];
    std::snprintf(row, sizeof row, "| %zu | %.1f | %.1f | %.2fx | %.2f | %.2f |\n", level, b, q,
                  b / q, mean, worst);
    table += row;
  }
  std::printf("\n%s", table.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_serve_bench: %s\n", e.what());
  return 1;
}
