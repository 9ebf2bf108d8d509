// The scheduler against Generator (same request, same result, whatever the batch), its prefix
// cache, preemption, cancellation, queue bound, timeouts, shutdown and configuration errors.
#include "lmkit/engine/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <dirent.h>
#include <limits>
#include <random>
#include <span>
#include <thread>

#include "engine/scheduler_test_support.h"
#include "lmkit/base/error.h"
#include "lmkit/base/thread_pool.h"
#include "lmkit/engine/loaded_model.h"
#include "lmkit/models/model.h"
#include "support/test_data.h"

namespace lmkit::engine {
namespace {

using testing::Collector;
using testing::expect_same_as_generator;
using testing::Outcome;

// Both models are tiny Llamas with a 512-token vocabulary: llama-tiny (random weights, no
// tokenizer: ids only, max_position 256) and stories260K (pretrained, with a vocabulary:
// text, stop strings).
class SchedulerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tiny_ = new LoadedModel(load_model(lmkit::testing::data_path("models/llama-tiny")));
    stories_ = new LoadedModel(
        load_model(lmkit::testing::data_path("stories260K/stories260K.gguf")));
    // One thread: the kernels run inline. Their batch invariance across thread counts is
    // tested in tests/kernels; here a spinning pool would only slow a loaded machine down.
    pool_ = new ThreadPool(1);
  }
  static void TearDownTestSuite() {
    delete tiny_;
    delete stories_;
    delete pool_;
  }

  static std::vector<int32_t> random_prompt(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<int32_t> ids(n);
    for (auto& id : ids) id = static_cast<int32_t>(3 + rng() % 509);  // not bos/eos
    return ids;
  }

  static GenerateOptions greedy(int64_t max_tokens) {
    GenerateOptions o;
    o.sampling.temperature = 0;
    o.max_tokens = max_tokens;
    o.eos_token_ids = tiny_->eos_token_ids();
    return o;
  }

  // What Generator gives for each request alone on a fresh sequence.
  static std::vector<GenerateResult> reference(const LoadedModel& m,
                                               const std::vector<std::vector<int32_t>>& prompts,
                                               const std::vector<GenerateOptions>& options) {
    Generator gen(m.model(), m.tokenizer(), *pool_, m.context_size());
    std::vector<GenerateResult> out;
    for (size_t i = 0; i < prompts.size(); ++i) {
      Sequence seq = gen.new_sequence();
      out.push_back(gen.generate(seq, prompts[i], options[i]));
    }
    return out;
  }

  static Request request(std::vector<int32_t> prompt, GenerateOptions options) {
    Request r;
    r.prompt = std::move(prompt);
    r.options = std::move(options);
    return r;
  }

  static EngineConfig small_config() {
    EngineConfig c;
    c.kv_cache_bytes = 1 << 24;
    return c;
  }

  static LoadedModel* tiny_;
  static LoadedModel* stories_;
  static ThreadPool* pool_;
};

LoadedModel* SchedulerTest::tiny_ = nullptr;
LoadedModel* SchedulerTest::stories_ = nullptr;
ThreadPool* SchedulerTest::pool_ = nullptr;

int count_threads() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}

TEST_F(SchedulerTest, OneRequestEqualsGeneratorWithTextStopsAndLogprobs) {
  const LoadedModel& m = *stories_;
  std::vector<std::vector<int32_t>> prompts;
  std::vector<GenerateOptions> options;
  auto base = [&] {
    GenerateOptions o;
    o.eos_token_ids = m.eos_token_ids();
    o.max_tokens = 40;
    return o;
  };
  // Greedy with logprobs; sampled with a seed and every penalty; a stop string; no limit.
  GenerateOptions o = base();
  o.sampling.temperature = 0;
  o.logprobs = 3;
  prompts.push_back(m.tokenize("Once upon a time"));
  options.push_back(o);
  o = base();
  o.sampling.temperature = 0.9f;
  o.sampling.top_k = 40;
  o.sampling.top_p = 0.9f;
  o.sampling.min_p = 0.02f;
  o.sampling.repetition_penalty = 1.1f;
  o.sampling.presence_penalty = 0.3f;
  o.sampling.frequency_penalty = 0.2f;
  o.sampling.seed = 1234;
  o.logprobs = 2;
  prompts.push_back(m.tokenize("The little dog"));
  options.push_back(o);
  o = base();
  o.sampling.temperature = 0;
  o.stop = {"Lily", "park."};
  prompts.push_back(m.tokenize("Once upon a time"));
  options.push_back(o);
  o = base();
  o.sampling.temperature = 0.7f;
  o.sampling.seed = 7;
  o.max_tokens = -1;  // up to an end token or the context
  prompts.push_back(m.tokenize("Tom had a red ball."));
  options.push_back(o);
  const auto want = reference(m, prompts, options);

  for (size_t i = 0; i < prompts.size(); ++i) {
    Collector c;
    Scheduler s(m, *pool_, small_config());
    s.submit(request(prompts[i], options[i]), c.callback(0));
    ASSERT_TRUE(c.wait_finished(1));
    expect_same_as_generator(c.get(0), want[i], "request " + std::to_string(i));
    EXPECT_EQ(c.get(0).last.cached_prompt_tokens, 0);
  }
  EXPECT_EQ(want[2].finish_reason, FinishReason::StopString) << "the stop case must stop";
}

TEST_F(SchedulerTest, SixteenMixedRequestsInOneBatchEqualEachAlone) {
  const LoadedModel& m = *tiny_;
  std::vector<std::vector<int32_t>> prompts;
  std::vector<GenerateOptions> options;
  for (int i = 0; i < 16; ++i) {
    // Lengths from 1 to 226 so prefill chunks of 64 mix with decodes of the short ones.
    prompts.push_back(random_prompt(static_cast<size_t>(1 + (i * 37) % 226), 100 + i));
    GenerateOptions o = greedy(8 + i % 5 * 6);
    o.ignore_eos = i % 2 == 0;
    if (i % 3 == 0) {
      o.sampling.temperature = 0.8f;
      o.sampling.seed = static_cast<uint64_t>(i);
    }
    if (i % 4 == 1) o.logprobs = 2;
    options.push_back(o);
  }
  const auto want = reference(m, prompts, options);

  EngineConfig cfg = small_config();
  cfg.prefill_chunk = 64;
  cfg.prefix_caching = false;
  Collector c;
  Scheduler s(m, *pool_, cfg);
  std::vector<Request> reqs;
  std::vector<EventCallback> cbs;
  for (int i = 0; i < 16; ++i) {
    reqs.push_back(request(prompts[i], options[i]));
    cbs.push_back(c.callback(i));
  }
  s.submit_all(std::move(reqs), std::move(cbs));
  ASSERT_TRUE(c.wait_finished(16));
  for (int i = 0; i < 16; ++i)
    expect_same_as_generator(c.get(i), want[i], "request " + std::to_string(i));
  const SchedulerStats st = s.stats();
  EXPECT_EQ(st.requests_finished, 16);
  EXPECT_EQ(st.preemptions, 0);
  EXPECT_EQ(st.kv_blocks_free, st.kv_blocks_total) << "without prefix caching all blocks return";
  // Batching happened: far fewer forward passes than the requests alone would need.
  int64_t alone_steps = 0;
  for (int i = 0; i < 16; ++i)
    alone_steps += (static_cast<int64_t>(prompts[i].size()) + 63) / 64 +
                   static_cast<int64_t>(want[i].ids.size());
  EXPECT_LT(st.steps, alone_steps / 2);
}

TEST_F(SchedulerTest, ResentConversationIsServedFromThePrefixCache) {
  const LoadedModel& m = *tiny_;
  EngineConfig cfg = small_config();
  const int64_t bs = cfg.block_size;
  Collector c1, c2, c3, c4;  // outlive the scheduler, whose thread calls into them
  Scheduler s(m, *pool_, cfg);

  // Turn 1: a 100-token prompt, 20 generated tokens.
  std::vector<int32_t> turn1 = random_prompt(100, 1);
  GenerateOptions o = greedy(20);
  o.ignore_eos = true;
  s.submit(request(turn1, o), c1.callback(0));
  ASSERT_TRUE(c1.wait_finished(1));
  const Outcome first = c1.get(0);
  EXPECT_EQ(first.last.cached_prompt_tokens, 0);
  ASSERT_EQ(first.ids.size(), 20u);

  // Turn 2 resends the history (prompt + reply) plus a new message. The cache holds every
  // position turn 1 computed: its prompt and all but the last generated token.
  std::vector<int32_t> turn2 = turn1;
  turn2.insert(turn2.end(), first.ids.begin(), first.ids.end());
  const std::vector<int32_t> extra = random_prompt(30, 2);
  turn2.insert(turn2.end(), extra.begin(), extra.end());
  const int64_t computed = 100 + 20 - 1;
  const int64_t expected_cached = std::min(computed / bs, (static_cast<int64_t>(turn2.size()) - 1) / bs) * bs;
  const auto want = reference(m, {turn2}, {o});

  s.submit(request(turn2, o), c2.callback(0));
  ASSERT_TRUE(c2.wait_finished(1));
  EXPECT_EQ(c2.get(0).last.cached_prompt_tokens, expected_cached);
  expect_same_as_generator(c2.get(0), want[0], "turn 2 from the cache");

  // The same prompt again: now every full block but the one holding the last token hits.
  s.submit(request(turn2, o), c3.callback(0));
  ASSERT_TRUE(c3.wait_finished(1));
  EXPECT_EQ(c3.get(0).last.cached_prompt_tokens, (static_cast<int64_t>(turn2.size()) - 1) / bs * bs);
  expect_same_as_generator(c3.get(0), want[0], "turn 2 resent");

  // A different prompt shares nothing.
  s.submit(request(random_prompt(50, 3), o), c4.callback(0));
  ASSERT_TRUE(c4.wait_finished(1));
  EXPECT_EQ(c4.get(0).last.cached_prompt_tokens, 0);

  const SchedulerStats st = s.stats();
  EXPECT_EQ(st.cached_prompt_tokens, expected_cached + (static_cast<int64_t>(turn2.size()) - 1) / bs * bs);
  EXPECT_GT(st.kv_blocks_cached, 0);
  EXPECT_EQ(st.kv_blocks_free + st.kv_blocks_cached, st.kv_blocks_total)
      << "once idle, every block is free or held only by the prefix cache";
}

TEST_F(SchedulerTest, ChoicesOfOnePromptComputeItOnce) {
  const LoadedModel& m = *tiny_;
  const std::vector<int32_t> prompt = random_prompt(100, 50);
  std::vector<GenerateOptions> options;
  for (int i = 0; i < 4; ++i) {
    GenerateOptions o = greedy(10);
    o.ignore_eos = true;
    o.sampling.temperature = 0.9f;
    o.sampling.seed = 10 + static_cast<uint64_t>(i);  // n choices differ by their seeds
    options.push_back(o);
  }
  const auto want = reference(m, {prompt, prompt, prompt, prompt}, options);
  EngineConfig cfg = small_config();
  cfg.prefill_chunk = 48;  // the first choice's prefill spans three steps
  Collector c;
  Scheduler s(m, *pool_, cfg);
  std::vector<Request> reqs;
  std::vector<EventCallback> cbs;
  for (int i = 0; i < 4; ++i) {
    reqs.push_back(request(prompt, options[i]));
    cbs.push_back(c.callback(i));
  }
  s.submit_all(std::move(reqs), std::move(cbs));
  ASSERT_TRUE(c.wait_finished(4));
  EXPECT_EQ(c.get(0).last.cached_prompt_tokens, 0);
  for (int i = 0; i < 4; ++i) {
    expect_same_as_generator(c.get(i), want[i], "choice " + std::to_string(i));
    // The others waited for the first one's blocks instead of computing them again.
    if (i > 0) EXPECT_EQ(c.get(i).last.cached_prompt_tokens, 96);
  }
}

TEST_F(SchedulerTest, ZeroMaxTokensFinishesWithoutAForwardPassAndCachingOffNeverHits) {
  const LoadedModel& m = *tiny_;
  EngineConfig cfg = small_config();
  cfg.prefix_caching = false;
  Collector c;
  Scheduler s(m, *pool_, cfg);
  s.submit(request(random_prompt(40, 60), greedy(0)), c.callback(0));
  ASSERT_TRUE(c.wait_finished(1));
  EXPECT_EQ(c.get(0).n_events, 1);
  EXPECT_EQ(c.get(0).last.finish_reason, FinishReason::MaxTokens);
  EXPECT_EQ(c.get(0).last.prompt_tokens, 40);
  EXPECT_TRUE(c.get(0).ids.empty());
  EXPECT_EQ(s.stats().steps, 0);
  // The same 40-token prompt twice, with caching off: nothing is served from a cache.
  GenerateOptions o = greedy(3);
  o.ignore_eos = true;
  s.submit(request(random_prompt(40, 60), o), c.callback(1));
  ASSERT_TRUE(c.wait_finished(2));
  s.submit(request(random_prompt(40, 60), o), c.callback(2));
  ASSERT_TRUE(c.wait_finished(3));
  EXPECT_EQ(c.get(2).last.cached_prompt_tokens, 0);
  EXPECT_EQ(c.get(2).ids, c.get(1).ids);
  EXPECT_EQ(s.stats().kv_blocks_cached, 0);
}

// Prompt scoring (echo + logprobs): the log-probability of each prompt token after the first
// must equal what Generator reports when that token is the next one after the prompt's prefix
// (Generator alone on a fresh sequence, last-row logits only: an independent path).
std::vector<PositionLogprobs> prompt_scores_by_generator(const LoadedModel& m, ThreadPool& pool,
                                                          const std::vector<int32_t>& prompt, int32_t top_n) {
  Generator gen(m.model(), m.tokenizer(), pool, m.context_size());
  const auto vocab = static_cast<int32_t>(m.model().config().vocab_size);
  std::vector<PositionLogprobs> out;
  for (size_t p = 1; p < prompt.size(); ++p) {
    GenerateOptions o;
    o.max_tokens = 1;
    o.logprobs = vocab;  // the whole distribution, to find prompt[p] in it
    o.ignore_eos = true;
    Sequence seq = gen.new_sequence();
    const std::vector<int32_t> prefix(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(p));
    const GenerateResult r = gen.generate(seq, prefix, o);
    const auto& all = r.logprobs.at(0).top;
    PositionLogprobs want;
    want.chosen = *std::find_if(all.begin(), all.end(), [&](const TokenLogprob& t) { return t.id == prompt[p]; });
    want.top.assign(all.begin(), all.begin() + top_n);
    out.push_back(want);
  }
  return out;
}

TEST_F(SchedulerTest, PromptLogprobsEqualGeneratorsNextTokenLogprobs) {
  const LoadedModel& m = *tiny_;
  const auto prompt = random_prompt(150, 77);  // three 64-token scored chunks
  const auto want = prompt_scores_by_generator(m, *pool_, prompt, 3);
  EngineConfig cfg = small_config();
  Collector c;
  Scheduler s(m, *pool_, cfg);
  // The same prompt first without scoring, so its blocks sit in the prefix cache: scoring
  // must compute them anyway.
  GenerateOptions o = greedy(5);
  o.ignore_eos = true;
  s.submit(request(prompt, o), c.callback(0));
  ASSERT_TRUE(c.wait_finished(1));
  // Scored alongside two unscored requests, one scoring only (max_tokens 0).
  std::vector<Request> reqs;
  reqs.push_back(request(prompt, o));
  reqs.back().prompt_logprobs = 3;
  reqs.push_back(request(random_prompt(90, 78), o));
  reqs.push_back(request(prompt, greedy(0)));
  reqs.back().prompt_logprobs = 3;
  std::vector<EventCallback> cbs = {c.callback(1), c.callback(2), c.callback(3)};
  s.submit_all(std::move(reqs), std::move(cbs));
  ASSERT_TRUE(c.wait_finished(4));
  for (int k : {1, 3}) {
    SCOPED_TRACE("request " + std::to_string(k));
    const Outcome got = c.get(k);
    EXPECT_EQ(got.events_with_prompt_logprobs, 1);
    testing::expect_same_logprobs(got.prompt_logprobs, want);
    EXPECT_EQ(got.last.cached_prompt_tokens, 0);
  }
  EXPECT_EQ(c.get(1).ids, c.get(0).ids) << "scoring the prompt changed the generated tokens";
  EXPECT_TRUE(c.get(3).ids.empty());
  EXPECT_EQ(c.get(3).last.finish_reason, FinishReason::MaxTokens);
  EXPECT_TRUE(c.get(2).prompt_logprobs.empty());
  EXPECT_THROW(
      {
        Request bad = request(prompt, o);
        bad.prompt_logprobs = -2;
        s.submit(std::move(bad), {});
      },
      Error);
}

TEST_F(SchedulerTest, PromptLogprobsSurvivePreemption) {
  const LoadedModel& m = *tiny_;
  EngineConfig cfg;
  cfg.context_size = 128;
  cfg.block_size = 16;
  cfg.kv_cache_bytes = static_cast<int64_t>(KvCache::bytes_per_block(m.model().config(), 16)) * 8;
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 4; ++i) prompts.push_back(random_prompt(static_cast<size_t>(40 + 9 * i), 500 + i));
  Collector c;
  Scheduler s(m, *pool_, cfg);
  std::vector<Request> reqs;
  std::vector<EventCallback> cbs;
  GenerateOptions o = greedy(60);
  o.ignore_eos = true;
  for (int i = 0; i < 4; ++i) {
    reqs.push_back(request(prompts[static_cast<size_t>(i)], o));
    reqs.back().prompt_logprobs = 1;
    cbs.push_back(c.callback(i));
  }
  s.submit_all(std::move(reqs), std::move(cbs));
  ASSERT_TRUE(c.wait_finished(4));
  EXPECT_GT(s.stats().preemptions, 0);
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE("request " + std::to_string(i));
    EXPECT_EQ(c.get(i).events_with_prompt_logprobs, 1);
    testing::expect_same_logprobs(c.get(i).prompt_logprobs,
                                  prompt_scores_by_generator(m, *pool_, prompts[static_cast<size_t>(i)], 1));
  }
}

TEST_F(SchedulerTest, PreemptionUnderATinyCacheCompletesEveryRequestUnchanged) {
  const LoadedModel& m = *tiny_;
  std::vector<std::vector<int32_t>> prompts;
  std::vector<GenerateOptions> options;
  for (int i = 0; i < 6; ++i) {
    prompts.push_back(random_prompt(static_cast<size_t>(20 + 7 * i), 300 + i));
    GenerateOptions o = greedy(60);
    o.ignore_eos = true;
    if (i % 2) {
      o.sampling.temperature = 1.0f;
      o.sampling.seed = 99 + static_cast<uint64_t>(i);
      o.sampling.repetition_penalty = 1.2f;
    }
    options.push_back(o);
  }
  const auto want = reference(m, prompts, options);

  EngineConfig cfg;
  cfg.context_size = 128;
  cfg.block_size = 16;
  // Exactly one full-length sequence (8 blocks); six sequences growing to 80-115 positions.
  cfg.kv_cache_bytes = static_cast<int64_t>(KvCache::bytes_per_block(m.model().config(), 16)) * 8;
  for (bool caching : {true, false}) {
    SCOPED_TRACE(caching ? "with prefix caching" : "without prefix caching");
    cfg.prefix_caching = caching;
    Collector c;
    Scheduler s(m, *pool_, cfg);
    EXPECT_EQ(s.kv_capacity_tokens(), 128);
    std::vector<Request> reqs;
    std::vector<EventCallback> cbs;
    for (int i = 0; i < 6; ++i) {
      reqs.push_back(request(prompts[i], options[i]));
      cbs.push_back(c.callback(i));
    }
    s.submit_all(std::move(reqs), std::move(cbs));
    ASSERT_TRUE(c.wait_finished(6));
    for (int i = 0; i < 6; ++i)
      expect_same_as_generator(c.get(i), want[i], "request " + std::to_string(i));
    const SchedulerStats st = s.stats();
    EXPECT_GT(st.preemptions, 0) << "the cache is too small for all six at once";
    EXPECT_EQ(st.kv_blocks_free + st.kv_blocks_cached, st.kv_blocks_total);
    if (!caching) {
      EXPECT_EQ(st.kv_blocks_cached, 0);
    }
  }
}

TEST_F(SchedulerTest, ManyClientsWithCancelsAndRejectionsLeakNothing) {
  const LoadedModel& m = *tiny_;
  EngineConfig cfg;
  cfg.context_size = 128;
  cfg.max_batch_size = 8;
  cfg.max_waiting = 12;
  cfg.prefill_chunk = 40;
  cfg.kv_cache_bytes = static_cast<int64_t>(KvCache::bytes_per_block(m.model().config(), 16)) * 12;
  Collector c;  // outlives the scheduler, whose thread calls into it
  Scheduler s(m, *pool_, cfg);
  std::atomic<int> accepted{0}, rejected{0};
  // Four client threads, 16 requests each, sharing a prefix half of the time; every third
  // request is cancelled right after submission, while it may be queued, prefilling or decoding.
  auto client = [&](int t) {
    std::mt19937 rng(static_cast<uint32_t>(t));
    for (int i = 0; i < 16; ++i) {
      const int key = t * 16 + i;
      std::vector<int32_t> prompt = random_prompt(static_cast<size_t>(5 + rng() % 60), rng() % 2 ? 1u : 2000u + key);
      prompt.push_back(static_cast<int32_t>(3 + key));
      GenerateOptions o = greedy(static_cast<int64_t>(1 + rng() % 40));
      o.ignore_eos = key % 2 == 0;
      try {
        const uint64_t id = s.submit(request(std::move(prompt), o), c.callback(key));
        ++accepted;
        if (key % 3 == 0) s.cancel(id);
      } catch (const QueueFullError&) {
        ++rejected;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(client, t);
  for (auto& th : threads) th.join();
  ASSERT_TRUE(c.wait_finished(accepted.load()));
  EXPECT_EQ(accepted + rejected, 64);
  const SchedulerStats st = s.stats();
  EXPECT_EQ(st.requests_submitted, accepted.load());
  EXPECT_EQ(st.requests_rejected, rejected.load());
  EXPECT_EQ(st.requests_finished, accepted.load());
  EXPECT_EQ(st.running, 0);
  EXPECT_EQ(st.waiting, 0);
  EXPECT_EQ(st.kv_blocks_free + st.kv_blocks_cached, st.kv_blocks_total) << "no block leaked";
}

TEST_F(SchedulerTest, CancelEndsARequestWithinOneStepAndFreesItsBlocks) {
  const LoadedModel& m = *tiny_;
  EngineConfig cfg = small_config();
  cfg.prefix_caching = false;
  Collector c;
  Scheduler s(m, *pool_, cfg);
  GenerateOptions o = greedy(200);
  o.ignore_eos = true;
  // Each request cancels itself from its first event (callbacks may call cancel()): the
  // cancellation is seen before the next step, so no further token is produced.
  std::vector<uint64_t> ids(4);
  std::atomic<int> submitted{0};
  for (int i = 0; i < 4; ++i) {
    auto self_cancel = [&, i](const Event& ev) {
      if (!ev.finished && submitted.load() == 4) s.cancel(ids[i]);
    };
    // Submitted while the scheduler runs: ids are written before `submitted` reaches 4.
    ids[i] = s.submit(request(random_prompt(static_cast<size_t>(10 + i), 400 + i), o),
                      c.callback(i, self_cancel));
    ++submitted;
  }
  ASSERT_TRUE(c.wait_finished(4));
  for (int i = 0; i < 4; ++i) {
    const Outcome out = c.get(i);
    EXPECT_EQ(out.last.finish_reason, FinishReason::Cancelled);
    EXPECT_TRUE(out.last.error.empty()) << out.last.error;
    EXPECT_LT(out.ids.size(), 200u);
  }
  const SchedulerStats st = s.stats();
  EXPECT_EQ(st.kv_blocks_free, st.kv_blocks_total);
  EXPECT_EQ(st.running, 0);
  EXPECT_EQ(st.waiting, 0);
  s.cancel(ids[0]);  // finished already: ignored
  s.cancel(12345);   // unknown: ignored
}

TEST_F(SchedulerTest, CancelFromTheCallbackStopsBeforeTheNextToken) {
  const LoadedModel& m = *tiny_;
  Collector c;
  Scheduler s(m, *pool_, small_config());
  GenerateOptions o = greedy(200);
  o.ignore_eos = true;
  std::atomic<uint64_t> id{0};
  std::mutex id_mutex;
  std::condition_variable id_set;
  auto cancel_on_third = [&](const Event& ev) {
    if (ev.finished || ev.completion_tokens != 3) return;
    std::unique_lock lock(id_mutex);
    id_set.wait(lock, [&] { return id.load() != 0; });
    s.cancel(id.load());
  };
  const uint64_t got = s.submit(request(random_prompt(12, 5), o), c.callback(0, cancel_on_third));
  {
    std::lock_guard lock(id_mutex);
    id = got;
  }
  id_set.notify_all();
  ASSERT_TRUE(c.wait_finished(1));
  const Outcome out = c.get(0);
  EXPECT_EQ(out.last.finish_reason, FinishReason::Cancelled);
  EXPECT_EQ(out.ids.size(), 3u) << "cancelled within one step: no token after the third";
}

TEST_F(SchedulerTest, FullQueueIsRefusedAndCounted) {
  const LoadedModel& m = *tiny_;
  EngineConfig cfg = small_config();
  cfg.max_batch_size = 1;
  cfg.max_waiting = 2;
  Collector c;
  Scheduler s(m, *pool_, cfg);
  GenerateOptions o = greedy(5);
  o.ignore_eos = true;
  // The first request's first event holds the scheduler thread until the test has filled the
  // queue, so nothing leaves the queue meanwhile.
  std::mutex gate_mutex;
  std::condition_variable gate_cv;
  bool open = false;
  auto hold = [&](const Event& ev) {
    if (ev.completion_tokens != 1 || ev.finished) return;
    std::unique_lock lock(gate_mutex);
    gate_cv.wait(lock, [&] { return open; });
  };
  s.submit(request(random_prompt(8, 6), o), c.callback(0, hold));
  ASSERT_TRUE(c.wait_events(0, 1));
  s.submit(request(random_prompt(8, 7), o), c.callback(1));
  s.submit(request(random_prompt(8, 8), o), c.callback(2));
  EXPECT_THROW(s.submit(request(random_prompt(8, 9), o), c.callback(3)), QueueFullError);
  // All or nothing: two more do not fit either, even though one would.
  {
    std::vector<Request> two;
    two.push_back(request(random_prompt(8, 10), o));
    two.push_back(request(random_prompt(8, 11), o));
    std::vector<EventCallback> cbs{c.callback(4), c.callback(5)};
    EXPECT_THROW(s.submit_all(std::move(two), std::move(cbs)), QueueFullError);
  }
  EXPECT_EQ(s.stats().requests_rejected, 3);
  {
    std::lock_guard lock(gate_mutex);
    open = true;
  }
  gate_cv.notify_all();
  ASSERT_TRUE(c.wait_finished(3));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.get(i).ids.size(), 5u);
  EXPECT_EQ(s.stats().requests_submitted, 3);
}

TEST_F(SchedulerTest, TimedOutRequestsFinishCancelledWithAReason) {
  const LoadedModel& m = *tiny_;
  EngineConfig cfg = small_config();
  cfg.max_batch_size = 1;
  Collector c;
  Scheduler s(m, *pool_, cfg);
  GenerateOptions o = greedy(5);
  o.ignore_eos = true;
  std::mutex gate_mutex;
  std::condition_variable gate_cv;
  bool open = false;
  auto hold = [&](const Event& ev) {
    if (ev.completion_tokens != 1 || ev.finished) return;
    std::unique_lock lock(gate_mutex);
    gate_cv.wait(lock, [&] { return open; });
  };
  s.submit(request(random_prompt(8, 12), o), c.callback(0, hold));
  ASSERT_TRUE(c.wait_events(0, 1));
  Request late = request(random_prompt(8, 13), o);
  late.timeout_ms = 1;
  const auto submitted = std::chrono::steady_clock::now();
  s.submit(std::move(late), c.callback(1));
  // Let its deadline pass while the scheduler is held (waiting for wall time, not for a
  // condition another thread sets).
  while (std::chrono::steady_clock::now() < submitted + std::chrono::milliseconds(5))
    std::this_thread::yield();
  {
    std::lock_guard lock(gate_mutex);
    open = true;
  }
  gate_cv.notify_all();
  ASSERT_TRUE(c.wait_finished(2));
  EXPECT_EQ(c.get(0).last.finish_reason, FinishReason::MaxTokens);
  const Outcome timed_out = c.get(1);
  EXPECT_EQ(timed_out.last.finish_reason, FinishReason::Cancelled);
  EXPECT_NE(timed_out.last.error.find("timed out after 1 ms"), std::string::npos)
      << timed_out.last.error;
  EXPECT_TRUE(timed_out.ids.empty());
}

TEST_F(SchedulerTest, ShutdownCancelsEverythingAndLeavesNoThread) {
  const LoadedModel& m = *tiny_;
  const int threads_before = count_threads();
  Collector c;
  {
    EngineConfig cfg = small_config();
    cfg.max_batch_size = 2;
    Scheduler s(m, *pool_, cfg);
    EXPECT_EQ(count_threads(), threads_before + 1) << "one scheduler thread";
    GenerateOptions o = greedy(-1);
    o.ignore_eos = true;  // ~250 tokens each: runs to the full context unless stopped
    // Request 0's first event holds the scheduler thread until shutdown is about to be
    // called, so every request is still in flight (at most a step or two runs before the
    // scheduler sees the shutdown).
    std::mutex gate_mutex;
    std::condition_variable gate_cv;
    bool open = false;
    auto hold = [&](const Event& ev) {
      if (ev.completion_tokens != 1 || ev.finished) return;
      std::unique_lock lock(gate_mutex);
      gate_cv.wait(lock, [&] { return open; });
    };
    for (int i = 0; i < 5; ++i)
      s.submit(request(random_prompt(8, 20 + i), o), c.callback(i, i == 0 ? std::function<void(const Event&)>(hold) : nullptr));
    ASSERT_TRUE(c.wait_events(0, 1));
    {
      std::lock_guard lock(gate_mutex);
      open = true;
    }
    gate_cv.notify_all();
    s.shutdown();
    EXPECT_EQ(count_threads(), threads_before) << "shutdown joins the scheduler thread";
    for (int i = 0; i < 5; ++i) {
      const Outcome out = c.get(i);
      ASSERT_TRUE(out.finished) << "request " << i << " got its final event before shutdown returned";
      EXPECT_EQ(out.last.finish_reason, FinishReason::Cancelled);
      EXPECT_EQ(out.last.error, "the server is shutting down");
    }
    EXPECT_THROW(s.submit(request(random_prompt(8, 30), o), c.callback(9)), QueueFullError);
    s.shutdown();  // idempotent
  }
  EXPECT_EQ(count_threads(), threads_before);
}

TEST_F(SchedulerTest, DestroyingAnIdleSchedulerJoinsItsThread) {
  const int threads_before = count_threads();
  { Scheduler s(*tiny_, *pool_, small_config()); }
  EXPECT_EQ(count_threads(), threads_before);
}

TEST_F(SchedulerTest, BadRequestsAreRefusedOnSubmitWithTheReason) {
  const LoadedModel& m = *tiny_;
  EngineConfig cfg = small_config();
  cfg.context_size = 64;
  Collector c;
  Scheduler s(m, *pool_, cfg);
  auto message = [&](Request r) -> std::string {
    try {
      s.submit(std::move(r), c.callback(0));
    } catch (const QueueFullError&) {
      return "queue full?";
    } catch (const Error& e) {
      return e.what();
    }
    return "accepted";
  };
  GenerateOptions o = greedy(4);
  EXPECT_NE(message(request({}, o)).find("the prompt is empty"), std::string::npos);
  EXPECT_NE(message(request(random_prompt(65, 1), o)).find("65 tokens but the context holds only 64"),
            std::string::npos);
  EXPECT_NE(message(request({5, 512}, o)).find("outside the vocabulary [0, 512)"), std::string::npos);
  GenerateOptions with_stop = o;
  with_stop.stop = {"x"};
  EXPECT_NE(message(request({5}, with_stop)).find("need a tokenizer"), std::string::npos);
  GenerateOptions bad_temp = o;
  bad_temp.sampling.temperature = -1;
  EXPECT_NE(message(request({5}, bad_temp)).find("temperature"), std::string::npos);
  Request bad_timeout = request({5}, o);
  bad_timeout.timeout_ms = -5;
  EXPECT_NE(message(std::move(bad_timeout)).find("timeout_ms"), std::string::npos);
  // One bad request in a group refuses the whole group.
  std::vector<Request> group;
  group.push_back(request({5, 6}, o));
  group.push_back(request({}, o));
  std::vector<EventCallback> cbs{c.callback(1), c.callback(2)};
  EXPECT_THROW(s.submit_all(std::move(group), std::move(cbs)), Error);
  EXPECT_EQ(s.stats().requests_submitted, 0);
}

TEST_F(SchedulerTest, ConfigurationErrorsSayWhatToChange) {
  const LoadedModel& m = *tiny_;
  auto message = [&](EngineConfig cfg) -> std::string {
    try {
      Scheduler s(m, *pool_, cfg);
    } catch (const Error& e) {
      return e.what();
    }
    return "accepted";
  };
  const auto per_block =
      static_cast<int64_t>(KvCache::bytes_per_block(m.model().config(), 16));
  EngineConfig cfg;
  cfg.context_size = 256;
  cfg.kv_cache_bytes = per_block * 10;  // 160 positions
  const std::string too_small = message(cfg);
  EXPECT_NE(too_small.find("the KV cache holds 160 positions"), std::string::npos) << too_small;
  EXPECT_NE(too_small.find("context_size = 256"), std::string::npos) << too_small;
  EXPECT_NE(too_small.find("at least " + std::to_string(per_block * 16) + " bytes"),
            std::string::npos)
      << too_small;
  cfg = EngineConfig{};
  cfg.context_size = 257;
  EXPECT_NE(message(cfg).find("max_position 256"), std::string::npos);
  cfg = EngineConfig{};
  cfg.max_batch_size = 0;
  EXPECT_NE(message(cfg).find("max_batch_size"), std::string::npos);
  cfg = EngineConfig{};
  cfg.prefill_chunk = 0;
  EXPECT_NE(message(cfg).find("prefill_chunk"), std::string::npos);
  cfg = EngineConfig{};
  cfg.kv_cache_fraction = 1.5;
  EXPECT_NE(message(cfg).find("kv_cache_fraction"), std::string::npos);

  // The default sizing: a fraction of free memory, capped at 2 x max_batch_size contexts.
  cfg = EngineConfig{};
  cfg.max_batch_size = 3;
  Scheduler s(m, *pool_, cfg);
  EXPECT_EQ(s.context_size(), 256);
  EXPECT_LE(s.kv_capacity_tokens(), 2 * 3 * 256);
  EXPECT_GE(s.kv_capacity_tokens(), 256);
  EXPECT_EQ(s.kv_cache_bytes(), s.kv_capacity_tokens() / 16 * per_block);
  EXPECT_EQ(s.config().kv_cache_bytes, s.kv_cache_bytes());
}

TEST_F(SchedulerTest, ConstraintMasksEveryChoice) {
  const LoadedModel& m = *tiny_;
  // Allows only ids 10..13 and the end token; counts what it is told was chosen.
  struct OnlyFew : LogitsConstraint {
    std::vector<int32_t>* accepted;
    explicit OnlyFew(std::vector<int32_t>* a) : accepted(a) {}
    void mask(std::span<float> logits) override {
      for (size_t i = 0; i < logits.size(); ++i)
        if (!((i >= 10 && i <= 13) || i == 2)) logits[i] = -std::numeric_limits<float>::infinity();
    }
    void accept(int32_t token) override { accepted->push_back(token); }
  };
  std::vector<int32_t> accepted;
  Collector c;
  Scheduler s(m, *pool_, small_config());
  Request r = request(random_prompt(9, 40), greedy(30));
  r.options.sampling.temperature = 1.0f;
  r.options.sampling.seed = 3;
  r.constraint = std::make_unique<OnlyFew>(&accepted);
  s.submit(std::move(r), c.callback(0));
  ASSERT_TRUE(c.wait_finished(1));
  const Outcome out = c.get(0);
  ASSERT_FALSE(out.ids.empty());
  for (int32_t id : out.ids) EXPECT_TRUE(id >= 10 && id <= 13) << id;
  // Every sampled token was reported, the end token too when it ended generation.
  std::vector<int32_t> expected = out.ids;
  if (out.last.finish_reason == FinishReason::EndOfSequence) expected.push_back(out.last.eos_token);
  EXPECT_EQ(accepted, expected);
}

}  // namespace
}  // namespace lmkit::engine
