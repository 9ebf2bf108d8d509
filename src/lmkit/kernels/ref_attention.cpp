// Reference attention over a paged KV cache: one query head at a time, double accumulation.
#include <cmath>

#include "lmkit/kernels/kernels.h"

namespace lmkit::kernels::ref {

void attention(const float* q, int64_t group, const KvBlocks& kv, int64_t kv_head,
               const int32_t* block_table, int64_t n_ctx, float scale, float* out,
               float* scratch) {
  const int64_t d = kv.head_dim;
  auto row = [&](const float* pool, int64_t t) {
    const int64_t block = block_table[t / kv.block_size];
    const int64_t slot = block * kv.block_size + t % kv.block_size;
    return pool + (slot * kv.n_kv_heads + kv_head) * d;
  };
  for (int64_t g = 0; g < group; ++g) {
    const float* qg = q + g * d;
    float* scores = scratch + g * n_ctx;
    for (int64_t t = 0; t < n_ctx; ++t) {
      const float* k = row(kv.k, t);
      double dot = 0.0;
      for (int64_t i = 0; i < d; ++i) dot += static_cast<double>(qg[i]) * k[i];
      scores[t] = static_cast<float>(dot * scale);
    }
    softmax(scores, n_ctx);
    for (int64_t i = 0; i < d; ++i) {
      double acc = 0.0;
      for (int64_t t = 0; t < n_ctx; ++t) acc += static_cast<double>(scores[t]) * row(kv.v, t)[i];
      out[g * d + i] = static_cast<float>(acc);
    }
  }
}

}  // namespace lmkit::kernels::ref
