#include "lmkit/tensor/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "lmkit/base/error.h"

namespace lmkit {
namespace {

TEST(DType, HalfRoundTripsEveryHalfValue) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_f16(f), h) << std::hex << h;
  }
}

TEST(DType, HalfRoundsToNearestEven) {
  EXPECT_EQ(f16_to_f32(f32_to_f16(1.0f + 1.0f / 2048)), 1.0f);  // tie -> even (1.0)
  EXPECT_EQ(f16_to_f32(f32_to_f16(1.0f + 3.0f / 2048)), 1.0f + 2.0f / 1024);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // rounds to inf
  EXPECT_EQ(f16_to_f32(f32_to_f16(5.96046448e-08f)), 5.96046448e-08f);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(2.98e-08f), 0);  // below half the smallest subnormal
}

TEST(DType, HalfMatchesDoubleRoundingOnRandomValues) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> exp_dist(-26, 16);
  for (int i = 0; i < 100000; ++i) {
    float f = std::ldexp(1.0f + (rng() % 10000) / 10000.0f, static_cast<int>(exp_dist(rng)));
    float back = f16_to_f32(f32_to_f16(f));
    // The result must be one of the two neighbouring halves and the nearer one.
    uint16_t h = f32_to_f16(f);
    if ((h & 0x7c00) == 0x7c00) continue;
    float up = f16_to_f32(static_cast<uint16_t>(h + 1));
    float down = h & 0x7fff ? f16_to_f32(static_cast<uint16_t>(h - 1)) : 0.0f;
    EXPECT_LE(std::fabs(back - f), std::fabs(up - f)) << f;
    EXPECT_LE(std::fabs(back - f), std::fabs(down - f)) << f;
  }
}

TEST(DType, Bf16RoundTrip) {
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.5f)), 1.5f);
  EXPECT_EQ(f32_to_bf16(1.0f + 1.0f / 256), f32_to_bf16(1.0f));  // tie -> even
}

TEST(DType, NamesAndSizes) {
  EXPECT_EQ(dtype_from_name("Q4_0"), DType::Q4_0);
  EXPECT_EQ(dtype_row_bytes(DType::Q8_0, 64), 68u);
  EXPECT_EQ(dtype_row_bytes(DType::Q4_K, 512), 288u);
  EXPECT_THROW(dtype_from_name("q9_9"), Error);
  EXPECT_FALSE(dtype_is_known(5));
}

}  // namespace
}  // namespace lmkit
