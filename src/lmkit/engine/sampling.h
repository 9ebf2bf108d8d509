// Choosing the next token from a row of logits. The knobs and their order follow Hugging Face
// transformers (repetition penalty, then temperature, top-k, top-p, min-p) with OpenAI's
// presence and frequency penalties applied next to the repetition penalty, as vLLM does.
#pragma once
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace lmkit::engine {

struct SamplingParams {
  float temperature = 1.0f;  // 0: greedy (argmax of the penalised logits)
  int32_t top_k = 0;         // 0: off
  float top_p = 1.0f;        // 1: off; keeps the smallest set of best tokens whose mass >= top_p
  float min_p = 0.0f;        // 0: off; keeps tokens with p >= min_p * p_max
  // HF semantics: for every token seen in the prompt or the output, a positive logit is
  // divided by the penalty and a negative one multiplied by it. 1: off.
  float repetition_penalty = 1.0f;
  // OpenAI semantics over the generated tokens only: logit -= presence * [count > 0]
  // + frequency * count. 0: off.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  uint64_t seed = 0;

  bool greedy() const { return temperature <= 0.0f; }
};

// Throws lmkit::Error naming the parameter when a value is out of range (negative
// temperature, top_p outside (0, 1], ...).
void validate(const SamplingParams& params);

// Which tokens have been seen, for the penalties. Prompt tokens count for the repetition
// penalty only; generated tokens count for all three.
class TokenHistory {
 public:
  void add_prompt(std::span<const int32_t> ids);
  void add_generated(int32_t id);
  void clear();
  const std::unordered_map<int32_t, int32_t>& generated_counts() const { return generated_; }
  const std::vector<int32_t>& seen() const { return seen_list_; }

 private:
  std::unordered_map<int32_t, int32_t> generated_;
  std::unordered_map<int32_t, bool> seen_;
  std::vector<int32_t> seen_list_;  // distinct ids in first-seen order
};

// Applies the repetition, presence and frequency penalties in place. Only the logits of
// tokens in `history` change.
void apply_penalties(std::span<float> logits, const SamplingParams& params,
                     const TokenHistory& history);

// The candidate set after temperature, top-k, top-p and min-p: ids with their renormalised
// probabilities, best first. Exposed for tests; sample() draws from it.
struct Candidate {
  int32_t id;
  float prob;
};
std::vector<Candidate> filtered_distribution(std::span<const float> logits,
                                             const SamplingParams& params);

// A seeded source of uniform numbers in [0, 1) that gives the same sequence on every platform
// (std::uniform_real_distribution does not promise that).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next_u64();
  double uniform();  // [0, 1)

 private:
  uint64_t state_;
};

// Picks the next token: argmax when params.greedy(), else a draw from filtered_distribution.
// logits are the penalised logits (apply_penalties already applied).
int32_t sample_token(std::span<const float> logits, const SamplingParams& params, Rng& rng);

// Log-softmax of a logits row and its top-n entries, best first (ties: lower id first).
struct TokenLogprob {
  int32_t id;
  float logprob;
};
struct PositionLogprobs {
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;
};
PositionLogprobs logprobs_at(std::span<const float> logits, int32_t chosen, int32_t top_n);

}  // namespace lmkit::engine
