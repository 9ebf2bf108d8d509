// The typed configuration of a decoder-only model, read from a Hugging Face config.json or
// from GGUF metadata. Everything the forward pass needs and nothing else.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lmkit/kernels/kernels.h"

namespace lmkit {

class GgufFile;

enum class Architecture { Llama, Qwen2, Mistral, InternLM2 };
const char* architecture_name(Architecture arch);

struct RopeScaling {
  // "none" or "llama3" (Llama 3.1/3.2 frequency scaling); "linear" divides positions.
  std::string type = "none";
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position = 8192;
};

struct ModelConfig {
  Architecture arch = Architecture::Llama;
  std::string arch_string;  // as the file names it ("LlamaForCausalLM", "llama", ...)
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  int64_t rope_dim = 0;  // rotated dims per head (== head_dim unless partial rotary)
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  kernels::RopeStyle rope_style = kernels::RopeStyle::Neox;
  double rms_norm_eps = 1e-6;
  int64_t max_position = 2048;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v projections carry biases (Qwen2)
  bool o_proj_bias = false;     // the output projection carries a bias (Llama attention_bias)
  int64_t sliding_window = 0;   // 0: none
  std::vector<int32_t> eos_token_ids;
  int32_t bos_token_id = -1;
  // Per-frequency divisors from a GGUF `rope_freqs` tensor (llama.cpp's form of Llama 3
  // scaling); empty when absent. Applied in rope_inv_freq().
  std::vector<float> rope_freq_factors;

  // rope_dim / 2 inverse frequencies, with rope_scaling applied.
  std::vector<float> rope_inv_freq() const;
};

// Throws lmkit::Error naming the file and the field; an unknown architecture lists the
// supported ones.
ModelConfig parse_hf_config(const std::string& config_json_text, const std::string& source);
ModelConfig config_from_gguf(const GgufFile& gguf);

}  // namespace lmkit
