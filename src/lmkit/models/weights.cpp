#include "lmkit/models/weights.h"

#include <fmt/format.h>

#include "lmkit/base/error.h"

namespace lmkit::models {
namespace {

struct NameRow {
  WeightRole role;
  const char* hf;         // transformers Llama / Qwen2 / Mistral
  const char* internlm2;  // InternLM2's remote modeling code
  const char* gguf;       // llama.cpp
};

// {} is the layer index.
constexpr NameRow kNames[] = {
    {WeightRole::Embed, "model.embed_tokens.weight", "model.tok_embeddings.weight", "token_embd.weight"},
    {WeightRole::FinalNorm, "model.norm.weight", "model.norm.weight", "output_norm.weight"},
    {WeightRole::LmHead, "lm_head.weight", "output.weight", "output.weight"},
    {WeightRole::AttnNorm, "model.layers.{}.input_layernorm.weight", "model.layers.{}.attention_norm.weight", "blk.{}.attn_norm.weight"},
    {WeightRole::Q, "model.layers.{}.self_attn.q_proj.weight", "", "blk.{}.attn_q.weight"},
    {WeightRole::K, "model.layers.{}.self_attn.k_proj.weight", "", "blk.{}.attn_k.weight"},
    {WeightRole::V, "model.layers.{}.self_attn.v_proj.weight", "", "blk.{}.attn_v.weight"},
    {WeightRole::QKV, "", "model.layers.{}.attention.wqkv.weight", ""},
    {WeightRole::O, "model.layers.{}.self_attn.o_proj.weight", "model.layers.{}.attention.wo.weight", "blk.{}.attn_output.weight"},
    {WeightRole::QBias, "model.layers.{}.self_attn.q_proj.bias", "", "blk.{}.attn_q.bias"},
    {WeightRole::KBias, "model.layers.{}.self_attn.k_proj.bias", "", "blk.{}.attn_k.bias"},
    {WeightRole::VBias, "model.layers.{}.self_attn.v_proj.bias", "", "blk.{}.attn_v.bias"},
    {WeightRole::QKVBias, "", "model.layers.{}.attention.wqkv.bias", ""},
    {WeightRole::OBias, "model.layers.{}.self_attn.o_proj.bias", "model.layers.{}.attention.wo.bias", "blk.{}.attn_output.bias"},
    {WeightRole::FfnNorm, "model.layers.{}.post_attention_layernorm.weight", "model.layers.{}.ffn_norm.weight", "blk.{}.ffn_norm.weight"},
    {WeightRole::Gate, "model.layers.{}.mlp.gate_proj.weight", "model.layers.{}.feed_forward.w1.weight", "blk.{}.ffn_gate.weight"},
    {WeightRole::Up, "model.layers.{}.mlp.up_proj.weight", "model.layers.{}.feed_forward.w3.weight", "blk.{}.ffn_up.weight"},
    {WeightRole::Down, "model.layers.{}.mlp.down_proj.weight", "model.layers.{}.feed_forward.w2.weight", "blk.{}.ffn_down.weight"},
};

std::string shape_string(const std::vector<int64_t>& shape) {
  TensorView v;
  v.shape = shape;
  return v.shape_string();
}

class Binder {
 public:
  Binder(WeightNaming naming, const TensorFinder& find, const std::string& source)
      : naming_(naming), find_(find), source_(source) {}

  const TensorView* lookup(WeightRole role, int64_t layer) const {
    std::string name = weight_name(naming_, role, layer);
    return name.empty() ? nullptr : find_(name);
  }

  const TensorView& require(WeightRole role, int64_t layer, const std::vector<int64_t>& shape) const {
    std::string name = weight_name(naming_, role, layer);
    const TensorView* t = name.empty() ? nullptr : find_(name);
    if (!t)
      throw_error(source_ + ": tensor \"" + name + "\" is missing (expected shape " +
                  shape_string(shape) + ")");
    check_shape(*t, name, shape);
    return *t;
  }

  void check_shape(const TensorView& t, const std::string& name,
                   const std::vector<int64_t>& shape) const {
    if (t.shape != shape)
      throw_error(source_ + ": tensor \"" + name + "\" has shape " + t.shape_string() +
                  ", expected " + shape_string(shape) + " from the model config");
  }

  kernels::Matrix matrix(WeightRole role, int64_t layer, int64_t rows, int64_t cols) const {
    return to_matrix(require(role, layer, {rows, cols}), weight_name(naming_, role, layer));
  }

  kernels::Matrix to_matrix(const TensorView& t, const std::string& name) const {
    if (!kernels::matmul_supports(t.dtype))
      throw_error(source_ + ": tensor \"" + name + "\" has dtype " + dtype_name(t.dtype) +
                  ", which the matmul kernels do not support");
    const int64_t block = dtype_traits(t.dtype).block_elements;
    if (t.cols() % block != 0)
      throw_error(source_ + ": tensor \"" + name + "\" has rows of " + std::to_string(t.cols()) +
                  " values, not a multiple of the " + dtype_name(t.dtype) + " block size " +
                  std::to_string(block));
    kernels::Matrix m;
    m.dtype = t.dtype;
    m.rows = t.rows();
    m.cols = t.cols();
    m.data = t.data;
    m.row_stride = dtype_row_bytes(t.dtype, t.cols());
    return m;
  }

  std::vector<float> vector(WeightRole role, int64_t layer, int64_t n) const {
    const TensorView& t = require(role, layer, {n});
    return to_f32(t, weight_name(naming_, role, layer));
  }

  std::vector<float> to_f32(const TensorView& t, const std::string& name) const {
    std::vector<float> out(static_cast<size_t>(t.numel()));
    const int64_t block = dtype_traits(t.dtype).block_elements;
    if (t.numel() % block != 0 || t.dtype == DType::I8 || t.dtype == DType::I16 ||
        t.dtype == DType::I32 || t.dtype == DType::I64 || t.dtype == DType::F64)
      throw_error(source_ + ": tensor \"" + name + "\" has dtype " + dtype_name(t.dtype) +
                  ", expected a floating-point or quantized weight type");
    switch (t.dtype) {
      case DType::F32: {
        const float* p = static_cast<const float*>(t.data);
        out.assign(p, p + t.numel());
        break;
      }
      case DType::F16: {
        const uint16_t* p = static_cast<const uint16_t*>(t.data);
        for (size_t i = 0; i < out.size(); ++i) out[i] = f16_to_f32(p[i]);
        break;
      }
      case DType::BF16: {
        const uint16_t* p = static_cast<const uint16_t*>(t.data);
        for (size_t i = 0; i < out.size(); ++i) out[i] = bf16_to_f32(p[i]);
        break;
      }
      default:
        kernels::dequantize_row(t.data, t.dtype, out.data(), t.numel());
    }
    return out;
  }

 private:
  WeightNaming naming_;
  const TensorFinder& find_;
  const std::string& source_;
};

}  // namespace

std::string weight_name(WeightNaming naming, WeightRole role, int64_t layer) {
  for (const NameRow& row : kNames) {
    if (row.role != role) continue;
    const char* pattern = naming == WeightNaming::HuggingFace ? row.hf
                          : naming == WeightNaming::InternLM2 ? row.internlm2
                                                              : row.gguf;
    if (!*pattern) return {};
    return fmt::format(fmt::runtime(pattern), layer);
  }
  return {};
}

DecoderWeights bind_weights(const ModelConfig& c, WeightNaming naming, const TensorFinder& find,
                            const std::string& source) {
  Binder b(naming, find, source);
  const int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  const int64_t q_rows = c.n_heads * c.head_dim, kv_rows = c.n_kv_heads * c.head_dim;

  DecoderWeights w;
  w.embed = b.matrix(WeightRole::Embed, -1, V, H);
  w.final_norm = b.vector(WeightRole::FinalNorm, -1, H);
  // transformers ties lm_head to the embedding whenever tie_word_embeddings is set, even if
  // the file also carries an lm_head tensor.
  w.lm_head = c.tie_word_embeddings ? w.embed : b.matrix(WeightRole::LmHead, -1, V, H);
  w.packed_qkv = naming == WeightNaming::InternLM2;

  w.layers.resize(static_cast<size_t>(c.n_layers));
  for (int64_t l = 0; l < c.n_layers; ++l) {
    LayerWeights& L = w.layers[static_cast<size_t>(l)];
    L.attn_norm = b.vector(WeightRole::AttnNorm, l, H);
    L.ffn_norm = b.vector(WeightRole::FfnNorm, l, H);
    if (w.packed_qkv) {
      L.wqkv = b.matrix(WeightRole::QKV, l, q_rows + 2 * kv_rows, H);
      if (c.attention_bias) L.bqkv = b.vector(WeightRole::QKVBias, l, q_rows + 2 * kv_rows);
    } else {
      L.wq = b.matrix(WeightRole::Q, l, q_rows, H);
      L.wk = b.matrix(WeightRole::K, l, kv_rows, H);
      L.wv = b.matrix(WeightRole::V, l, kv_rows, H);
      if (c.attention_bias) {
        L.bq = b.vector(WeightRole::QBias, l, q_rows);
        L.bk = b.vector(WeightRole::KBias, l, kv_rows);
        L.bv = b.vector(WeightRole::VBias, l, kv_rows);
      }
    }
    L.wo = b.matrix(WeightRole::O, l, H, q_rows);
    if (c.o_proj_bias) L.bo = b.vector(WeightRole::OBias, l, H);
    L.w_gate = b.matrix(WeightRole::Gate, l, I, H);
    L.w_up = b.matrix(WeightRole::Up, l, I, H);
    L.w_down = b.matrix(WeightRole::Down, l, H, I);
  }
  return w;
}

}  // namespace lmkit::models
