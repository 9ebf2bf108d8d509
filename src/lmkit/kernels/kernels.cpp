// The public kernels: pick the active ISA's table, split matmuls over the thread pool, and
// hand each thread its own scratch.
#include "lmkit/kernels/kernels.h"

#include "lmkit/kernels/fatal.h"
#include "lmkit/kernels/ops.h"
#include "lmkit/kernels/scratch.h"

namespace lmkit::kernels {
namespace {

// Output rows are handed out in multiples of this so every thread's range starts on a whole
// register tile; the result does not depend on it (see Ops::matmul_rows).
constexpr int64_t kRowGrain = 16;

// Quantizing a few rows inline is cheaper than waking the pool.
constexpr int64_t kParallelPrepareElements = 1 << 16;

}  // namespace

bool matmul_supports(DType t) {
  switch (t) {
    case DType::F32:
    case DType::F16:
    case DType::BF16:
    case DType::Q8_0:
    case DType::Q4_0:
      return true;
    default:
      return false;
  }
}

void matmul(const float* x, int64_t M, const Matrix& w, float* y, int64_t ldy, ThreadPool& pool) {
  const detail::Ops& ops = detail::active_ops();
  if (!matmul_supports(w.dtype) || !ops.matmul_supports(w.dtype))
    kernel_fatal("matmul", "unsupported weight dtype (check matmul_supports first)",
                 static_cast<long long>(w.dtype));
  if (M <= 0 || w.rows <= 0) return;
  const size_t stride = w.row_stride ? w.row_stride : dtype_row_bytes(w.dtype, w.cols);

  const size_t prep_row = ops.matmul_prepared_row_bytes(w.dtype, w.cols);
  void* prepared = nullptr;
  if (prep_row) {
    prepared = detail::thread_scratch(detail::ScratchSlot::MatmulPrepared, prep_row * M);
    auto prepare = [&](int64_t m0, int64_t m1) {
      for (int64_t m = m0; m < m1; ++m)
        ops.matmul_prepare_row(w.dtype, x + m * w.cols, w.cols,
                               static_cast<char*>(prepared) + m * prep_row);
    };
    if (M * w.cols >= kParallelPrepareElements)
      pool.parallel_for(M, prepare);
    else
      prepare(0, M);
  }

  const int64_t tiles = (w.rows + kRowGrain - 1) / kRowGrain;
  pool.parallel_for(tiles, [&](int64_t t0, int64_t t1) {
    const int64_t n0 = t0 * kRowGrain;
    const int64_t n1 = t1 * kRowGrain < w.rows ? t1 * kRowGrain : w.rows;
    ops.matmul_rows(x, prepared, M, w, stride, y, ldy, n0, n1);
  });
}

void rmsnorm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps) {
  detail::active_ops().rmsnorm(x, w, y, rows, n, eps);
}

void softmax(float* x, int64_t n) { detail::active_ops().softmax(x, n); }

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  detail::active_ops().silu_mul(gate, up, out, n);
}

void add(float* y, const float* x, int64_t n) { detail::active_ops().add(y, x, n); }

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos,
          const float* inv_freq, RopeStyle style) {
  detail::active_ops().rope(x, n_heads, head_dim, rot_dim, pos, inv_freq, style);
}

void attention(const float* q, int64_t group, const KvBlocks& kv, int64_t kv_head,
               const int32_t* block_table, int64_t n_ctx, float scale, float* out,
               float* scratch) {
  detail::active_ops().attention(q, group, kv, kv_head, block_table, n_ctx, scale, out, scratch);
}

}  // namespace lmkit::kernels
