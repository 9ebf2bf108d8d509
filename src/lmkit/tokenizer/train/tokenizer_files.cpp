#include "lmkit/tokenizer/train/tokenizer_files.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/train/byte_level_alphabet.h"

namespace lmkit::bpe_train {
namespace {

// serde_json's escaping, so the files compare byte for byte with Hugging Face's.
void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

const char* kByteLevelComponent =
    "    \"type\": \"ByteLevel\",\n"
    "    \"add_prefix_space\": false,\n";

std::vector<std::string> all_token_texts(const TrainedBpe& model) {
  std::vector<std::string> texts;
  texts.reserve(model.tokens.size());
  for (size_t i = 0; i < model.tokens.size(); ++i) texts.push_back(token_text(model, i));
  return texts;
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw_error("cannot write " + path.string());
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) throw_error("cannot write " + path.string());
}

}  // namespace

std::string token_text(const TrainedBpe& model, size_t id) {
  return id < model.special_count ? model.tokens[id] : bytes_to_byte_level(model.tokens[id]);
}

std::string tokenizer_json(const TrainedBpe& model) {
  const auto texts = all_token_texts(model);
  std::string out;
  out.reserve(model.tokens.size() * 40 + model.merges.size() * 40);
  out += "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n";
  out += "  \"added_tokens\": [";
  for (size_t i = 0; i < model.special_count; ++i) {
    out += i ? ",\n    {\n" : "\n    {\n";
    out += "      \"id\": " + std::to_string(i) + ",\n      \"content\": ";
    append_json_string(out, texts[i]);
    out +=
        ",\n      \"single_word\": false,\n      \"lstrip\": false,\n      \"rstrip\": false,\n"
        "      \"normalized\": false,\n      \"special\": true\n    }";
  }
  out += model.special_count ? "\n  ],\n" : "],\n";
  out += "  \"normalizer\": null,\n";
  out += std::string("  \"pre_tokenizer\": {\n") + kByteLevelComponent +
         "    \"trim_offsets\": true,\n    \"use_regex\": true\n  },\n";
  out += std::string("  \"post_processor\": {\n") + kByteLevelComponent +
         "    \"trim_offsets\": false,\n    \"use_regex\": true\n  },\n";
  out += std::string("  \"decoder\": {\n") + kByteLevelComponent +
         "    \"trim_offsets\": true,\n    \"use_regex\": true\n  },\n";
  out +=
      "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
      "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
      "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n";
  out += "    \"vocab\": {";
  for (size_t i = 0; i < texts.size(); ++i) {
    out += i ? ",\n      " : "\n      ";
    append_json_string(out, texts[i]);
    out += ": " + std::to_string(i);
  }
  out += texts.empty() ? "},\n" : "\n    },\n";
  out += "    \"merges\": [";
  for (size_t i = 0; i < model.merges.size(); ++i) {
    out += i ? ",\n      [\n        " : "\n      [\n        ";
    append_json_string(out, texts[model.merges[i].left]);
    out += ",\n        ";
    append_json_string(out, texts[model.merges[i].right]);
    out += "\n      ]";
  }
  out += model.merges.empty() ? "]\n  }\n}" : "\n    ]\n  }\n}";
  return out;
}

std::string vocab_json(const TrainedBpe& model) {
  std::string out = "{";
  for (size_t i = 0; i < model.tokens.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, token_text(model, i));
    out += ":" + std::to_string(i);
  }
  out += "}";
  return out;
}

std::string merges_txt(const TrainedBpe& model) {
  const auto texts = all_token_texts(model);
  std::string out = "#version: 0.2\n";
  for (const auto& m : model.merges) out += texts[m.left] + " " + texts[m.right] + "\n";
  return out;
}

std::string tokenizer_config_json(const TrainedBpe& model, const TokenizerConfigOptions& options) {
  using nlohmann::json;
  json special = json::object();
  for (size_t i = 0; i < model.special_count; ++i) {
    special[std::to_string(i)] = {{"content", model.tokens[i]}, {"lstrip", false},
                                  {"normalized", false},       {"rstrip", false},
                                  {"single_word", false},      {"special", true}};
  }
  auto known = [&](const std::optional<std::string>& t, const char* what) -> json {
    if (!t) return nullptr;
    for (size_t i = 0; i < model.tokens.size(); ++i)
      if (token_text(model, i) == *t) return *t;
    throw_error(std::string("tokenizer_config.json: ") + what + " \"" + *t +
                "\" is not in the trained vocabulary");
  };
  std::optional<std::string> first_special;
  if (model.special_count) first_special = model.tokens[0];
  json config = json::object();  // keys sorted, as transformers writes them
  config["added_tokens_decoder"] = special;
  config["bos_token"] = known(options.bos_token, "bos_token");
  if (options.chat_template) config["chat_template"] = *options.chat_template;
  config["clean_up_tokenization_spaces"] = false;
  config["eos_token"] = known(options.eos_token ? options.eos_token : first_special, "eos_token");
  config["extra_special_tokens"] = json::object();
  config["model_max_length"] = 1e30;
  config["pad_token"] = known(options.pad_token ? options.pad_token : first_special, "pad_token");
  config["tokenizer_class"] = "PreTrainedTokenizerFast";
  config["unk_token"] = nullptr;
  return config.dump(2);
}

void write_tokenizer_files(const std::string& dir, const TrainedBpe& model,
                           const TokenizerConfigOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw_error("cannot create output folder " + dir + ": " + ec.message());
  const std::string config = tokenizer_config_json(model, options);  // validates first
  write_file(fs::path(dir) / "tokenizer.json", tokenizer_json(model));
  write_file(fs::path(dir) / "vocab.json", vocab_json(model));
  write_file(fs::path(dir) / "merges.txt", merges_txt(model));
  write_file(fs::path(dir) / "tokenizer_config.json", config);
}

}  // namespace lmkit::bpe_train
