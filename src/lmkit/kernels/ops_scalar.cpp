// The portable path: the reference algorithms, made allocation-free and split by output
// rows so the pool can run them. Used on CPUs without AVX2 and as LMKIT_ISA=scalar.
#include "lmkit/kernels/ops.h"
#include "lmkit/kernels/scratch.h"

namespace lmkit::kernels::detail {
namespace {

size_t no_prepared_bytes(DType, int64_t) { return 0; }
void no_prepare(DType, const float*, int64_t, void*) {}

void matmul_rows(const float* x, const void*, int64_t M, const Matrix& w, size_t row_stride,
                 float* y, int64_t ldy, int64_t n_begin, int64_t n_end) {
  float* row = static_cast<float*>(
      thread_scratch(ScratchSlot::MatmulRow, static_cast<size_t>(w.cols) * sizeof(float)));
  for (int64_t n = n_begin; n < n_end; ++n) {
    dequantize_row(static_cast<const char*>(w.data) + n * row_stride, w.dtype, row, w.cols);
    for (int64_t m = 0; m < M; ++m) {
      const float* xm = x + m * w.cols;
      double acc = 0.0;
      for (int64_t k = 0; k < w.cols; ++k) acc += static_cast<double>(xm[k]) * row[k];
      y[m * ldy + n] = static_cast<float>(acc);
    }
  }
}

bool supports(DType t) { return matmul_supports(t); }

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

constexpr Ops kScalarOps = {
    no_prepared_bytes, no_prepare,  matmul_rows, supports, ref::rmsnorm,
    ref::softmax,      ref::silu_mul, add,       ref::rope, ref::attention,
};

}  // namespace

const Ops& scalar_ops() { return kScalarOps; }

}  // namespace lmkit::kernels::detail
