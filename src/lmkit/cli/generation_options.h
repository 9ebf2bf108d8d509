// Command-line options shared by `lmkit run`, `lmkit chat` and `lmkit bench`: which model,
// how many threads, the context size, the chat template override, and the sampling knobs.
// Unset sampling options fall back to the model's own defaults (generation_config.json, or
// llama.cpp's for a GGUF file).
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lmkit/engine/generator.h"
#include "lmkit/engine/loaded_model.h"

namespace lmkit::cli {

struct ModelArgs {
  std::string model;
  int threads = 0;  // 0: one per core
  int64_t ctx_size = 0;
  std::string chat_template;
  bool verbose = false;
  bool pull = false;  // download ORG/NAME into the hub cache when missing
};

struct SamplingArgs {
  std::optional<float> temperature, top_p, min_p, repeat_penalty, presence_penalty,
      frequency_penalty;
  std::optional<int32_t> top_k;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  std::optional<int64_t> max_tokens;
  bool ignore_eos = false;
};

// Adds MODEL (positional) and --threads, --ctx-size, --chat-template, --pull, --verbose.
void add_model_args(CLI::App& app, ModelArgs& args, bool model_required = true);
void add_thread_arg(CLI::App& app, int& threads);
void add_sampling_args(CLI::App& app, SamplingArgs& args);

engine::LoadOptions load_options(const ModelArgs& args);

// The model's defaults overridden by what was given. A seed that was not given is drawn at
// random; the chosen one is in the result (so --json can report it).
engine::GenerateOptions generate_options(const SamplingArgs& args,
                                         const engine::LoadedModel& model);

// Parses "1,2,3" (spaces allowed); throws lmkit::Error naming the bad element.
std::vector<int32_t> parse_token_ids(const std::string& text, const std::string& flag);

}  // namespace lmkit::cli
