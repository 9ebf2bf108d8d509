// `lmkit tokenizer encode|decode|info|render`: run a tokenizer or a chat template by hand or
// from scripts. --tokenizer takes a tokenizer.json, a GGUF, a BERT vocab.txt, a GPT-2 vocab.json
// (with merges.txt), or a model directory holding one of them.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lmkit/base/error.h"
#include "lmkit/cli/tokenizer_commands.h"
#include "lmkit/jinja/chat_template.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error("cannot read '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// tokenizer.json, a GGUF, BERT's vocab.txt, GPT-2's vocab.json (+ merges.txt), or a model
// directory holding one of them (Tokenizer::from_path decides).
std::unique_ptr<Tokenizer> open_tokenizer(const std::string& path) { return Tokenizer::from_path(path); }

// Inputs: the positional text, or --input FILE with one text per line, or JSONL records with
// a "text" field (a line that fails to parse as JSON is taken as plain text).
std::vector<std::string> read_inputs(const std::string& text, const std::string& input_file) {
  if (input_file.empty()) return {text};
  std::ifstream in(input_file);
  if (!in) throw_error("cannot read '" + input_file + "'");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.front() == '{') {
      json j = json::parse(line, nullptr, false);
      if (!j.is_discarded()) {
        if (!j.contains("text") || !j["text"].is_string())
          throw_error(input_file + ": line " + std::to_string(out.size() + 1) + " has no string field \"text\"");
        out.push_back(j["text"].get<std::string>());
        continue;
      }
    }
    out.push_back(line);
  }
  return out;
}

struct EncodeOptions {
  std::string tokenizer, text, input;
  bool tokens = false, as_json = false, add_special = false;
};

int run_encode(const EncodeOptions& o) {
  auto tok = open_tokenizer(o.tokenizer);
  for (const std::string& text : read_inputs(o.text, o.input)) {
    Encoding e = tok->encode_full(text, o.add_special);
    if (o.as_json) {
      ordered_json j;
      j["ids"] = e.ids;
      j["tokens"] = e.tokens;
      json offsets = json::array();
      for (auto [b, en] : e.offsets) offsets.push_back({b, en});
      j["offsets"] = offsets;
      std::cout << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    } else if (o.tokens) {
      for (size_t k = 0; k < e.tokens.size(); ++k) std::cout << (k ? " " : "") << e.tokens[k];
      std::cout << "\n";
    } else {
      for (size_t k = 0; k < e.ids.size(); ++k) std::cout << (k ? " " : "") << e.ids[k];
      std::cout << "\n";
    }
  }
  return 0;
}

std::vector<int32_t> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',' || c == ' ' || c == '[' || c == ']' || c == '\n') {
      if (!cur.empty()) {
        try {
          size_t used = 0;
          long v = std::stol(cur, &used);
          if (used != cur.size() || v < 0 || v > INT32_MAX) throw std::invalid_argument(cur);
          ids.push_back(static_cast<int32_t>(v));
        } catch (const std::exception&) {
          throw_error("'" + cur + "' is not a token id");
        }
        cur.clear();
      }
    } else {
      cur += c;
    }
  }
  return ids;
}

struct RenderOptions {
  std::string tokenizer, context, template_file;
};

// Special-token strings of tokenizer_config.json, given either as strings or as
// {"content": ...} objects, as apply_chat_template passes them to the template.
void add_special_token_strings(const json& config, ordered_json& context) {
  for (const char* key : {"bos_token", "eos_token", "pad_token", "unk_token"}) {
    if (context.contains(key) || !config.contains(key)) continue;
    const json& v = config[key];
    if (v.is_string()) context[key] = v;
    else if (v.is_object() && v.contains("content")) context[key] = v["content"];
  }
}

int run_render(const RenderOptions& o) {
  ordered_json context = ordered_json::parse(read_text(o.context), nullptr, false);
  if (context.is_discarded() || !context.is_object())
    throw_error(o.context + ": expected a JSON object with \"messages\" and other variables");
  std::string source;
  std::string origin;
  json config;
  fs::path dir = fs::is_directory(o.tokenizer) ? fs::path(o.tokenizer) : fs::path(o.tokenizer).parent_path();
  fs::path config_path = dir / "tokenizer_config.json";
  if (fs::exists(config_path)) {
    config = json::parse(read_text(config_path.string()), nullptr, false);
    if (config.is_discarded()) throw_error(config_path.string() + ": not valid JSON");
  }
  if (!o.template_file.empty()) {
    source = read_text(o.template_file);
    origin = o.template_file;
  } else if (config.contains("chat_template") && config["chat_template"].is_string()) {
    source = config["chat_template"].get<std::string>();
    origin = config_path.string() + " chat_template";
  } else {
    throw_error("no chat template: " + config_path.string() +
                " has no chat_template string (give one with --template)");
  }
  add_special_token_strings(config, context);
  if (!context.contains("add_generation_prompt")) context["add_generation_prompt"] = false;
  ChatTemplate tmpl(source, origin);
  std::cout << tmpl.render(context);
  return 0;
}

constexpr const char* kTokenizerHelp =
    "tokenizer.json, a .gguf, vocab.txt, vocab.json (merges.txt beside it) or a model directory";

const TokenizerRegistration encode_reg("encode", "Text to token ids", [](CLI::App& app) -> Runner {
  auto o = std::make_shared<EncodeOptions>();
  app.add_option("--tokenizer", o->tokenizer, kTokenizerHelp)->required();
  app.add_option("text", o->text, "The text to encode");
  app.add_option("--input", o->input, "A file with one text per line, or JSONL with a \"text\" field");
  app.add_flag("--tokens", o->tokens, "Print token strings instead of ids");
  app.add_flag("--json", o->as_json, "One JSON object per text: ids, tokens, offsets (code points)");
  app.add_flag("--add-special-tokens", o->add_special, "Add the special tokens the post-processor adds (BOS, ...)");
  return [o] { return run_encode(*o); };
});

const TokenizerRegistration decode_reg("decode", "Token ids to text", [](CLI::App& app) -> Runner {
  auto tokenizer = std::make_shared<std::string>();
  auto ids = std::make_shared<std::string>();
  auto skip = std::make_shared<bool>(false);
  app.add_option("--tokenizer", *tokenizer, kTokenizerHelp)->required();
  app.add_option("ids", *ids, "Ids separated by commas or spaces")->required();
  app.add_flag("--skip-special-tokens", *skip, "Leave special tokens out of the text");
  return [=] {
    auto tok = open_tokenizer(*tokenizer);
    std::vector<int32_t> list = parse_ids(*ids);
    for (int32_t id : list)
      if (id >= tok->vocab_size())
        throw_error("token id " + std::to_string(id) + " is outside the vocabulary (size " +
                    std::to_string(tok->vocab_size()) + ")");
    std::cout << tok->decode(list, *skip) << "\n";
    return 0;
  };
});

const TokenizerRegistration info_reg("info", "Vocabulary size and special tokens", [](CLI::App& app) -> Runner {
  auto tokenizer = std::make_shared<std::string>();
  app.add_option("--tokenizer", *tokenizer, kTokenizerHelp)->required();
  return [=] {
    auto tok = open_tokenizer(*tokenizer);
    ordered_json j;
    j["vocab_size"] = tok->vocab_size();
    json specials = json::array();
    for (int32_t id = 0; id < tok->vocab_size(); ++id)
      if (tok->is_special(id)) specials.push_back({{"id", id}, {"content", tok->id_to_token(id)}});
    j["special_tokens"] = specials;
    std::cout << j.dump(1) << "\n";
    return 0;
  };
});

const TokenizerRegistration render_reg(
    "render", "Render the chat template for a context, as apply_chat_template(tokenize=False)",
    [](CLI::App& app) -> Runner {
      auto o = std::make_shared<RenderOptions>();
      app.add_option("--tokenizer", o->tokenizer, "A model directory (or a file in it) with tokenizer_config.json")->required();
      app.add_option("--context", o->context, "JSON: messages, add_generation_prompt, tools, extra variables")->required();
      app.add_option("--template", o->template_file, "A Jinja template file replacing the model's");
      return [o] { return run_render(*o); };
    });

}  // namespace
}  // namespace lmkit::cli
