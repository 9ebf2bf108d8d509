// Checkpoints and forward steps that do not fit the model: one clear lmkit::Error each.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/formats/safetensors.h"
#include "lmkit/models/model.h"
#include "model_test_util.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

namespace fs = std::filesystem;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an lmkit::Error";
  return {};
}

void expect_contains(const std::string& msg, std::initializer_list<const char*> parts) {
  for (const char* p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "\"" << p << "\" not in: " << msg;
}

// A copy of llama-tiny with its config edited and its tensors filtered or replaced.
std::string llama_tiny_variant(const std::string& name,
                               const std::function<void(nlohmann::json&)>& edit_config,
                               const std::function<bool(TensorToWrite&)>& keep_tensor) {
  const std::string dir = temp_dir() + "/" + name;
  fs::create_directories(dir);
  nlohmann::json cfg = load_json(data_path("models/llama-tiny/config.json"));
  edit_config(cfg);
  std::ofstream(dir + "/config.json") << cfg.dump(2);
  static SafetensorsFile src(data_path("models/llama-tiny/model.safetensors"));
  std::vector<TensorToWrite> tensors;
  for (const TensorView& t : src.tensors()) {
    TensorToWrite w{t.name, t.dtype, t.shape, t.data, t.nbytes};
    if (keep_tensor(w)) tensors.push_back(w);
  }
  write_safetensors(dir + "/model.safetensors", tensors);
  return dir;
}

TEST(BadCheckpoint, ShapeDisagreesWithConfig) {
  std::string dir = llama_tiny_variant(
      "wrong-ffn", [](nlohmann::json& c) { c["intermediate_size"] = 128; },
      [](TensorToWrite&) { return true; });
  std::string msg = error_of([&] { load_causal_lm_from_hf_dir(dir); });
  expect_contains(msg, {"model.layers.0.mlp.gate_proj.weight", "[172, 64]", "[128, 64]",
                        "model.safetensors"});
}

TEST(BadCheckpoint, MissingTensor) {
  std::string dir = llama_tiny_variant(
      "no-final-norm", [](nlohmann::json&) {},
      [](TensorToWrite& t) { return t.name != "model.norm.weight"; });
  std::string msg = error_of([&] { load_causal_lm_from_hf_dir(dir); });
  expect_contains(msg, {"model.norm.weight", "missing", "[64]"});
}

TEST(BadCheckpoint, UntiedModelWithoutLmHead) {
  std::string dir = llama_tiny_variant(
      "no-lm-head", [](nlohmann::json&) {},
      [](TensorToWrite& t) { return t.name != "lm_head.weight"; });
  std::string msg = error_of([&] { load_causal_lm_from_hf_dir(dir); });
  expect_contains(msg, {"lm_head.weight", "missing"});
}

TEST(BadCheckpoint, IntegerWeights) {
  std::vector<int32_t> ints(64, 1);
  std::string dir = llama_tiny_variant(
      "int-norm", [](nlohmann::json&) {},
      [&](TensorToWrite& t) {
        if (t.name == "model.layers.1.input_layernorm.weight") {
          t.dtype = DType::I32;
          t.data = ints.data();
        }
        return true;
      });
  std::string msg = error_of([&] { load_causal_lm_from_hf_dir(dir); });
  expect_contains(msg, {"model.layers.1.input_layernorm.weight", "i32"});
}

TEST(BadCheckpoint, UnknownArchitectureInDirectory) {
  std::string dir = llama_tiny_variant(
      "falcon", [](nlohmann::json& c) { c["architectures"] = {"FalconForCausalLM"}; },
      [](TensorToWrite&) { return true; });
  std::string msg = error_of([&] { load_causal_lm_from_hf_dir(dir); });
  expect_contains(msg, {"FalconForCausalLM", "LlamaForCausalLM", "Qwen2ForCausalLM",
                        "MistralForCausalLM", "InternLM2ForCausalLM", "config.json"});
}

TEST(BadCheckpoint, NotAModelDirectory) {
  const std::string dir = temp_dir() + "/empty-dir";
  fs::create_directories(dir);
  expect_contains(error_of([&] { load_causal_lm_from_hf_dir(dir); }), {"config.json"});
  std::ofstream(dir + "/config.json")
      << load_json(data_path("models/llama-tiny/config.json")).dump();
  expect_contains(error_of([&] { load_causal_lm_from_hf_dir(dir); }), {"model.safetensors"});
}

TEST(BadCheckpoint, GgufTensorShapeMismatch) {
  // A GGUF whose metadata says 2 KV heads but whose attn_k has rows for 4.
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.embedding_length", 32);
  w.set_u32("llama.block_count", 1);
  w.set_u32("llama.feed_forward_length", 32);
  w.set_u32("llama.attention.head_count", 4);
  w.set_u32("llama.attention.head_count_kv", 2);
  w.set_u32("llama.vocab_size", 8);
  std::vector<float> buf(64 * 32, 0.1f);
  auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    w.add_tensor(name, DType::F32, shape, buf.data(), static_cast<size_t>(n) * 4);
  };
  add("token_embd.weight", {8, 32});
  add("output_norm.weight", {32});
  add("blk.0.attn_norm.weight", {32});
  add("blk.0.ffn_norm.weight", {32});
  add("blk.0.attn_q.weight", {32, 32});
  add("blk.0.attn_k.weight", {32, 32});  // expected [16, 32]
  add("blk.0.attn_v.weight", {16, 32});
  const std::string path = temp_dir() + "/bad-k.gguf";
  w.write(path);
  std::string msg = error_of([&] { load_causal_lm_from_gguf(std::make_shared<const GgufFile>(path)); });
  expect_contains(msg, {"blk.0.attn_k.weight", "[32, 32]", "[16, 32]", "bad-k.gguf"});
}

class BadForward : public ::testing::Test {
 protected:
  void SetUp() override { model_ = load_causal_lm_from_hf_dir(data_path("models/llama-tiny")); }
  std::string run(std::vector<int32_t> tokens, int64_t start_pos, std::vector<int32_t> table,
                  KvCache* cache = nullptr) {
    KvCache own(model_->config(), 8, 4);
    SequenceStep s;
    s.tokens = tokens.data();
    s.n_tokens = static_cast<int64_t>(tokens.size());
    s.start_pos = start_pos;
    s.block_table = table.data();
    s.n_table_blocks = static_cast<int64_t>(table.size());
    std::vector<float> logits(static_cast<size_t>(model_->config().vocab_size));
    return error_of([&] { model_->forward({&s, 1}, cache ? *cache : own, logits.data(), pool_); });
  }
  std::unique_ptr<CausalLM> model_;
  ThreadPool pool_{1};
};

TEST_F(BadForward, TokenOutsideVocabulary) {
  expect_contains(run({1, 512}, 0, {0}), {"token id 512", "512"});
  expect_contains(run({-3}, 0, {0}), {"token id -3"});
}

TEST_F(BadForward, BlockTableTooShortOrOutOfRange) {
  expect_contains(run({1, 2, 3, 4, 5}, 0, {0}), {"block table", "2 needed"});
  expect_contains(run({1}, 0, {8}), {"block id 8"});
}

TEST_F(BadForward, EmptyStepAndPositionBeyondContext) {
  expect_contains(run({}, 0, {0}), {"at least one token"});
  std::vector<int32_t> table(80);
  for (size_t i = 0; i < table.size(); ++i) table[i] = 0;
  expect_contains(run({1}, 256, table), {"context of 256"});
}

TEST_F(BadForward, CacheOfAnotherShape) {
  ModelConfig other = model_->config();
  other.n_kv_heads = 4;
  KvCache wrong(other, 8, 4);
  expect_contains(run({1}, 0, {0}, &wrong), {"KV cache"});
}

}  // namespace
}  // namespace lmkit::testing
