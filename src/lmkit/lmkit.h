// lmkit's C++ API: load a model, tokenize, generate with a streaming callback.
//
//   #include <lmkit/lmkit.h>
//
//   lmkit::Model model = lmkit::Model::load("stories260K.gguf");   // or a HF dir, or ORG/NAME
//   lmkit::GenerationOptions opts;
//   opts.max_tokens = 64;
//   opts.temperature = 0;                                           // greedy
//   lmkit::Generation g = model.generate("Once upon a time", opts,
//       [](std::string_view piece) { std::cout << piece << std::flush; return true; });
//
// Everything here throws lmkit::Error (a std::runtime_error) with a message naming the file,
// the field and what was expected. One Model is used by one thread at a time; it keeps the
// KV cache of its last generation, so a prompt that extends the previous one (a growing chat)
// only computes its new tokens.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lmkit/base/error.h"

namespace lmkit {

struct ModelOptions {
  int threads = 0;              // kernel threads; 0: one per core
  int64_t context_size = 0;     // positions; 0: the model's, at most 4096
  bool download_if_missing = false;  // pull ORG/NAME from the hub when not in the cache
  std::string chat_template_file;    // replaces (or supplies) the model's chat template
};

// Unset fields take the model's defaults (generation_config.json, or llama.cpp's for GGUF).
struct GenerationOptions {
  int64_t max_tokens = -1;  // < 0: until an end token, a stop string or a full context
  std::optional<float> temperature;  // 0: greedy
  std::optional<int32_t> top_k;
  std::optional<float> top_p;
  std::optional<float> min_p;
  std::optional<float> repetition_penalty;  // Hugging Face semantics
  float presence_penalty = 0;               // OpenAI semantics
  float frequency_penalty = 0;
  uint64_t seed = 0;  // same seed, same options, same model: same tokens
  std::vector<std::string> stop;  // text that ends generation (not included in the output)
  bool ignore_eos = false;
  int32_t logprobs = 0;  // top-N log-probabilities at each generated position
};

struct TokenLogprob {
  int32_t id;
  float logprob;
};

struct Generation {
  std::string text;
  std::vector<int32_t> tokens;  // generated ids (an end token that stopped it is not included)
  std::string finish_reason;    // "stop", "length" or "cancelled"
  int64_t prompt_tokens = 0;
  int64_t cached_prompt_tokens = 0;  // reused from the previous generation's KV cache
  double prefill_tokens_per_s = 0;
  double decode_tokens_per_s = 0;
  // When options.logprobs > 0, per generated token: the chosen token, then the top N.
  std::vector<TokenLogprob> chosen_logprobs;
  std::vector<std::vector<TokenLogprob>> top_logprobs;
};

struct Message {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

// Receives the text as it is generated; return false to stop.
using TextCallback = std::function<bool(std::string_view piece)>;

class Model {
 public:
  // A Hugging Face model directory, a .gguf file, or ORG/NAME[@REVISION] in the hub cache.
  static Model load(const std::string& spec, const ModelOptions& options = {});
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  std::vector<int32_t> tokenize(std::string_view text, bool add_special_tokens = true) const;
  std::string detokenize(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const;
  // The model's chat template applied to the messages.
  std::string apply_chat_template(const std::vector<Message>& messages,
                                  bool add_generation_prompt = true) const;

  // Continues `prompt` (tokenized with the tokenizer's special tokens, e.g. BOS).
  Generation generate(const std::string& prompt, const GenerationOptions& options = {},
                      const TextCallback& on_text = {});
  // Continues the given token ids as they are.
  Generation generate(const std::vector<int32_t>& prompt_ids,
                      const GenerationOptions& options = {}, const TextCallback& on_text = {});
  // Replies to a conversation (rendered with the chat template).
  Generation chat(const std::vector<Message>& messages, const GenerationOptions& options = {},
                  const TextCallback& on_text = {});

  int64_t context_size() const;
  int64_t vocab_size() const;
  bool has_tokenizer() const;
  bool has_chat_template() const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmkit
