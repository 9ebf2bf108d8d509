#include "lmkit/engine/generation_defaults.h"

#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"

namespace lmkit::engine {

namespace {

using nlohmann::json;

[[noreturn]] void bad_field(const std::string& source, const std::string& field,
                            const std::string& expected, const json& got) {
  throw_error(source + ": field \"" + field + "\" must be " + expected + ", got " + got.dump());
}

std::optional<double> number_field(const json& j, const char* key, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) bad_field(source, key, "a number", *it);
  return it->get<double>();
}

int32_t token_id(const json& v, const std::string& source, const char* field) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
    bad_field(source, field, "a token id (a non-negative integer) or a list of them", v);
  return static_cast<int32_t>(v.get<int64_t>());
}

}  // namespace

GenerationDefaults parse_generation_config(const std::string& json_text,
                                           const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw_error(source + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw_error(source + ": expected a JSON object at the top level");

  GenerationDefaults d;
  d.source = source;
  bool do_sample = false;
  if (auto it = j.find("do_sample"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) bad_field(source, "do_sample", "true or false", *it);
    do_sample = it->get<bool>();
  }
  // transformers' own defaults when a field is absent: temperature 1, top_k 50, top_p 1.
  d.sampling.temperature = 1.0f;
  d.sampling.top_k = 50;
  d.sampling.top_p = 1.0f;
  if (auto t = number_field(j, "temperature", source)) d.sampling.temperature = static_cast<float>(*t);
  if (auto k = number_field(j, "top_k", source)) {
    if (*k < 0 || *k != static_cast<int32_t>(*k))
      bad_field(source, "top_k", "a non-negative integer", j["top_k"]);
    d.sampling.top_k = static_cast<int32_t>(*k);
  }
  if (auto p = number_field(j, "top_p", source)) d.sampling.top_p = static_cast<float>(*p);
  if (auto p = number_field(j, "min_p", source)) d.sampling.min_p = static_cast<float>(*p);
  if (auto r = number_field(j, "repetition_penalty", source))
    d.sampling.repetition_penalty = static_cast<float>(*r);
  if (!do_sample) d.sampling.temperature = 0.0f;
  if (auto it = j.find("eos_token_id"); it != j.end() && !it->is_null()) {
    if (it->is_array()) {
      for (const auto& v : *it) d.eos_token_ids.push_back(token_id(v, source, "eos_token_id"));
    } else {
      d.eos_token_ids.push_back(token_id(*it, source, "eos_token_id"));
    }
  }
  if (auto it = j.find("bos_token_id"); it != j.end() && !it->is_null())
    d.bos_token_id = token_id(*it, source, "bos_token_id");
  if (auto it = j.find("max_new_tokens"); it != j.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() <= 0)
      bad_field(source, "max_new_tokens", "a positive integer", *it);
    d.max_new_tokens = it->get<int64_t>();
  }
  try {
    validate(d.sampling);
  } catch (const Error& e) {
    throw_error(source + ": " + e.what());
  }
  return d;
}

GenerationDefaults llama_cpp_defaults() {
  GenerationDefaults d;
  d.source = "llama.cpp defaults";
  d.sampling.temperature = 0.8f;
  d.sampling.top_k = 40;
  d.sampling.top_p = 0.95f;
  d.sampling.min_p = 0.05f;
  return d;
}

}  // namespace lmkit::engine
