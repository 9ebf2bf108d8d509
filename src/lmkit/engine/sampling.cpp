#include "lmkit/engine/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "lmkit/base/error.h"

namespace lmkit::engine {

void validate(const SamplingParams& p) {
  auto bad = [](const std::string& what, double value, const std::string& expected) {
    throw_error("sampling parameter " + what + " = " + std::to_string(value) + ": expected " +
                expected);
  };
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature))
    bad("temperature", p.temperature, "a finite number >= 0");
  if (p.top_k < 0) bad("top_k", p.top_k, "an integer >= 0 (0 turns it off)");
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) bad("top_p", p.top_p, "a number in (0, 1]");
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) bad("min_p", p.min_p, "a number in [0, 1]");
  if (!(p.repetition_penalty > 0.0f) || !std::isfinite(p.repetition_penalty))
    bad("repetition_penalty", p.repetition_penalty, "a finite number > 0 (1 turns it off)");
  if (!std::isfinite(p.presence_penalty) || std::fabs(p.presence_penalty) > 2.0f)
    bad("presence_penalty", p.presence_penalty, "a number in [-2, 2]");
  if (!std::isfinite(p.frequency_penalty) || std::fabs(p.frequency_penalty) > 2.0f)
    bad("frequency_penalty", p.frequency_penalty, "a number in [-2, 2]");
}

void TokenHistory::add_prompt(std::span<const int32_t> ids) {
  for (int32_t id : ids)
    if (seen_.emplace(id, true).second) seen_list_.push_back(id);
}

void TokenHistory::add_generated(int32_t id) {
  ++generated_[id];
  if (seen_.emplace(id, true).second) seen_list_.push_back(id);
}

void TokenHistory::clear() {
  generated_.clear();
  seen_.clear();
  seen_list_.clear();
}

void apply_penalties(std::span<float> logits, const SamplingParams& p,
                     const TokenHistory& history) {
  const auto n = static_cast<int64_t>(logits.size());
  if (p.repetition_penalty != 1.0f) {
    for (int32_t id : history.seen()) {
      if (id < 0 || id >= n) continue;
      float& l = logits[id];
      l = l > 0 ? l / p.repetition_penalty : l * p.repetition_penalty;
    }
  }
  if (p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f) {
    for (auto [id, count] : history.generated_counts()) {
      if (id < 0 || id >= n) continue;
      logits[id] -= p.presence_penalty + p.frequency_penalty * static_cast<float>(count);
    }
  }
}

namespace {

int32_t argmax(std::span<const float> logits) {
  int32_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = static_cast<int32_t>(i);
  return best;
}

// Softmax over the candidates' current `prob` fields holding logits, in place.
void softmax_candidates(std::vector<Candidate>& c) {
  if (c.empty()) return;
  float max = c.front().prob;
  for (const auto& x : c) max = std::max(max, x.prob);
  double sum = 0;
  for (auto& x : c) {
    x.prob = std::exp(x.prob - max);
    sum += x.prob;
  }
  for (auto& x : c) x.prob = static_cast<float>(x.prob / sum);
}

void renormalise(std::vector<Candidate>& c) {
  double sum = 0;
  for (const auto& x : c) sum += x.prob;
  for (auto& x : c) x.prob = static_cast<float>(x.prob / sum);
}

}  // namespace

std::vector<Candidate> filtered_distribution(std::span<const float> logits,
                                             const SamplingParams& p) {
  std::vector<Candidate> c;
  c.reserve(logits.size());
  const float inv_t = p.temperature > 0 ? 1.0f / p.temperature : 1.0f;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i]) || logits[i] == -std::numeric_limits<float>::infinity()) continue;
    c.push_back({static_cast<int32_t>(i), logits[i] * inv_t});
  }
  if (c.empty()) throw_error("sampling: every logit is -inf or NaN; nothing can be sampled");
  auto better = [](const Candidate& a, const Candidate& b) {
    return a.prob > b.prob || (a.prob == b.prob && a.id < b.id);
  };
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < c.size()) {
    std::partial_sort(c.begin(), c.begin() + p.top_k, c.end(), better);
    c.resize(static_cast<size_t>(p.top_k));
  } else {
    std::sort(c.begin(), c.end(), better);
  }
  softmax_candidates(c);
  if (p.top_p < 1.0f) {
    // Keep a token while the mass of the strictly better ones is still below top_p: the
    // smallest prefix reaching top_p, as transformers' TopPLogitsWarper keeps.
    double before = 0;
    size_t keep = 0;
    while (keep < c.size() && before < p.top_p) before += c[keep++].prob;
    c.resize(std::max<size_t>(keep, 1));
    renormalise(c);
  }
  if (p.min_p > 0.0f) {
    const float threshold = p.min_p * c.front().prob;
    size_t keep = 1;
    while (keep < c.size() && c[keep].prob >= threshold) ++keep;
    c.resize(keep);
    renormalise(c);
  }
  return c;
}

uint64_t Rng::next_u64() {
  // splitmix64: tiny, full-period, and the same everywhere.
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

int32_t sample_token(std::span<const float> logits, const SamplingParams& p, Rng& rng) {
  if (logits.empty()) throw_error("sampling: empty logits row");
  if (p.greedy()) return argmax(logits);
  std::vector<Candidate> c = filtered_distribution(logits, p);
  const double u = rng.uniform();
  double acc = 0;
  for (const auto& x : c) {
    acc += x.prob;
    if (u < acc) return x.id;
  }
  return c.back().id;  // rounding left u just above the total
}

PositionLogprobs logprobs_at(std::span<const float> logits, int32_t chosen, int32_t top_n) {
  float max = -std::numeric_limits<float>::infinity();
  for (float l : logits) max = std::max(max, l);
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - max);
  const double log_z = max + std::log(sum);
  auto lp = [&](int32_t id) { return static_cast<float>(logits[id] - log_z); };

  PositionLogprobs out;
  out.chosen = {chosen, lp(chosen)};
  const size_t n = std::min<size_t>(static_cast<size_t>(std::max(top_n, 0)), logits.size());
  if (n == 0) return out;
  std::vector<int32_t> ids(logits.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  std::partial_sort(ids.begin(), ids.begin() + static_cast<ptrdiff_t>(n), ids.end(),
                    [&](int32_t a, int32_t b) {
                      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                    });
  out.top.reserve(n);
  for (size_t i = 0; i < n; ++i) out.top.push_back({ids[i], lp(ids[i])});
  return out;
}

}  // namespace lmkit::engine
