// Decoder-only language models as pure forward passes over a paged KV cache.
// No I/O during forward, no threads of their own (the caller's pool is used), no allocation
// per token once the scratch buffers have grown to the largest batch seen.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lmkit/base/thread_pool.h"
#include "lmkit/kernels/kernels.h"
#include "lmkit/models/config.h"

namespace lmkit {

class GgufFile;

// The KV cache: one pool of fixed-size blocks shared by all sequences. A sequence owns an
// ordered list of block ids (its block table); token at position p lives in block
// table[p / block_size], slot p % block_size. Block bookkeeping (who owns which block,
// prefix sharing) belongs to the engine; this class only holds the memory.
class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t n_blocks, int64_t block_size);
  int64_t n_layers() const { return n_layers_; }
  int64_t n_blocks() const { return n_blocks_; }
  int64_t block_size() const { return block_size_; }
  // Bytes one block takes across all layers (K and V), to size the cache from a byte budget.
  static size_t bytes_per_block(const ModelConfig& config, int64_t block_size);
  kernels::KvBlocks layer(int64_t layer) const;
  float* k_slot(int64_t layer, int32_t block, int64_t slot);  // -> [n_kv_heads][head_dim]
  float* v_slot(int64_t layer, int32_t block, int64_t slot);

 private:
  int64_t n_layers_, n_blocks_, block_size_, n_kv_heads_, head_dim_;
  std::vector<float> k_, v_;  // [layer][block][slot][kv_head][head_dim]
};

// One sequence's part of a forward step: n_tokens new tokens at positions
// start_pos .. start_pos + n_tokens - 1. The cache already holds positions [0, start_pos);
// block_table must have enough blocks for start_pos + n_tokens positions.
struct SequenceStep {
  const int32_t* tokens = nullptr;
  int64_t n_tokens = 0;
  int64_t start_pos = 0;
  const int32_t* block_table = nullptr;
  int64_t n_table_blocks = 0;
  bool all_logits = false;  // logits for every new token, else for the last one only
};

// Optional per-layer hidden-state capture, for parity tests against a reference.
struct HiddenCapture {
  int64_t layer = -1;           // capture the residual stream after this layer (0-based)
  std::vector<float>* out = nullptr;  // receives n_total_tokens x hidden_size values
};

class CausalLM {
 public:
  virtual ~CausalLM() = default;
  virtual const ModelConfig& config() const = 0;

  // Runs all sequences' new tokens in one pass and writes logits: for each step in order,
  // n_tokens rows if all_logits else 1 row, each config().vocab_size floats.
  // Row r of the output depends only on its own sequence (no cross-talk between sequences,
  // bit-identical whatever else is in the batch).
  // Bad steps (token ids outside the vocabulary, short block tables, foreign block ids,
  // positions past config().max_position, a cache of another shape) throw lmkit::Error
  // before anything is computed. Not reentrant: the model owns its scratch buffers, so one
  // forward() at a time per model.
  virtual void forward(std::span<const SequenceStep> steps, KvCache& cache, float* logits,
                       ThreadPool& pool, const HiddenCapture* capture = nullptr) = 0;

  // Number of logit rows forward() writes for these steps.
  static int64_t logit_rows(std::span<const SequenceStep> steps);
};

// Loads the weights of a Hugging Face model directory (config.json + safetensors, single or
// sharded) or of a GGUF file. The returned model keeps the files mapped.
// Throws lmkit::Error for an unknown architecture (naming it and listing the supported ones),
// a missing or misshapen tensor (naming it, with expected and actual shapes), etc.
std::unique_ptr<CausalLM> load_causal_lm_from_hf_dir(const std::string& dir);
std::unique_ptr<CausalLM> load_causal_lm_from_gguf(std::shared_ptr<const GgufFile> gguf);

// A model of a named real shape ("qwen2.5-0.5b", "llama-3.2-1b", ...) with seeded random
// weights of the given dtype, built in memory, for benchmarks without a download.
std::unique_ptr<CausalLM> make_random_causal_lm(const std::string& shape_name, DType weight_dtype,
                                                uint64_t seed);
std::vector<std::string> random_shape_names();
// The configuration make_random_causal_lm would build, without building it (memory estimates).
// Throws lmkit::Error listing the known names for an unknown one.
ModelConfig random_shape_config(const std::string& shape_name);

}  // namespace lmkit
