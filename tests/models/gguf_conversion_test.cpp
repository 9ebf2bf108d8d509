// The tiny Hugging Face models rewritten as GGUF files the way llama.cpp's converter does it
// (llama: Q/K rows permuted for adjacent-pair RoPE; qwen2: unpermuted, tied, with biases),
// in F32 and in quantized types, must reproduce the transformers reference.
#include <gtest/gtest.h>

#include "lmkit/formats/gguf.h"
#include "lmkit/formats/safetensors.h"
#include "lmkit/kernels/kernels.h"
#include "lmkit/models/model.h"
#include "lmkit/models/weights.h"
#include "model_test_util.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

using models::WeightNaming;
using models::WeightRole;

// llama.cpp's permute(): within each head, rows (j, j + hd/2) become rows (2j, 2j + 1).
std::vector<float> permute_for_interleaved_rope(const float* w, int64_t heads, int64_t hd, int64_t cols) {
  std::vector<float> out(static_cast<size_t>(heads * hd * cols));
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t j = 0; j < hd / 2; ++j)
      for (int64_t p = 0; p < 2; ++p)
        std::copy_n(w + (h * hd + p * hd / 2 + j) * cols, cols,
                    out.begin() + (h * hd + 2 * j + p) * cols);
  return out;
}

struct Conversion {
  std::string model;          // folder under shared/data/models
  std::string arch;           // GGUF general.architecture
  DType matrix_dtype;         // for 2-D weights other than the embedding
  // Store f32 values that went through matrix_dtype and back, i.e. the same numbers the
  // quantized file holds, so a comparison isolates the quantized kernels' own error.
  bool f32_roundtrip = false;
};

std::string convert(const Conversion& conv) {
  const std::string dir = data_path("models/" + conv.model);
  const nlohmann::json cfg = load_json(dir + "/config.json");
  const ModelConfig c = parse_hf_config(cfg.dump(), conv.model);
  SafetensorsFile src(dir + "/model.safetensors");
  const std::string a = conv.arch + ".";
  GgufWriter w;
  w.set_string("general.architecture", conv.arch);
  w.set_u32(a + "embedding_length", static_cast<uint32_t>(c.hidden_size));
  w.set_u32(a + "block_count", static_cast<uint32_t>(c.n_layers));
  w.set_u32(a + "feed_forward_length", static_cast<uint32_t>(c.intermediate_size));
  w.set_u32(a + "attention.head_count", static_cast<uint32_t>(c.n_heads));
  w.set_u32(a + "attention.head_count_kv", static_cast<uint32_t>(c.n_kv_heads));
  w.set_u32(a + "context_length", static_cast<uint32_t>(c.max_position));
  w.set_u32(a + "rope.dimension_count", static_cast<uint32_t>(c.rope_dim));
  w.set_f32(a + "rope.freq_base", static_cast<float>(c.rope_theta));
  w.set_f32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  w.set_u32(a + "vocab_size", static_cast<uint32_t>(c.vocab_size));
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);

  const bool permute = conv.arch == "llama";
  for (int r = 0; r <= static_cast<int>(WeightRole::Down); ++r) {
    const WeightRole role = static_cast<WeightRole>(r);
    const bool global = role == WeightRole::Embed || role == WeightRole::FinalNorm ||
                        role == WeightRole::LmHead;
    for (int64_t l = global ? -1 : 0; l < (global ? 0 : c.n_layers); ++l) {
      const std::string hf = models::weight_name(WeightNaming::HuggingFace, role, l);
      const TensorView* t = hf.empty() ? nullptr : src.find(hf);
      if (!t) continue;
      EXPECT_EQ(t->dtype, DType::F32);
      const float* data = static_cast<const float*>(t->data);
      std::vector<float> values(data, data + t->numel());
      if (permute && (role == WeightRole::Q || role == WeightRole::K)) {
        const int64_t heads = role == WeightRole::Q ? c.n_heads : c.n_kv_heads;
        values = permute_for_interleaved_rope(data, heads, c.head_dim, t->cols());
      }
      const std::string name = models::weight_name(WeightNaming::Gguf, role, l);
      const bool quantize = t->shape.size() == 2 && role != WeightRole::Embed &&
                            t->cols() % 32 == 0;
      DType dt = quantize ? conv.matrix_dtype : DType::F32;
      if (quantize && conv.f32_roundtrip) {
        std::vector<uint8_t> q(dtype_row_bytes(dt, t->cols()));
        for (int64_t row = 0; row < t->rows(); ++row) {
          float* v = values.data() + row * t->cols();
          kernels::quantize_row(v, dt, q.data(), t->cols());
          kernels::dequantize_row(q.data(), dt, v, t->cols());
        }
        dt = DType::F32;
      }
      std::vector<uint8_t> bytes(dtype_row_bytes(dt, t->cols()) * static_cast<size_t>(t->rows()));
      for (int64_t row = 0; row < t->rows(); ++row)
        kernels::quantize_row(values.data() + row * t->cols(), dt,
                              bytes.data() + row * dtype_row_bytes(dt, t->cols()), t->cols());
      w.add_tensor(name, dt, t->shape, bytes.data(), bytes.size());
    }
  }
  const std::string path = temp_dir() + "/" + conv.model + "-" + dtype_name(conv.matrix_dtype) +
                           (conv.f32_roundtrip ? "-roundtrip" : "") + ".gguf";
  w.write(path);
  return path;
}

double worst_last_logit_error(const std::string& gguf_path, const std::string& model) {
  auto lm = load_causal_lm_from_gguf(std::make_shared<const GgufFile>(gguf_path));
  auto ref = load_json(data_path("models/" + model + "/reference.json"));
  ThreadPool pool(2);
  double worst = 0;
  for (const auto& c : ref["cases"]) {
    SequenceRunner run(*lm, pool);
    worst = std::max(worst, max_abs_diff(run.feed(ids_of(c["input_ids"]), false),
                                         floats_of(c["logits_last"])));
  }
  return worst;
}

TEST(GgufConversion, LlamaF32PermutedQkMatchesTransformers) {
  const std::string path = convert({"llama-tiny", "llama", DType::F32});
  auto lm = load_causal_lm_from_gguf(std::make_shared<const GgufFile>(path));
  EXPECT_EQ(lm->config().rope_style, kernels::RopeStyle::Interleaved);
  EXPECT_LE(worst_last_logit_error(path, "llama-tiny"), 1e-4);
}

TEST(GgufConversion, Qwen2F32TiedWithBiasMatchesTransformers) {
  const std::string path = convert({"qwen2-tiny", "qwen2", DType::F32});
  auto lm = load_causal_lm_from_gguf(std::make_shared<const GgufFile>(path));
  EXPECT_TRUE(lm->config().tie_word_embeddings);
  EXPECT_TRUE(lm->config().attention_bias);
  EXPECT_EQ(lm->config().rope_style, kernels::RopeStyle::Neox);
  EXPECT_LE(worst_last_logit_error(path, "qwen2-tiny"), 1e-4);
}

std::vector<float> all_last_logits(const std::string& gguf_path, const std::string& model) {
  auto lm = load_causal_lm_from_gguf(std::make_shared<const GgufFile>(gguf_path));
  auto ref = load_json(data_path("models/" + model + "/reference.json"));
  ThreadPool pool(2);
  std::vector<float> out;
  for (const auto& c : ref["cases"]) {
    SequenceRunner run(*lm, pool);
    std::vector<float> l = run.feed(ids_of(c["input_ids"]), false);
    out.insert(out.end(), l.begin(), l.end());
  }
  return out;
}

// Quantized matrices used in place must compute what f32 matrices holding the same
// (dequantized) values compute, up to the kernels quantizing activations per block; a wrong
// block layout or row stride would be off by whole units.
TEST(GgufConversion, QuantizedMatricesMatchTheirDequantizedValues) {
  for (Conversion conv : {Conversion{"llama-tiny", "llama", DType::Q8_0},
                          Conversion{"qwen2-tiny", "qwen2", DType::Q4_0}}) {
    SCOPED_TRACE(conv.model + " " + dtype_name(conv.matrix_dtype));
    std::vector<float> quantized = all_last_logits(convert(conv), conv.model);
    conv.f32_roundtrip = true;
    std::vector<float> dequantized = all_last_logits(convert(conv), conv.model);
    // The SIMD paths quantize activations to int8 per block of 32, as llama.cpp does (up to
    // 1/254 of a block's largest value per element); over qwen2-tiny's layers that moves
    // logits by about 0.15. A wrong block layout or stride is off by whole units.
    EXPECT_LE(max_abs_diff(quantized, dequantized), 0.3);
  }
}

}  // namespace
}  // namespace lmkit::testing
