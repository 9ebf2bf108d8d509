#include "lmkit/base/error.h"
#include "lmkit/models/model.h"

namespace lmkit {

KvCache::KvCache(const ModelConfig& config, int64_t n_blocks, int64_t block_size)
    : n_layers_(config.n_layers),
      n_blocks_(n_blocks),
      block_size_(block_size),
      n_kv_heads_(config.n_kv_heads),
      head_dim_(config.head_dim) {
  if (n_blocks <= 0 || block_size <= 0)
    throw_error("KV cache: n_blocks (" + std::to_string(n_blocks) + ") and block_size (" +
                std::to_string(block_size) + ") must be positive");
  const size_t n = static_cast<size_t>(n_layers_ * n_blocks_ * block_size_ * n_kv_heads_ * head_dim_);
  k_.assign(n, 0.0f);
  v_.assign(n, 0.0f);
}

size_t KvCache::bytes_per_block(const ModelConfig& config, int64_t block_size) {
  return 2 * sizeof(float) * static_cast<size_t>(config.n_layers * block_size * config.n_kv_heads *
                                                 config.head_dim);
}

kernels::KvBlocks KvCache::layer(int64_t layer) const {
  const size_t layer_floats = static_cast<size_t>(n_blocks_ * block_size_ * n_kv_heads_ * head_dim_);
  kernels::KvBlocks kv;
  kv.k = k_.data() + layer * layer_floats;
  kv.v = v_.data() + layer * layer_floats;
  kv.block_size = block_size_;
  kv.n_kv_heads = n_kv_heads_;
  kv.head_dim = head_dim_;
  return kv;
}

float* KvCache::k_slot(int64_t layer, int32_t block, int64_t slot) {
  const int64_t row = n_kv_heads_ * head_dim_;
  return k_.data() + ((layer * n_blocks_ + block) * block_size_ + slot) * row;
}

float* KvCache::v_slot(int64_t layer, int32_t block, int64_t slot) {
  const int64_t row = n_kv_heads_ * head_dim_;
  return v_.data() + ((layer * n_blocks_ + block) * block_size_ + slot) * row;
}

}  // namespace lmkit
