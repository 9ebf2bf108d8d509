#include "lmkit/engine/loaded_model.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/base/log.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/formats/hf_hub.h"
#include "lmkit/jinja/chat_template.h"
#include "lmkit/kernels/kernels.h"
#include "lmkit/models/model.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::engine {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(path.string() + ": cannot be read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool has_gguf_magic(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::string(magic, 4) == "GGUF";
}

// A special token in tokenizer_config.json: a string, or an AddedToken object with "content".
std::string special_token_text(const json& cfg, const char* key, const std::string& source) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  throw_error(source + ": field \"" + key +
              "\" must be a string or an object with a \"content\" string, got " + it->dump());
}

// tokenizer_config.json chat_template: a string, or a list of {name, template} of which the
// one named "default" is what apply_chat_template uses without a name.
std::string chat_template_text(const json& cfg, const std::string& source) {
  auto it = cfg.find("chat_template");
  if (it == cfg.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    for (const auto& entry : *it)
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string())
        return entry["template"].get<std::string>();
    throw_error(source + ": field \"chat_template\" is a list without an entry named \"default\"");
  }
  throw_error(source + ": field \"chat_template\" must be a string or a list of {name, template}, got " +
              it->dump().substr(0, 80));
}

// The dtype holding the most matrix elements: what llama-bench reports as the model's type.
std::string dominant_matrix_type(const GgufFile& gguf) {
  std::map<DType, int64_t> elements;
  for (const auto& t : gguf.tensors())
    if (t.shape.size() == 2) elements[t.dtype] += t.numel();
  if (elements.empty()) return "unknown";
  auto best = std::max_element(elements.begin(), elements.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  return dtype_name(best->first);
}

// config.json torch_dtype in GGUF's spelling.
std::string hf_weight_type(const fs::path& config_path) {
  json cfg = json::parse(read_text(config_path), nullptr, /*allow_exceptions=*/false);
  const std::string t = cfg.is_object() ? cfg.value("torch_dtype", "") : "";
  if (t == "float32") return "f32";
  if (t == "float16") return "f16";
  if (t == "bfloat16") return "bf16";
  return t.empty() ? "unknown" : t;
}

void add_unique(std::vector<int32_t>& ids, int32_t id) {
  if (id >= 0 && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
}

// A directory without config.json but with exactly one .gguf file (a GGUF repo from the hub)
// stands for that file.
std::string single_gguf_in(const fs::path& dir) {
  if (fs::exists(dir / "config.json")) return {};
  std::vector<std::string> ggufs;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".gguf") ggufs.push_back(e.path().string());
  if (ggufs.size() > 1) {
    std::string list;
    for (const auto& g : ggufs) list += "\n  " + g;
    throw_error(dir.string() + " holds several GGUF files and no config.json; pass one of them:" +
                list);
  }
  return ggufs.empty() ? std::string() : ggufs.front();
}

std::string resolve_spec(const std::string& spec, const LoadOptions& options) {
  if (spec.empty()) throw_error("no model given: pass a model directory, a .gguf file or ORG/NAME");
  std::string path = resolve_model(spec, options.download_if_missing, hub_options_from_env());
  if (fs::is_directory(path)) {
    std::string gguf = single_gguf_in(path);
    if (!gguf.empty()) return gguf;
  }
  return path;
}

}  // namespace

LoadedModel::LoadedModel() = default;
LoadedModel::~LoadedModel() = default;
LoadedModel::LoadedModel(LoadedModel&&) noexcept = default;
LoadedModel& LoadedModel::operator=(LoadedModel&&) noexcept = default;

LoadedModel load_model(const std::string& spec, const LoadOptions& options) {
  LoadedModel m;
  std::string template_text, template_origin;
  // tokenizer_config.json (bos/eos strings, chat template) and chat_template.jinja of a
  // Hugging Face directory.
  auto read_tokenizer_config = [&](const fs::path& path) {
    const fs::path tok_cfg_path = path / "tokenizer_config.json";
    if (fs::exists(tok_cfg_path)) {
      const std::string source = tok_cfg_path.string();
      json cfg;
      try {
        cfg = json::parse(read_text(tok_cfg_path));
      } catch (const json::parse_error& e) {
        throw_error(source + ": not valid JSON (" + e.what() + ")");
      }
      if (!cfg.is_object()) throw_error(source + ": expected a JSON object at the top level");
      m.bos_token_ = special_token_text(cfg, "bos_token", source);
      m.eos_token_ = special_token_text(cfg, "eos_token", source);
      template_text = chat_template_text(cfg, source);
      template_origin = source + " chat_template";
    }
    // Newer transformers save the template beside the config as its own file.
    const fs::path jinja_file = path / "chat_template.jinja";
    if (fs::exists(jinja_file)) {
      template_text = read_text(jinja_file);
      template_origin = jinja_file.string();
    }
  };

  if (!options.random_shape.empty()) {
    m.path_ = "random:" + options.random_shape;
    const DType dtype = dtype_from_name(options.random_weight_type);
    if (!kernels::matmul_supports(dtype))
      throw_error("random weight type " + options.random_weight_type + " has no matmul kernel yet");
    m.model_ = make_random_causal_lm(options.random_shape, dtype, /*seed=*/1);
    m.weight_type_ = dtype_name(dtype);
    if (!options.tokenizer_path.empty()) {
      m.tokenizer_ = Tokenizer::from_path(options.tokenizer_path);
      m.tokenizer_->disable_truncation_and_padding();
      const fs::path tok(options.tokenizer_path);
      read_tokenizer_config(fs::is_directory(tok) ? tok : tok.parent_path());
    }
    m.defaults_.sampling.temperature = 0.0f;  // as transformers without a generation_config.json
    m.defaults_.source = "transformers defaults";
  } else if (const fs::path path(m.path_ = resolve_spec(spec, options)); fs::is_directory(path)) {
    m.model_ = load_causal_lm_from_hf_dir(m.path_);
    m.weight_type_ = hf_weight_type(path / "config.json");
    const fs::path tok_json = path / "tokenizer.json";
    if (fs::exists(tok_json)) {
      m.tokenizer_ = Tokenizer::from_file(tok_json.string());
      m.tokenizer_->disable_truncation_and_padding();  // as transformers encodes prompts
    }
    read_tokenizer_config(path);
    const fs::path gen_cfg = path / "generation_config.json";
    if (fs::exists(gen_cfg)) {
      m.defaults_ = parse_generation_config(read_text(gen_cfg), gen_cfg.string());
    } else {
      // transformers without a generation_config.json: greedy.
      m.defaults_.sampling.temperature = 0.0f;
      m.defaults_.source = "transformers defaults";
    }
  } else {
    if (!has_gguf_magic(path))
      throw_error(m.path_ + ": not a GGUF file (no GGUF magic) and not a Hugging Face model "
                  "directory");
    m.gguf_ = std::make_shared<const GgufFile>(m.path_);
    m.model_ = load_causal_lm_from_gguf(m.gguf_);
    m.weight_type_ = dominant_matrix_type(*m.gguf_);
    m.tokenizer_ = Tokenizer::from_gguf(*m.gguf_);
    if (const GgufValue* t = m.gguf_->find("tokenizer.chat_template")) {
      template_text = t->as_string();
      template_origin = m.path_ + " tokenizer.chat_template";
    }
    auto token_text = [&](const char* key) -> std::string {
      if (!m.gguf_->find(key)) return {};
      return m.tokenizer_->id_to_token(static_cast<int32_t>(m.gguf_->get_int(key)));
    };
    m.bos_token_ = token_text("tokenizer.ggml.bos_token_id");
    m.eos_token_ = token_text("tokenizer.ggml.eos_token_id");
    for (const char* key : {"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"})
      if (m.gguf_->find(key)) add_unique(m.eos_token_ids_, static_cast<int32_t>(m.gguf_->get_int(key)));
    m.defaults_ = llama_cpp_defaults();
  }

  if (!options.chat_template_file.empty()) {
    if (!fs::exists(options.chat_template_file))
      throw_error("chat template file not found: " + options.chat_template_file);
    template_text = read_text(options.chat_template_file);
    template_origin = options.chat_template_file;
  }
  if (!template_text.empty())
    m.chat_template_ = std::make_unique<ChatTemplate>(template_text, template_origin);

  const ModelConfig& config = m.model_->config();
  for (int32_t id : config.eos_token_ids) add_unique(m.eos_token_ids_, id);
  for (int32_t id : m.defaults_.eos_token_ids) add_unique(m.eos_token_ids_, id);
  if (m.tokenizer_ && !m.eos_token_.empty())
    if (auto id = m.tokenizer_->token_to_id(m.eos_token_)) add_unique(m.eos_token_ids_, *id);
  if (m.tokenizer_ && m.tokenizer_->vocab_size() > config.vocab_size)
    log_warn(m.path_ + ": the tokenizer has " + std::to_string(m.tokenizer_->vocab_size()) +
             " tokens but the model only " + std::to_string(config.vocab_size) + " logits");

  if (options.context_size < 0)
    throw_error("context size must be positive, got " + std::to_string(options.context_size));
  if (options.context_size > config.max_position)
    throw_error("context size " + std::to_string(options.context_size) + " exceeds the " +
                std::to_string(config.max_position) + " positions " + m.path_ + " was trained for");
  m.context_size_ = options.context_size > 0 ? options.context_size
                                             : std::min(config.max_position, kDefaultContext);
  return m;
}

std::vector<int32_t> LoadedModel::tokenize(const std::string& text) const {
  if (!tokenizer_)
    throw_error(path_ + " has no tokenizer (no tokenizer.json): pass token ids (--prompt-ids)");
  return tokenizer_->encode(text, /*add_special_tokens=*/true);
}

namespace {

// apply_chat_template's variables: the messages, the generation prompt flag, the special
// tokens of tokenizer_config.json, and the tools when there are some.
template <class J>
std::string render_with(const ChatTemplate* tmpl, const std::string& path, const J& messages,
                        bool add_generation_prompt, const std::string& bos,
                        const std::string& eos, const J* tools) {
  if (!tmpl)
    throw_error(path + " has no chat template (no chat_template in tokenizer_config.json or "
                "tokenizer.chat_template in the GGUF file): pass one with --chat-template FILE");
  J context = {{"messages", messages},
               {"add_generation_prompt", add_generation_prompt},
               {"bos_token", bos},
               {"eos_token", eos}};
  if (tools && !tools->is_null()) context["tools"] = *tools;
  return tmpl->render(context);
}

}  // namespace

std::string LoadedModel::render_chat(const json& messages, bool add_generation_prompt) const {
  return render_with<json>(chat_template_.get(), path_, messages, add_generation_prompt,
                           bos_token_, eos_token_, nullptr);
}

std::string LoadedModel::render_chat(const nlohmann::ordered_json& messages,
                                     bool add_generation_prompt,
                                     const nlohmann::ordered_json& tools) const {
  return render_with(chat_template_.get(), path_, messages, add_generation_prompt, bos_token_,
                     eos_token_, &tools);
}

std::vector<int32_t> LoadedModel::tokenize_chat(const json& messages,
                                                bool add_generation_prompt) const {
  std::string text = render_chat(messages, add_generation_prompt);
  if (!tokenizer_) throw_error(path_ + " has no tokenizer (no tokenizer.json) to encode the chat");
  return tokenizer_->encode(text, /*add_special_tokens=*/false);
}

std::vector<int32_t> LoadedModel::tokenize_chat(const nlohmann::ordered_json& messages,
                                                bool add_generation_prompt,
                                                const nlohmann::ordered_json& tools) const {
  std::string text = render_chat(messages, add_generation_prompt, tools);
  if (!tokenizer_) throw_error(path_ + " has no tokenizer (no tokenizer.json) to encode the chat");
  return tokenizer_->encode(text, /*add_special_tokens=*/false);
}

}  // namespace lmkit::engine
