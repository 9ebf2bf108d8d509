// Norms, activations, RoPE, softmax and attention written once over a vector vocabulary V
// (Avx2Vec in simd_avx2.h, Avx512Vec in simd_avx512.h) and compiled in each ISA's file.
// Include only after one of those headers, from an ISA translation unit.
//
// Batch invariance: an element's result never depends on where it sits in a call. Tails are
// handled by masked loads and stores through the same instructions as full vectors (no
// scalar tail loop whose rounding could differ), and every reduction (rmsnorm's sum of
// squares, softmax's max and sum, attention's dot products and weighted sums) runs in an
// order fixed by its own length alone.
//
// No standard library templates here (see ops.h: an inline template instantiated in an ISA
// file can be picked by the linker for baseline callers).
#pragma once
#include <cmath>
#include <cstdint>

#include "lmkit/kernels/kernels.h"

namespace lmkit::kernels::detail {
namespace {

// exp(x) in f32, within about 2 ulp (checked against double exp in the tests): x = n ln2 + r
// with |r| <= ln2/2, e^r by its Taylor series to r^7 (truncation < 0.1 ulp), times 2^n. 2^n
// is applied as two halves so n may run from -150 (subnormal results, rounded once at the
// end) to 128; below ln(2^-150) the result is 0, above ln(FLT_MAX) it is +inf.
template <class V>
inline typename V::F exp_f32(typename V::F x) {
  using F = typename V::F;
  const F lo = V::set1(-103.972084f), hi = V::set1(88.7228394f);
  const F xc = V::min(V::max(x, lo), hi);
  const F n = V::round(V::mul(xc, V::set1(1.44269504088896341f)));
  // ln2 split so that x - n * kLn2Hi is exact with an FMA (|r| < 0.35 needs at most 23 of
  // the bits, all multiples of 2^-24).
  F r = V::fnma(n, V::set1(0.693147182464599609375f), xc);
  r = V::fnma(n, V::set1(-1.904654299957768e-9f), r);
  F p = V::set1(1.0f / 5040.0f);
  p = V::fma(p, r, V::set1(1.0f / 720.0f));
  p = V::fma(p, r, V::set1(1.0f / 120.0f));
  p = V::fma(p, r, V::set1(1.0f / 24.0f));
  p = V::fma(p, r, V::set1(1.0f / 6.0f));
  p = V::fma(p, r, V::set1(0.5f));
  p = V::fma(p, r, V::set1(1.0f));
  p = V::fma(p, r, V::set1(1.0f));
  const F n1 = V::round(V::mul(n, V::set1(0.5f)));
  F y = V::mul(V::mul(p, V::pow2i(n1)), V::pow2i(V::sub(n, n1)));
  y = V::select_lt(x, lo, V::zero(), y);
  return V::select_lt(hi, x, V::set1(INFINITY), y);
}

// sin and cos in double, to about 1e-16: theta = j pi/2 + r with |r| <= pi/4 (the two-part
// pi/2 and an FMA keep r exact for |theta| up to 2^30), Taylor series of sin to r^15 and cos
// to r^16 (truncation below 5e-17), then the quadrant j mod 4 picks and signs them.
template <class V>
inline void sincos_f64(typename V::D theta, typename V::D* sin_out, typename V::D* cos_out) {
  using D = typename V::D;
  const D j = V::dround(V::dmul(theta, V::dset1(0.63661977236758134308)));
  D r = V::dfnma(j, V::dset1(1.5707963267948966), theta);
  r = V::dfnma(j, V::dset1(6.123233995736766e-17), r);
  const D r2 = V::dmul(r, r);
  // Odd Taylor coefficients (-1)^k / (2k+1)! and even ones (-1)^k / (2k)!, highest first.
  D s = V::dset1(-1.0 / 1307674368000.0);
  s = V::dfma(s, r2, V::dset1(1.0 / 6227020800.0));
  s = V::dfma(s, r2, V::dset1(-1.0 / 39916800.0));
  s = V::dfma(s, r2, V::dset1(1.0 / 362880.0));
  s = V::dfma(s, r2, V::dset1(-1.0 / 5040.0));
  s = V::dfma(s, r2, V::dset1(1.0 / 120.0));
  s = V::dfma(s, r2, V::dset1(-1.0 / 6.0));
  s = V::dfma(V::dmul(s, r2), r, r);
  D c = V::dset1(1.0 / 20922789888000.0);
  c = V::dfma(c, r2, V::dset1(-1.0 / 87178291200.0));
  c = V::dfma(c, r2, V::dset1(1.0 / 479001600.0));
  c = V::dfma(c, r2, V::dset1(-1.0 / 3628800.0));
  c = V::dfma(c, r2, V::dset1(1.0 / 40320.0));
  c = V::dfma(c, r2, V::dset1(-1.0 / 720.0));
  c = V::dfma(c, r2, V::dset1(1.0 / 24.0));
  c = V::dfma(c, r2, V::dset1(-0.5));
  c = V::dfma(c, r2, V::dset1(1.0));
  V::dquadrant(j, s, c, sin_out, cos_out);
}

// sum a[i] * b[i] for i < n in f32: four vector accumulators over whole 4-vector steps, then
// single vectors into the first, the masked tail last, then a fixed tree.
template <class V>
inline float dot_simd(const float* a, const float* b, int64_t n) {
  using F = typename V::F;
  constexpr int64_t W = V::kW;
  F a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    a0 = V::fma(V::load(a + i), V::load(b + i), a0);
    a1 = V::fma(V::load(a + i + W), V::load(b + i + W), a1);
    a2 = V::fma(V::load(a + i + 2 * W), V::load(b + i + 2 * W), a2);
    a3 = V::fma(V::load(a + i + 3 * W), V::load(b + i + 3 * W), a3);
  }
  for (; i + W <= n; i += W) a0 = V::fma(V::load(a + i), V::load(b + i), a0);
  if (i < n) a0 = V::fma(V::load_n(a + i, n - i), V::load_n(b + i, n - i), a0);
  return V::reduce_add(V::add(V::add(a0, a1), V::add(a2, a3)));
}

template <class V>
void rmsnorm_simd(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps) {
  using F = typename V::F;
  using D = typename V::D;
  constexpr int64_t W = V::kW;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    // The sum of squares in double, like the reference: n can be tens of thousands.
    D s0 = V::dzero(), s1 = V::dzero(), s2 = V::dzero(), s3 = V::dzero();
    int64_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      const F v0 = V::load(xr + i), v1 = V::load(xr + i + W);
      const D l0 = V::dlo(v0), h0 = V::dhi(v0), l1 = V::dlo(v1), h1 = V::dhi(v1);
      s0 = V::dfma(l0, l0, s0);
      s1 = V::dfma(h0, h0, s1);
      s2 = V::dfma(l1, l1, s2);
      s3 = V::dfma(h1, h1, s3);
    }
    for (; i < n; i += W) {
      const F v = V::load_n(xr + i, n - i);
      const D l = V::dlo(v), h = V::dhi(v);
      s0 = V::dfma(l, l, s0);
      s1 = V::dfma(h, h, s1);
    }
    const double ss = V::dreduce_add(V::dadd(V::dadd(s0, s1), V::dadd(s2, s3)));
    const F scale = V::set1(static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps)));
    for (i = 0; i + W <= n; i += W)
      V::store(yr + i, V::mul(V::mul(V::load(xr + i), scale), V::load(w + i)));
    if (i < n)
      V::store_n(yr + i, V::mul(V::mul(V::load_n(xr + i, n - i), scale), V::load_n(w + i, n - i)),
                 n - i);
  }
}

template <class V>
void softmax_simd(float* x, int64_t n) {
  using F = typename V::F;
  using D = typename V::D;
  constexpr int64_t W = V::kW;
  if (n <= 0) return;
  // Padding lanes hold -inf: they neither win the max nor add to the sum (exp gives 0).
  F m = V::set1(-INFINITY);
  for (int64_t i = 0; i < n; i += W) m = V::max(m, V::load_n(x + i, n - i, -INFINITY));
  const F max = V::set1(V::reduce_max(m));
  D s0 = V::dzero(), s1 = V::dzero();
  for (int64_t i = 0; i < n; i += W) {
    const F e = exp_f32<V>(V::sub(V::load_n(x + i, n - i, -INFINITY), max));
    V::store_n(x + i, e, n - i);
    s0 = V::dadd(s0, V::dlo(e));
    s1 = V::dadd(s1, V::dhi(e));
  }
  const F inv = V::set1(static_cast<float>(1.0 / V::dreduce_add(V::dadd(s0, s1))));
  for (int64_t i = 0; i < n; i += W) V::store_n(x + i, V::mul(V::load_n(x + i, n - i), inv), n - i);
}

template <class V>
void silu_mul_simd(const float* gate, const float* up, float* out, int64_t n) {
  using F = typename V::F;
  constexpr int64_t W = V::kW;
  const F one = V::set1(1.0f);
  // sigmoid(g) = 1 / (1 + e) for g >= 0 and e / (1 + e) for g < 0, with e = exp(-|g|) <= 1:
  // no overflow, and a very negative g keeps its tiny but nonzero result.
  auto one_vector = [&](F g, F u) {
    const F e = exp_f32<V>(V::neg_abs(g));
    const F sig = V::div(V::select_lt(g, V::zero(), e, one), V::add(one, e));
    return V::mul(V::mul(g, sig), u);
  };
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(out + i, one_vector(V::load(gate + i), V::load(up + i)));
  if (i < n)
    V::store_n(out + i, one_vector(V::load_n(gate + i, n - i), V::load_n(up + i, n - i)), n - i);
}

template <class V>
void add_simd(float* y, const float* x, int64_t n) {
  constexpr int64_t W = V::kW;
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(y + i, V::add(V::load(y + i), V::load(x + i)));
  if (i < n) V::store_n(y + i, V::add(V::load_n(y + i, n - i), V::load_n(x + i, n - i)), n - i);
}

template <class V>
void rope_simd(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos,
               const float* inv_freq, RopeStyle style) {
  using F = typename V::F;
  using D = typename V::D;
  constexpr int64_t W = V::kW, DW = V::kDW;
  // cos/sin depend on the pair index only, so they are computed once per chunk of pairs and
  // applied to every head. The table lives on the stack (no allocation).
  constexpr int64_t kChunk = 64;
  alignas(64) float cos_t[2 * kChunk], sin_t[2 * kChunk];
  const int64_t half = rot_dim / 2;
  // The angle is the f32 product pos * inv_freq, as in the reference (and HF, llama.cpp).
  const D pos_d = V::dset1(static_cast<double>(static_cast<float>(pos)));
  for (int64_t c0 = 0; c0 < half; c0 += kChunk) {
    const int64_t cn = half - c0 < kChunk ? half - c0 : kChunk;
    for (int64_t j = 0; j < cn; j += DW) {
      const D theta = V::dto_float(V::dmul(pos_d, V::dload_f(inv_freq + c0 + j, cn - j)));
      D s, c;
      sincos_f64<V>(theta, &s, &c);
      V::dstore_f(cos_t + j, c, cn - j);
      V::dstore_f(sin_t + j, s, cn - j);
    }
    if (style == RopeStyle::Neox) {
      // Pairs (i, i + half): two contiguous runs.
      for (int64_t h = 0; h < n_heads; ++h) {
        float* a_ptr = x + h * head_dim + c0;
        float* b_ptr = a_ptr + half;
        for (int64_t j = 0; j < cn; j += W) {
          const int64_t k = cn - j;
          const F a = V::load_n(a_ptr + j, k), b = V::load_n(b_ptr + j, k);
          const F c = V::load_n(cos_t + j, k), s = V::load_n(sin_t + j, k);
          V::store_n(a_ptr + j, V::fms(a, c, V::mul(b, s)), k);
          V::store_n(b_ptr + j, V::fma(a, s, V::mul(b, c)), k);
        }
      }
    } else {
      // Pairs (2i, 2i + 1): spread the table over both lanes of a pair, with sin negated on
      // the even lane, so x' = x * cos + swap_pairs(x) * sin' rotates each pair.
      for (int64_t j = cn - 1; j >= 0; --j) {
        const float c = cos_t[j], s = sin_t[j];
        cos_t[2 * j] = c;
        cos_t[2 * j + 1] = c;
        sin_t[2 * j] = -s;
        sin_t[2 * j + 1] = s;
      }
      for (int64_t h = 0; h < n_heads; ++h) {
        float* p = x + h * head_dim + 2 * c0;
        for (int64_t j = 0; j < 2 * cn; j += W) {
          const int64_t k = 2 * cn - j;
          const F v = V::load_n(p + j, k);
          const F rotated =
              V::fma(v, V::load_n(cos_t + j, k), V::mul(V::swap_pairs(v), V::load_n(sin_t + j, k)));
          V::store_n(p + j, rotated, k);
        }
      }
    }
  }
}

// One query token, one KV head, `group` query heads. Each cached K row is loaded once and
// dotted with every query head of the group; each V row is loaded once and added into every
// head's output. Scores are scaled dot products, softmaxed per head in place in scratch.
template <class V>
void attention_simd(const float* q, int64_t group, const KvBlocks& kv, int64_t kv_head,
                    const int32_t* block_table, int64_t n_ctx, float scale, float* out,
                    float* scratch) {
  using F = typename V::F;
  constexpr int64_t W = V::kW;
  const int64_t d = kv.head_dim;
  const int64_t row_floats = kv.n_kv_heads * d;
  auto row = [&](const float* pool, int64_t t) {
    const int64_t block = block_table[t / kv.block_size];
    return pool + (block * kv.block_size + t % kv.block_size) * row_floats + kv_head * d;
  };
  for (int64_t t = 0; t < n_ctx; ++t) {
    const float* k = row(kv.k, t);
    for (int64_t g = 0; g < group; ++g)
      scratch[g * n_ctx + t] = dot_simd<V>(q + g * d, k, d) * scale;
  }
  for (int64_t g = 0; g < group; ++g) softmax_simd<V>(scratch + g * n_ctx, n_ctx);

  for (int64_t i = 0; i < group * d; i += W) V::store_n(out + i, V::zero(), group * d - i);
  for (int64_t t = 0; t < n_ctx; ++t) {
    const float* v = row(kv.v, t);
    for (int64_t g = 0; g < group; ++g) {
      const F p = V::set1(scratch[g * n_ctx + t]);
      float* o = out + g * d;
      int64_t i = 0;
      for (; i + W <= d; i += W) V::store(o + i, V::fma(p, V::load(v + i), V::load(o + i)));
      if (i < d) V::store_n(o + i, V::fma(p, V::load_n(v + i, d - i), V::load_n(o + i, d - i)), d - i);
    }
  }
}

}  // namespace
}  // namespace lmkit::kernels::detail
