// Shared helpers for the model tests: reading reference.json, running prompts through a
// CausalLM on a fresh paged KV cache, greedy decoding, comparing logits.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmkit/models/model.h"

namespace lmkit::testing {

nlohmann::json load_json(const std::string& path);
std::vector<int32_t> ids_of(const nlohmann::json& j);
std::vector<float> floats_of(const nlohmann::json& j);           // flat list
std::vector<float> flat_floats_of(const nlohmann::json& rows);   // list of lists, row-major

// One sequence on its own KV cache; block ids are handed out in a scrambled order so that
// no test passes only because blocks happen to be contiguous.
class SequenceRunner {
 public:
  SequenceRunner(CausalLM& model, ThreadPool& pool, int64_t block_size = 4, int64_t n_blocks = 64);
  // Feeds tokens after what is already cached; returns logits (all rows or the last one).
  std::vector<float> feed(const std::vector<int32_t>& tokens, bool all_logits,
                          const HiddenCapture* capture = nullptr);
  int64_t position() const { return pos_; }
  const std::vector<int32_t>& block_table() const { return table_; }

 private:
  CausalLM& model_;
  ThreadPool& pool_;
  KvCache cache_;
  std::vector<int32_t> table_;
  int64_t pos_ = 0;
};

int32_t argmax(const float* logits, int64_t n);
// Prefill then one token at a time, as transformers' generate does with its KV cache.
std::vector<int32_t> greedy(CausalLM& model, ThreadPool& pool, const std::vector<int32_t>& prompt,
                            int n_new);
// Largest |a - b|; fails the test when the sizes differ.
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace lmkit::testing
