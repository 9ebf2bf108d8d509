// GGUF/llama.cpp block layouts for the quantized weight types, shared by the reference and
// the SIMD paths. The layouts are the file format, so they are fixed byte for byte.
#pragma once
#include <cstdint>

namespace lmkit::kernels {

constexpr int kQ8Block = 32;
constexpr int kQ4Block = 32;

// Q8_0: value = qs[i] * d.
struct BlockQ8_0 {
  uint16_t d;  // f16 scale
  int8_t qs[kQ8Block];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must be 34 bytes as in GGUF");

// Q4_0: element j (j < 16) is the low nibble of qs[j], element j + 16 the high nibble;
// value = (nibble - 8) * d.
struct BlockQ4_0 {
  uint16_t d;  // f16 scale
  uint8_t qs[kQ4Block / 2];
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must be 18 bytes as in GGUF");

// Activations quantized per block of 32 (one f32 scale, round to nearest even of x * 127 /
// max|x|) for the integer dot products of the SIMD paths. Prepared by avx2_prepare_row
// (ops_avx2.cpp), which the AVX-512 table reuses so both quantize activations identically.
struct BlockQ8Act {
  float d;
  int8_t qs[32];
};

}  // namespace lmkit::kernels
