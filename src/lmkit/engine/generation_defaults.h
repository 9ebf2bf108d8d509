// A model's own generation defaults: Hugging Face generation_config.json, or the values
// llama.cpp uses for a GGUF file (which carries none). Options given by the user override them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lmkit/engine/sampling.h"

namespace lmkit::engine {

struct GenerationDefaults {
  SamplingParams sampling;
  std::vector<int32_t> eos_token_ids;
  std::optional<int32_t> bos_token_id;
  std::optional<int64_t> max_new_tokens;
  std::string source;  // where the values came from, for --verbose and docs
};

// generation_config.json as transformers reads it: do_sample false (or absent) means greedy
// whatever the temperature says; eos_token_id may be an int or a list. Throws lmkit::Error
// naming `source` and the field for a value of the wrong type.
GenerationDefaults parse_generation_config(const std::string& json_text, const std::string& source);

// What llama.cpp's CLI uses when nothing is given: temperature 0.8, top_k 40, top_p 0.95,
// min_p 0.05.
GenerationDefaults llama_cpp_defaults();

}  // namespace lmkit::engine
