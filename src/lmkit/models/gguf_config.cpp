// GGUF metadata -> ModelConfig, with the <arch>.* keys llama.cpp's converters write.
#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/kernels/kernels.h"
#include "lmkit/models/config.h"

namespace lmkit {
namespace {

struct GgufArch {
  const char* name;
  Architecture arch;
  // llama.cpp permutes llama's (and InternLM2's) Q/K rows at conversion so that its "normal"
  // adjacent-pair RoPE reproduces Hugging Face's rotate_half; qwen2 is converted unpermuted.
  kernels::RopeStyle rope_style;
};

constexpr GgufArch kSupported[] = {
    {"llama", Architecture::Llama, kernels::RopeStyle::Interleaved},
    {"mistral", Architecture::Mistral, kernels::RopeStyle::Interleaved},
    {"qwen2", Architecture::Qwen2, kernels::RopeStyle::Neox},
    {"internlm2", Architecture::InternLM2, kernels::RopeStyle::Interleaved},
};

int64_t positive(const GgufFile& g, const std::string& key, int64_t value) {
  if (value <= 0)
    throw_error(g.path() + ": metadata \"" + key + "\" must be a positive integer, got " +
                std::to_string(value));
  return value;
}

// head_count_kv may be stored per layer (an array); lmkit needs one value for all layers.
int64_t kv_head_count(const GgufFile& g, const std::string& key, int64_t fallback) {
  const GgufValue* v = g.find(key);
  if (!v) return fallback;
  if (!v->is_array()) return positive(g, key, v->as_int());
  std::vector<int64_t> per_layer = v->as_ints();
  if (per_layer.empty()) throw_error(g.path() + ": metadata \"" + key + "\" is an empty array");
  for (int64_t n : per_layer)
    if (n != per_layer.front())
      throw_error(g.path() + ": metadata \"" + key +
                  "\" differs between layers, which lmkit does not support");
  return positive(g, key, per_layer.front());
}

std::string string_or_empty(const GgufFile& g, const std::string& key) {
  const GgufValue* v = g.find(key);
  return v ? v->as_string() : std::string();
}

std::vector<int32_t> token_id_list(const GgufFile& g, const std::string& key) {
  const GgufValue* v = g.find(key);
  if (!v) return {};
  std::vector<int32_t> out;
  if (v->is_array()) {
    for (int64_t id : v->as_ints()) out.push_back(static_cast<int32_t>(id));
  } else {
    out.push_back(static_cast<int32_t>(v->as_int()));
  }
  return out;
}

}  // namespace

ModelConfig config_from_gguf(const GgufFile& g) {
  const std::string arch_name = g.get_string("general.architecture");
  const GgufArch* a = nullptr;
  for (const auto& cand : kSupported)
    if (arch_name == cand.name) a = &cand;
  if (!a) {
    std::string list;
    for (const auto& cand : kSupported) list += (list.empty() ? "" : ", ") + std::string(cand.name);
    throw_error(g.path() + ": general.architecture \"" + arch_name +
                "\" is not supported (supported: " + list + ")");
  }
  const std::string p = arch_name + ".";
  ModelConfig c;
  // A "mistral" GGUF is a llama with a sliding window key; llama.cpp runs it as llama.
  c.arch = a->arch == Architecture::Mistral ? Architecture::Llama : a->arch;
  c.arch_string = arch_name;
  c.hidden_size = positive(g, p + "embedding_length", g.get_int(p + "embedding_length"));
  c.n_layers = positive(g, p + "block_count", g.get_int(p + "block_count"));
  c.intermediate_size = positive(g, p + "feed_forward_length", g.get_int(p + "feed_forward_length"));
  c.n_heads = positive(g, p + "attention.head_count", g.get_int(p + "attention.head_count"));
  c.n_kv_heads = kv_head_count(g, p + "attention.head_count_kv", c.n_heads);
  if (c.n_heads % c.n_kv_heads != 0)
    throw_error(g.path() + ": metadata \"" + p + "attention.head_count_kv\" (" +
                std::to_string(c.n_kv_heads) + ") must divide attention.head_count (" +
                std::to_string(c.n_heads) + ")");
  const int64_t default_head_dim = c.hidden_size / c.n_heads;
  c.head_dim = positive(g, p + "attention.key_length",
                        g.get_int_or(p + "attention.key_length", default_head_dim));
  const int64_t v_dim = g.get_int_or(p + "attention.value_length", c.head_dim);
  if (v_dim != c.head_dim)
    throw_error(g.path() + ": metadata \"" + p + "attention.value_length\" (" +
                std::to_string(v_dim) + ") must equal attention.key_length (" +
                std::to_string(c.head_dim) + ")");
  c.rope_dim = positive(g, p + "rope.dimension_count",
                        g.get_int_or(p + "rope.dimension_count", c.head_dim));
  if (c.rope_dim > c.head_dim || c.rope_dim % 2 != 0)
    throw_error(g.path() + ": metadata \"" + p + "rope.dimension_count\" (" +
                std::to_string(c.rope_dim) + ") must be even and at most the head size (" +
                std::to_string(c.head_dim) + ")");
  c.rope_theta = g.get_float_or(p + "rope.freq_base", 10000.0);
  c.rope_style = a->rope_style;
  c.rms_norm_eps = g.get_float_or(p + "attention.layer_norm_rms_epsilon", 1e-5);
  c.max_position = positive(g, p + "context_length", g.get_int_or(p + "context_length", 2048));
  c.attention_bias = g.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.o_proj_bias = g.find_tensor("blk.0.attn_output.bias") != nullptr;
  c.tie_word_embeddings = g.find_tensor("output.weight") == nullptr;

  const std::string scaling = string_or_empty(g, p + "rope.scaling.type");
  if (scaling == "linear") {
    c.rope_scaling.type = "linear";
    c.rope_scaling.factor = g.get_float_or(p + "rope.scaling.factor", 1.0);
    if (c.rope_scaling.factor <= 0)
      throw_error(g.path() + ": metadata \"" + p + "rope.scaling.factor\" must be positive");
  } else if (!scaling.empty() && scaling != "none") {
    throw_error(g.path() + ": metadata \"" + p + "rope.scaling.type\" \"" + scaling +
                "\" is not supported (supported: none, linear)");
  }
  // Llama 3.1+ GGUFs carry the scaling as per-frequency divisors.
  if (const TensorView* t = g.find_tensor("rope_freqs.weight")) {
    if (t->dtype != DType::F32 || t->numel() != c.rope_dim / 2)
      throw_error(g.path() + ": tensor rope_freqs.weight must be F32 with " +
                  std::to_string(c.rope_dim / 2) + " values, got " + dtype_name(t->dtype) + " " +
                  t->shape_string());
    const float* f = static_cast<const float*>(t->data);
    c.rope_freq_factors.assign(f, f + c.rope_dim / 2);
  }
  const int64_t window = g.get_int_or(p + "attention.sliding_window", 0);
  if (window > 0 && window < c.max_position) c.max_position = c.sliding_window = window;

  int64_t vocab = g.get_int_or(p + "vocab_size", 0);
  if (vocab <= 0) {
    if (const GgufValue* toks = g.find("tokenizer.ggml.tokens"); toks && toks->is_array())
      vocab = static_cast<int64_t>(toks->array.size());
  }
  if (vocab <= 0) {
    if (const TensorView* e = g.find_tensor("token_embd.weight"); e && e->shape.size() == 2)
      vocab = e->shape[0];
  }
  c.vocab_size = positive(g, p + "vocab_size (or tokenizer.ggml.tokens)", vocab);
  auto eos = token_id_list(g, "tokenizer.ggml.eos_token_id");
  c.eos_token_ids = eos;
  auto bos = token_id_list(g, "tokenizer.ggml.bos_token_id");
  c.bos_token_id = bos.empty() ? -1 : bos.front();
  return c;
}

}  // namespace lmkit
