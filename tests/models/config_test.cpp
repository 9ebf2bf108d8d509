// config.json and GGUF metadata -> ModelConfig: values, transformers' defaults, rope scaling.
#include <gtest/gtest.h>

#include <cmath>

#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/models/config.h"
#include "model_test_util.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;

ModelConfig parse(const json& j) { return parse_hf_config(j.dump(), "test/config.json"); }

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an lmkit::Error";
  return {};
}

TEST(HfConfig, LlamaTiny) {
  ModelConfig c = parse(load_json(data_path("models/llama-tiny/config.json")));
  EXPECT_EQ(c.arch, Architecture::Llama);
  EXPECT_EQ(c.arch_string, "LlamaForCausalLM");
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.rope_dim, 16);
  EXPECT_EQ(c.intermediate_size, 172);
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.max_position, 256);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.attention_bias);
  EXPECT_EQ(c.rope_style, kernels::RopeStyle::Neox);
  EXPECT_EQ(c.rope_scaling.type, "none");
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int32_t>{2});
}

TEST(HfConfig, Qwen2TinyHasBiasTiedAndNoWindow) {
  ModelConfig c = parse(load_json(data_path("models/qwen2-tiny/config.json")));
  EXPECT_EQ(c.arch, Architecture::Qwen2);
  EXPECT_TRUE(c.attention_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.sliding_window, 0);  // use_sliding_window is false
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
}

TEST(HfConfig, TransformersDefaults) {
  ModelConfig c = parse({{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 256},
                         {"num_attention_heads", 8}});
  EXPECT_EQ(c.n_kv_heads, 8);  // num_key_value_heads defaults to num_attention_heads
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.vocab_size, 32000);
  EXPECT_EQ(c.n_layers, 32);
  EXPECT_EQ(c.intermediate_size, 11008);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_EQ(c.max_position, 2048);

  ModelConfig m = parse({{"architectures", {"MistralForCausalLM"}}});
  EXPECT_EQ(m.n_kv_heads, 8);
  EXPECT_EQ(m.sliding_window, 4096);
  EXPECT_EQ(m.max_position, 4096);  // capped to the window

  ModelConfig i = parse({{"architectures", {"InternLM2ForCausalLM"}}});
  EXPECT_TRUE(i.attention_bias);  // InternLM2Config's bias defaults to True
  EXPECT_TRUE(i.o_proj_bias);
  EXPECT_EQ(i.vocab_size, 103168);
}

TEST(HfConfig, ExplicitHeadDimAndEosList) {
  ModelConfig c = parse({{"architectures", {"MistralForCausalLM"}}, {"hidden_size", 5120},
                         {"num_attention_heads", 32}, {"head_dim", 128},
                         {"sliding_window", nullptr}, {"max_position_embeddings", 131072},
                         {"eos_token_id", {128001, 128008, 128009}}});
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.sliding_window, 0);
  EXPECT_EQ(c.max_position, 131072);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{128001, 128008, 128009}));
}

TEST(HfConfig, Llama3RopeScaling) {
  // Llama 3.2 1B's published rope settings.
  json j = {{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", 2048},
            {"num_attention_heads", 32}, {"rope_theta", 500000.0},
            {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 32.0}, {"low_freq_factor", 1.0},
                              {"high_freq_factor", 4.0},
                              {"original_max_position_embeddings", 8192}}}};
  ModelConfig c = parse(j);
  ASSERT_EQ(c.rope_scaling.type, "llama3");
  std::vector<float> inv = c.rope_inv_freq();
  ASSERT_EQ(inv.size(), 32u);
  const double pi = 3.14159265358979323846;
  int kept = 0, scaled = 0, blended = 0;
  for (int i = 0; i < 32; ++i) {
    const double base = std::pow(500000.0, -2.0 * i / 64.0);
    const double wavelen = 2 * pi / base;
    if (wavelen < 8192 / 4.0) {  // short wavelengths: untouched
      EXPECT_FLOAT_EQ(inv[i], static_cast<float>(base));
      ++kept;
    } else if (wavelen > 8192 / 1.0) {  // long wavelengths: slowed by the factor
      EXPECT_FLOAT_EQ(inv[i], static_cast<float>(base / 32.0));
      ++scaled;
    } else {  // in between: strictly between the two
      EXPECT_LT(inv[i], base);
      EXPECT_GT(inv[i], base / 32.0);
      ++blended;
    }
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(scaled, 0);
  EXPECT_GT(blended, 0);

  // The older spelling "type" works too, and "linear" divides every frequency.
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  std::vector<float> lin = parse(j).rope_inv_freq();
  EXPECT_FLOAT_EQ(lin[5], static_cast<float>(std::pow(500000.0, -10.0 / 64.0) / 2.0));
}

TEST(HfConfig, UnknownArchitectureNamesItAndListsSupported) {
  std::string msg = error_of([] { parse({{"architectures", {"GPTNeoXForCausalLM"}}}); });
  EXPECT_NE(msg.find("GPTNeoXForCausalLM"), std::string::npos) << msg;
  for (const char* name : {"LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM",
                           "InternLM2ForCausalLM"})
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
  EXPECT_NE(msg.find("test/config.json"), std::string::npos) << msg;
}

TEST(HfConfig, BadFieldsAreNamed) {
  std::string msg = error_of([] { parse({{"architectures", {"LlamaForCausalLM"}}, {"hidden_size", "64"}}); });
  EXPECT_NE(msg.find("hidden_size"), std::string::npos) << msg;
  msg = error_of([] {
    parse({{"architectures", {"LlamaForCausalLM"}}, {"num_attention_heads", 8},
           {"num_key_value_heads", 3}, {"hidden_size", 64}});
  });
  EXPECT_NE(msg.find("num_key_value_heads"), std::string::npos) << msg;
  msg = error_of([] {
    parse({{"architectures", {"LlamaForCausalLM"}}, {"rope_scaling", {{"type", "yarn"}, {"factor", 4}}}});
  });
  EXPECT_NE(msg.find("yarn"), std::string::npos) << msg;
  msg = error_of([] { parse({{"architectures", {"LlamaForCausalLM"}}, {"eos_token_id", "2"}}); });
  EXPECT_NE(msg.find("eos_token_id"), std::string::npos) << msg;
  msg = error_of([] { parse({{"hidden_size", 64}}); });
  EXPECT_NE(msg.find("architectures"), std::string::npos) << msg;
  msg = error_of([] { parse_hf_config("{not json", "x/config.json"); });
  EXPECT_NE(msg.find("x/config.json"), std::string::npos) << msg;
}

GgufWriter minimal_gguf(const std::string& arch) {
  GgufWriter w;
  w.set_string("general.architecture", arch);
  w.set_u32(arch + ".embedding_length", 64);
  w.set_u32(arch + ".block_count", 2);
  w.set_u32(arch + ".feed_forward_length", 128);
  w.set_u32(arch + ".attention.head_count", 4);
  w.set_u32(arch + ".attention.head_count_kv", 2);
  w.set_u32(arch + ".context_length", 512);
  w.set_f32(arch + ".rope.freq_base", 1000000.0f);
  w.set_f32(arch + ".attention.layer_norm_rms_epsilon", 1e-6f);
  w.set_u32(arch + ".vocab_size", 100);
  return w;
}

TEST(GgufConfig, Qwen2UsesNeoxRopeAndDetectsBias) {
  GgufWriter w = minimal_gguf("qwen2");
  std::vector<float> bias(64, 0.5f);
  w.add_tensor("blk.0.attn_q.bias", DType::F32, {64}, bias.data(), bias.size() * 4);
  const std::string path = temp_dir() + "/qwen2-meta.gguf";
  w.write(path);
  ModelConfig c = config_from_gguf(GgufFile(path));
  EXPECT_EQ(c.arch, Architecture::Qwen2);
  EXPECT_EQ(c.rope_style, kernels::RopeStyle::Neox);
  EXPECT_TRUE(c.attention_bias);
  EXPECT_TRUE(c.tie_word_embeddings);  // no output.weight
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.vocab_size, 100);
  EXPECT_EQ(c.max_position, 512);
  EXPECT_FLOAT_EQ(static_cast<float>(c.rope_theta), 1e6f);
}

TEST(GgufConfig, MistralRunsAsLlamaAndRopeFreqsApply) {
  GgufWriter w = minimal_gguf("mistral");
  std::vector<float> factors = {1.0f, 2.0f, 4.0f, 8.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  w.add_tensor("rope_freqs.weight", DType::F32, {8}, factors.data(), factors.size() * 4);
  const std::string path = temp_dir() + "/mistral-meta.gguf";
  w.write(path);
  ModelConfig c = config_from_gguf(GgufFile(path));
  EXPECT_EQ(c.arch, Architecture::Llama);
  EXPECT_EQ(c.arch_string, "mistral");
  EXPECT_EQ(c.rope_style, kernels::RopeStyle::Interleaved);
  std::vector<float> inv = c.rope_inv_freq();
  ASSERT_EQ(inv.size(), 8u);
  EXPECT_FLOAT_EQ(inv[3], static_cast<float>(std::pow(1e6, -6.0 / 16.0) / 8.0));
}

TEST(GgufConfig, UnknownArchitectureAndMissingKey) {
  const std::string path = temp_dir() + "/gpt2-meta.gguf";
  minimal_gguf("gpt2").write(path);
  std::string msg = error_of([&] { config_from_gguf(GgufFile(path)); });
  EXPECT_NE(msg.find("gpt2"), std::string::npos) << msg;
  for (const char* name : {"llama", "qwen2", "internlm2", "mistral"})
    EXPECT_NE(msg.find(name), std::string::npos) << msg;

  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  const std::string path2 = temp_dir() + "/llama-missing.gguf";
  w.write(path2);
  msg = error_of([&] { config_from_gguf(GgufFile(path2)); });
  EXPECT_NE(msg.find("llama.embedding_length"), std::string::npos) << msg;
}

}  // namespace
}  // namespace lmkit::testing
