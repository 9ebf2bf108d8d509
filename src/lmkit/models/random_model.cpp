// Models of real shapes with seeded random weights, built in memory, so benchmarks and
// memory estimates need no download. The weights go through the same bind_weights path as a
// checkpoint, under Hugging Face names.
#include <cmath>
#include <cstring>
#include <map>

#include "lmkit/base/error.h"
#include "lmkit/models/decoder.h"
#include "lmkit/models/model.h"

namespace lmkit {
namespace {

struct Shape {
  const char* name;
  Architecture arch;
  int64_t hidden, layers, heads, kv_heads, intermediate, vocab, max_position;
  double rope_theta, rms_eps;
  bool tied, qkv_bias, llama3_rope;
};

// Published configs of the real models (head_dim = hidden / heads for all of them).
constexpr Shape kShapes[] = {
    {"tiny", Architecture::Llama, 64, 2, 4, 2, 128, 512, 256, 10000.0, 1e-5, false, false, false},
    {"qwen2.5-0.5b", Architecture::Qwen2, 896, 24, 14, 2, 4864, 151936, 32768, 1e6, 1e-6, true, true, false},
    {"qwen2.5-1.5b", Architecture::Qwen2, 1536, 28, 12, 2, 8960, 151936, 32768, 1e6, 1e-6, true, true, false},
    {"llama-3.2-1b", Architecture::Llama, 2048, 16, 32, 8, 8192, 128256, 131072, 500000.0, 1e-5, true, false, true},
    {"llama-2-7b", Architecture::Llama, 4096, 32, 32, 32, 11008, 32000, 4096, 10000.0, 1e-5, false, false, false},
};

const Shape& find_shape(const std::string& name) {
  for (const Shape& s : kShapes)
    if (name == s.name) return s;
  std::string list;
  for (const Shape& s : kShapes) list += (list.empty() ? "" : ", ") + std::string(s.name);
  throw_error("unknown random model shape \"" + name + "\" (known: " + list + ")");
}

// splitmix64: tiny, fast, and good enough for weights nobody reads.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float uniform(float a) {  // in [-a, a)
    return a * (static_cast<float>(next() >> 40) * (2.0f / 16777216.0f) - 1.0f);
  }
};

class RandomTensors {
 public:
  RandomTensors(uint64_t seed) : seed_(seed) {}

  // Values uniform in [center - spread, center + spread), stored as dtype.
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape, float center,
           float spread) {
    const int64_t cols = shape.back();
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
    const size_t row_bytes = dtype_row_bytes(dtype, cols);
    auto buf = std::make_shared<std::vector<uint8_t>>(row_bytes * static_cast<size_t>(rows));
    Rng rng{seed_ ^ (0x632BE59BD9B4E019ull * (views_.size() + 1))};
    std::vector<float> row(static_cast<size_t>(cols));
    std::vector<uint16_t> half(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (float& v : row) v = center + rng.uniform(spread);
      uint8_t* dst = buf->data() + static_cast<size_t>(r) * row_bytes;
      switch (dtype) {
        case DType::F32:
          std::memcpy(dst, row.data(), row_bytes);
          break;
        case DType::F16:
          for (size_t i = 0; i < row.size(); ++i) half[i] = f32_to_f16(row[i]);
          std::memcpy(dst, half.data(), row_bytes);
          break;
        case DType::BF16:
          for (size_t i = 0; i < row.size(); ++i) half[i] = f32_to_bf16(row[i]);
          std::memcpy(dst, half.data(), row_bytes);
          break;
        default:
          kernels::quantize_row(row.data(), dtype, dst, cols);
      }
    }
    TensorView v;
    v.name = name;
    v.dtype = dtype;
    v.shape = std::move(shape);
    v.data = buf->data();
    v.nbytes = buf->size();
    views_[name] = std::move(v);
    owners_.push_back(std::move(buf));
  }

  const TensorView* find(const std::string& name) const {
    auto it = views_.find(name);
    return it == views_.end() ? nullptr : &it->second;
  }
  std::vector<std::shared_ptr<const void>>& owners() { return owners_; }

 private:
  uint64_t seed_;
  std::map<std::string, TensorView> views_;
  std::vector<std::shared_ptr<const void>> owners_;
};

}  // namespace

std::vector<std::string> random_shape_names() {
  std::vector<std::string> names;
  for (const Shape& s : kShapes) names.emplace_back(s.name);
  return names;
}

ModelConfig random_shape_config(const std::string& shape_name) {
  const Shape& s = find_shape(shape_name);
  ModelConfig c;
  c.arch = s.arch;
  c.arch_string = std::string("random:") + s.name;
  c.vocab_size = s.vocab;
  c.hidden_size = s.hidden;
  c.intermediate_size = s.intermediate;
  c.n_layers = s.layers;
  c.n_heads = s.heads;
  c.n_kv_heads = s.kv_heads;
  c.head_dim = c.rope_dim = s.hidden / s.heads;
  c.rope_theta = s.rope_theta;
  if (s.llama3_rope) {
    c.rope_scaling.type = "llama3";
    c.rope_scaling.factor = 32.0;  // Llama 3.2's published values
    c.rope_scaling.low_freq_factor = 1.0;
    c.rope_scaling.high_freq_factor = 4.0;
    c.rope_scaling.original_max_position = 8192;
  }
  c.rope_style = kernels::RopeStyle::Neox;
  c.rms_norm_eps = s.rms_eps;
  c.max_position = s.max_position;
  c.tie_word_embeddings = s.tied;
  c.attention_bias = s.qkv_bias;
  c.bos_token_id = -1;
  return c;
}

std::unique_ptr<CausalLM> make_random_causal_lm(const std::string& shape_name, DType weight_dtype,
                                                uint64_t seed) {
  ModelConfig c = random_shape_config(shape_name);
  if (!kernels::matmul_supports(weight_dtype))
    throw_error(std::string("random model: the matmul kernels do not support weight dtype ") +
                dtype_name(weight_dtype));
  using models::WeightNaming;
  using models::WeightRole;
  auto name = [](WeightRole role, int64_t layer = -1) {
    return models::weight_name(WeightNaming::HuggingFace, role, layer);
  };
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  const int64_t qd = c.n_heads * c.head_dim, kvd = c.n_kv_heads * c.head_dim;
  // Spreads that keep activations near unit scale through the layers: uniform(a) has
  // variance a^2/3, so a = sqrt(3 / fan_in) preserves the variance of a matmul's input.
  auto spread = [](int64_t fan_in) { return static_cast<float>(std::sqrt(3.0 / fan_in)); };

  RandomTensors t(seed);
  t.add(name(WeightRole::Embed), weight_dtype, {c.vocab_size, H}, 0.0f, 1.0f);
  t.add(name(WeightRole::FinalNorm), DType::F32, {H}, 1.0f, 0.1f);
  if (!c.tie_word_embeddings) t.add(name(WeightRole::LmHead), weight_dtype, {c.vocab_size, H}, 0.0f, spread(H));
  for (int64_t l = 0; l < c.n_layers; ++l) {
    t.add(name(WeightRole::AttnNorm, l), DType::F32, {H}, 1.0f, 0.1f);
    t.add(name(WeightRole::FfnNorm, l), DType::F32, {H}, 1.0f, 0.1f);
    t.add(name(WeightRole::Q, l), weight_dtype, {qd, H}, 0.0f, spread(H));
    t.add(name(WeightRole::K, l), weight_dtype, {kvd, H}, 0.0f, spread(H));
    t.add(name(WeightRole::V, l), weight_dtype, {kvd, H}, 0.0f, spread(H));
    if (c.attention_bias) {
      t.add(name(WeightRole::QBias, l), DType::F32, {qd}, 0.0f, 0.1f);
      t.add(name(WeightRole::KBias, l), DType::F32, {kvd}, 0.0f, 0.1f);
      t.add(name(WeightRole::VBias, l), DType::F32, {kvd}, 0.0f, 0.1f);
    }
    t.add(name(WeightRole::O, l), weight_dtype, {H, qd}, 0.0f, spread(qd));
    t.add(name(WeightRole::Gate, l), weight_dtype, {I, H}, 0.0f, spread(H));
    t.add(name(WeightRole::Up, l), weight_dtype, {I, H}, 0.0f, spread(H));
    t.add(name(WeightRole::Down, l), weight_dtype, {H, I}, 0.0f, spread(I));
  }
  models::TensorFinder find = [&t](const std::string& n) { return t.find(n); };
  models::DecoderWeights w =
      models::bind_weights(c, WeightNaming::HuggingFace, find, "random model " + shape_name);
  w.owners = std::move(t.owners());
  return models::make_decoder(std::move(c), std::move(w));
}

}  // namespace lmkit
