// The serving engine: many requests share one model through continuous batching over one
// paged KV cache with prefix caching. This header is the contract between the engine and the
// HTTP server (issue 4); changing it needs both sides to agree (say so in the commit message).
//
// How it runs (docs/engine.md, "The scheduler"):
// - One scheduler thread, started by the constructor, runs every forward pass (on the
//   ThreadPool given) and owns all sequence, block and prefix-cache state. Other threads only
//   call submit / cancel / stats / shutdown, which are thread-safe and never wait for a step.
// - Each step admits waiting requests while KV blocks allow (at most max_batch_size running),
//   then runs ONE forward() holding a decode token for every running sequence plus prefill
//   chunks of the admitted prompts, within a budget of prefill_chunk tokens per step, so a long
//   prompt never stalls the other streams for more than one chunk.
// - Every request samples with its own Rng, penalties, stop-string matcher and StreamDecoder,
//   with the same rules as Generator: a request gives the same ids, text, finish reason and
//   logprobs as Generator::generate would on a fresh sequence, whatever else is in the batch.
// - Prefix cache: full blocks are keyed by a hash of their tokens and every token before them,
//   shared (ref-counted) between sequences, kept after a request ends and evicted
//   least-recently-used when the allocator runs dry.
// - When a running sequence needs a block and none is free (after evicting cached blocks), the
//   newest running sequence is preempted: its blocks are freed and it goes back to the front of
//   the queue to recompute prompt + generated-so-far later. Its stream just pauses; nothing
//   fails and its output does not change.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lmkit/base/error.h"
#include "lmkit/engine/generator.h"

namespace lmkit {
class CausalLM;
class ThreadPool;
class Tokenizer;
}  // namespace lmkit

namespace lmkit::engine {

class LoadedModel;

struct EngineConfig {
  int64_t max_batch_size = 16;  // sequences decoding at once
  // Positions one sequence may hold (prompt + generated). 0: the loaded model's context_size().
  // Over the model's max_position, or over what the KV cache can hold: lmkit::Error.
  int64_t context_size = 0;
  // KV cache size in bytes; 0: kv_cache_fraction of MemAvailable (/proc/meminfo), but no more
  // than 2 x max_batch_size full-length sequences (what the batch can use plus as much again
  // for the prefix cache), so a small model does not pin half the machine.
  int64_t kv_cache_bytes = 0;
  double kv_cache_fraction = 0.5;
  int64_t block_size = 16;      // positions per KV block (and per prefix-cache entry)
  int64_t prefill_chunk = 512;  // tokens per forward step: decode tokens + prefill chunks
  int64_t max_waiting = 256;    // queued (not yet running) requests before QueueFullError
  bool prefix_caching = true;   // false: blocks are freed as soon as their request ends
};

// Thrown by submit() when the waiting queue is full: the server answers 429 + Retry-After.
class QueueFullError : public Error {
 public:
  using Error::Error;
};

// The hook for constrained decoding (response_format json_schema, tool calls). One instance
// per request (it is stateful); the scheduler calls it on its own thread only.
class LogitsConstraint {
 public:
  virtual ~LogitsConstraint() = default;
  // Before each sampling: set the logits of forbidden tokens to -infinity. `logits` are the
  // penalised logits (logprobs still report the model's raw ones). At least one token must
  // stay allowed (an end token when the constrained output is complete).
  virtual void mask(std::span<float> logits) = 0;
  // The token chosen (also an end token, before generation stops on it).
  virtual void accept(int32_t token) = 0;
};

struct Request {
  std::vector<int32_t> prompt;
  // As for Generator::generate: eos_token_ids must be filled in by the caller (usually
  // LoadedModel::eos_token_ids()); max_tokens < 0 means up to the context size.
  GenerateOptions options;
  // 0: none. Measured from submit(); when it passes, the request finishes with
  // FinishReason::Cancelled and Event::error saying it timed out.
  int64_t timeout_ms = 0;
  std::unique_ptr<LogitsConstraint> constraint;  // null: unconstrained
  // >= 0: also score the prompt (what OpenAI's completions give for echo + logprobs): the
  // log-probability of every prompt token after the first, with this many top alternatives.
  // Such a request computes its whole prompt (no prefix-cache reuse on its first run) and may
  // have options.max_tokens == 0 (score only).
  int32_t prompt_logprobs = -1;
};

// What a request's callback receives. Events carry increments: the ids, text and logprobs
// new since the previous event. Exactly one event per accepted request has finished == true,
// and it is the last; the concatenated texts equal the non-streamed result (stop strings are
// held back until they cannot match, as with Generator).
struct Event {
  std::string text;               // new safe text (may be empty while held back)
  std::vector<int32_t> ids;       // new generated ids (same rules as GenerateResult::ids)
  std::vector<PositionLogprobs> logprobs;  // one per new id when options.logprobs > 0
  // Request::prompt_logprobs >= 0: in the first event only, one per prompt token after the first.
  std::vector<PositionLogprobs> prompt_logprobs;
  bool finished = false;
  // Below: meaningful when finished.
  FinishReason finish_reason = FinishReason::MaxTokens;
  std::string stop_string;  // the stop string matched, for FinishReason::StopString
  int32_t eos_token = -1;   // the end token sampled, for FinishReason::EndOfSequence
  // Set when the engine ended the request (timeout, shutdown, an internal error); such
  // requests finish as Cancelled. Empty for a cancel() by the client.
  std::string error;
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // prompt tokens served from the prefix cache
  int64_t completion_tokens = 0;     // ids generated so far (in every event, not only the last)
};

// Called on the scheduler thread, between steps. Must be quick and must not block: hand the
// event to the waiting thread (queue + condition variable) and return. It may call cancel()
// and stats(); it must not call submit(), shutdown() or destroy the Scheduler.
using EventCallback = std::function<void(const Event&)>;

struct SchedulerStats {
  int64_t waiting = 0;  // queued, not yet running (includes preempted sequences)
  int64_t running = 0;  // holding KV blocks, in the batch
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_free = 0;    // not held by anyone
  int64_t kv_blocks_cached = 0;  // held only by the prefix cache (reusable, evictable)
  int64_t requests_submitted = 0;
  int64_t requests_finished = 0;  // every finish, including cancelled and timed out
  int64_t requests_rejected = 0;  // QueueFullError
  int64_t prompt_tokens = 0;         // over finished requests
  int64_t cached_prompt_tokens = 0;  // of which served from the prefix cache
  int64_t completion_tokens = 0;     // generated so far, all requests
  int64_t preemptions = 0;
  int64_t steps = 0;  // forward passes run
};

class Scheduler {
 public:
  // Sizes the KV cache (from config), checks the context fits it and starts the scheduler
  // thread. `model` and `pool` must outlive the Scheduler; nobody else may run `model` or use
  // `pool` meanwhile. Throws lmkit::Error for a bad config, naming the field and what to change.
  Scheduler(const LoadedModel& model, ThreadPool& pool, EngineConfig config = {});
  // The same over a bare model (benchmarks on random weights, tests): `tokenizer` may be null
  // (ids only, no text); config.context_size 0 means min(max_position, kDefaultContext).
  Scheduler(CausalLM& model, const Tokenizer* tokenizer, ThreadPool& pool,
            EngineConfig config = {});
  // shutdown(), then joins the scheduler thread.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Thread-safe. Validates like Generator::generate (empty prompt, prompt longer than the
  // context saying both numbers, ids outside the vocabulary, stop strings without a tokenizer,
  // sampling ranges) and throws lmkit::Error (-> 400); throws QueueFullError (-> 429) when
  // max_waiting requests are already queued, or after shutdown(). Returns the request id
  // (never 0). All events go to on_event, on the scheduler thread.
  uint64_t submit(Request request, EventCallback on_event);
  // All or nothing (the n choices of one completion): either every request is queued, or
  // nothing is and the error is thrown. Ids in the order given.
  std::vector<uint64_t> submit_all(std::vector<Request> requests,
                                   std::vector<EventCallback> on_event);

  // Thread-safe, non-blocking. The request finishes (FinishReason::Cancelled, empty error)
  // within one step and its blocks are released before its final event is delivered. Unknown
  // or already finished ids are ignored.
  void cancel(uint64_t id);

  SchedulerStats stats() const;  // thread-safe snapshot

  // Thread-safe, idempotent. Refuses new requests, finishes every queued and running request
  // as Cancelled with error "the server is shutting down", and returns once the scheduler
  // thread has stopped (so no callback runs afterwards). Must not be called from a callback.
  void shutdown();

  int64_t context_size() const;
  int64_t kv_capacity_tokens() const;  // blocks x block_size: the whole shared pool
  int64_t kv_cache_bytes() const;      // what the KV cache actually allocated
  const EngineConfig& config() const;  // with the defaults resolved (context_size, bytes)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmkit::engine
