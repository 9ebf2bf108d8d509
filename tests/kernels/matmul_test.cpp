// Every matmul path against kernels::ref::matmul on random inputs, and batch invariance.
#include <gtest/gtest.h>

#include <cmath>

#include "lmkit/base/thread_pool.h"
#include "kernel_test_util.h"

namespace lmkit::kernels::testing {
namespace {

struct Shape {
  int64_t M, N, K;
};

// f32/f16/bf16 paths reorder an f32 sum of K products: error grows like K * u * sum|x*w|.
// Q8_0/Q4_0 paths also round activations to int8 per block of 32 (up to half a step, 1/254 of
// the block's largest |x|), which bounds the error by sum|w| * max|x| / 254 per block.
double tolerance(DType t, const float* x, const std::vector<float>& w_row, int64_t K) {
  double abs_sum = 0, w_abs = 0, x_max = 0;
  for (int64_t k = 0; k < K; ++k) {
    abs_sum += std::fabs(static_cast<double>(x[k]) * w_row[k]);
    w_abs += std::fabs(w_row[k]);
    x_max = std::max(x_max, static_cast<double>(std::fabs(x[k])));
  }
  double tol = 4.0 * static_cast<double>(K) * kU * abs_sum + 1e-6;
  if (t == DType::Q8_0 || t == DType::Q4_0) tol += w_abs * x_max / 254.0 * 1.01;
  return tol;
}

TEST(Matmul, EveryPathMatchesTheReference) {
  ThreadPool pool(2);
  const std::vector<Shape> shapes = {{1, 1, 32},   {1, 3, 64},  {2, 17, 96},  {5, 33, 256},
                                     {16, 7, 128}, {1, 257, 896}, {3, 5, 4864},
                                     {11, 9, 160}};  // partial tiles of a large batch
  const std::vector<Shape> odd_k = {{1, 3, 1}, {2, 5, 7}, {3, 9, 172}, {1, 4, 45}, {9, 5, 45}};
  for (Isa isa : all_isas()) {
    IsaGuard guard(isa);
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
      std::vector<Shape> all = shapes;
      if (t == DType::F32 || t == DType::F16 || t == DType::BF16)
        all.insert(all.end(), odd_k.begin(), odd_k.end());
      for (const Shape& s : all) {
        SCOPED_TRACE(std::string(isa_name(isa)) + " " + dtype_name(t) + " M=" + std::to_string(s.M) +
                     " N=" + std::to_string(s.N) + " K=" + std::to_string(s.K));
        TestMatrix w = make_matrix(t, s.N, s.K, 11, t == DType::F32 ? 0 : 6);
        std::vector<float> x = random_floats(static_cast<size_t>(s.M * s.K), 5, -2.0f, 2.0f);
        std::vector<float> got(static_cast<size_t>(s.M * (s.N + 1)), -7.0f);
        std::vector<float> want(static_cast<size_t>(s.M * s.N));
        matmul(x.data(), s.M, w.m, got.data(), s.N + 1, pool);
        ref::matmul(x.data(), s.M, w.m, want.data(), s.N);
        for (int64_t n = 0; n < s.N; ++n) {
          std::vector<float> row = dequantized_row(w, n);
          for (int64_t m = 0; m < s.M; ++m) {
            double tol = tolerance(t, x.data() + m * s.K, row, s.K);
            ASSERT_NEAR(got[m * (s.N + 1) + n], want[m * s.N + n], tol) << "m=" << m << " n=" << n;
          }
        }
        for (int64_t m = 0; m < s.M; ++m)  // the column past N (ldy padding) is untouched
          ASSERT_EQ(got[m * (s.N + 1) + s.N], -7.0f);
      }
    }
  }
}

TEST(Matmul, RowsAreBitIdenticalWhateverTheBatch) {
  ThreadPool pool(2);
  const int64_t N = 37, K = 320;
  for (Isa isa : all_isas()) {
    IsaGuard guard(isa);
    for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
      SCOPED_TRACE(std::string(isa_name(isa)) + " " + dtype_name(t));
      TestMatrix w = make_matrix(t, N, K, 3);
      std::vector<float> x = random_floats(static_cast<size_t>(16 * K), 9);
      std::vector<float> batch(static_cast<size_t>(16 * N));
      matmul(x.data(), 16, w.m, batch.data(), N, pool);
      for (int64_t m : {0, 5, 15}) {
        std::vector<float> single(static_cast<size_t>(N));
        matmul(x.data() + m * K, 1, w.m, single.data(), N, pool);
        for (int64_t n = 0; n < N; ++n) ASSERT_EQ(single[n], batch[m * N + n]) << "m=" << m << " n=" << n;
      }
      // A batch whose last tile is partial (11 = 4 + 4 + 3 rows).
      std::vector<float> eleven(static_cast<size_t>(11 * N));
      matmul(x.data(), 11, w.m, eleven.data(), N, pool);
      for (int64_t i = 0; i < 11 * N; ++i) ASSERT_EQ(eleven[i], batch[i]) << "i=" << i;
    }
  }
}

}  // namespace
}  // namespace lmkit::kernels::testing
