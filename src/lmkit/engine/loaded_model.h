// Everything needed to generate with a model, loaded from one spec: a Hugging Face model
// directory, a .gguf file, or ORG/NAME[@REV] in the Hugging Face cache. The model (weights
// mapped, not copied), its tokenizer, its chat template with the bos/eos strings the template
// expects, and its generation defaults.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "lmkit/engine/generation_defaults.h"

namespace lmkit {
class CausalLM;
class ChatTemplate;
class GgufFile;
class Tokenizer;
}  // namespace lmkit

namespace lmkit::engine {

struct LoadOptions {
  // Positions one sequence may hold. 0: the model's max_position, capped at kDefaultContext
  // so a 32k-context model does not reserve gigabytes of KV cache by default.
  int64_t context_size = 0;
  // ORG/NAME specs missing from the cache are downloaded first (else an error says to pull).
  bool download_if_missing = false;
  // A file whose contents replace the model's chat template (or provide one it lacks).
  std::string chat_template_file;
  // Instead of loading `spec`, build a model of this real shape ("qwen2.5-0.5b", ...) with
  // seeded random weights of random_weight_type: serving and benchmarks without a download.
  std::string random_shape;
  std::string random_weight_type = "bf16";
  // The tokenizer for a random model: a tokenizer file, or a directory holding one (its
  // tokenizer_config.json gives bos/eos and the chat template). Empty: no tokenizer, so only
  // token-id prompts work.
  std::string tokenizer_path;
};

inline constexpr int64_t kDefaultContext = 4096;

class LoadedModel {
 public:
  ~LoadedModel();
  LoadedModel(LoadedModel&&) noexcept;
  LoadedModel& operator=(LoadedModel&&) noexcept;

  const std::string& path() const { return path_; }  // the resolved file or directory
  bool is_gguf() const { return gguf_ != nullptr; }
  CausalLM& model() const { return *model_; }
  // Null when the model comes without one (a Hugging Face directory with no tokenizer.json).
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }
  const ChatTemplate* chat_template() const { return chat_template_.get(); }
  const std::string& bos_token() const { return bos_token_; }
  const std::string& eos_token() const { return eos_token_; }
  const GenerationDefaults& defaults() const { return defaults_; }
  // Every id that ends generation: config, generation_config, the tokenizer's eos token and,
  // for GGUF, the end-of-turn and end-of-message ids.
  const std::vector<int32_t>& eos_token_ids() const { return eos_token_ids_; }
  int64_t context_size() const { return context_size_; }
  // The dtype most of the weight matrices are stored in ("q4_0", "bf16", ...), for reports.
  const std::string& weight_type() const { return weight_type_; }

  // Token ids of a plain prompt, with the special tokens the tokenizer adds (BOS).
  // Throws lmkit::Error when the model has no tokenizer.
  std::vector<int32_t> tokenize(const std::string& text) const;
  // The chat template applied to `messages` (a JSON array of {role, content}), as
  // transformers' apply_chat_template renders it. Throws lmkit::Error when there is no template.
  std::string render_chat(const nlohmann::json& messages, bool add_generation_prompt) const;
  // render_chat, tokenized as transformers does it (no special tokens added: the template
  // writes them).
  std::vector<int32_t> tokenize_chat(const nlohmann::json& messages,
                                     bool add_generation_prompt) const;
  // The same with tools, as apply_chat_template(messages, tools=...) passes them (a list of
  // {"type": "function", "function": {...}}; null: none). Ordered JSON, because templates print
  // tools and tool-call arguments with tojson and transformers keeps dict order.
  std::string render_chat(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                          const nlohmann::ordered_json& tools) const;
  std::vector<int32_t> tokenize_chat(const nlohmann::ordered_json& messages,
                                     bool add_generation_prompt,
                                     const nlohmann::ordered_json& tools) const;

 private:
  friend LoadedModel load_model(const std::string& spec, const LoadOptions& options);
  LoadedModel();

  std::string path_;
  std::shared_ptr<const GgufFile> gguf_;
  std::unique_ptr<CausalLM> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<ChatTemplate> chat_template_;
  std::string bos_token_, eos_token_;
  GenerationDefaults defaults_;
  std::vector<int32_t> eos_token_ids_;
  int64_t context_size_ = 0;
  std::string weight_type_;
};

// Throws lmkit::Error naming the file and what is wrong with it. With options.random_shape,
// `spec` is ignored.
LoadedModel load_model(const std::string& spec, const LoadOptions& options = {});

}  // namespace lmkit::engine
