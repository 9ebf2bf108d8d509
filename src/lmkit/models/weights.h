// The weights of a Llama-family decoder bound to kernel-ready views: matrices point into the
// mapped checkpoint (zero copy), norms and biases are converted to f32 once.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lmkit/kernels/kernels.h"
#include "lmkit/models/config.h"
#include "lmkit/tensor/tensor.h"

namespace lmkit::models {

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;
  // Separate projections, or (InternLM2 checkpoints) one packed wqkv whose rows are grouped
  // per KV head: [the group's query heads, k, v] for each KV head.
  kernels::Matrix wq, wk, wv, wqkv;
  std::vector<float> bq, bk, bv, bqkv, bo;  // empty when the checkpoint has none
  kernels::Matrix wo, w_gate, w_up, w_down;
};

struct DecoderWeights {
  kernels::Matrix embed;    // [vocab, hidden], rows dequantized on lookup
  kernels::Matrix lm_head;  // == embed when tied
  std::vector<float> final_norm;
  std::vector<LayerWeights> layers;
  bool packed_qkv = false;
  // Whatever owns the memory the matrices point into (mapped files, in-memory buffers).
  std::vector<std::shared_ptr<const void>> owners;
};

// Which checkpoint tensor names to look for.
enum class WeightNaming { HuggingFace, InternLM2, Gguf };

// Looks a tensor up by its checkpoint name; nullptr when absent.
using TensorFinder = std::function<const TensorView*(const std::string& name)>;

// Binds every tensor the config calls for, checking each shape against the config.
// Throws lmkit::Error naming `source`, the tensor, and the expected and actual shapes.
DecoderWeights bind_weights(const ModelConfig& config, WeightNaming naming,
                            const TensorFinder& find, const std::string& source);

// The tensor name for a role in a naming scheme (also used by tests that write checkpoints).
enum class WeightRole {
  Embed, FinalNorm, LmHead,
  AttnNorm, Q, K, V, QKV, O, QBias, KBias, VBias, QKVBias, OBias,
  FfnNorm, Gate, Up, Down,
};
// "" when the scheme has no such tensor (e.g. QKV outside InternLM2).
std::string weight_name(WeightNaming naming, WeightRole role, int64_t layer = -1);

}  // namespace lmkit::models
