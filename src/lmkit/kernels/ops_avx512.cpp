// The AVX-512 path (F, BW, VL, DQ, VNNI, BF16, VBMI: isa.cpp requires every extension this
// file is compiled with before choosing it).
//
// Matmul works on register tiles of up to 4 activation rows by 2 weight rows (1 for small
// batches, see run_tiles), so a weight vector is loaded (and converted or unpacked) once for
// 4 tokens and an activation vector once for 2 output features. The tile only interleaves independent dot products: each
// (m, n) keeps its own accumulators, fed in an order fixed by K alone, so a row gives the same
// bits at any batch size or tile position.
// - F32/F16/BF16: 16 lanes of f32 FMA, two accumulators alternating over 16-element steps, a
//   masked tail, then a fixed tree. F16 converts with vcvtph2ps, BF16 by a 16-bit shift
//   (vdpbf16ps would round the activations to bf16, far outside the reference tolerance).
// - Q8_0/Q4_0: activations quantized to int8 blocks by the AVX2 table's preparation (same
//   scheme, same bytes), two blocks per 512-bit register, multiplied with VNNI vpdpbusd:
//   |w| as the unsigned operand and x with w's sign moved onto it, as exact int32 sums.
#include "lmkit/kernels/simd_avx512.h"  // first: it includes immintrin.h quietly (see there)

#include "lmkit/kernels/ops.h"
#include "lmkit/kernels/quant_blocks.h"
#include "lmkit/kernels/simd_elementwise.h"

namespace lmkit::kernels::detail {
namespace {

constexpr int kMaxTileM = 4;
constexpr int kMaxTileN = 2;

// ---- f32 / f16 / bf16 weights ----

struct LoadF32 {
  static __m512 load(const void* row, int64_t k, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, static_cast<const float*>(row) + k);
  }
};
struct LoadF16 {
  static __m512 load(const void* row, int64_t k, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(row) + k));
  }
};
struct LoadBF16 {
  static __m512 load(const void* row, int64_t k, __mmask16 m) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, static_cast<const uint16_t*>(row) + k);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
};

// y[m][n] for an RM x RN tile. Steps of 32 feed accumulator 0 then 1; a last whole 16 feeds
// 0; a masked tail feeds 1.
template <class Load, int RM, int RN>
void float_tile(const float* const* x, const void* const* w, int64_t K, float (*out)[kMaxTileN]) {
  __m512 acc0[RM][RN], acc1[RM][RN];
  for (int m = 0; m < RM; ++m)
    for (int n = 0; n < RN; ++n) acc0[m][n] = acc1[m][n] = _mm512_setzero_ps();
  const __mmask16 all = 0xFFFF;
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) {
    __m512 w0[RN], w1[RN];
    for (int n = 0; n < RN; ++n) {
      w0[n] = Load::load(w[n], k, all);
      w1[n] = Load::load(w[n], k + 16, all);
    }
    for (int m = 0; m < RM; ++m) {
      const __m512 x0 = _mm512_loadu_ps(x[m] + k), x1 = _mm512_loadu_ps(x[m] + k + 16);
      for (int n = 0; n < RN; ++n) {
        acc0[m][n] = _mm512_fmadd_ps(x0, w0[n], acc0[m][n]);
        acc1[m][n] = _mm512_fmadd_ps(x1, w1[n], acc1[m][n]);
      }
    }
  }
  if (k + 16 <= K) {
    __m512 w0[RN];
    for (int n = 0; n < RN; ++n) w0[n] = Load::load(w[n], k, all);
    for (int m = 0; m < RM; ++m) {
      const __m512 x0 = _mm512_loadu_ps(x[m] + k);
      for (int n = 0; n < RN; ++n) acc0[m][n] = _mm512_fmadd_ps(x0, w0[n], acc0[m][n]);
    }
    k += 16;
  }
  if (k < K) {
    const __mmask16 tail = Avx512Vec::lane_mask(K - k);
    __m512 w0[RN];
    for (int n = 0; n < RN; ++n) w0[n] = Load::load(w[n], k, tail);
    for (int m = 0; m < RM; ++m) {
      const __m512 x0 = _mm512_maskz_loadu_ps(tail, x[m] + k);
      for (int n = 0; n < RN; ++n) acc1[m][n] = _mm512_fmadd_ps(x0, w0[n], acc1[m][n]);
    }
  }
  for (int m = 0; m < RM; ++m)
    for (int n = 0; n < RN; ++n)
      out[m][n] = Avx512Vec::reduce_add(_mm512_add_ps(acc0[m][n], acc1[m][n]));
}

// ---- Q8_0 / Q4_0 weights ----

// Two consecutive weight blocks (or one, the upper half then zero) ready for vpdpbusd.
struct WeightPair {
  __m512i abs_w;    // |w| as unsigned bytes (|-128| = 128 is still right as unsigned)
  __mmask64 neg;    // lanes where w < 0: x is negated there
  __m512 scale;     // f16 block scales, block 0 in lanes 0-7, block 1 in lanes 8-15
};

inline __m512 pair_scales(float d0, float d1) {
  return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(d0)), _mm256_set1_ps(d1), 1);
}

inline WeightPair make_pair(__m512i w, float d0, float d1) {
  return {_mm512_abs_epi8(w), _mm512_movepi8_mask(w), pair_scales(d0, d1)};
}

struct UnpackQ8 {
  static WeightPair unpack(const void* row, int64_t b, bool two) {
    const auto* wb = static_cast<const BlockQ8_0*>(row) + b;
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[0].qs));
    const __m256i hi = two ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb[1].qs))
                           : _mm256_setzero_si256();
    return make_pair(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), _cvtsh_ss(wb[0].d),
                     two ? _cvtsh_ss(wb[1].d) : 0.0f);
  }
};

struct UnpackQ4 {
  static WeightPair unpack(const void* row, int64_t b, bool two) {
    const auto* wb = static_cast<const BlockQ4_0*>(row) + b;
    // Bytes of block 0 in 128-bit lanes 0 and 1, block 1 in lanes 2 and 3; the even lane of
    // each block keeps the low nibbles (elements 0-15), the odd lane the high (16-31).
    const __m128i p0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb[0].qs));
    const __m128i p1 = two ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb[1].qs))
                           : _mm_set1_epi8(static_cast<char>(0x88));  // nibbles 8 -> zeros
    const __m512i both = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_set_m128i(p0, p0)), _mm256_set_m128i(p1, p1), 1);
    const __m512i shifted = _mm512_srli_epi16(both, 4);
    const __m512i nibbles =
        _mm512_and_si512(_mm512_mask_blend_epi64(0xCC, both, shifted), _mm512_set1_epi8(0x0F));
    const __m512i w = _mm512_sub_epi8(nibbles, _mm512_set1_epi8(8));
    return make_pair(w, _cvtsh_ss(wb[0].d), two ? _cvtsh_ss(wb[1].d) : 0.0f);
  }
};

template <class Unpack, int RM, int RN>
void quant_tile(const BlockQ8Act* const* x, const void* const* w, int64_t n_blocks,
                float (*out)[kMaxTileN]) {
  __m512 acc[RM][RN];
  for (int m = 0; m < RM; ++m)
    for (int n = 0; n < RN; ++n) acc[m][n] = _mm512_setzero_ps();
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t b = 0; b < n_blocks; b += 2) {
    const bool two = b + 1 < n_blocks;
    WeightPair wp[RN];
    for (int n = 0; n < RN; ++n) wp[n] = Unpack::unpack(w[n], b, two);
    for (int m = 0; m < RM; ++m) {
      const BlockQ8Act* xb = x[m] + b;
      const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[0].qs));
      const __m256i hi = two ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb[1].qs))
                             : _mm256_setzero_si256();
      const __m512i xv = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
      const __m512 xd = pair_scales(xb[0].d, two ? xb[1].d : 0.0f);
      for (int n = 0; n < RN; ++n) {
        const __m512i signed_x = _mm512_mask_sub_epi8(xv, wp[n].neg, zero, xv);
        const __m512i sums = _mm512_dpbusd_epi32(zero, wp[n].abs_w, signed_x);
        acc[m][n] = _mm512_fmadd_ps(_mm512_mul_ps(wp[n].scale, xd), _mm512_cvtepi32_ps(sums),
                                    acc[m][n]);
      }
    }
  }
  for (int m = 0; m < RM; ++m)
    for (int n = 0; n < RN; ++n) out[m][n] = Avx512Vec::reduce_add(acc[m][n]);
}

// ---- tiling over the output range ----

// A tile kernel for every (RM, RN) shape, indexed [RM - 1][RN - 1].
template <class Xrow>
struct TileTable {
  void (*fns[kMaxTileM][kMaxTileN])(const Xrow* const*, const void* const*, int64_t,
                                    float (*)[kMaxTileN]);
};

template <class Load>
constexpr TileTable<float> float_tiles() {
  return {{{float_tile<Load, 1, 1>, float_tile<Load, 1, 2>},
           {float_tile<Load, 2, 1>, float_tile<Load, 2, 2>},
           {float_tile<Load, 3, 1>, float_tile<Load, 3, 2>},
           {float_tile<Load, 4, 1>, float_tile<Load, 4, 2>}}};
}

template <class Unpack>
constexpr TileTable<BlockQ8Act> quant_tiles() {
  return {{{quant_tile<Unpack, 1, 1>, quant_tile<Unpack, 1, 2>},
           {quant_tile<Unpack, 2, 1>, quant_tile<Unpack, 2, 2>},
           {quant_tile<Unpack, 3, 1>, quant_tile<Unpack, 3, 2>},
           {quant_tile<Unpack, 4, 1>, quant_tile<Unpack, 4, 2>}}};
}

// Below this many activation rows, tiles take one weight row at a time: with few rows the
// kernel streams weights from memory, and two interleaved row streams measured 2-3x slower
// than one on the Zen 5 machine (N=40000, K=896, M=1..4: f16 and q8_0 rows of 1-2 KB). From
// 8 rows on, each weight byte feeds enough arithmetic that halving the activation loads wins.
constexpr int64_t kTwoWeightRowsFromM = 8;

// Walks [n_begin, n_end) x [0, M) in tiles; `xrow(m)` is activation row m in the form the
// tile kernel reads, `depth` is K (floats) or the number of blocks.
template <class Fns, class Xrow>
void run_tiles(const Fns& tiles, Xrow xrow, int64_t depth, int64_t M, const Matrix& w,
               size_t row_stride, float* y, int64_t ldy, int64_t n_begin, int64_t n_end) {
  const char* base = static_cast<const char*>(w.data);
  const int tile_n = M >= kTwoWeightRowsFromM ? kMaxTileN : 1;
  for (int64_t n0 = n_begin; n0 < n_end; n0 += tile_n) {
    const int rn = n_end - n0 < tile_n ? static_cast<int>(n_end - n0) : tile_n;
    const void* wrows[kMaxTileN];
    for (int n = 0; n < rn; ++n) wrows[n] = base + (n0 + n) * row_stride;
    for (int64_t m0 = 0; m0 < M; m0 += kMaxTileM) {
      const int rm = M - m0 < kMaxTileM ? static_cast<int>(M - m0) : kMaxTileM;
      decltype(xrow(0)) xrows[kMaxTileM];
      for (int m = 0; m < rm; ++m) xrows[m] = xrow(m0 + m);
      float out[kMaxTileM][kMaxTileN];
      tiles.fns[rm - 1][rn - 1](xrows, wrows, depth, out);
      for (int m = 0; m < rm; ++m)
        for (int n = 0; n < rn; ++n) y[(m0 + m) * ldy + n0 + n] = out[m][n];
    }
  }
}

constexpr auto kF32Tiles = float_tiles<LoadF32>();
constexpr auto kF16Tiles = float_tiles<LoadF16>();
constexpr auto kBF16Tiles = float_tiles<LoadBF16>();
constexpr auto kQ8Tiles = quant_tiles<UnpackQ8>();
constexpr auto kQ4Tiles = quant_tiles<UnpackQ4>();

void matmul_rows(const float* x, const void* prepared, int64_t M, const Matrix& w,
                 size_t row_stride, float* y, int64_t ldy, int64_t n_begin, int64_t n_end) {
  const int64_t K = w.cols;
  auto f32_row = [&](int64_t m) { return x + m * K; };
  const auto* xq = static_cast<const BlockQ8Act*>(prepared);
  const int64_t n_blocks = K / 32;
  auto q_row = [&](int64_t m) { return xq + m * n_blocks; };
  switch (w.dtype) {
    case DType::F32: run_tiles(kF32Tiles, f32_row, K, M, w, row_stride, y, ldy, n_begin, n_end); break;
    case DType::F16: run_tiles(kF16Tiles, f32_row, K, M, w, row_stride, y, ldy, n_begin, n_end); break;
    case DType::BF16: run_tiles(kBF16Tiles, f32_row, K, M, w, row_stride, y, ldy, n_begin, n_end); break;
    case DType::Q8_0: run_tiles(kQ8Tiles, q_row, n_blocks, M, w, row_stride, y, ldy, n_begin, n_end); break;
    default: run_tiles(kQ4Tiles, q_row, n_blocks, M, w, row_stride, y, ldy, n_begin, n_end); break;
  }
}

bool supports(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::Q8_0 ||
         t == DType::Q4_0;
}

const Ops kAvx512Ops = {
    avx2_prepared_row_bytes,
    avx2_prepare_row,
    matmul_rows,
    supports,
    rmsnorm_simd<Avx512Vec>,
    softmax_simd<Avx512Vec>,
    silu_mul_simd<Avx512Vec>,
    add_simd<Avx512Vec>,
    rope_simd<Avx512Vec>,
    attention_simd<Avx512Vec>,
};

}  // namespace

const Ops& avx512_ops() { return kAvx512Ops; }

}  // namespace lmkit::kernels::detail
