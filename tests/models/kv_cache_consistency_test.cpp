// The paged KV cache path must give the same numbers however a sequence is fed (one shot,
// token by token, in chunks) and whatever else shares the batch.
#include <gtest/gtest.h>

#include <numeric>

#include "lmkit/models/model.h"
#include "model_test_util.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

constexpr double kIncrementalTol = 1e-5;

std::vector<int32_t> len33_prompt(const std::string& model) {
  auto ref = load_json(data_path("models/" + model + "/reference.json"));
  for (const auto& c : ref["cases"])
    if (c["name"] == "len33") return ids_of(c["input_ids"]);
  ADD_FAILURE() << "no len33 case in " << model;
  return {};
}

class KvConsistency : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    model_ = load_causal_lm_from_hf_dir(data_path("models/" + GetParam()));
    prompt_ = len33_prompt(GetParam());
    ASSERT_EQ(prompt_.size(), 33u);
  }
  std::unique_ptr<CausalLM> model_;
  std::vector<int32_t> prompt_;
  ThreadPool pool_{2};
};

TEST_P(KvConsistency, TokenByTokenEqualsOneShot) {
  SequenceRunner one_shot(*model_, pool_);
  std::vector<float> expected = one_shot.feed(prompt_, true);
  SequenceRunner stepwise(*model_, pool_);
  std::vector<float> got;
  for (int32_t id : prompt_) {
    std::vector<float> row = stepwise.feed({id}, false);
    got.insert(got.end(), row.begin(), row.end());
  }
  EXPECT_LE(max_abs_diff(got, expected), kIncrementalTol);
}

TEST_P(KvConsistency, ChunkedPrefillEqualsOneShot) {
  SequenceRunner one_shot(*model_, pool_);
  std::vector<float> expected = one_shot.feed(prompt_, true);
  // Chunk sizes that straddle block boundaries (block size 4) in different ways.
  for (size_t chunk : {2u, 3u, 5u, 16u}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    SequenceRunner chunked(*model_, pool_);
    std::vector<float> got;
    for (size_t i = 0; i < prompt_.size(); i += chunk) {
      std::vector<int32_t> part(prompt_.begin() + i, prompt_.begin() + std::min(prompt_.size(), i + chunk));
      std::vector<float> rows = chunked.feed(part, true);
      got.insert(got.end(), rows.begin(), rows.end());
    }
    EXPECT_LE(max_abs_diff(got, expected), kIncrementalTol);
  }
}

TEST_P(KvConsistency, BlockSizeAndOrderDoNotMatter) {
  SequenceRunner a(*model_, pool_, 4, 16);
  SequenceRunner b(*model_, pool_, 16, 5);
  SequenceRunner c(*model_, pool_, 1, 40);
  std::vector<float> la = a.feed(prompt_, true);
  EXPECT_LE(max_abs_diff(b.feed(prompt_, true), la), kIncrementalTol);
  EXPECT_LE(max_abs_diff(c.feed(prompt_, true), la), kIncrementalTol);
}

// A sequence decoded inside a batch with three others (different lengths, a prefill among
// them) gets bit-identical logits to the same sequence run alone.
TEST_P(KvConsistency, BatchInvariance) {
  const ModelConfig& cfg = model_->config();
  const int64_t vocab = cfg.vocab_size, bs = 4, blocks_per_seq = 12;

  // Alone: prefill 20 tokens, then decode 3 tokens one by one.
  std::vector<int32_t> mine(prompt_.begin(), prompt_.begin() + 20);
  std::vector<int32_t> next = {prompt_[20], prompt_[21], prompt_[22]};
  std::vector<std::vector<float>> alone;
  {
    SequenceRunner run(*model_, pool_, bs, blocks_per_seq);
    alone.push_back(run.feed(mine, true));
    for (int32_t id : next) alone.push_back(run.feed({id}, false));
  }

  // Batched: four sequences share one cache with interleaved block ownership.
  KvCache cache(cfg, 4 * blocks_per_seq, bs);
  std::vector<std::vector<int32_t>> tables(4);
  for (int64_t b = 0; b < 4 * blocks_per_seq; ++b) tables[static_cast<size_t>((b * 3) % 4)].push_back(static_cast<int32_t>(4 * blocks_per_seq - 1 - b));
  std::vector<std::vector<int32_t>> others = {
      std::vector<int32_t>(prompt_.begin() + 3, prompt_.begin() + 10),
      std::vector<int32_t>(prompt_.begin(), prompt_.begin() + 33),
      std::vector<int32_t>{prompt_[5]}};
  std::vector<int64_t> pos(4, 0);

  auto run_step = [&](const std::vector<std::vector<int32_t>>& tokens, const std::vector<bool>& all) {
    std::vector<SequenceStep> steps(4);
    for (size_t s = 0; s < 4; ++s) {
      steps[s].tokens = tokens[s].data();
      steps[s].n_tokens = static_cast<int64_t>(tokens[s].size());
      steps[s].start_pos = pos[s];
      steps[s].block_table = tables[s].data();
      steps[s].n_table_blocks = static_cast<int64_t>(tables[s].size());
      steps[s].all_logits = all[s];
    }
    std::vector<float> logits(static_cast<size_t>(CausalLM::logit_rows(steps) * vocab));
    model_->forward(steps, cache, logits.data(), pool_);
    for (size_t s = 0; s < 4; ++s) pos[s] += steps[s].n_tokens;
    return logits;
  };

  // Step 1: my prefill sits second, between other prefills; rows before mine belong to seq 0.
  std::vector<float> l1 = run_step({others[0], mine, others[1], others[2]}, {true, true, false, false});
  std::vector<float> mine1(l1.begin() + 7 * vocab, l1.begin() + (7 + 20) * vocab);
  EXPECT_EQ(mine1, alone[0]);
  // Then three decode steps alongside the others' decode steps.
  for (size_t i = 0; i < next.size(); ++i) {
    std::vector<float> l = run_step({{prompt_[i]}, {next[i]}, {prompt_[i + 1]}, {prompt_[i + 2]}},
                                    {false, false, false, false});
    std::vector<float> row(l.begin() + vocab, l.begin() + 2 * vocab);
    EXPECT_EQ(row, alone[i + 1]) << "decode step " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, KvConsistency, ::testing::Values("llama-tiny", "qwen2-tiny"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace lmkit::testing
