#include "lmkit/engine/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "lmkit/base/error.h"

namespace lmkit::engine {
namespace {

std::vector<float> random_logits(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

int32_t argmax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Logits whose softmax is exactly the given probabilities (up to float rounding).
std::vector<float> logits_for(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

TEST(Sampling, TopK1IsGreedyAtAnyTemperatureAndSeed) {
  for (uint32_t s = 0; s < 50; ++s) {
    auto logits = random_logits(300, s);
    SamplingParams p;
    p.temperature = 1.5f;
    p.top_k = 1;
    p.seed = s;
    Rng rng(s);
    EXPECT_EQ(sample_token(logits, p, rng), argmax(logits)) << "seed " << s;
  }
}

TEST(Sampling, TemperatureZeroIsArgmax) {
  auto logits = random_logits(1000, 7);
  SamplingParams p;
  p.temperature = 0;
  Rng rng(1);
  EXPECT_EQ(sample_token(logits, p, rng), argmax(logits));
}

TEST(Sampling, TopPKeepsTheSmallestNucleusReachingP) {
  auto logits = logits_for({0.05, 0.5, 0.15, 0.3});
  SamplingParams p;
  p.top_p = 0.75f;  // 0.5 < 0.75, 0.5 + 0.3 >= 0.75: keeps ids 1 and 3
  auto c = filtered_distribution(logits, p);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].id, 1);
  EXPECT_EQ(c[1].id, 3);
  EXPECT_NEAR(c[0].prob, 0.5 / 0.8, 1e-6);
  EXPECT_NEAR(c[1].prob, 0.3 / 0.8, 1e-6);

  p.top_p = 0.85f;  // needs the third best too
  c = filtered_distribution(logits, p);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[2].id, 2);

  p.top_p = 0.1f;  // never empty: the best token alone
  c = filtered_distribution(logits, p);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id, 1);
  EXPECT_FLOAT_EQ(c[0].prob, 1.0f);
}

TEST(Sampling, MinPKeepsTokensAboveAFractionOfTheBest) {
  auto logits = logits_for({0.05, 0.5, 0.15, 0.3});
  SamplingParams p;
  p.min_p = 0.25f;  // threshold 0.125: ids 1, 3, 2
  auto c = filtered_distribution(logits, p);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].id, 1);
  EXPECT_EQ(c[1].id, 3);
  EXPECT_EQ(c[2].id, 2);
  EXPECT_NEAR(c[2].prob, 0.15 / 0.95, 1e-6);
  p.min_p = 0.7f;  // threshold 0.35: id 1 only
  c = filtered_distribution(logits, p);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id, 1);
}

TEST(Sampling, TopKRenormalisesBeforeTopP) {
  // After top_k = 2 the best two are 0.5/0.8 and 0.3/0.8; top_p 0.6 then keeps only the first.
  auto logits = logits_for({0.05, 0.5, 0.15, 0.3});
  SamplingParams p;
  p.top_k = 2;
  p.top_p = 0.6f;
  auto c = filtered_distribution(logits, p);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].id, 1);
}

TEST(Sampling, TemperatureScalesLogitsBeforeSoftmax) {
  auto logits = random_logits(50, 3);
  SamplingParams p;
  p.temperature = 2.0f;
  auto c = filtered_distribution(logits, p);
  double z = 0;
  for (float l : logits) z += std::exp(l / 2.0);
  ASSERT_EQ(c.size(), logits.size());
  for (const auto& x : c) EXPECT_NEAR(x.prob, std::exp(logits[x.id] / 2.0) / z, 1e-6);
  for (size_t i = 1; i < c.size(); ++i) EXPECT_GE(c[i - 1].prob, c[i].prob);
}

TEST(Sampling, DrawFrequenciesFollowTheDistribution) {
  auto logits = logits_for({0.1, 0.2, 0.3, 0.4});
  SamplingParams p;
  p.seed = 42;
  Rng rng(p.seed);
  std::map<int32_t, int> counts;
  const int n = 40000;
  for (int i = 0; i < n; ++i) ++counts[sample_token(logits, p, rng)];
  EXPECT_NEAR(counts[0] / double(n), 0.1, 0.01);
  EXPECT_NEAR(counts[1] / double(n), 0.2, 0.01);
  EXPECT_NEAR(counts[2] / double(n), 0.3, 0.01);
  EXPECT_NEAR(counts[3] / double(n), 0.4, 0.01);
}

TEST(Sampling, SameSeedSameTokensOtherSeedOtherTokens) {
  auto logits = random_logits(200, 11);
  SamplingParams p;
  p.temperature = 1.0f;
  auto draw = [&](uint64_t seed) {
    Rng rng(seed);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(sample_token(logits, p, rng));
    return out;
  };
  EXPECT_EQ(draw(123), draw(123));
  EXPECT_NE(draw(123), draw(124));
}

TEST(Sampling, RepetitionPenaltyChangesExactlyThePenalisedLogits) {
  auto logits = random_logits(100, 5);
  logits[10] = 2.0f;
  logits[20] = -2.0f;
  TokenHistory h;
  std::vector<int32_t> prompt = {10, 20, 10};
  h.add_prompt(prompt);
  h.add_generated(30);
  SamplingParams p;
  p.repetition_penalty = 1.25f;
  auto out = logits;
  apply_penalties(out, p, h);
  for (int i = 0; i < 100; ++i) {
    if (i == 10) EXPECT_FLOAT_EQ(out[i], 2.0f / 1.25f);
    else if (i == 20) EXPECT_FLOAT_EQ(out[i], -2.0f * 1.25f);
    else if (i == 30) EXPECT_FLOAT_EQ(out[i], logits[30] > 0 ? logits[30] / 1.25f : logits[30] * 1.25f);
    else EXPECT_EQ(out[i], logits[i]) << "token " << i << " is not in the history";
  }
}

TEST(Sampling, PresenceAndFrequencyPenaltiesCountGeneratedTokensOnly) {
  auto logits = random_logits(50, 9);
  TokenHistory h;
  std::vector<int32_t> prompt = {1, 2};
  h.add_prompt(prompt);
  h.add_generated(3);
  h.add_generated(3);
  h.add_generated(4);
  SamplingParams p;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  auto out = logits;
  apply_penalties(out, p, h);
  EXPECT_FLOAT_EQ(out[3], logits[3] - (0.5f + 2 * 0.25f));
  EXPECT_FLOAT_EQ(out[4], logits[4] - (0.5f + 1 * 0.25f));
  for (int i = 0; i < 50; ++i)
    if (i != 3 && i != 4) EXPECT_EQ(out[i], logits[i]) << "token " << i;
}

TEST(Sampling, LogprobsAreANormalisedLogSoftmax) {
  auto logits = random_logits(64, 21);
  auto lp = logprobs_at(logits, 5, 64);
  ASSERT_EQ(lp.top.size(), 64u);
  double total = 0;
  for (const auto& t : lp.top) total += std::exp(static_cast<double>(t.logprob));
  EXPECT_NEAR(total, 1.0, 1e-5);
  for (size_t i = 1; i < lp.top.size(); ++i) EXPECT_GE(lp.top[i - 1].logprob, lp.top[i].logprob);
  EXPECT_EQ(lp.top[0].id, argmax(logits));
  EXPECT_EQ(lp.chosen.id, 5);
  // Differences of logprobs are differences of logits.
  EXPECT_NEAR(lp.chosen.logprob - lp.top[0].logprob, logits[5] - logits[lp.top[0].id], 1e-5);
  EXPECT_EQ(logprobs_at(logits, 5, 3).top.size(), 3u);
}

TEST(Sampling, OutOfRangeParametersAreErrorsNamingThem) {
  auto expect_error = [](SamplingParams p, const std::string& name) {
    try {
      validate(p);
      FAIL() << "no error for " << name;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  };
  SamplingParams p;
  p.temperature = -1;
  expect_error(p, "temperature");
  p = {};
  p.top_p = 0;
  expect_error(p, "top_p");
  p = {};
  p.top_p = 1.5f;
  expect_error(p, "top_p");
  p = {};
  p.top_k = -2;
  expect_error(p, "top_k");
  p = {};
  p.min_p = 2;
  expect_error(p, "min_p");
  p = {};
  p.repetition_penalty = 0;
  expect_error(p, "repetition_penalty");
  p = {};
  p.presence_penalty = 3;
  expect_error(p, "presence_penalty");
  EXPECT_NO_THROW(validate(SamplingParams{}));
}

}  // namespace
}  // namespace lmkit::engine
