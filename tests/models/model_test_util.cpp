#include "model_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "support/test_data.h"

namespace lmkit::testing {

nlohmann::json load_json(const std::string& path) {
  return nlohmann::json::parse(read_file_maybe_gz(path));
}

std::vector<int32_t> ids_of(const nlohmann::json& j) { return j.get<std::vector<int32_t>>(); }

std::vector<float> floats_of(const nlohmann::json& j) { return j.get<std::vector<float>>(); }

std::vector<float> flat_floats_of(const nlohmann::json& rows) {
  std::vector<float> out;
  for (const auto& row : rows)
    for (const auto& v : row) out.push_back(v.get<float>());
  return out;
}

SequenceRunner::SequenceRunner(CausalLM& model, ThreadPool& pool, int64_t block_size,
                               int64_t n_blocks)
    : model_(model), pool_(pool), cache_(model.config(), n_blocks, block_size) {
  // A fixed permutation of the block ids: odd ids descending, then even ids descending, so
  // consecutive positions never sit in neighbouring blocks.
  for (int64_t parity : {1, 0})
    for (int64_t b = n_blocks - 1; b >= 0; --b)
      if (b % 2 == parity) table_.push_back(static_cast<int32_t>(b));
}

std::vector<float> SequenceRunner::feed(const std::vector<int32_t>& tokens, bool all_logits,
                                        const HiddenCapture* capture) {
  SequenceStep step;
  step.tokens = tokens.data();
  step.n_tokens = static_cast<int64_t>(tokens.size());
  step.start_pos = pos_;
  step.block_table = table_.data();
  step.n_table_blocks = static_cast<int64_t>(table_.size());
  step.all_logits = all_logits;
  std::vector<float> logits(static_cast<size_t>(CausalLM::logit_rows({&step, 1}) *
                                                model_.config().vocab_size));
  model_.forward({&step, 1}, cache_, logits.data(), pool_, capture);
  pos_ += step.n_tokens;
  return logits;
}

int32_t argmax(const float* logits, int64_t n) {
  return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

std::vector<int32_t> greedy(CausalLM& model, ThreadPool& pool, const std::vector<int32_t>& prompt,
                            int n_new) {
  const int64_t vocab = model.config().vocab_size;
  SequenceRunner run(model, pool, 4, (static_cast<int64_t>(prompt.size()) + n_new) / 4 + 2);
  std::vector<float> logits = run.feed(prompt, false);
  std::vector<int32_t> out;
  for (int i = 0; i < n_new; ++i) {
    out.push_back(argmax(logits.data(), vocab));
    if (i + 1 < n_new) logits = run.feed({out.back()}, false);
  }
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
  return worst;
}

}  // namespace lmkit::testing
