// Helpers shared by the kernel tests: deterministic random data, weight matrices in any dtype,
// and running a check under each ISA in turn.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "lmkit/kernels/kernels.h"

namespace lmkit::kernels::testing {

// Unit roundoff of f32: the error bound of one correctly rounded operation, relative.
constexpr double kU = 1.0 / (1 << 24);

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline const std::vector<Isa>& all_isas() {
  static const std::vector<Isa> isas = {Isa::Scalar, Isa::Avx2, Isa::Avx512};
  return isas;
}

// Restores the ISA chosen at start-up when a test that forces one ends.
class IsaGuard {
 public:
  explicit IsaGuard(Isa isa) : saved_(active_isa()) { set_isa(isa); }
  ~IsaGuard() { set_isa(saved_); }
  IsaGuard(const IsaGuard&) = delete;
  IsaGuard& operator=(const IsaGuard&) = delete;

 private:
  Isa saved_;
};

// A rows x cols weight matrix quantized from random f32 values into `dtype`, with
// `pad_bytes` of garbage between rows so row_stride is honoured rather than assumed.
struct TestMatrix {
  std::vector<uint8_t> bytes;
  Matrix m;
};

inline TestMatrix make_matrix(DType dtype, int64_t rows, int64_t cols, uint32_t seed,
                              size_t pad_bytes = 0) {
  TestMatrix t;
  const size_t row_bytes = dtype_row_bytes(dtype, cols);
  const size_t stride = row_bytes + pad_bytes;
  t.bytes.assign(stride * rows, 0xA5);
  const std::vector<float> values = random_floats(static_cast<size_t>(rows * cols), seed);
  for (int64_t r = 0; r < rows; ++r)
    quantize_row(values.data() + r * cols, dtype, t.bytes.data() + r * stride, cols);
  t.m.dtype = dtype;
  t.m.rows = rows;
  t.m.cols = cols;
  t.m.data = t.bytes.data();
  t.m.row_stride = pad_bytes ? stride : 0;
  return t;
}

inline std::vector<float> dequantized_row(const TestMatrix& t, int64_t r) {
  const size_t stride = t.m.row_stride ? t.m.row_stride : dtype_row_bytes(t.m.dtype, t.m.cols);
  std::vector<float> row(static_cast<size_t>(t.m.cols));
  dequantize_row(t.bytes.data() + r * stride, t.m.dtype, row.data(), t.m.cols);
  return row;
}

}  // namespace lmkit::kernels::testing
