// Math on raw memory. Every function here has a plain scalar reference (kernels::ref) that
// the tests compare the fast paths with on random inputs; the fast path is chosen once from
// cpuid and can be capped with LMKIT_ISA=scalar|avx2|avx512 (tests force each in turn).
//
// Contract for all kernels:
// - They never throw and never allocate in steady state (scratch is grown once, thread-local).
// - Output row m of a matmul depends only on input row m and the weights, with a fixed
//   reduction order, so a sequence gets bit-identical results alone or inside any batch.
#pragma once
#include <cstddef>
#include <cstdint>

#include "lmkit/base/thread_pool.h"
#include "lmkit/tensor/dtype.h"

namespace lmkit::kernels {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The best path this CPU supports, capped by LMKIT_ISA if set.
Isa active_isa();
// Forces a path (for tests and benchmarks); a path the CPU lacks is clamped to what it has.
void set_isa(Isa isa);
Isa best_supported_isa();
const char* isa_name(Isa isa);

// A weight matrix of `rows` output features by `cols` input features, each row contiguous
// (`row_stride` bytes apart), stored in any supported weight dtype:
// F32, F16, BF16, Q8_0, Q4_0 (issue 5 adds the rest).
struct Matrix {
  DType dtype = DType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;
  size_t row_stride = 0;  // bytes between rows; 0 means dtype_row_bytes(dtype, cols)
};

bool matmul_supports(DType weight_dtype);

// y[m * ldy + n] = sum_k x[m * cols + k] * W[n, k] for m < M, n < W.rows.
// x is f32 (quantized weight types quantize x per block internally, as llama.cpp does).
// Work is split over the pool's threads; M == 1 is the decode matvec.
void matmul(const float* x, int64_t M, const Matrix& w, float* y, int64_t ldy, ThreadPool& pool);

// dst[0..n) = the n elements starting at element 0 of a row of type t (n a multiple of the
// block size). Used for embedding lookup and tests.
void dequantize_row(const void* src, DType t, float* dst, int64_t n);
// The inverse, for quantizing weights (round to nearest) and for tests.
void quantize_row(const float* src, DType t, void* dst, int64_t n);

// y[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * w   for r < rows; y may alias x.
void rmsnorm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps);

// x[i] = exp(x[i] - max) / sum, in place.
void softmax(float* x, int64_t n);

// out[i] = silu(gate[i]) * up[i]; out may alias gate or up.
void silu_mul(const float* gate, const float* up, float* out, int64_t n);

// y[i] += x[i].
void add(float* y, const float* x, int64_t n);

// Rotary position embedding, in place, on n_heads heads of head_dim values for one token at
// position pos. Only the first rot_dim values of each head rotate (rot_dim <= head_dim, even).
// inv_freq has rot_dim / 2 entries (the model computes it, including Llama 3 scaling).
// Neox: pairs (i, i + rot_dim/2), as Hugging Face's rotate_half.
// Interleaved: pairs (2i, 2i + 1), as llama.cpp's "normal" mode for GGUF llama files.
enum class RopeStyle { Neox, Interleaved };
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos,
          const float* inv_freq, RopeStyle style);

// A layer's KV cache as fixed-size blocks. Block b holds tokens [b*block_size, (b+1)*block_size)
// of whatever sequence owns it, laid out [block_size][n_kv_heads][head_dim] in f32.
struct KvBlocks {
  const float* k = nullptr;  // this layer's K pool, block 0
  const float* v = nullptr;  // this layer's V pool, block 0
  int64_t block_size = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
};

// Attention for one query token and one KV head group (GQA): the `group` query heads that
// share kv_head. q and out are [group][head_dim]. The sequence's first n_ctx cached tokens
// (positions 0..n_ctx-1, already including this token's own K/V) are read through
// block_table. scratch must hold group * n_ctx floats. Reads each K/V row once for the group.
void attention(const float* q, int64_t group, const KvBlocks& kv, int64_t kv_head,
               const int32_t* block_table, int64_t n_ctx, float scale, float* out,
               float* scratch);

// Scalar references: same signatures, plain loops, no threads. The fast paths are tested
// against these.
namespace ref {
void matmul(const float* x, int64_t M, const Matrix& w, float* y, int64_t ldy);
void rmsnorm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps);
void softmax(float* x, int64_t n);
void silu_mul(const float* gate, const float* up, float* out, int64_t n);
void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos,
          const float* inv_freq, RopeStyle style);
void attention(const float* q, int64_t group, const KvBlocks& kv, int64_t kv_head,
               const int32_t* block_table, int64_t n_ctx, float scale, float* out,
               float* scratch);
}  // namespace ref

}  // namespace lmkit::kernels
