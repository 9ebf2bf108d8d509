// RMSNorm, softmax, SiLU-gating, add and RoPE on every ISA against the kernels::ref versions
// (double-precision loops) on random inputs of awkward sizes, with error bounds derived from
// the number of f32 roundings each fast path performs (u = 2^-24, one rounding's relative
// error), and checks that an element's result does not depend on where it sits in a call.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace lmkit::kernels::testing {
namespace {

const std::vector<int64_t>& awkward_sizes() {
  static const std::vector<int64_t> sizes = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 896, 4869};
  return sizes;
}

std::string trace(Isa isa, int64_t n) { return std::string(isa_name(isa)) + " n=" + std::to_string(n); }

TEST(Elementwise, AddIsExactOnEveryPath) {
  for (Isa isa : all_isas()) {
    IsaGuard guard(isa);
    for (int64_t n : awkward_sizes()) {
      SCOPED_TRACE(trace(isa, n));
      std::vector<float> y = random_floats(n + 1, 1), x = random_floats(n, 2);
      const float sentinel = y[n];
      std::vector<float> want(y.begin(), y.begin() + n);
      for (int64_t i = 0; i < n; ++i) want[i] += x[i];
      add(y.data(), x.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], want[i]) << i;
      ASSERT_EQ(y[n], sentinel);  // nothing written past n
    }
  }
}

// The fast path rounds the scale to f32 and multiplies twice in f32 (the sum of squares is
// in double, as in the reference): at most 3 roundings against the reference's one, so 4u.
TEST(Elementwise, RmsnormMatchesTheReference) {
  for (Isa isa : all_isas()) {
    IsaGuard guard(isa);
    for (int64_t n : awkward_sizes()) {
      SCOPED_TRACE(trace(isa, n));
      const int64_t rows = 3;
      std::vector<float> x = random_floats(rows * n, 3, -4.0f, 4.0f), w = random_floats(n, 4);
      std::vector<float> got(rows * n + 1, -7.0f), want(rows * n);
      rmsnorm(x.data(), w.data(), got.data(), rows, n, 1e-6f);
      ref::rmsnorm(x.data(), w.data(), want.data(), rows, n, 1e-6f);
      for (int64_t i = 0; i < rows * n; ++i)
        ASSERT_NEAR(got[i], want[i], 4 * kU * std::fabs(want[i]) + 1e-37) << i;
      ASSERT_EQ(got[rows * n], -7.0f);
      // In place (y aliasing x) gives the same bits, and one row alone the same as in a batch.
      std::vector<float> in_place = x;
      rmsnorm(in_place.data(), w.data(), in_place.data(), rows, n, 1e-6f);
      std::vector<float> single(n);
      rmsnorm(x.data() + n, w.data(), single.data(), 1, n, 1e-6f);
      for (int64_t i = 0; i < rows * n; ++i) ASSERT_EQ(in_place[i], got[i]) << i;
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(single[i], got[n + i]) << i;
    }
  }
}

// exp within ~2 ulp, x - max rounded once in f32 (an absolute error u|x - max| in the
// exponent, i.e. that relative error in the result), normalisation by a rounded 1/sum: the
// bound is (16 + |x - max|) u relative to each probability.
void check_softmax(Isa isa, int64_t n, float lo, float hi, uint32_t seed) {
  SCOPED_TRACE(trace(isa, n) + " range " + std::to_string(lo) + ".." + std::to_string(hi));
  std::vector<float> x = random_floats(n + 1, seed, lo, hi);
  const float sentinel = x[n];
  std::vector<float> want(x.begin(), x.begin() + n);
  const float max = *std::max_element(want.begin(), want.end());
  std::vector<float> input = want;
  ref::softmax(want.data(), n);
  softmax(x.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const double spread = std::fabs(static_cast<double>(input[i]) - max);
    ASSERT_NEAR(x[i], want[i], (16 + spread) * kU * want[i] + 1e-37) << i << " x=" << input[i];
  }
  ASSERT_EQ(x[n], sentinel);
}

TEST(Elementwise, SoftmaxMatchesTheReference) {
  for (Isa isa : all_isas()) {
    IsaGuard guard(isa);
    for (int64_t n : awkward_sizes()) {
      check_softmax(isa, n, -1.0f, 1.0f, 5);
      check_softmax(isa, n, -30.0f, 10.0f, 6);
      // Most terms underflow (e^-150 is below the smallest f32): they must come out as 0.
      check_softmax(isa, n, -150.0f, 50.0f, 7);
    }
  }
}

// exp within ~2 ulp, then 1 + e, a division and a product rounded in f32: 8u relative.
TEST(Elementwise, SiluMulMatchesTheReference) {
  for (Isa isa : all_isas()) {
    IsaGuard guard(isa);
    for (int64_t n : awkward_sizes()) {
      for (float range : {1.0f, 12.0f, 120.0f}) {
        SCOPED_TRACE(trace(isa, n) + " range " + std::to_string(range));
        std::vector<float> gate = random_floats(n, 8, -range, range), up = random_floats(n, 9, -3, 3);
        std::vector<float> got(n + 1, -7.0f), want(n);
        silu_mul(gate.data(), up.data(), got.data(), n);
        ref::silu_mul(gate.data(), up.data(), want.data(), n);
        for (int64_t i = 0; i < n; ++i)
          ASSERT_NEAR(got[i], want[i], 8 * kU * std::fabs(want[i]) + 1e-37) << i << " g=" << gate[i];
        ASSERT_EQ(got[n], -7.0f);
        // Out aliasing gate gives the same bits.
        std::vector<float> aliased = gate;
        silu_mul(aliased.data(), up.data(), aliased.data(), n);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(aliased[i], got[i]) << i;
      }
    }
  }
}

// An element's result must not depend on its position in the call (vector body or tail):
// the model calls these on several rows at once, split differently by batch and threads.
TEST(Elementwise, ResultsDoNotDependOnPositionInTheCall) {
  for (Isa isa : all_isas()) {
    IsaGuard guard(isa);
    SCOPED_TRACE(isa_name(isa));
    const int64_t n = 203;
    std::vector<float> gate = random_floats(n, 10, -9, 9), up = random_floats(n, 11, -2, 2);
    std::vector<float> whole(n);
    silu_mul(gate.data(), up.data(), whole.data(), n);
    for (int64_t start : {1, 5, 13, 100}) {
      std::vector<float> part(n - start);
      silu_mul(gate.data() + start, up.data() + start, part.data(), n - start);
      for (int64_t i = 0; i < n - start; ++i) ASSERT_EQ(part[i], whole[start + i]) << start << " " << i;
    }
  }
}

std::vector<float> inv_freq_for(int64_t rot_dim, double base) {
  std::vector<float> f(rot_dim / 2);
  for (int64_t i = 0; i < rot_dim / 2; ++i)
    f[i] = static_cast<float>(1.0 / std::pow(base, 2.0 * i / static_cast<double>(rot_dim)));
  return f;
}

// cos and sin rounded to f32 (one rounding each), one product and one fused multiply-add:
// each output is within 4u of (|x0| + |x1|) of the reference's pair.
TEST(Elementwise, RopeMatchesTheReference) {
  struct Case {
    int64_t n_heads, head_dim, rot_dim;
  };
  const std::vector<Case> cases = {{1, 64, 64}, {3, 128, 128}, {2, 128, 64}, {5, 64, 32},
                                   {2, 80, 80}, {1, 96, 40},   {4, 256, 256}, {2, 16, 6}};
  for (Isa isa : all_isas()) {
    IsaGuard guard(isa);
    for (const Case& c : cases) {
      for (RopeStyle style : {RopeStyle::Neox, RopeStyle::Interleaved}) {
        for (int64_t pos : {0, 1, 7, 1000, 32767, 131071, 1000003}) {
          SCOPED_TRACE(std::string(isa_name(isa)) + " heads=" + std::to_string(c.n_heads) +
                       " head_dim=" + std::to_string(c.head_dim) + " rot_dim=" +
                       std::to_string(c.rot_dim) + " pos=" + std::to_string(pos) +
                       (style == RopeStyle::Neox ? " neox" : " interleaved"));
          const std::vector<float> inv_freq = inv_freq_for(c.rot_dim, pos > 100000 ? 500000.0 : 10000.0);
          const int64_t total = c.n_heads * c.head_dim;
          const std::vector<float> x = random_floats(total + 1, 12, -3, 3);
          std::vector<float> got = x, want = x;
          rope(got.data(), c.n_heads, c.head_dim, c.rot_dim, pos, inv_freq.data(), style);
          ref::rope(want.data(), c.n_heads, c.head_dim, c.rot_dim, pos, inv_freq.data(), style);
          const int64_t half = c.rot_dim / 2;
          for (int64_t h = 0; h < c.n_heads; ++h) {
            for (int64_t i = 0; i < c.head_dim; ++i) {
              const int64_t at = h * c.head_dim + i;
              if (i >= c.rot_dim) {  // the unrotated part is untouched
                ASSERT_EQ(got[at], x[at]) << "h=" << h << " i=" << i;
                continue;
              }
              const int64_t partner = style == RopeStyle::Neox ? (i < half ? i + half : i - half)
                                                               : (i % 2 == 0 ? i + 1 : i - 1);
              const double mag = std::fabs(x[at]) + std::fabs(x[h * c.head_dim + partner]);
              ASSERT_NEAR(got[at], want[at], 4 * kU * mag) << "h=" << h << " i=" << i;
            }
          }
          ASSERT_EQ(got[total], x[total]);
        }
      }
    }
  }
}

}  // namespace
}  // namespace lmkit::kernels::testing
