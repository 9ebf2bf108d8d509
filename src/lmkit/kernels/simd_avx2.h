// The AVX2 + FMA vector vocabulary that simd_elementwise.h is written in (8 floats, 4 doubles).
// Include only from *_avx2.cpp / *_avx512.cpp: everything here uses AVX2 instructions. The
// anonymous namespace gives each translation unit its own copy, so the linker can never hand
// an AVX-512-compiled instance to AVX2 code or the other way round.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace lmkit::kernels::detail {
namespace {

struct Avx2Vec {
  using F = __m256;
  using D = __m256d;
  static constexpr int64_t kW = 8;   // floats per F
  static constexpr int64_t kDW = 4;  // doubles per D

  static F zero() { return _mm256_setzero_ps(); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  // Lanes >= n (0 <= n <= kW) are not touched in memory; loads fill them with `fill`.
  static __m256i lane_mask(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n < kW ? n : kW)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static F load_n(const float* p, int64_t n, float fill = 0.0f) {
    const __m256i m = lane_mask(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  static void store_n(float* p, F v, int64_t n) { _mm256_maskstore_ps(p, lane_mask(n), v); }

  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }   // a * b + c
  static F fms(F a, F b, F c) { return _mm256_fmsub_ps(a, b, c); }   // a * b - c
  static F fnma(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); } // c - a * b
  static F neg_abs(F a) { return _mm256_or_ps(a, _mm256_set1_ps(-0.0f)); }  // -|a|
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F round(F a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // a < b ? yes : no, per lane.
  static F select_lt(F a, F b, F yes, F no) {
    return _mm256_blendv_ps(no, yes, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
  }
  // 2^n for integer-valued n in [-126, 127], built in the exponent field.
  static F pow2i(F n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  // (x0, x1, x2, x3, ...) -> (x1, x0, x3, x2, ...)
  static F swap_pairs(F a) { return _mm256_permute_ps(a, 0xB1); }
  // Fixed-order horizontal reductions.
  static float reduce_add(F v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float reduce_max(F v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }

  // Double-precision accumulation of float data: lo takes lanes [0, kW/2), hi the rest.
  static D dzero() { return _mm256_setzero_pd(); }
  static D dlo(F v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
  static D dhi(F v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }
  static D dadd(D a, D b) { return _mm256_add_pd(a, b); }
  static D dsub(D a, D b) { return _mm256_sub_pd(a, b); }
  static D dmul(D a, D b) { return _mm256_mul_pd(a, b); }
  static D dfma(D a, D b, D c) { return _mm256_fmadd_pd(a, b, c); }
  static D dfnma(D a, D b, D c) { return _mm256_fnmadd_pd(a, b, c); }
  static D dset1(double v) { return _mm256_set1_pd(v); }
  static D dround(D a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static double dreduce_add(D v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
  // Up to kDW floats <-> doubles.
  static D dload_f(const float* p, int64_t n) {
    const __m128i m = _mm_cmpgt_epi32(_mm_set1_epi32(static_cast<int>(n)), _mm_setr_epi32(0, 1, 2, 3));
    return _mm256_cvtps_pd(_mm_maskload_ps(p, m));
  }
  static void dstore_f(float* p, D v, int64_t n) {
    const __m128i m = _mm_cmpgt_epi32(_mm_set1_epi32(static_cast<int>(n)), _mm_setr_epi32(0, 1, 2, 3));
    _mm_maskstore_ps(p, m, _mm256_cvtpd_ps(v));
  }
  // Rounds each lane to the nearest float and back (an f32 operation's result, in a double).
  static D dto_float(D v) { return _mm256_cvtps_pd(_mm256_cvtpd_ps(v)); }

  // Given sin and cos of the reduced angle and q = the quadrant as an integer-valued double,
  // the sin and cos of the original angle: q mod 4 swaps the two and flips signs.
  static void dquadrant(D q, D s, D c, D* sin_out, D* cos_out) {
    // Adding 1.5 * 2^52 puts the integer q in the low mantissa bits (two's complement).
    const __m256i qi = _mm256_castpd_si256(_mm256_add_pd(q, _mm256_set1_pd(6755399441055744.0)));
    const __m256d swap = _mm256_castsi256_pd(_mm256_slli_epi64(qi, 63));
    const __m256i two = _mm256_set1_epi64x(2);
    const __m256d sin_sign = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_and_si256(qi, two), 62));
    const __m256d cos_sign = _mm256_castsi256_pd(
        _mm256_slli_epi64(_mm256_and_si256(_mm256_add_epi64(qi, _mm256_set1_epi64x(1)), two), 62));
    *sin_out = _mm256_xor_pd(_mm256_blendv_pd(s, c, swap), sin_sign);
    *cos_out = _mm256_xor_pd(_mm256_blendv_pd(c, s, swap), cos_sign);
  }
};

}  // namespace
}  // namespace lmkit::kernels::detail
