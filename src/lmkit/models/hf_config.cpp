// config.json -> ModelConfig. Defaults are the ones transformers' config classes use, so a
// config.json that omits a field means here what it means to transformers.
#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/models/config.h"

namespace lmkit {
namespace {

using json = nlohmann::json;

struct ArchDefaults {
  const char* hf_name;
  Architecture arch;
  int64_t vocab, hidden, intermediate, layers, heads, kv_heads;  // kv_heads 0: = heads
  int64_t max_position;
  double rms_eps;
  int32_t bos, eos;  // -1: none
  int64_t sliding_window;
};

// From transformers' LlamaConfig, Qwen2Config, MistralConfig and InternLM2's remote
// configuration_internlm2.py.
constexpr ArchDefaults kSupported[] = {
    {"LlamaForCausalLM", Architecture::Llama, 32000, 4096, 11008, 32, 32, 0, 2048, 1e-6, 1, 2, 0},
    {"Qwen2ForCausalLM", Architecture::Qwen2, 151936, 4096, 22016, 32, 32, 32, 32768, 1e-6, -1, -1, 4096},
    {"MistralForCausalLM", Architecture::Mistral, 32000, 4096, 14336, 32, 32, 8, 4096 * 32, 1e-6, 1, 2, 4096},
    {"InternLM2ForCausalLM", Architecture::InternLM2, 103168, 4096, 11008, 32, 32, 0, 2048, 1e-6, 1, 2, 0},
};

std::string supported_list() {
  std::string s;
  for (const auto& d : kSupported) {
    if (!s.empty()) s += ", ";
    s += d.hf_name;
  }
  return s;
}

class Reader {
 public:
  Reader(const json& j, const std::string& source) : j_(j), source_(source) {}

  [[noreturn]] void fail(const std::string& field, const std::string& expected) const {
    throw_error(source_ + ": field \"" + field + "\" must be " + expected + ", got " +
                (j_.contains(field) ? j_.at(field).dump() : std::string("nothing")));
  }
  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }

  int64_t positive_int(const char* key, int64_t fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_number_integer() || v.get<int64_t>() <= 0) fail(key, "a positive integer");
    return v.get<int64_t>();
  }
  double positive_number(const char* key, double fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_number() || v.get<double>() <= 0) fail(key, "a positive number");
    return v.get<double>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_.at(key).is_boolean()) fail(key, "true or false");
    return j_.at(key).get<bool>();
  }
  std::string string(const char* key) const {
    if (!has(key)) return {};
    if (!j_.at(key).is_string()) fail(key, "a string");
    return j_.at(key).get<std::string>();
  }
  // eos_token_id: an integer or a list of integers (Llama 3 instruct lists several).
  std::vector<int32_t> token_ids(const char* key, int32_t fallback) const {
    if (!has(key)) return fallback >= 0 ? std::vector<int32_t>{fallback} : std::vector<int32_t>{};
    const json& v = j_.at(key);
    std::vector<int32_t> out;
    if (v.is_number_integer()) {
      out.push_back(v.get<int32_t>());
    } else if (v.is_array()) {
      for (const json& e : v) {
        if (!e.is_number_integer()) fail(key, "an integer or a list of integers");
        out.push_back(e.get<int32_t>());
      }
    } else {
      fail(key, "an integer or a list of integers");
    }
    for (int32_t id : out)
      if (id < 0) fail(key, "non-negative token ids");
    return out;
  }

 private:
  const json& j_;
  const std::string& source_;
};

RopeScaling parse_rope_scaling(const json& j, const std::string& source) {
  RopeScaling rs;
  if (!j.contains("rope_scaling") || j.at("rope_scaling").is_null()) return rs;
  const json& r = j.at("rope_scaling");
  if (!r.is_object()) throw_error(source + ": field \"rope_scaling\" must be null or an object");
  Reader rd(r, source + " rope_scaling");
  // transformers accepts both spellings; newer configs write "rope_type".
  std::string type = rd.string("rope_type");
  if (type.empty()) type = rd.string("type");
  if (type.empty() || type == "default") return rs;
  if (type == "linear") {
    rs.type = "linear";
    rs.factor = rd.positive_number("factor", 1.0);
  } else if (type == "llama3") {
    rs.type = "llama3";
    rs.factor = rd.positive_number("factor", 8.0);
    rs.low_freq_factor = rd.positive_number("low_freq_factor", 1.0);
    rs.high_freq_factor = rd.positive_number("high_freq_factor", 4.0);
    rs.original_max_position = rd.positive_int("original_max_position_embeddings", 8192);
    if (rs.high_freq_factor <= rs.low_freq_factor)
      throw_error(source + ": rope_scaling high_freq_factor must exceed low_freq_factor");
  } else if (type == "dynamic") {
    // Dynamic NTK only changes the frequencies once a sequence outgrows
    // max_position_embeddings, and the context is capped there, so it is the identity here.
    rs.type = "none";
  } else {
    throw_error(source + ": rope_scaling type \"" + type +
                "\" is not supported (supported: linear, llama3, dynamic)");
  }
  return rs;
}

}  // namespace

ModelConfig parse_hf_config(const std::string& config_json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(config_json_text);
  } catch (const json::parse_error& e) {
    throw_error(source + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw_error(source + ": expected a JSON object");

  std::string arch_name;
  if (j.contains("architectures")) {
    const json& a = j.at("architectures");
    if (!a.is_array() || a.empty() || !a.at(0).is_string())
      throw_error(source + ": field \"architectures\" must be a non-empty list of strings");
    arch_name = a.at(0).get<std::string>();
  } else {
    throw_error(source + ": field \"architectures\" is missing (supported: " + supported_list() +
                ")");
  }
  const ArchDefaults* d = nullptr;
  for (const auto& cand : kSupported)
    if (arch_name == cand.hf_name) d = &cand;
  if (!d)
    throw_error(source + ": architecture \"" + arch_name + "\" is not supported (supported: " +
                supported_list() + ")");

  Reader rd(j, source);
  ModelConfig c;
  c.arch = d->arch;
  c.arch_string = arch_name;
  c.vocab_size = rd.positive_int("vocab_size", d->vocab);
  c.hidden_size = rd.positive_int("hidden_size", d->hidden);
  c.intermediate_size = rd.positive_int("intermediate_size", d->intermediate);
  c.n_layers = rd.positive_int("num_hidden_layers", d->layers);
  c.n_heads = rd.positive_int("num_attention_heads", d->heads);
  c.n_kv_heads = rd.positive_int("num_key_value_heads", d->kv_heads ? d->kv_heads : c.n_heads);
  if (c.hidden_size % c.n_heads != 0 && !rd.has("head_dim"))
    rd.fail("hidden_size", "a multiple of num_attention_heads (" + std::to_string(c.n_heads) + ")");
  c.head_dim = rd.positive_int("head_dim", c.hidden_size / c.n_heads);
  if (c.head_dim % 2 != 0) rd.fail("head_dim", "even (RoPE rotates pairs)");
  c.rope_dim = c.head_dim;
  if (c.n_heads % c.n_kv_heads != 0)
    rd.fail("num_key_value_heads", "a divisor of num_attention_heads (" +
                                       std::to_string(c.n_heads) + ")");
  c.rope_theta = rd.positive_number("rope_theta", 10000.0);
  c.rope_scaling = parse_rope_scaling(j, source);
  c.rope_style = kernels::RopeStyle::Neox;  // transformers' rotate_half
  c.rms_norm_eps = rd.positive_number("rms_norm_eps", d->rms_eps);
  c.max_position = rd.positive_int("max_position_embeddings", d->max_position);
  c.tie_word_embeddings = rd.boolean("tie_word_embeddings", false);

  switch (c.arch) {
    case Architecture::Llama:
      c.attention_bias = c.o_proj_bias = rd.boolean("attention_bias", false);
      break;
    case Architecture::Qwen2:
      c.attention_bias = true;  // Qwen2Attention always has q/k/v biases, never o_proj's
      if (rd.boolean("use_sliding_window", false))
        c.sliding_window = rd.positive_int("sliding_window", d->sliding_window);
      break;
    case Architecture::Mistral:
      // Absent means transformers' default window; an explicit null (Mistral v0.2+) means none.
      c.sliding_window = j.contains("sliding_window") ? rd.positive_int("sliding_window", 0)
                                                      : d->sliding_window;
      break;
    case Architecture::InternLM2:
      c.attention_bias = c.o_proj_bias = rd.boolean("bias", true);
      break;
  }
  // The attention kernel reads a sequence's whole cache, so a sliding window is honoured by
  // never letting a sequence outgrow it.
  if (c.sliding_window > 0 && c.sliding_window < c.max_position) c.max_position = c.sliding_window;

  c.bos_token_id = rd.token_ids("bos_token_id", d->bos).empty()
                       ? -1
                       : rd.token_ids("bos_token_id", d->bos).front();
  c.eos_token_ids = rd.token_ids("eos_token_id", d->eos);
  return c;
}

}  // namespace lmkit
