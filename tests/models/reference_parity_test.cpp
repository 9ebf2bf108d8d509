// Parity with Hugging Face transformers on the tiny models in shared/data/models: logits,
// hidden states and greedy tokens from reference.json (see that folder's README for how
// they were made and which tolerances are safe).
#include <gtest/gtest.h>

#include "lmkit/models/model.h"
#include "model_test_util.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

constexpr double kLogitTol = 1e-4;  // the README's fp32 tolerance

class ReferenceParity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = data_path("models/" + GetParam());
    ref_ = load_json(dir_ + "/reference.json");
    model_ = load_causal_lm_from_hf_dir(dir_);
  }
  std::string dir_;
  nlohmann::json ref_;
  std::unique_ptr<CausalLM> model_;
  ThreadPool pool_{2};
};

TEST_P(ReferenceParity, LastPositionLogits) {
  ASSERT_EQ(ref_["cases"].size(), 3u);
  for (const auto& c : ref_["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    SequenceRunner run(*model_, pool_);
    std::vector<float> logits = run.feed(ids_of(c["input_ids"]), false);
    EXPECT_LE(max_abs_diff(logits, floats_of(c["logits_last"])), kLogitTol);
  }
}

TEST_P(ReferenceParity, AllPositionLogitsAndArgmax) {
  int checked = 0;
  for (const auto& c : ref_["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<int32_t> ids = ids_of(c["input_ids"]);
    SequenceRunner run(*model_, pool_);
    std::vector<float> logits = run.feed(ids, true);
    const int64_t vocab = model_->config().vocab_size;
    std::vector<int32_t> argmaxes;
    for (size_t t = 0; t < ids.size(); ++t) argmaxes.push_back(argmax(logits.data() + t * vocab, vocab));
    EXPECT_EQ(argmaxes, ids_of(c["argmax_all_positions"]));
    if (c.contains("logits_all_positions")) {
      EXPECT_LE(max_abs_diff(logits, flat_floats_of(c["logits_all_positions"])), kLogitTol);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2) << "reference.json should give all positions for lengths 1 and 7";
}

TEST_P(ReferenceParity, HiddenStatesAfterLayer0) {
  int checked = 0;
  for (const auto& c : ref_["cases"]) {
    if (!c.contains("hidden_after_layer0")) continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<float> hidden;
    HiddenCapture capture{0, &hidden};
    SequenceRunner run(*model_, pool_);
    run.feed(ids_of(c["input_ids"]), false, &capture);
    EXPECT_LE(max_abs_diff(hidden, flat_floats_of(c["hidden_after_layer0"])), kLogitTol);
    ++checked;
  }
  EXPECT_GE(checked, 1);
}

TEST_P(ReferenceParity, Greedy16Tokens) {
  for (const auto& c : ref_["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<int32_t> expected = ids_of(c["greedy"]["new_tokens"]);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(greedy(*model_, pool_, ids_of(c["input_ids"]), static_cast<int>(expected.size())),
              expected);
  }
}

// The top-5 logits transformers saw at each KV-cached decoding step.
TEST_P(ReferenceParity, GreedyStepLogits) {
  for (const auto& c : ref_["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto& steps = c["greedy"]["top5_logits_per_step"];
    std::vector<int32_t> seq = ids_of(c["input_ids"]);
    SequenceRunner run(*model_, pool_);
    std::vector<float> logits = run.feed(seq, false);
    for (size_t i = 0; i < steps.size(); ++i) {
      for (const auto& pair : steps[i]) {
        const int32_t id = pair[0].get<int32_t>();
        EXPECT_NEAR(logits[static_cast<size_t>(id)], pair[1].get<float>(), kLogitTol)
            << "step " << i << " token " << id;
      }
      logits = run.feed({steps[i][0][0].get<int32_t>()}, false);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, ReferenceParity,
                         ::testing::Values("llama-tiny", "llama-tiny-fp16", "llama-tiny-bf16",
                                           "qwen2-tiny"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace lmkit::testing
