// Generation for one sequence at a time over a paged KV cache: prefill (reusing whatever
// prefix of the prompt the sequence already holds), then decode token by token with
// sampling, stop conditions, streaming and logprobs.
//
// Ownership (see docs/engine.md): the caller owns the Generator and its Sequences; a Sequence
// holds KV blocks from its Generator's allocator until it is cleared or destroyed. Everything
// runs on the calling thread, which also drives the ThreadPool the kernels use.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lmkit/engine/kv_blocks.h"
#include "lmkit/engine/sampling.h"

namespace lmkit {
class CausalLM;
class KvCache;
class ThreadPool;
class Tokenizer;
}  // namespace lmkit

namespace lmkit::engine {

struct GenerateOptions {
  SamplingParams sampling;
  int64_t max_tokens = -1;  // < 0: until an end token, a stop string or a full context
  std::vector<std::string> stop;       // text-level stop strings (need a tokenizer)
  std::vector<int32_t> eos_token_ids;  // generation ends when one is sampled (not emitted)
  bool ignore_eos = false;
  int32_t logprobs = 0;  // top-N log-probabilities at each generated position (0: none)
  bool skip_special_tokens = true;  // in the decoded text
};

enum class FinishReason { EndOfSequence, StopString, MaxTokens, ContextFull, Cancelled };
// "stop" for an end token or a stop string, "length" for max tokens or a full context, and
// "cancelled": the names OpenAI-style APIs use.
const char* finish_reason_name(FinishReason reason);

struct GenerationTimings {
  int64_t prefill_tokens = 0;  // prompt tokens actually computed (not reused from the cache)
  double prefill_ms = 0;
  int64_t decode_tokens = 0;  // forward passes of one token during decoding
  double decode_ms = 0;
  double prefill_tokens_per_s() const;
  double decode_tokens_per_s() const;
};

struct GenerateResult {
  std::vector<int32_t> ids;  // generated ids, including the token that completed a stop string,
                             // excluding a sampled end token
  std::string text;          // exactly the concatenation of the streamed pieces
  FinishReason finish_reason = FinishReason::MaxTokens;
  int32_t eos_token = -1;  // the end token sampled, when finish_reason is EndOfSequence
  std::string stop_string;
  std::vector<PositionLogprobs> logprobs;  // one per generated id when requested
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // prompt tokens found in the sequence's cache
  GenerationTimings timings;
};

// Receives each new piece of text as soon as it is safe to show (complete UTF-8, not possibly
// the start of a stop string). Returning false cancels generation.
using StreamCallback = std::function<bool(std::string_view piece)>;

// The tokens a sequence's KV cache holds, and the blocks holding them.
class Sequence {
 public:
  const std::vector<int32_t>& tokens() const { return tokens_; }
  int64_t length() const { return static_cast<int64_t>(tokens_.size()); }
  void clear();

 private:
  friend class Generator;
  explicit Sequence(BlockTable blocks) : blocks_(std::move(blocks)) {}
  BlockTable blocks_;
  std::vector<int32_t> tokens_;
};

class Generator {
 public:
  // context_size: the most positions one sequence may hold (prompt + generated). n_sequences
  // sizes the KV cache for that many full-length sequences at once.
  Generator(CausalLM& model, const Tokenizer* tokenizer, ThreadPool& pool, int64_t context_size,
            int64_t n_sequences = 1, int64_t block_size = 16);
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  Sequence new_sequence();

  // Makes `seq` hold `prompt` (keeping the longest prefix it already holds) and generates.
  // Throws lmkit::Error for an empty prompt, a prompt longer than the context (saying both
  // numbers), a token id outside the vocabulary, or stop strings without a tokenizer.
  GenerateResult generate(Sequence& seq, std::span<const int32_t> prompt,
                          const GenerateOptions& options, const StreamCallback& on_text = {});

  int64_t context_size() const { return context_size_; }
  const CausalLM& model() const { return model_; }
  const Tokenizer* tokenizer() const { return tokenizer_; }
  ThreadPool& pool() { return pool_; }

 private:
  // Runs `tokens` at the end of `seq`; leaves the last token's logits in logits_.
  void feed(Sequence& seq, std::span<const int32_t> tokens);

  CausalLM& model_;
  const Tokenizer* tokenizer_;
  ThreadPool& pool_;
  int64_t context_size_;
  int64_t vocab_size_;
  std::unique_ptr<KvCache> cache_;
  KvBlockAllocator allocator_;
  std::vector<float> logits_;
  std::vector<float> work_;  // penalised copy of logits_
};

}  // namespace lmkit::engine
