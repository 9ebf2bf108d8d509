// The per-request half of generation, shared by Generator (one sequence, driven inline) and
// Scheduler (many sequences, one batched forward pass per step): from the logits of the last
// fed position to the next token, its logprobs, its safe text and the end conditions. Keeping
// one copy of these rules is what makes a scheduled request give exactly Generator's result.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lmkit/engine/generator.h"
#include "lmkit/engine/stop_strings.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::engine {

class LogitsConstraint;  // scheduler.h

// Throws lmkit::Error for a request Generator and Scheduler refuse: an empty prompt, a prompt
// longer than the context (saying both numbers), ids outside the vocabulary, stop strings
// without a tokenizer, sampling parameters out of range, negative logprobs.
void validate_request(std::span<const int32_t> prompt, const GenerateOptions& options,
                      int64_t vocab_size, int64_t context_size, const Tokenizer* tokenizer);

class GenerationState {
 public:
  // `options`, `tokenizer` and `constraint` must outlive the state. `prompt` is copied into
  // the penalty history. max_tokens == 0 finishes at once (MaxTokens).
  GenerationState(std::span<const int32_t> prompt, const GenerateOptions& options,
                  const Tokenizer* tokenizer, int64_t context_size,
                  LogitsConstraint* constraint = nullptr);

  // Chooses the token that follows the position whose logits these are (the last fed one).
  // `scratch` is a vocab-sized buffer for the penalised copy. Returns true when generation
  // goes on: the caller must feed next_token() and call again with the logits it yields.
  bool advance(std::span<const float> logits, std::vector<float>& scratch);
  int32_t next_token() const { return result_.ids.back(); }

  // The text made safe to show since the last call (appended to result().text as well).
  std::string take_text();

  // Ends generation as Cancelled, without flushing held-back text, unless it already ended.
  void cancel();

  bool finished() const { return finish_.has_value(); }
  // Tokens the sequence must hold to continue: prompt + every generated id.
  int64_t total_tokens() const { return prompt_length_ + static_cast<int64_t>(result_.ids.size()); }
  // The result so far (ids, text, logprobs); finish_reason is set once finished().
  const GenerateResult& result() const { return result_; }
  GenerateResult& result() { return result_; }

 private:
  void finish(FinishReason reason);

  const GenerateOptions& options_;
  int64_t prompt_length_;
  int64_t context_size_;
  LogitsConstraint* constraint_;
  TokenHistory history_;
  Rng rng_;
  std::optional<StreamDecoder> decoder_;
  StopStringMatcher stopper_;
  std::optional<FinishReason> finish_;
  std::string pending_text_;
  GenerateResult result_;
};

}  // namespace lmkit::engine
