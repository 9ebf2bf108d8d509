// InternLM2 and Mistral without downloads: llama-tiny's weights rewritten under each
// architecture's config and tensor names (InternLM2: packed wqkv) must reproduce llama-tiny's
// transformers reference logits.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lmkit/formats/safetensors.h"
#include "lmkit/models/model.h"
#include "lmkit/models/weights.h"
#include "model_test_util.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

namespace fs = std::filesystem;
using models::WeightNaming;
using models::WeightRole;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

nlohmann::json llama_tiny_config() {
  return load_json(data_path("models/llama-tiny/config.json"));
}

void expect_llama_tiny_logits(const std::string& dir) {
  auto model = load_causal_lm_from_hf_dir(dir);
  auto ref = load_json(data_path("models/llama-tiny/reference.json"));
  ThreadPool pool(2);
  for (const auto& c : ref["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    SequenceRunner run(*model, pool);
    EXPECT_LE(max_abs_diff(run.feed(ids_of(c["input_ids"]), false), floats_of(c["logits_last"])),
              1e-4);
  }
}

TEST(OtherArchitectures, MistralConfigOnLlamaWeights) {
  const std::string dir = temp_dir() + "/mistral-tiny";
  fs::create_directories(dir);
  nlohmann::json cfg = llama_tiny_config();
  cfg["architectures"] = {"MistralForCausalLM"};
  cfg["model_type"] = "mistral";
  cfg.erase("attention_bias");
  cfg["sliding_window"] = 4096;
  write_text(dir + "/config.json", cfg.dump(2));
  fs::copy_file(data_path("models/llama-tiny/model.safetensors"), dir + "/model.safetensors");
  expect_llama_tiny_logits(dir);
  const ModelConfig c = load_causal_lm_from_hf_dir(dir)->config();
  EXPECT_EQ(c.arch, Architecture::Mistral);
  EXPECT_EQ(c.max_position, 256);  // the window (4096) is wider than the context

}

TEST(OtherArchitectures, InternLM2PackedWqkv) {
  SafetensorsFile src(data_path("models/llama-tiny/model.safetensors"));
  const nlohmann::json llama_cfg = llama_tiny_config();
  const int64_t H = llama_cfg["hidden_size"], heads = llama_cfg["num_attention_heads"],
                kv_heads = llama_cfg["num_key_value_heads"], layers = llama_cfg["num_hidden_layers"];
  const int64_t hd = H / heads, group = heads / kv_heads;

  std::vector<TensorToWrite> out;
  std::vector<std::vector<float>> packed_storage;
  packed_storage.reserve(static_cast<size_t>(layers));
  auto rename = [&](WeightRole role, int64_t layer) {
    const TensorView* t = src.find(models::weight_name(WeightNaming::HuggingFace, role, layer));
    ASSERT_NE(t, nullptr);
    out.push_back({models::weight_name(WeightNaming::InternLM2, role, layer), t->dtype, t->shape,
                   t->data, t->nbytes});
  };
  rename(WeightRole::Embed, -1);
  rename(WeightRole::FinalNorm, -1);
  rename(WeightRole::LmHead, -1);
  for (int64_t l = 0; l < layers; ++l) {
    for (WeightRole r : {WeightRole::AttnNorm, WeightRole::FfnNorm, WeightRole::O, WeightRole::Gate,
                         WeightRole::Up, WeightRole::Down})
      rename(r, l);
    auto rows = [&](WeightRole role) {
      const TensorView* t = src.find(models::weight_name(WeightNaming::HuggingFace, role, l));
      EXPECT_TRUE(t && t->dtype == DType::F32);
      return static_cast<const float*>(t->data);
    };
    const float* q = rows(WeightRole::Q);
    const float* k = rows(WeightRole::K);
    const float* v = rows(WeightRole::V);
    // InternLM2's layout: for each KV head, its group of query heads, then its k, then its v.
    std::vector<float>& packed = packed_storage.emplace_back();
    for (int64_t g = 0; g < kv_heads; ++g) {
      packed.insert(packed.end(), q + g * group * hd * H, q + (g + 1) * group * hd * H);
      packed.insert(packed.end(), k + g * hd * H, k + (g + 1) * hd * H);
      packed.insert(packed.end(), v + g * hd * H, v + (g + 1) * hd * H);
    }
    out.push_back({models::weight_name(WeightNaming::InternLM2, WeightRole::QKV, l), DType::F32,
                   {(heads + 2 * kv_heads) * hd, H}, packed.data(), packed.size() * sizeof(float)});
  }

  const std::string dir = temp_dir() + "/internlm2-tiny";
  fs::create_directories(dir);
  write_safetensors(dir + "/model.safetensors", out);
  nlohmann::json cfg = {
      {"architectures", {"InternLM2ForCausalLM"}},
      {"model_type", "internlm2"},
      {"hidden_size", H},
      {"intermediate_size", llama_cfg["intermediate_size"]},
      {"num_hidden_layers", layers},
      {"num_attention_heads", heads},
      {"num_key_value_heads", kv_heads},
      {"rms_norm_eps", llama_cfg["rms_norm_eps"]},
      {"rope_theta", llama_cfg["rope_theta"]},
      {"rope_scaling", nullptr},
      {"max_position_embeddings", llama_cfg["max_position_embeddings"]},
      {"vocab_size", llama_cfg["vocab_size"]},
      {"bias", false},
      {"tie_word_embeddings", false},
      {"bos_token_id", 1},
      {"eos_token_id", 2},
  };
  write_text(dir + "/config.json", cfg.dump(2));
  expect_llama_tiny_logits(dir);
}

// Sharded checkpoints: llama-tiny split over two files with model.safetensors.index.json.
TEST(OtherArchitectures, ShardedLlamaDirectory) {
  SafetensorsFile src(data_path("models/llama-tiny/model.safetensors"));
  const std::string dir = temp_dir() + "/llama-tiny-sharded";
  fs::create_directories(dir);
  std::vector<TensorToWrite> shards[2];
  nlohmann::json weight_map = nlohmann::json::object();
  size_t total = 0;
  for (const TensorView& t : src.tensors()) {
    // Layer 1 and the head in the second shard, the rest in the first.
    const int s = t.name.find("layers.1.") != std::string::npos || t.name == "lm_head.weight";
    shards[s].push_back({t.name, t.dtype, t.shape, t.data, t.nbytes});
    const std::string file = "model-0000" + std::to_string(s + 1) + "-of-00002.safetensors";
    weight_map[t.name] = file;
    total += t.nbytes;
  }
  for (int s = 0; s < 2; ++s)
    write_safetensors(dir + "/model-0000" + std::to_string(s + 1) + "-of-00002.safetensors", shards[s]);
  write_text(dir + "/model.safetensors.index.json",
             nlohmann::json{{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}}.dump());
  write_text(dir + "/config.json", llama_tiny_config().dump(2));
  expect_llama_tiny_logits(dir);
}

}  // namespace
}  // namespace lmkit::testing
