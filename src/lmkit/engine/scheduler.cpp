#include "lmkit/engine/scheduler.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "lmkit/base/error.h"
#include "lmkit/engine/generation_state.h"
#include "lmkit/engine/loaded_model.h"
#include "lmkit/engine/prefix_cache.h"
#include "lmkit/models/model.h"

namespace lmkit::engine {

namespace {

using Clock = std::chrono::steady_clock;

const char* const kShutdownError = "the server is shutting down";

// One request inside the engine. Created by submit() on the caller's thread, then owned and
// touched only by the scheduler thread.
struct Seq {
  Seq(uint64_t id_, Request r, EventCallback cb, KvBlockAllocator& allocator, int64_t block_size)
      : id(id_), request(std::move(r)), on_event(std::move(cb)), blocks(allocator, block_size) {}

  uint64_t id;
  Request request;
  EventCallback on_event;
  Clock::time_point deadline = Clock::time_point::max();
  std::unique_ptr<GenerationState> gen;  // refers to request.options: Seq never moves
  std::vector<int32_t> tokens;  // prompt + generated ids: what the KV cache must end up holding
  BlockTable blocks;
  int64_t n_computed = 0;           // positions whose K/V are in `blocks`
  std::vector<BlockHash> hashes;    // of the full blocks registered in the prefix cache
  bool admitted_before = false;     // cached_prompt_tokens counts the first admission only
  int64_t cached_prompt_tokens = 0;
  size_t emitted_ids = 0;
  size_t emitted_logprobs = 0;
  std::vector<PositionLogprobs> prompt_logprobs;  // collected while the prompt is computed
  bool prompt_logprobs_sent = false;

  // Prompt tokens still to score (a preempted sequence scores only the ones it has not).
  bool scoring_prompt() const {
    return request.prompt_logprobs >= 0 && prompt_logprobs.size() + 1 < request.prompt.size();
  }
  // Moves the prompt's logprobs into the first event that goes out once they are complete.
  void attach_prompt_logprobs(Event& ev) {
    if (request.prompt_logprobs < 0 || prompt_logprobs_sent || scoring_prompt()) return;
    ev.prompt_logprobs = std::move(prompt_logprobs);
    prompt_logprobs_sent = true;
  }
};

// Scoring a prompt needs a row of logits per position (vocabulary-sized: 600 KB for Qwen), so
// its chunks are kept this short.
constexpr int64_t kScoredChunk = 64;

struct Delivery {
  EventCallback* callback;
  std::unique_ptr<Seq> keep_alive;  // a finished sequence lives until its last event is out
  Event event;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// MemAvailable from /proc/meminfo: the kernel's estimate of what can be allocated without
// swapping (free memory plus reclaimable caches).
int64_t mem_available_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  throw_error("engine: cannot read MemAvailable from /proc/meminfo to size the KV cache; "
              "set the KV cache size in bytes instead");
}

// Blocks the KV cache gets: kv_cache_bytes when set, else kv_cache_fraction of the available
// memory, capped at what 2 x max_batch_size full-length sequences can use.
int64_t kv_cache_blocks(const EngineConfig& config, int64_t block_bytes) {
  if (config.kv_cache_bytes > 0) return config.kv_cache_bytes / block_bytes;
  if (!(config.kv_cache_fraction > 0 && config.kv_cache_fraction <= 1))
    throw_error("engine: kv_cache_fraction must be in (0, 1], got " +
                std::to_string(config.kv_cache_fraction));
  const auto from_memory = static_cast<int64_t>(
      static_cast<double>(mem_available_bytes()) * config.kv_cache_fraction) / block_bytes;
  const int64_t useful = 2 * config.max_batch_size * ceil_div(config.context_size, config.block_size);
  return std::min(from_memory, useful);
}

}  // namespace

struct Scheduler::Impl {
  Impl(CausalLM& model_, const Tokenizer* tokenizer_, ThreadPool& pool_, EngineConfig config_,
       int64_t default_context);
  ~Impl();

  // Any thread.
  std::vector<uint64_t> submit(std::vector<Request> requests, std::vector<EventCallback> cbs);
  void cancel(uint64_t id);
  void shutdown();

  // Scheduler thread.
  void run();
  void step(std::vector<Delivery>& out);
  bool make_room(Seq& seq, int64_t n_positions, bool& preempted_any);
  bool try_admit(int64_t& budget, std::vector<std::pair<Seq*, int64_t>>& plan);
  void preempt_last_running();
  void register_full_blocks(Seq& seq);
  std::optional<BlockHash> next_block_hash(const Seq& seq, const std::vector<BlockHash>& known) const;
  bool computed_by_another(const Seq& seq, const std::vector<BlockHash>& hashes) const;
  void release_blocks(Seq& seq);
  void emit(Seq& seq, std::vector<Delivery>& out);
  void finish(std::unique_ptr<Seq> seq, std::vector<Delivery>& out, const std::string& error);
  void publish_stats();
  void insert_running(std::unique_ptr<Seq> seq);

  CausalLM& model;
  const Tokenizer* tokenizer;
  ThreadPool& pool;
  EngineConfig config;
  int64_t vocab_size;
  int64_t kv_bytes = 0;
  std::unique_ptr<KvCache> cache;
  std::unique_ptr<KvBlockAllocator> allocator;
  std::unique_ptr<PrefixCache> prefix;

  // Shared with the callers' threads, under `mutex`.
  mutable std::mutex mutex;
  std::condition_variable wake;
  std::vector<std::unique_ptr<Seq>> inbox;
  std::vector<uint64_t> cancels;
  bool stopping = false;
  uint64_t next_id = 1;
  int64_t waiting_published = 0;  // waiting.size() as of the last step
  SchedulerStats published;
  std::once_flag joined;

  // Scheduler thread only.
  std::deque<std::unique_ptr<Seq>> waiting;   // preempted ones first, then by arrival
  std::vector<std::unique_ptr<Seq>> running;  // by id: the last is preempted first
  SchedulerStats counters;
  std::vector<float> logits;
  std::vector<float> scratch;
  std::thread thread;
};

Scheduler::Impl::Impl(CausalLM& model_, const Tokenizer* tokenizer_, ThreadPool& pool_,
                      EngineConfig config_, int64_t default_context)
    : model(model_), tokenizer(tokenizer_), pool(pool_), config(config_),
      vocab_size(model_.config().vocab_size) {
  const ModelConfig& mc = model.config();
  if (config.context_size == 0) config.context_size = default_context;
  if (config.context_size <= 0)
    throw_error("engine: context_size must be positive, got " + std::to_string(config.context_size));
  if (config.context_size > mc.max_position)
    throw_error("engine: context_size " + std::to_string(config.context_size) +
                " is over the model's max_position " + std::to_string(mc.max_position));
  if (config.max_batch_size <= 0)
    throw_error("engine: max_batch_size must be positive, got " +
                std::to_string(config.max_batch_size));
  if (config.block_size <= 0)
    throw_error("engine: block_size must be positive, got " + std::to_string(config.block_size));
  if (config.prefill_chunk <= 0)
    throw_error("engine: prefill_chunk must be positive, got " +
                std::to_string(config.prefill_chunk));
  if (config.max_waiting < 0)
    throw_error("engine: max_waiting must be >= 0, got " + std::to_string(config.max_waiting));
  if (config.kv_cache_bytes < 0)
    throw_error("engine: kv_cache_bytes must be >= 0, got " +
                std::to_string(config.kv_cache_bytes));

  const auto block_bytes = static_cast<int64_t>(KvCache::bytes_per_block(mc, config.block_size));
  const int64_t n_blocks = kv_cache_blocks(config, block_bytes);
  const int64_t capacity = n_blocks * config.block_size;
  if (capacity < config.context_size) {
    const int64_t needed_bytes = ceil_div(config.context_size, config.block_size) * block_bytes;
    throw_error("the KV cache holds " + std::to_string(capacity) + " positions (" +
                std::to_string(n_blocks * block_bytes) + " bytes at " +
                std::to_string(block_bytes / config.block_size) +
                " bytes per position) but one sequence may need context_size = " +
                std::to_string(config.context_size) + ": lower the context size to at most " +
                std::to_string(capacity) + " or give the KV cache at least " +
                std::to_string(needed_bytes) + " bytes");
  }
  kv_bytes = n_blocks * block_bytes;
  config.kv_cache_bytes = kv_bytes;
  cache = std::make_unique<KvCache>(mc, n_blocks, config.block_size);
  allocator = std::make_unique<KvBlockAllocator>(n_blocks);
  prefix = std::make_unique<PrefixCache>(*allocator, config.block_size, std::random_device{}());
  scratch.resize(static_cast<size_t>(vocab_size));
  counters.kv_blocks_total = n_blocks;
  counters.kv_blocks_free = n_blocks;
  published = counters;
  thread = std::thread([this] { run(); });
}

Scheduler::Impl::~Impl() { shutdown(); }

std::vector<uint64_t> Scheduler::Impl::submit(std::vector<Request> requests,
                                              std::vector<EventCallback> cbs) {
  if (requests.size() != cbs.size())
    throw_error("submit_all: " + std::to_string(requests.size()) + " requests but " +
                std::to_string(cbs.size()) + " callbacks");
  if (requests.empty()) return {};
  // Validation and the per-request state are built outside the lock: only queueing is shared.
  std::vector<std::unique_ptr<Seq>> seqs;
  const auto now = Clock::now();
  for (size_t i = 0; i < requests.size(); ++i) {
    Request& r = requests[i];
    validate_request(r.prompt, r.options, vocab_size, config.context_size, tokenizer);
    if (r.prompt_logprobs < -1)
      throw_error("prompt_logprobs must be >= 0 (or -1: none), got " + std::to_string(r.prompt_logprobs));
    if (r.timeout_ms < 0)
      throw_error("timeout_ms must be >= 0, got " + std::to_string(r.timeout_ms));
    auto seq = std::make_unique<Seq>(0, std::move(r), std::move(cbs[i]), *allocator,
                                     config.block_size);
    if (seq->request.timeout_ms > 0)
      seq->deadline = now + std::chrono::milliseconds(seq->request.timeout_ms);
    seq->tokens = seq->request.prompt;
    seq->gen = std::make_unique<GenerationState>(seq->request.prompt, seq->request.options,
                                                 tokenizer, config.context_size,
                                                 seq->request.constraint.get());
    seqs.push_back(std::move(seq));
  }
  std::vector<uint64_t> ids;
  {
    std::lock_guard lock(mutex);
    if (stopping) throw QueueFullError(kShutdownError);
    const auto queued = static_cast<int64_t>(inbox.size()) + waiting_published;
    if (queued + static_cast<int64_t>(seqs.size()) > config.max_waiting) {
      published.requests_rejected += static_cast<int64_t>(seqs.size());
      throw QueueFullError("the waiting queue is full (" + std::to_string(queued) + " of " +
                           std::to_string(config.max_waiting) +
                           " requests waiting): retry later");
    }
    for (auto& seq : seqs) {
      seq->id = next_id++;
      ids.push_back(seq->id);
      inbox.push_back(std::move(seq));
    }
    published.requests_submitted += static_cast<int64_t>(ids.size());
    published.waiting += static_cast<int64_t>(ids.size());
  }
  wake.notify_one();
  return ids;
}

void Scheduler::Impl::cancel(uint64_t id) {
  {
    std::lock_guard lock(mutex);
    cancels.push_back(id);
  }
  wake.notify_one();
}

void Scheduler::Impl::shutdown() {
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  wake.notify_one();
  std::call_once(joined, [this] {
    if (thread.joinable()) thread.join();
  });
}

void Scheduler::Impl::run() {
  for (;;) {
    std::vector<uint64_t> to_cancel;
    bool stop = false;
    {
      std::unique_lock lock(mutex);
      if (waiting.empty() && running.empty())
        wake.wait(lock, [&] { return !inbox.empty() || !cancels.empty() || stopping; });
      for (auto& seq : inbox) waiting.push_back(std::move(seq));
      inbox.clear();
      waiting_published = static_cast<int64_t>(waiting.size());  // the queue bound sees them
      to_cancel.swap(cancels);
      stop = stopping;
    }
    std::vector<Delivery> out;
    // Cancellations, timeouts and shutdown end requests before the step, so their blocks are
    // free for it.
    const auto now = Clock::now();
    auto ends = [&](Seq& s, std::string& error) {
      if (stop) {
        error = kShutdownError;
        return true;
      }
      if (std::find(to_cancel.begin(), to_cancel.end(), s.id) != to_cancel.end()) return true;
      if (now >= s.deadline) {
        error = "the request timed out after " + std::to_string(s.request.timeout_ms) + " ms";
        return true;
      }
      return false;
    };
    for (size_t i = 0; i < running.size();) {
      std::string error;
      if (ends(*running[i], error)) {
        auto seq = std::move(running[i]);
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
        finish(std::move(seq), out, error);
      } else {
        ++i;
      }
    }
    for (size_t i = 0; i < waiting.size();) {
      std::string error;
      // A request that was over before it started (max_tokens 0) needs no forward pass,
      // unless its prompt is to be scored.
      if (ends(*waiting[i], error) || (waiting[i]->gen->finished() && !waiting[i]->scoring_prompt())) {
        auto seq = std::move(waiting[i]);
        waiting.erase(waiting.begin() + static_cast<std::ptrdiff_t>(i));
        finish(std::move(seq), out, error);
      } else {
        ++i;
      }
    }
    if (!stop) step(out);
    publish_stats();
    for (Delivery& d : out) {
      if (!*d.callback) continue;
      // The callback is the caller's code; an exception from it must not end the engine
      // thread (every other request would hang). The request's own events are its concern.
      try {
        (*d.callback)(d.event);
      } catch (...) {
      }
    }
    if (stop) return;
  }
}

void Scheduler::Impl::step(std::vector<Delivery>& out) {
  std::vector<std::pair<Seq*, int64_t>> plan;  // sequence, positions to compute this step
  int64_t budget = config.prefill_chunk;
  bool preempted = false;

  // Running sequences first, oldest first: each decoding one gets its token whatever the
  // budget (so the stream never stalls), prefilling ones share what is left of the budget.
  for (size_t i = 0; i < running.size(); ++i) {
    Seq& s = *running[i];
    const int64_t remaining = static_cast<int64_t>(s.tokens.size()) - s.n_computed;
    const int64_t n = remaining == 1 ? 1 : std::min({remaining, budget, s.scoring_prompt() ? kScoredChunk : remaining});
    if (n <= 0) continue;
    if (!make_room(s, s.n_computed + n, preempted)) break;  // it went, and all after it
    plan.emplace_back(&s, n);
    budget = std::max<int64_t>(0, budget - n);
  }
  // Nothing new starts in a step that had to preempt: it would only be preempted in turn.
  if (!preempted)
    while (budget > 0 && try_admit(budget, plan)) {
    }
  if (plan.empty()) return;

  std::vector<SequenceStep> steps(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    Seq& s = *plan[i].first;
    SequenceStep& st = steps[i];
    st.tokens = s.tokens.data() + s.n_computed;
    st.n_tokens = plan[i].second;
    st.start_pos = s.n_computed;
    st.block_table = s.blocks.blocks().data();
    st.n_table_blocks = static_cast<int64_t>(s.blocks.blocks().size());
    st.all_logits = s.scoring_prompt();
  }
  // Output rows: every position of a prompt being scored, else the last one.
  std::vector<size_t> first_row(plan.size() + 1, 0);
  for (size_t i = 0; i < plan.size(); ++i)
    first_row[i + 1] = first_row[i] + (steps[i].all_logits ? static_cast<size_t>(steps[i].n_tokens) : 1);
  logits.resize(first_row.back() * static_cast<size_t>(vocab_size));
  try {
    model.forward(steps, *cache, logits.data(), pool);
  } catch (const std::exception& e) {
    // Requests are validated on submit, so this is an engine bug or an exhausted machine: the
    // sequences of this step end with the reason rather than taking the server down.
    const std::string error = std::string("internal error: ") + e.what();
    for (auto& [seq, n] : plan) {
      auto it = std::find_if(running.begin(), running.end(),
                             [&](const auto& p) { return p.get() == seq; });
      auto owned = std::move(*it);
      running.erase(it);
      finish(std::move(owned), out, error);
    }
    return;
  }
  ++counters.steps;

  std::vector<Seq*> done;
  auto row_at = [&](size_t r) {
    return std::span<const float>(logits.data() + r * static_cast<size_t>(vocab_size), static_cast<size_t>(vocab_size));
  };
  for (size_t i = 0; i < plan.size(); ++i) {
    Seq& s = *plan[i].first;
    if (steps[i].all_logits) {
      // Row j predicts the token at position start + j + 1; take the ones not scored yet.
      const auto& prompt = s.request.prompt;
      for (int64_t j = 0; j < steps[i].n_tokens; ++j) {
        const auto pos = static_cast<size_t>(steps[i].start_pos + j + 1);
        if (pos != s.prompt_logprobs.size() + 1 || pos >= prompt.size()) continue;
        s.prompt_logprobs.push_back(logprobs_at(row_at(first_row[i] + static_cast<size_t>(j)), prompt[pos],
                                                s.request.prompt_logprobs));
      }
    }
    s.n_computed += plan[i].second;
    register_full_blocks(s);
    if (s.n_computed < static_cast<int64_t>(s.tokens.size())) continue;  // prefill goes on
    if (s.gen->finished()) {  // max_tokens 0: the prompt was only scored
      done.push_back(&s);
      continue;
    }
    std::span<const float> row = row_at(first_row[i + 1] - 1);
    const size_t before = s.gen->result().ids.size();
    if (s.gen->advance(row, scratch)) s.tokens.push_back(s.gen->next_token());
    counters.completion_tokens += static_cast<int64_t>(s.gen->result().ids.size() - before);
    if (s.gen->finished()) done.push_back(&s);
    else emit(s, out);
  }
  for (Seq* s : done) {
    auto it = std::find_if(running.begin(), running.end(),
                           [&](const auto& p) { return p.get() == s; });
    auto owned = std::move(*it);
    running.erase(it);
    finish(std::move(owned), out, {});
  }
}

// Reserves blocks for positions [0, n_positions) of `seq` (a running sequence), evicting
// cached blocks and then preempting the newest running sequences as needed. Returns false when
// `seq` itself, the newest left, had to be preempted.
bool Scheduler::Impl::make_room(Seq& seq, int64_t n_positions, bool& preempted_any) {
  for (;;) {
    const int64_t extra = ceil_div(n_positions, config.block_size) -
                          static_cast<int64_t>(seq.blocks.blocks().size());
    if (extra <= 0 || (prefix->ensure_free(extra) && seq.blocks.reserve(n_positions))) return true;
    const bool last = running.back().get() == &seq;
    preempt_last_running();
    preempted_any = true;
    if (last) return false;
  }
}

void Scheduler::Impl::preempt_last_running() {
  auto seq = std::move(running.back());
  running.pop_back();
  release_blocks(*seq);
  ++counters.preemptions;
  // Back to the front of the queue, ahead of newer requests; it recomputes prompt + generated
  // tokens (mostly from the prefix cache when its blocks survive) and samples on unchanged.
  auto pos = std::find_if(waiting.begin(), waiting.end(),
                          [&](const auto& w) { return w->id > seq->id; });
  waiting.insert(pos, std::move(seq));
}

bool Scheduler::Impl::try_admit(int64_t& budget, std::vector<std::pair<Seq*, int64_t>>& plan) {
  if (waiting.empty() || static_cast<int64_t>(running.size()) >= config.max_batch_size) return false;
  Seq& s = *waiting.front();
  const auto n_tokens = static_cast<int64_t>(s.tokens.size());
  // The last token is always computed (its logits give the next token), so at most the full
  // blocks before it come from the cache.
  std::vector<int32_t> hit;
  std::vector<BlockHash> hashes;
  if (config.prefix_caching && !s.scoring_prompt()) {
    hit = prefix->match(s.tokens, (n_tokens - 1) / config.block_size, hashes);
    // The next block it needs is being computed right now by a running sequence (the n
    // choices of one prompt, chats sharing a system prompt): wait a step and reuse it rather
    // than compute it twice. The queue waits too (no overtaking); the other sequence's prefill
    // is progressing, so this ends.
    if (computed_by_another(s, hashes)) {
      for (int32_t b : hit) allocator->release(b);
      return false;
    }
  }
  const int64_t cached = static_cast<int64_t>(hit.size()) * config.block_size;
  const int64_t n = std::min({budget, n_tokens - cached, s.scoring_prompt() ? kScoredChunk : n_tokens});
  const int64_t needed = ceil_div(cached + n, config.block_size) - static_cast<int64_t>(hit.size());
  // Keep a block per running sequence in reserve for their next tokens, unless nothing runs
  // (then the request must be able to start, or it never would).
  const int64_t reserve = static_cast<int64_t>(running.size());
  if (needed + reserve > allocator->n_free() + prefix->evictable()) {
    for (int32_t b : hit) allocator->release(b);
    return false;
  }
  for (int32_t b : hit) s.blocks.append_retained(b);
  s.hashes = std::move(hashes);
  s.n_computed = cached;
  prefix->ensure_free(needed);
  const bool ok = s.blocks.reserve(cached + n);
  (void)ok;  // checked above: free + evictable covered it
  if (!s.admitted_before) {
    s.admitted_before = true;
    s.cached_prompt_tokens = cached;
  }
  plan.emplace_back(&s, n);
  budget -= n;
  auto owned = std::move(waiting.front());
  waiting.pop_front();
  insert_running(std::move(owned));
  return true;
}

void Scheduler::Impl::insert_running(std::unique_ptr<Seq> seq) {
  auto pos = std::find_if(running.begin(), running.end(),
                          [&](const auto& r) { return r->id > seq->id; });
  running.insert(pos, std::move(seq));
}

void Scheduler::Impl::register_full_blocks(Seq& seq) {
  if (!config.prefix_caching) return;
  const auto& blocks = seq.blocks.blocks();
  while (static_cast<int64_t>(seq.hashes.size() + 1) * config.block_size <= seq.n_computed) {
    const size_t k = seq.hashes.size();
    std::span<const int32_t> block_tokens(seq.tokens.data() + k * config.block_size,
                                          static_cast<size_t>(config.block_size));
    const BlockHash h = prefix->chain(k == 0 ? nullptr : &seq.hashes.back(), block_tokens);
    prefix->insert(h, block_tokens, blocks[k]);
    seq.hashes.push_back(h);
  }
}

// The hash of the full block after the `known` ones in seq.tokens, if that block is full and
// not the one holding the last token (which the lookup never covers).
std::optional<BlockHash> Scheduler::Impl::next_block_hash(const Seq& seq,
                                                          const std::vector<BlockHash>& known) const {
  const size_t k = known.size();
  if (static_cast<int64_t>(k + 1) * config.block_size > static_cast<int64_t>(seq.tokens.size()) - 1)
    return std::nullopt;
  std::span<const int32_t> block_tokens(seq.tokens.data() + k * config.block_size,
                                        static_cast<size_t>(config.block_size));
  return prefix->chain(k == 0 ? nullptr : &known.back(), block_tokens);
}

bool Scheduler::Impl::computed_by_another(const Seq& seq, const std::vector<BlockHash>& hashes) const {
  const std::optional<BlockHash> wanted = next_block_hash(seq, hashes);
  if (!wanted) return false;
  for (const auto& r : running) {
    if (r->n_computed >= static_cast<int64_t>(r->tokens.size()) - 1) continue;  // not in prefill
    const std::optional<BlockHash> pending = next_block_hash(*r, r->hashes);
    if (pending && *pending == *wanted) return true;
  }
  return false;
}

void Scheduler::Impl::release_blocks(Seq& seq) {
  prefix->touch(seq.blocks.blocks());
  seq.blocks.clear();
  seq.hashes.clear();
  seq.n_computed = 0;
}

void Scheduler::Impl::emit(Seq& seq, std::vector<Delivery>& out) {
  const GenerateResult& r = seq.gen->result();
  Event ev;
  ev.text = seq.gen->take_text();
  ev.ids.assign(r.ids.begin() + static_cast<std::ptrdiff_t>(seq.emitted_ids), r.ids.end());
  ev.logprobs.assign(r.logprobs.begin() + static_cast<std::ptrdiff_t>(seq.emitted_logprobs),
                     r.logprobs.end());
  seq.emitted_ids = r.ids.size();
  seq.emitted_logprobs = r.logprobs.size();
  ev.prompt_tokens = r.prompt_tokens;
  ev.cached_prompt_tokens = seq.cached_prompt_tokens;
  ev.completion_tokens = static_cast<int64_t>(r.ids.size());
  seq.attach_prompt_logprobs(ev);
  if (ev.text.empty() && ev.ids.empty() && ev.prompt_logprobs.empty()) return;
  out.push_back(Delivery{&seq.on_event, nullptr, std::move(ev)});
}

void Scheduler::Impl::finish(std::unique_ptr<Seq> seq, std::vector<Delivery>& out,
                             const std::string& error) {
  seq->gen->cancel();  // no-op when it ended by itself
  release_blocks(*seq);
  const GenerateResult& r = seq->gen->result();
  Event ev;
  ev.text = seq->gen->take_text();
  ev.ids.assign(r.ids.begin() + static_cast<std::ptrdiff_t>(seq->emitted_ids), r.ids.end());
  ev.logprobs.assign(r.logprobs.begin() + static_cast<std::ptrdiff_t>(seq->emitted_logprobs),
                     r.logprobs.end());
  ev.finished = true;
  ev.finish_reason = r.finish_reason;
  ev.stop_string = r.stop_string;
  ev.eos_token = r.eos_token;
  ev.error = error;
  ev.prompt_tokens = r.prompt_tokens;
  ev.cached_prompt_tokens = seq->cached_prompt_tokens;
  ev.completion_tokens = static_cast<int64_t>(r.ids.size());
  if (error.empty()) seq->attach_prompt_logprobs(ev);
  ++counters.requests_finished;
  counters.prompt_tokens += r.prompt_tokens;
  counters.cached_prompt_tokens += seq->cached_prompt_tokens;
  EventCallback* cb = &seq->on_event;
  out.push_back(Delivery{cb, std::move(seq), std::move(ev)});
}

void Scheduler::Impl::publish_stats() {
  counters.waiting = static_cast<int64_t>(waiting.size());
  counters.running = static_cast<int64_t>(running.size());
  counters.kv_blocks_free = allocator->n_free();
  counters.kv_blocks_cached = prefix->evictable();
  std::lock_guard lock(mutex);
  const SchedulerStats from_callers = published;
  published = counters;
  // Submissions are counted by submit() under the lock; the scheduler's own copy lags.
  published.requests_submitted = from_callers.requests_submitted;
  published.requests_rejected = from_callers.requests_rejected;
  published.waiting = counters.waiting + static_cast<int64_t>(inbox.size());
  waiting_published = counters.waiting;
}

// ---------------------------------------------------------------------------------------

Scheduler::Scheduler(const LoadedModel& model, ThreadPool& pool, EngineConfig config)
    : impl_(std::make_unique<Impl>(model.model(), model.tokenizer(), pool, config,
                                   model.context_size())) {}

Scheduler::Scheduler(CausalLM& model, const Tokenizer* tokenizer, ThreadPool& pool,
                     EngineConfig config)
    : impl_(std::make_unique<Impl>(model, tokenizer, pool, config,
                                   std::min(model.config().max_position, kDefaultContext))) {}

Scheduler::~Scheduler() = default;

uint64_t Scheduler::submit(Request request, EventCallback on_event) {
  std::vector<Request> requests;
  requests.push_back(std::move(request));
  std::vector<EventCallback> cbs;
  cbs.push_back(std::move(on_event));
  return impl_->submit(std::move(requests), std::move(cbs)).front();
}

std::vector<uint64_t> Scheduler::submit_all(std::vector<Request> requests,
                                            std::vector<EventCallback> on_event) {
  return impl_->submit(std::move(requests), std::move(on_event));
}

void Scheduler::cancel(uint64_t id) { impl_->cancel(id); }

SchedulerStats Scheduler::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->published;
}

void Scheduler::shutdown() { impl_->shutdown(); }

int64_t Scheduler::context_size() const { return impl_->config.context_size; }
int64_t Scheduler::kv_capacity_tokens() const {
  return impl_->cache->n_blocks() * impl_->config.block_size;
}
int64_t Scheduler::kv_cache_bytes() const { return impl_->kv_bytes; }
const EngineConfig& Scheduler::config() const { return impl_->config; }

}  // namespace lmkit::engine
