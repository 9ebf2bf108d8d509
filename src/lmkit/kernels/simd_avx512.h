// The AVX-512 vector vocabulary that simd_elementwise.h is written in (16 floats, 8 doubles).
// Include only from *_avx512.cpp. Same interface as Avx2Vec (simd_avx2.h); tails use the
// mask registers, so a partial vector runs the same instructions as a full one.
#pragma once
// GCC 12's AVX-512 intrinsics seed "undefined" lanes with self-initialised variables, which
// -Wuninitialized flags wherever they are inlined (GCC bug 105593, fixed in 13). The pragma
// covers only the intrinsic headers; include this before any other immintrin.h user.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>

namespace lmkit::kernels::detail {
namespace {

struct Avx512Vec {
  using F = __m512;
  using D = __m512d;
  static constexpr int64_t kW = 16;
  static constexpr int64_t kDW = 8;

  static __mmask16 lane_mask(int64_t n) {
    return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1);
  }
  static __mmask8 lane_mask8(int64_t n) {
    return n >= 8 ? static_cast<__mmask8>(0xFF) : static_cast<__mmask8>((1u << n) - 1);
  }

  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static F load_n(const float* p, int64_t n, float fill = 0.0f) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), lane_mask(n), p);
  }
  static void store_n(float* p, F v, int64_t n) { _mm512_mask_storeu_ps(p, lane_mask(n), v); }

  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F fma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F fms(F a, F b, F c) { return _mm512_fmsub_ps(a, b, c); }
  static F fnma(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); }
  static F neg_abs(F a) { return _mm512_or_ps(a, _mm512_set1_ps(-0.0f)); }  // -|a|
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F round(F a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F select_lt(F a, F b, F yes, F no) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), no, yes);
  }
  static F pow2i(F n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
  static F swap_pairs(F a) { return _mm512_permute_ps(a, 0xB1); }
  // Fixed-order trees: halve the width until one lane is left.
  static float reduce_add(F v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float reduce_max(F v) {
    __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }

  static D dzero() { return _mm512_setzero_pd(); }
  static D dlo(F v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
  static D dhi(F v) { return _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)); }
  static D dadd(D a, D b) { return _mm512_add_pd(a, b); }
  static D dsub(D a, D b) { return _mm512_sub_pd(a, b); }
  static D dmul(D a, D b) { return _mm512_mul_pd(a, b); }
  static D dfma(D a, D b, D c) { return _mm512_fmadd_pd(a, b, c); }
  static D dfnma(D a, D b, D c) { return _mm512_fnmadd_pd(a, b, c); }
  static D dset1(double v) { return _mm512_set1_pd(v); }
  static D dround(D a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static double dreduce_add(D v) {
    __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
  static D dload_f(const float* p, int64_t n) {
    return _mm512_cvtps_pd(_mm256_maskz_loadu_ps(lane_mask8(n), p));
  }
  static void dstore_f(float* p, D v, int64_t n) {
    _mm256_mask_storeu_ps(p, lane_mask8(n), _mm512_cvtpd_ps(v));
  }
  static D dto_float(D v) { return _mm512_cvtps_pd(_mm512_cvtpd_ps(v)); }

  static void dquadrant(D q, D s, D c, D* sin_out, D* cos_out) {
    const __m512i qi = _mm512_castpd_si512(_mm512_add_pd(q, _mm512_set1_pd(6755399441055744.0)));
    const __mmask8 swap = _mm512_test_epi64_mask(qi, _mm512_set1_epi64(1));
    const __m512i two = _mm512_set1_epi64(2);
    const __m512i sin_sign = _mm512_slli_epi64(_mm512_and_si512(qi, two), 62);
    const __m512i cos_sign =
        _mm512_slli_epi64(_mm512_and_si512(_mm512_add_epi64(qi, _mm512_set1_epi64(1)), two), 62);
    *sin_out = _mm512_castsi512_pd(
        _mm512_xor_si512(_mm512_castpd_si512(_mm512_mask_blend_pd(swap, s, c)), sin_sign));
    *cos_out = _mm512_castsi512_pd(
        _mm512_xor_si512(_mm512_castpd_si512(_mm512_mask_blend_pd(swap, c, s)), cos_sign));
  }
};

}  // namespace
}  // namespace lmkit::kernels::detail
