// Reference matmul: dequantize each weight row to f32 and accumulate in double. Slow and
// allocating, on purpose: it is the yardstick the fast paths are measured against.
#include <vector>

#include "lmkit/kernels/kernels.h"

namespace lmkit::kernels::ref {

void matmul(const float* x, int64_t M, const Matrix& w, float* y, int64_t ldy) {
  const size_t stride = w.row_stride ? w.row_stride : dtype_row_bytes(w.dtype, w.cols);
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t n = 0; n < w.rows; ++n) {
    dequantize_row(static_cast<const char*>(w.data) + n * stride, w.dtype, row.data(), w.cols);
    for (int64_t m = 0; m < M; ++m) {
      const float* xm = x + m * w.cols;
      double acc = 0.0;
      for (int64_t k = 0; k < w.cols; ++k) acc += static_cast<double>(xm[k]) * row[k];
      y[m * ldy + n] = static_cast<float>(acc);
    }
  }
}

}  // namespace lmkit::kernels::ref
