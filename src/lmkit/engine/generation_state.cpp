#include "lmkit/engine/generation_state.h"

#include <algorithm>

#include "lmkit/base/error.h"
#include "lmkit/engine/scheduler.h"

namespace lmkit::engine {

void validate_request(std::span<const int32_t> prompt, const GenerateOptions& options,
                      int64_t vocab_size, int64_t context_size, const Tokenizer* tokenizer) {
  validate(options.sampling);
  if (prompt.empty()) throw_error("the prompt is empty: at least one token is needed");
  if (static_cast<int64_t>(prompt.size()) > context_size)
    throw_error("the prompt has " + std::to_string(prompt.size()) +
                " tokens but the context holds only " + std::to_string(context_size) +
                " (shorten the prompt or raise the context size)");
  for (size_t i = 0; i < prompt.size(); ++i)
    if (prompt[i] < 0 || prompt[i] >= vocab_size)
      throw_error("prompt token " + std::to_string(i) + " is id " + std::to_string(prompt[i]) +
                  ", outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
  if (!options.stop.empty() && !tokenizer)
    throw_error("stop strings need a tokenizer to decode the output, and this model has none");
  if (options.logprobs < 0)
    throw_error("logprobs must be >= 0, got " + std::to_string(options.logprobs));
}

GenerationState::GenerationState(std::span<const int32_t> prompt, const GenerateOptions& options,
                                 const Tokenizer* tokenizer, int64_t context_size,
                                 LogitsConstraint* constraint)
    : options_(options),
      prompt_length_(static_cast<int64_t>(prompt.size())),
      context_size_(context_size),
      constraint_(constraint),
      rng_(options.sampling.seed),
      stopper_(options.stop) {
  history_.add_prompt(prompt);
  if (tokenizer) decoder_.emplace(*tokenizer, options.skip_special_tokens);
  result_.prompt_tokens = prompt_length_;
  if (options.max_tokens == 0) finish(FinishReason::MaxTokens);
}

bool GenerationState::advance(std::span<const float> logits, std::vector<float>& scratch) {
  if (finish_) return false;
  scratch.assign(logits.begin(), logits.end());
  apply_penalties(scratch, options_.sampling, history_);
  if (constraint_) constraint_->mask(scratch);
  const int32_t token = sample_token(scratch, options_.sampling, rng_);
  if (constraint_) constraint_->accept(token);
  if (!options_.ignore_eos && std::find(options_.eos_token_ids.begin(),
                                        options_.eos_token_ids.end(),
                                        token) != options_.eos_token_ids.end()) {
    result_.eos_token = token;
    finish(FinishReason::EndOfSequence);
    return false;
  }
  if (options_.logprobs > 0) result_.logprobs.push_back(logprobs_at(logits, token, options_.logprobs));
  result_.ids.push_back(token);
  history_.add_generated(token);
  if (decoder_) {
    pending_text_ += stopper_.push(decoder_->push(token));
    if (stopper_.stopped()) {
      finish(FinishReason::StopString);
      return false;
    }
  }
  const auto n_generated = static_cast<int64_t>(result_.ids.size());
  if (options_.max_tokens > 0 && n_generated >= options_.max_tokens) {
    finish(FinishReason::MaxTokens);
  } else if (prompt_length_ + n_generated - 1 >= context_size_) {
    // Feeding this token would put it at position context_size: there is no room for it.
    finish(FinishReason::ContextFull);
  }
  return !finish_;
}

void GenerationState::finish(FinishReason reason) {
  finish_ = reason;
  result_.finish_reason = reason;
  // Whatever the decoder and the matcher still hold is flushed, unless a stop string cut the
  // text (the rest is past the stop) or the request was cancelled.
  if (decoder_ && reason != FinishReason::StopString && reason != FinishReason::Cancelled) {
    pending_text_ += stopper_.push(decoder_->flush());
    if (stopper_.stopped()) {
      finish_ = result_.finish_reason = FinishReason::StopString;
    } else {
      pending_text_ += stopper_.flush();
    }
  }
  if (stopper_.stopped()) result_.stop_string = stopper_.matched();
}

std::string GenerationState::take_text() {
  std::string text = std::move(pending_text_);
  pending_text_.clear();
  result_.text += text;
  return text;
}

void GenerationState::cancel() {
  if (!finish_) finish(FinishReason::Cancelled);
}

}  // namespace lmkit::engine
