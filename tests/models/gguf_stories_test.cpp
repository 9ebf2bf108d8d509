// stories260K.gguf: a real pretrained llama-architecture GGUF; greedy decoding must give the
// continuation llama.cpp (and llama2.c) produce.
#include <gtest/gtest.h>

#include "lmkit/formats/gguf.h"
#include "lmkit/models/model.h"
#include "model_test_util.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

std::unique_ptr<CausalLM> load_stories() {
  auto file = std::make_shared<const GgufFile>(
      materialize_maybe_gz(data_path("stories260K/stories260K.gguf")));
  return load_causal_lm_from_gguf(file);
}

TEST(GgufStories, ConfigFromMetadata) {
  auto model = load_stories();
  const ModelConfig& c = model->config();
  EXPECT_EQ(c.arch, Architecture::Llama);
  EXPECT_EQ(c.arch_string, "llama");
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.rope_dim, 8);
  EXPECT_EQ(c.intermediate_size, 172);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rope_style, kernels::RopeStyle::Interleaved);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int32_t>{2});
}

TEST(GgufStories, GreedyContinuationMatchesLlamaCpp) {
  auto ref = load_json(data_path("stories260K/reference.json"));
  std::vector<int32_t> prompt = ids_of(ref["prompt_token_ids_with_bos"]);
  std::vector<int32_t> expected = ids_of(ref["generated_token_ids"]);
  ASSERT_EQ(expected.size(), 64u);
  auto model = load_stories();
  ThreadPool pool(2);
  EXPECT_EQ(greedy(*model, pool, prompt, 64), expected);
}

}  // namespace
}  // namespace lmkit::testing
