// Reference norms, activations and RoPE: plain loops with double intermediates.
#include <cmath>

#include "lmkit/kernels/kernels.h"

namespace lmkit::kernels::ref {

void rmsnorm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
    for (int64_t i = 0; i < n; ++i) yr[i] = static_cast<float>(xr[i] * scale * w[i]);
  }
}

void softmax(float* x, int64_t n) {
  if (n <= 0) return;
  float max = x[0];
  for (int64_t i = 1; i < n; ++i) max = std::fmax(max, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - max);
  for (int64_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(std::exp(static_cast<double>(x[i]) - max) / sum);
}

void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    out[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

void rope(float* x, int64_t n_heads, int64_t head_dim, int64_t rot_dim, int64_t pos,
          const float* inv_freq, RopeStyle style) {
  const int64_t half = rot_dim / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* xh = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      // The angle is a float product as in Hugging Face and llama.cpp (both multiply f32
      // position by f32 frequency); only cos/sin are taken in double.
      const float theta = static_cast<float>(pos) * inv_freq[i];
      const double c = std::cos(static_cast<double>(theta));
      const double s = std::sin(static_cast<double>(theta));
      const int64_t a = style == RopeStyle::Neox ? i : 2 * i;
      const int64_t b = style == RopeStyle::Neox ? i + half : 2 * i + 1;
      const double x0 = xh[a], x1 = xh[b];
      xh[a] = static_cast<float>(x0 * c - x1 * s);
      xh[b] = static_cast<float>(x0 * s + x1 * c);
    }
  }
}

}  // namespace lmkit::kernels::ref
