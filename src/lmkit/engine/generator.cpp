#include "lmkit/engine/generator.h"

#include <algorithm>
#include <chrono>

#include "lmkit/base/error.h"
#include "lmkit/engine/generation_state.h"
#include "lmkit/models/model.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::engine {

namespace {

// Prompt tokens per forward pass: bounds the activation scratch the model grows to.
constexpr int64_t kPrefillChunk = 512;

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

}  // namespace

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::EndOfSequence:
    case FinishReason::StopString: return "stop";
    case FinishReason::MaxTokens:
    case FinishReason::ContextFull: return "length";
    case FinishReason::Cancelled: return "cancelled";
  }
  return "unknown";
}

double GenerationTimings::prefill_tokens_per_s() const {
  return prefill_ms > 0 ? static_cast<double>(prefill_tokens) * 1000.0 / prefill_ms : 0.0;
}

double GenerationTimings::decode_tokens_per_s() const {
  return decode_ms > 0 ? static_cast<double>(decode_tokens) * 1000.0 / decode_ms : 0.0;
}

void Sequence::clear() {
  tokens_.clear();
  blocks_.clear();
}

Generator::Generator(CausalLM& model, const Tokenizer* tokenizer, ThreadPool& pool,
                     int64_t context_size, int64_t n_sequences, int64_t block_size)
    : model_(model),
      tokenizer_(tokenizer),
      pool_(pool),
      context_size_(context_size),
      vocab_size_(model.config().vocab_size),
      allocator_(std::max<int64_t>(1, n_sequences) * ((context_size + block_size - 1) / block_size)) {
  if (context_size <= 0)
    throw_error("context size must be positive, got " + std::to_string(context_size));
  cache_ = std::make_unique<KvCache>(model.config(), allocator_.n_blocks(), block_size);
  logits_.resize(static_cast<size_t>(vocab_size_));
  work_.resize(static_cast<size_t>(vocab_size_));
}

Generator::~Generator() = default;

Sequence Generator::new_sequence() { return Sequence(BlockTable(allocator_, cache_->block_size())); }

void Generator::feed(Sequence& seq, std::span<const int32_t> tokens) {
  size_t done = 0;
  while (done < tokens.size()) {
    const auto n = std::min<int64_t>(kPrefillChunk, static_cast<int64_t>(tokens.size() - done));
    const int64_t start = seq.length();
    if (!seq.blocks_.reserve(start + n))
      throw_error("KV cache full: no free blocks for " + std::to_string(start + n) +
                  " positions (" + std::to_string(allocator_.n_free()) + " of " +
                  std::to_string(allocator_.n_blocks()) + " blocks free)");
    SequenceStep step;
    step.tokens = tokens.data() + done;
    step.n_tokens = n;
    step.start_pos = start;
    step.block_table = seq.blocks_.blocks().data();
    step.n_table_blocks = static_cast<int64_t>(seq.blocks_.blocks().size());
    step.all_logits = false;
    model_.forward(std::span<const SequenceStep>(&step, 1), *cache_, logits_.data(), pool_);
    seq.tokens_.insert(seq.tokens_.end(), step.tokens, step.tokens + n);
    done += static_cast<size_t>(n);
  }
}

GenerateResult Generator::generate(Sequence& seq, std::span<const int32_t> prompt,
                                   const GenerateOptions& options, const StreamCallback& on_text) {
  validate_request(prompt, options, vocab_size_, context_size_, tokenizer_);

  // Reuse the cached prefix, but always recompute at least the last prompt token: its logits
  // are what the first sampled token comes from.
  const auto& cached = seq.tokens_;
  size_t common = 0;
  while (common < cached.size() && common < prompt.size() && cached[common] == prompt[common])
    ++common;
  common = std::min(common, prompt.size() - 1);
  seq.tokens_.resize(common);
  seq.blocks_.truncate(static_cast<int64_t>(common));

  auto t_prefill = Clock::now();
  feed(seq, prompt.subspan(common));
  GenerationTimings timings;
  timings.prefill_ms = ms_since(t_prefill);
  timings.prefill_tokens = static_cast<int64_t>(prompt.size() - common);

  // Sampling, stop conditions and text live in GenerationState (shared with the Scheduler);
  // this loop only feeds tokens and streams the text. A callback that returns false cancels,
  // unless the token it saw had already ended generation for another reason.
  GenerationState state(prompt, options, tokenizer_, context_size_);
  auto t_decode = Clock::now();
  while (state.advance(logits_, work_)) {
    const std::string piece = state.take_text();
    if (!piece.empty() && on_text && !on_text(piece)) {
      state.cancel();
      break;
    }
    const int32_t next[1] = {state.next_token()};
    feed(seq, next);
    ++timings.decode_tokens;
  }
  const std::string last = state.take_text();
  if (!last.empty() && on_text) on_text(last);
  timings.decode_ms = ms_since(t_decode);

  GenerateResult result = std::move(state.result());
  result.cached_prompt_tokens = static_cast<int64_t>(common);
  result.timings = timings;
  return result;
}

}  // namespace lmkit::engine
