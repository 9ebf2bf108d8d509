// Row (de)quantization: exact bytes on hand-worked blocks (from the GGUF block layouts and
// llama.cpp's reference rounding rules), and round-trip error bounds on random data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "kernel_test_util.h"
#include "lmkit/kernels/kernels.h"

namespace lmkit::kernels {
namespace {

using testing::random_floats;

TEST(Quantize, Q8_0HandWorkedBlock) {
  // amax 127 gives d = 1 exactly, so each quantized value is round(x) with halves rounded
  // away from zero (roundf), as llama.cpp's quantize_row_q8_0_ref does.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = -127.0f;
  x[2] = 2.5f;
  x[3] = -2.5f;
  x[4] = 0.49f;
  x[5] = 3.5f;
  x[31] = -64.2f;
  uint8_t block[34];
  quantize_row(x.data(), DType::Q8_0, block, 32);
  EXPECT_EQ(block[0], 0x00);  // f16 1.0 = 0x3C00, little endian
  EXPECT_EQ(block[1], 0x3C);
  const auto* qs = reinterpret_cast<const int8_t*>(block + 2);
  EXPECT_EQ(qs[0], 127);
  EXPECT_EQ(qs[1], -127);
  EXPECT_EQ(qs[2], 3);
  EXPECT_EQ(qs[3], -3);
  EXPECT_EQ(qs[4], 0);
  EXPECT_EQ(qs[5], 4);
  EXPECT_EQ(qs[6], 0);
  EXPECT_EQ(qs[31], -64);
}

TEST(Quantize, Q4_0HandWorkedBlock) {
  // The value of largest magnitude (-8) sets d = -8 / -8 = 1; nibble = min(15, trunc(x + 8.5)).
  std::vector<float> x(32, 0.0f);
  x[0] = -8.0f;   // 0
  x[1] = 0.5f;    // trunc(9.0) = 9
  x[2] = -0.5f;   // trunc(8.0) = 8: halves round up, not to even
  x[3] = 7.6f;    // trunc(16.1) = 16, clamped to 15
  x[16] = 1.2f;   // trunc(9.7) = 9 in the high nibble of byte 0
  x[17] = -3.0f;  // 5 in the high nibble of byte 1
  x[31] = 6.49f;  // trunc(14.99) = 14
  uint8_t block[18];
  quantize_row(x.data(), DType::Q4_0, block, 32);
  EXPECT_EQ(block[0], 0x00);  // f16 1.0
  EXPECT_EQ(block[1], 0x3C);
  const uint8_t* qs = block + 2;
  EXPECT_EQ(qs[0], 0x90);
  EXPECT_EQ(qs[1], 0x59);
  EXPECT_EQ(qs[2], 0x88);
  EXPECT_EQ(qs[3], 0x8F);
  EXPECT_EQ(qs[4], 0x88);  // zeros are nibble 8
  EXPECT_EQ(qs[15], 0xE8);

  std::vector<float> back(32);
  dequantize_row(block, DType::Q4_0, back.data(), 32);
  EXPECT_EQ(back[0], -8.0f);
  EXPECT_EQ(back[1], 1.0f);
  EXPECT_EQ(back[2], 0.0f);
  EXPECT_EQ(back[3], 7.0f);
  EXPECT_EQ(back[16], 1.0f);
  EXPECT_EQ(back[17], -3.0f);
  EXPECT_EQ(back[31], 6.0f);
}

TEST(Quantize, AllZeroBlocksHaveZeroScale) {
  std::vector<float> x(64, 0.0f), back(64, 1.0f);
  for (DType t : {DType::Q8_0, DType::Q4_0}) {
    std::vector<uint8_t> q(dtype_row_bytes(t, 64));
    quantize_row(x.data(), t, q.data(), 64);
    dequantize_row(q.data(), t, back.data(), 64);
    for (float v : back) EXPECT_EQ(v, 0.0f) << dtype_name(t);
  }
}

// Each element is within half a step of its block's scale (plus the f16 rounding of the
// scale itself, at most 2^-11 relative, times the largest code 127).
TEST(Quantize, Q8_0RoundTripWithinHalfStep) {
  const int64_t n = 32 * 37;
  const auto x = random_floats(n, 11, -3.0f, 3.0f);
  std::vector<uint8_t> q(dtype_row_bytes(DType::Q8_0, n));
  std::vector<float> back(n);
  quantize_row(x.data(), DType::Q8_0, q.data(), n);
  dequantize_row(q.data(), DType::Q8_0, back.data(), n);
  for (int64_t b = 0; b < n / 32; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[b * 32 + j]));
    const double d = amax / 127.0;
    const double tol = d / 2 + 127 * d * std::ldexp(1.0, -11);
    for (int j = 0; j < 32; ++j) EXPECT_NEAR(back[b * 32 + j], x[b * 32 + j], tol) << b << "," << j;
  }
}

// Elements on the side of the extreme value are within half a step; the opposite side can
// need code 16, which clamps to 15, so the bound there is one step.
TEST(Quantize, Q4_0RoundTripWithinOneStep) {
  const int64_t n = 32 * 41;
  const auto x = random_floats(n, 12, -2.0f, 2.0f);
  std::vector<uint8_t> q(dtype_row_bytes(DType::Q4_0, n));
  std::vector<float> back(n);
  quantize_row(x.data(), DType::Q4_0, q.data(), n);
  dequantize_row(q.data(), DType::Q4_0, back.data(), n);
  for (int64_t b = 0; b < n / 32; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[b * 32 + j]));
    const double d = amax / 8.0;
    const double tol = d + 8 * d * std::ldexp(1.0, -11);
    for (int j = 0; j < 32; ++j) EXPECT_NEAR(back[b * 32 + j], x[b * 32 + j], tol) << b << "," << j;
  }
}

TEST(Quantize, HalfTypesRoundTripExactlyOnRepresentableValues) {
  // Values with few mantissa bits are exact in f16 and bf16, so the round trip is identity.
  std::vector<float> x = {0.0f, -0.0f, 1.0f, -2.5f, 0.125f, 96.0f, -1.0f / 64, 3.0f};
  std::vector<float> back(x.size());
  for (DType t : {DType::F16, DType::BF16, DType::F32}) {
    std::vector<uint8_t> q(dtype_row_bytes(t, x.size()));
    quantize_row(x.data(), t, q.data(), x.size());
    dequantize_row(q.data(), t, back.data(), x.size());
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(back[i], x[i]) << dtype_name(t) << " " << i;
  }
}

TEST(Quantize, HalfTypesRoundToNearest) {
  const auto x = random_floats(1000, 13, -100.0f, 100.0f);
  std::vector<uint16_t> h(x.size()), b(x.size());
  std::vector<float> hb(x.size()), bb(x.size());
  quantize_row(x.data(), DType::F16, h.data(), x.size());
  quantize_row(x.data(), DType::BF16, b.data(), x.size());
  dequantize_row(h.data(), DType::F16, hb.data(), x.size());
  dequantize_row(b.data(), DType::BF16, bb.data(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    // Half an ulp: 11 significant bits for f16, 8 for bf16.
    EXPECT_LE(std::fabs(hb[i] - x[i]), std::fabs(x[i]) * std::ldexp(1.0, -11)) << i;
    EXPECT_LE(std::fabs(bb[i] - x[i]), std::fabs(x[i]) * std::ldexp(1.0, -8)) << i;
  }
}

TEST(QuantizeDeathTest, PartialBlockAbortsWithMessage) {
  std::vector<float> x(40, 1.0f);
  std::vector<uint8_t> q(64);
  EXPECT_DEATH(quantize_row(x.data(), DType::Q8_0, q.data(), 40), "not a multiple of the block");
  EXPECT_DEATH(dequantize_row(q.data(), DType::Q4_0, x.data(), 40), "not a multiple of the block");
}

TEST(QuantizeDeathTest, UnsupportedDtypeAbortsWithMessage) {
  std::vector<float> x(256, 1.0f);
  std::vector<uint8_t> q(1024);
  EXPECT_DEATH(quantize_row(x.data(), DType::Q4_K, q.data(), 256), "unsupported dtype");
}

}  // namespace
}  // namespace lmkit::kernels
