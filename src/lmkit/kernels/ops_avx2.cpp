// The AVX2 + FMA path. Matmul is a dot product per (m, n) with a reduction order fixed by K
// alone (8-wide lanes, four accumulators, then a fixed horizontal sum), so a row gives the
// same bits whatever M is. Quantized weights meet activations quantized to int8 blocks of 32
// (one f32 scale each), multiplied with maddubs as llama.cpp does. Element-wise ops and
// attention are the shared SIMD versions in simd_elementwise.h, compiled here for AVX2.
#include <immintrin.h>

#include <cstring>

#include "lmkit/kernels/ops.h"
#include "lmkit/kernels/quant_blocks.h"
#include "lmkit/kernels/simd_avx2.h"
#include "lmkit/kernels/simd_elementwise.h"

namespace lmkit::kernels::detail {
namespace {

inline float hsum(__m256 v) { return Avx2Vec::reduce_add(v); }

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

inline __m256 load_f16x8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline __m256 load_bf16x8(const uint16_t* p) {
  __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

inline float bf16_scalar(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Dot product of f32 x with a row whose elements are loaded by `load8` (8 at a time) and
// `load1` (tail).
template <class Load8, class Load1>
inline float dot_float_row(const float* x, const uint16_t* w16, const float* w32, int64_t K,
                           Load8 load8, Load1 load1) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(),
         a3 = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), load8(w16, w32, k), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8), load8(w16, w32, k + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 16), load8(w16, w32, k + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 24), load8(w16, w32, k + 24), a3);
  }
  for (; k + 8 <= K; k += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), load8(w16, w32, k), a0);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; k < K; ++k) sum += x[k] * load1(w16, w32, k);
  return sum;
}

float dot_f32(const float* x, const void* row, int64_t K) {
  return dot_float_row(
      x, nullptr, static_cast<const float*>(row), K,
      [](const uint16_t*, const float* w, int64_t k) { return _mm256_loadu_ps(w + k); },
      [](const uint16_t*, const float* w, int64_t k) { return w[k]; });
}

float dot_f16(const float* x, const void* row, int64_t K) {
  return dot_float_row(
      x, static_cast<const uint16_t*>(row), nullptr, K,
      [](const uint16_t* w, const float*, int64_t k) { return load_f16x8(w + k); },
      [](const uint16_t* w, const float*, int64_t k) { return half_to_float(w[k]); });
}

float dot_bf16(const float* x, const void* row, int64_t K) {
  return dot_float_row(
      x, static_cast<const uint16_t*>(row), nullptr, K,
      [](const uint16_t* w, const float*, int64_t k) { return load_bf16x8(w + k); },
      [](const uint16_t* w, const float*, int64_t k) { return bf16_scalar(w[k]); });
}

// Sum over 32 int8 pairs as 8 int32 lanes: |w| * sign(x, w) through maddubs, which needs
// one unsigned operand.
inline __m256i dot_i8x32(__m256i w, __m256i x) {
  const __m256i ax = _mm256_sign_epi8(w, w);
  const __m256i sy = _mm256_sign_epi8(x, w);
  const __m256i dot16 = _mm256_maddubs_epi16(ax, sy);
  return _mm256_madd_epi16(dot16, _mm256_set1_epi16(1));
}

float dot_q8_0(const BlockQ8Act* xb, const void* row, int64_t n_blocks) {
  const auto* wb = static_cast<const BlockQ8_0*>(row);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[b].qs));
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs));
    const __m256 s = _mm256_cvtepi32_ps(dot_i8x32(w, x));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(wb[b].d) * xb[b].d), s, acc);
  }
  return hsum(acc);
}

float dot_q4_0(const BlockQ8Act* xb, const void* row, int64_t n_blocks) {
  const auto* wb = static_cast<const BlockQ4_0*>(row);
  const __m128i low_mask = _mm_set1_epi8(0x0F);
  const __m256i eight = _mm256_set1_epi8(8);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb[b].qs));
    const __m128i lo = _mm_and_si128(packed, low_mask);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(packed, 4), low_mask);
    const __m256i w = _mm256_sub_epi8(_mm256_set_m128i(hi, lo), eight);
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[b].qs));
    const __m256 s = _mm256_cvtepi32_ps(dot_i8x32(w, x));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(wb[b].d) * xb[b].d), s, acc);
  }
  return hsum(acc);
}

bool supports(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::Q8_0 ||
         t == DType::Q4_0;
}

bool quantizes_activations(DType t) { return t == DType::Q8_0 || t == DType::Q4_0; }

}  // namespace

size_t avx2_prepared_row_bytes(DType w, int64_t K) {
  return quantizes_activations(w) ? static_cast<size_t>(K / 32) * sizeof(BlockQ8Act) : 0;
}

void avx2_prepare_row(DType w, const float* x, int64_t K, void* prepared) {
  if (!quantizes_activations(w)) return;
  auto* out = static_cast<BlockQ8Act*>(prepared);
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < K / 32; ++b) {
    const float* xb = x + b * 32;
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_loadu_ps(xb + 8 * j);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_mask, v[j]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float max_abs = _mm_cvtss_f32(m);
    const float d = max_abs / 127.0f;
    const float id = d != 0.0f ? 127.0f / max_abs : 0.0f;
    out[b].d = d;
    const __m256 scale = _mm256_set1_ps(id);
    __m256i q[4];
    for (int j = 0; j < 4; ++j)
      q[j] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[j], scale),
                                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    // Pack 32 int32 to 32 int8 keeping element order (the packs interleave 128-bit lanes).
    __m256i p01 = _mm256_packs_epi32(q[0], q[1]);
    __m256i p23 = _mm256_packs_epi32(q[2], q[3]);
    __m256i p = _mm256_packs_epi16(p01, p23);
    p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].qs), p);
  }
}

namespace {

void matmul_rows(const float* x, const void* prepared, int64_t M, const Matrix& w,
                 size_t row_stride, float* y, int64_t ldy, int64_t n_begin, int64_t n_end) {
  const int64_t K = w.cols;
  const char* base = static_cast<const char*>(w.data);
  const auto* xq = static_cast<const BlockQ8Act*>(prepared);
  const int64_t n_blocks = K / 32;
  for (int64_t n = n_begin; n < n_end; ++n) {
    const void* row = base + n * row_stride;
    for (int64_t m = 0; m < M; ++m) {
      float v;
      switch (w.dtype) {
        case DType::F32: v = dot_f32(x + m * K, row, K); break;
        case DType::F16: v = dot_f16(x + m * K, row, K); break;
        case DType::BF16: v = dot_bf16(x + m * K, row, K); break;
        case DType::Q8_0: v = dot_q8_0(xq + m * n_blocks, row, n_blocks); break;
        default: v = dot_q4_0(xq + m * n_blocks, row, n_blocks); break;
      }
      y[m * ldy + n] = v;
    }
  }
}

const Ops kAvx2Ops = {
    avx2_prepared_row_bytes,
    avx2_prepare_row,
    matmul_rows,
    supports,
    rmsnorm_simd<Avx2Vec>,
    softmax_simd<Avx2Vec>,
    silu_mul_simd<Avx2Vec>,
    add_simd<Avx2Vec>,
    rope_simd<Avx2Vec>,
    attention_simd<Avx2Vec>,
};

}  // namespace

const Ops& avx2_ops() { return kAvx2Ops; }

}  // namespace lmkit::kernels::detail
