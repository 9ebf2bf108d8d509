#include "lmkit/models/config.h"

#include <cmath>

namespace lmkit {

const char* architecture_name(Architecture arch) {
  switch (arch) {
    case Architecture::Llama: return "llama";
    case Architecture::Qwen2: return "qwen2";
    case Architecture::Mistral: return "mistral";
    case Architecture::InternLM2: return "internlm2";
  }
  return "unknown";
}

std::vector<float> ModelConfig::rope_inv_freq() const {
  const int64_t half = rope_dim / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  // Computed in double and rounded once; transformers computes in f32, the difference is far
  // below the 1e-4 logit tolerance.
  const double pi = 3.14159265358979323846;
  for (int64_t i = 0; i < half; ++i) {
    double f = 1.0 / std::pow(rope_theta, static_cast<double>(2 * i) / static_cast<double>(rope_dim));
    if (rope_scaling.type == "linear") {
      f /= rope_scaling.factor;
    } else if (rope_scaling.type == "llama3") {
      // Llama 3.1: long wavelengths slow down by `factor`, short ones stay, and the band in
      // between blends smoothly (transformers' _compute_llama3_parameters).
      const double old_ctx = static_cast<double>(rope_scaling.original_max_position);
      const double low_wavelen = old_ctx / rope_scaling.low_freq_factor;
      const double high_wavelen = old_ctx / rope_scaling.high_freq_factor;
      const double wavelen = 2.0 * pi / f;
      if (wavelen > low_wavelen) {
        f /= rope_scaling.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (old_ctx / wavelen - rope_scaling.low_freq_factor) /
                              (rope_scaling.high_freq_factor - rope_scaling.low_freq_factor);
        f = (1.0 - smooth) * f / rope_scaling.factor + smooth * f;
      }
    }
    if (!rope_freq_factors.empty()) f /= rope_freq_factors[static_cast<size_t>(i)];
    inv[static_cast<size_t>(i)] = static_cast<float>(f);
  }
  return inv;
}

}  // namespace lmkit
