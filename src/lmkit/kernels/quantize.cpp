// Row conversion between f32 and the weight dtypes. The quantizers follow llama.cpp's
// reference rounding (quantize_row_q8_0_ref / quantize_row_q4_0_ref) so that files lmkit
// writes are byte-identical to what llama.cpp would write from the same f32 values.
#include <cmath>
#include <cstring>

#include "lmkit/kernels/fatal.h"
#include "lmkit/kernels/kernels.h"
#include "lmkit/kernels/quant_blocks.h"

namespace lmkit::kernels {
namespace {

void quantize_q8_0(const float* src, BlockQ8_0* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const float* x = src + b * kQ8Block;
    float amax = 0.0f;
    for (int j = 0; j < kQ8Block; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[b].d = f32_to_f16(d);
    // llama.cpp scales by the f32 inverse (not the rounded f16 scale) and rounds half away
    // from zero (roundf); doing the same keeps our files identical to theirs.
    for (int j = 0; j < kQ8Block; ++j) dst[b].qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
  }
}

void quantize_q4_0(const float* src, BlockQ4_0* dst, int64_t n_blocks) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const float* x = src + b * kQ4Block;
    // The signed value of largest magnitude maps to -8, so the asymmetric int4 range
    // [-8, 7] is used fully on the side that needs it.
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQ4Block; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[b].d = f32_to_f16(d);
    for (int j = 0; j < kQ4Block / 2; ++j) {
      // x * id + 8.5 is >= 0.5 here, so the truncating cast rounds to nearest, half up.
      int lo = static_cast<int8_t>(x[j] * id + 8.5f);
      int hi = static_cast<int8_t>(x[j + kQ4Block / 2] * id + 8.5f);
      lo = lo < 15 ? lo : 15;
      hi = hi < 15 ? hi : 15;
      dst[b].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void check_block_multiple(const char* fn, int64_t n, int64_t block) {
  if (n % block != 0) kernel_fatal(fn, "length is not a multiple of the block size", n);
}

}  // namespace

void dequantize_row(const void* src, DType t, float* dst, int64_t n) {
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::F16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(h[i]);
      return;
    }
    case DType::BF16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(h[i]);
      return;
    }
    case DType::Q8_0: {
      check_block_multiple("dequantize_row", n, kQ8Block);
      const auto* blocks = static_cast<const BlockQ8_0*>(src);
      for (int64_t b = 0; b < n / kQ8Block; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        for (int j = 0; j < kQ8Block; ++j) dst[b * kQ8Block + j] = blocks[b].qs[j] * d;
      }
      return;
    }
    case DType::Q4_0: {
      check_block_multiple("dequantize_row", n, kQ4Block);
      const auto* blocks = static_cast<const BlockQ4_0*>(src);
      for (int64_t b = 0; b < n / kQ4Block; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        float* y = dst + b * kQ4Block;
        for (int j = 0; j < kQ4Block / 2; ++j) {
          y[j] = ((blocks[b].qs[j] & 0x0F) - 8) * d;
          y[j + kQ4Block / 2] = ((blocks[b].qs[j] >> 4) - 8) * d;
        }
      }
      return;
    }
    default:
      kernel_fatal("dequantize_row", "unsupported dtype", static_cast<long long>(t));
  }
}

void quantize_row(const float* src, DType t, void* dst, int64_t n) {
  switch (t) {
    case DType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DType::F16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = f32_to_f16(src[i]);
      return;
    }
    case DType::BF16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = f32_to_bf16(src[i]);
      return;
    }
    case DType::Q8_0:
      check_block_multiple("quantize_row", n, kQ8Block);
      quantize_q8_0(src, static_cast<BlockQ8_0*>(dst), n / kQ8Block);
      return;
    case DType::Q4_0:
      check_block_multiple("quantize_row", n, kQ4Block);
      quantize_q4_0(src, static_cast<BlockQ4_0*>(dst), n / kQ4Block);
      return;
    default:
      kernel_fatal("quantize_row", "unsupported dtype", static_cast<long long>(t));
  }
}

}  // namespace lmkit::kernels
