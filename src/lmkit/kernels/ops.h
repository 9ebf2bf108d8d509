// The per-ISA kernel table behind the public functions in kernels.h.
//
// Each ISA file (ops_scalar.cpp, ops_avx2.cpp, ops_avx512.cpp) fills one Ops with plain
// functions over raw pointers. Threading, scratch allocation and anything using standard
// library templates stay in baseline code (kernels.cpp): an inline template instantiated in
// an AVX-512 translation unit can be picked by the linker for baseline callers too, which
// would crash on CPUs without AVX-512.
#pragma once
#include <cstddef>
#include <cstdint>

#include "lmkit/kernels/kernels.h"

namespace lmkit::kernels::detail {

struct Ops {
  // Bytes of per-call prepared activations for one input row of K values (0 if the weight
  // dtype consumes f32 directly), and the preparation itself (e.g. quantize to Q8 blocks).
  size_t (*matmul_prepared_row_bytes)(DType w, int64_t K);
  void (*matmul_prepare_row)(DType w, const float* x, int64_t K, void* prepared);
  // y[m * ldy + n] for all m < M and n in [n_begin, n_end). `prepared` holds M rows of
  // matmul_prepared_row_bytes each (or is null when that is 0). Whatever M and the range,
  // each (m, n) is reduced in the same order, so batching never changes a result.
  void (*matmul_rows)(const float* x, const void* prepared, int64_t M, const Matrix& w,
                      size_t row_stride, float* y, int64_t ldy, int64_t n_begin, int64_t n_end);
  bool (*matmul_supports)(DType w);

  void (*rmsnorm)(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps);
  void (*softmax)(float* x, int64_t n);
  void (*silu_mul)(const float* gate, const float* up, float* out, int64_t n);
  void (*add)(float* y, const float* x, int64_t n);
  void (*rope)(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos,
               const float* inv_freq, RopeStyle style);
  void (*attention)(const float* q, int64_t group, const KvBlocks& kv, int64_t kv_head,
                    const int32_t* block_table, int64_t n_ctx, float scale, float* out,
                    float* scratch);
};

// Activation preparation for quantized weights (int8 blocks, see BlockQ8Act), defined in
// ops_avx2.cpp and used by both the AVX2 and the AVX-512 tables so they quantize alike.
size_t avx2_prepared_row_bytes(DType w, int64_t K);
void avx2_prepare_row(DType w, const float* x, int64_t K, void* prepared);

const Ops& scalar_ops();
const Ops& avx2_ops();
const Ops& avx512_ops();

// The table for the active ISA.
const Ops& active_ops();

}  // namespace lmkit::kernels::detail
