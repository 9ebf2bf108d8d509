// Random-weight models of real shapes: the named shapes are the published ones, and a model
// built in any supported weight dtype runs and is reproducible from its seed.
#include <gtest/gtest.h>

#include <cmath>

#include "lmkit/base/error.h"
#include "lmkit/models/model.h"
#include "model_test_util.h"

namespace lmkit::testing {
namespace {

TEST(RandomModel, PublishedShapes) {
  ModelConfig q = random_shape_config("qwen2.5-0.5b");
  EXPECT_EQ(q.arch, Architecture::Qwen2);
  EXPECT_EQ(q.hidden_size, 896);
  EXPECT_EQ(q.n_layers, 24);
  EXPECT_EQ(q.n_heads, 14);
  EXPECT_EQ(q.n_kv_heads, 2);
  EXPECT_EQ(q.head_dim, 64);
  EXPECT_EQ(q.intermediate_size, 4864);
  EXPECT_EQ(q.vocab_size, 151936);
  EXPECT_TRUE(q.tie_word_embeddings);
  EXPECT_TRUE(q.attention_bias);

  ModelConfig l = random_shape_config("llama-3.2-1b");
  EXPECT_EQ(l.hidden_size, 2048);
  EXPECT_EQ(l.n_layers, 16);
  EXPECT_EQ(l.n_heads, 32);
  EXPECT_EQ(l.n_kv_heads, 8);
  EXPECT_EQ(l.intermediate_size, 8192);
  EXPECT_EQ(l.vocab_size, 128256);
  EXPECT_TRUE(l.tie_word_embeddings);
  EXPECT_EQ(l.rope_scaling.type, "llama3");

  ModelConfig b = random_shape_config("qwen2.5-1.5b");
  EXPECT_EQ(b.hidden_size, 1536);
  EXPECT_EQ(b.n_layers, 28);
  ModelConfig s = random_shape_config("llama-2-7b");
  EXPECT_EQ(s.hidden_size, 4096);
  EXPECT_EQ(s.n_kv_heads, 32);
  // 2 bytes x K and V x 32 layers x 4096 floats per token: llama-2-7b's well-known 0.5 MiB
  // per token in f16, so 1 MiB in lmkit's f32 cache.
  EXPECT_EQ(KvCache::bytes_per_block(s, 1), 1u << 20);
}

TEST(RandomModel, UnknownShapeListsKnownOnes) {
  try {
    random_shape_config("gpt-5");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("gpt-5"), std::string::npos);
    for (const std::string& n : random_shape_names()) EXPECT_NE(msg.find(n), std::string::npos) << msg;
  }
}

std::vector<float> run_tiny(DType dtype, uint64_t seed) {
  auto model = make_random_causal_lm("tiny", dtype, seed);
  ThreadPool pool(2);
  SequenceRunner run(*model, pool);
  return run.feed({1, 5, 9, 300, 7}, true);
}

TEST(RandomModel, EveryWeightDtypeRunsDeterministically) {
  for (DType dt : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
    SCOPED_TRACE(dtype_name(dt));
    std::vector<float> a = run_tiny(dt, 42);
    ASSERT_EQ(a.size(), 5u * 512u);
    for (float v : a) ASSERT_TRUE(std::isfinite(v));
    EXPECT_EQ(a, run_tiny(dt, 42));
    EXPECT_GT(max_abs_diff(a, run_tiny(dt, 43)), 0.0);
  }
  // Lower precisions approximate the same f32 weights.
  std::vector<float> f32 = run_tiny(DType::F32, 7);
  EXPECT_LT(max_abs_diff(run_tiny(DType::F16, 7), f32), 0.05);
  EXPECT_LT(max_abs_diff(run_tiny(DType::Q8_0, 7), f32), 0.5);
}

}  // namespace
}  // namespace lmkit::testing
