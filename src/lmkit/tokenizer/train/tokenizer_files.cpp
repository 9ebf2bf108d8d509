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

// The id of a token the layout needs; throws naming the role if the vocabulary lacks it.
int32_t required_id(const TrainedBpe& model, const std::string& token, const char* role) {
  for (size_t i = 0; i < model.tokens.size(); ++i)
    if (token_text(model, i) == token) return static_cast<int32_t>(i);
  throw_error(std::string("tokenizer.json: the ") + role + " \"" + token +
              "\" is not in the trained vocabulary (add it to the special tokens)");
}

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// The pipeline around the model, per layout: normalizer, pre_tokenizer, post_processor and
// decoder members of tokenizer.json, as `tokenizers` 0.23 writes them.
std::string pipeline_members(const TrainedBpe& model, const TokenizerConfigOptions& o) {
  switch (o.layout) {
    case TokenizerLayout::ByteLevelBpe:
      return std::string("  \"normalizer\": null,\n") + "  \"pre_tokenizer\": {\n" + kByteLevelComponent +
             "    \"trim_offsets\": true,\n    \"use_regex\": true\n  },\n" +
             "  \"post_processor\": {\n" + kByteLevelComponent +
             "    \"trim_offsets\": false,\n    \"use_regex\": true\n  },\n" +
             "  \"decoder\": {\n" + kByteLevelComponent +
             "    \"trim_offsets\": true,\n    \"use_regex\": true\n  },\n";
    case TokenizerLayout::SentencePieceBpe: {
      std::string out =
          "  \"normalizer\": null,\n"
          "  \"pre_tokenizer\": {\n    \"type\": \"Metaspace\",\n    \"replacement\": \"▁\",\n"
          "    \"prepend_scheme\": \"first\",\n    \"split\": true\n  },\n";
      if (o.bos_token) {
        const std::string bos = json_quoted(*o.bos_token);
        const std::string id = std::to_string(required_id(model, *o.bos_token, "bos_token"));
        auto special = [&](int type) {
          return "{\"SpecialToken\": {\"id\": " + bos + ", \"type_id\": " + std::to_string(type) + "}}";
        };
        auto sequence = [](const char* which, int type) {
          return std::string("{\"Sequence\": {\"id\": \"") + which + "\", \"type_id\": " +
                 std::to_string(type) + "}}";
        };
        out += "  \"post_processor\": {\n    \"type\": \"TemplateProcessing\",\n";
        out += "    \"single\": [" + special(0) + ", " + sequence("A", 0) + "],\n";
        out += "    \"pair\": [" + special(0) + ", " + sequence("A", 0) + ", " + special(1) + ", " +
               sequence("B", 1) + "],\n";
        out += "    \"special_tokens\": {" + bos + ": {\"id\": " + bos + ", \"ids\": [" + id +
               "], \"tokens\": [" + bos + "]}}\n  },\n";
      } else {
        out += "  \"post_processor\": null,\n";
      }
      out +=
          "  \"decoder\": {\n    \"type\": \"Sequence\",\n    \"decoders\": [\n"
          "      {\"type\": \"Replace\", \"pattern\": {\"String\": \"▁\"}, \"content\": \" \"},\n"
          "      {\"type\": \"ByteFallback\"},\n      {\"type\": \"Fuse\"},\n"
          "      {\"type\": \"Strip\", \"content\": \" \", \"start\": 1, \"stop\": 0}\n    ]\n  },\n";
      return out;
    }
    case TokenizerLayout::WordPiece: {
      const std::string lowercase = o.lowercase ? "true" : "false";
      auto pair = [&](const std::string& token, const char* role) {
        return "[" + json_quoted(token) + ", " + std::to_string(required_id(model, token, role)) + "]";
      };
      return "  \"normalizer\": {\n    \"type\": \"BertNormalizer\",\n    \"clean_text\": true,\n"
             "    \"handle_chinese_chars\": true,\n    \"strip_accents\": null,\n    \"lowercase\": " +
             lowercase + "\n  },\n" +
             "  \"pre_tokenizer\": {\n    \"type\": \"BertPreTokenizer\"\n  },\n" +
             "  \"post_processor\": {\n    \"type\": \"BertProcessing\",\n    \"sep\": " +
             pair(o.sep_token, "sep_token") + ",\n    \"cls\": " + pair(o.cls_token, "cls_token") +
             "\n  },\n" +
             "  \"decoder\": {\n    \"type\": \"WordPiece\",\n    \"prefix\": \"##\",\n"
             "    \"cleanup\": true\n  },\n";
    }
  }
  return {};
}

// The "model" member up to its vocab.
std::string model_header(const TrainedBpe& model, const TokenizerConfigOptions& o) {
  switch (o.layout) {
    case TokenizerLayout::ByteLevelBpe:
      return "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
             "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
             "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n";
    case TokenizerLayout::SentencePieceBpe:
      required_id(model, o.unk_token, "unk_token");
      return "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": " +
             json_quoted(o.unk_token) +
             ",\n    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
             "    \"fuse_unk\": true,\n    \"byte_fallback\": true,\n    \"ignore_merges\": false,\n";
    case TokenizerLayout::WordPiece:
      required_id(model, o.unk_token, "unk_token");
      return "  \"model\": {\n    \"type\": \"WordPiece\",\n    \"unk_token\": " + json_quoted(o.unk_token) +
             ",\n    \"continuing_subword_prefix\": \"##\",\n    \"max_input_chars_per_word\": 100,\n";
  }
  return {};
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
  const bool as_is = !model.byte_level || id < model.special_count + model.reserved_count;
  return as_is ? model.tokens[id] : bytes_to_byte_level(model.tokens[id]);
}

std::string tokenizer_json(const TrainedBpe& model) { return tokenizer_json(model, {}); }

std::string tokenizer_json(const TrainedBpe& model, const TokenizerConfigOptions& options) {
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
  out += pipeline_members(model, options);
  out += model_header(model, options);
  out += "    \"vocab\": {";
  for (size_t i = 0; i < texts.size(); ++i) {
    out += i ? ",\n      " : "\n      ";
    append_json_string(out, texts[i]);
    out += ": " + std::to_string(i);
  }
  if (options.layout == TokenizerLayout::WordPiece) {
    out += texts.empty() ? "}\n  }\n}" : "\n    }\n  }\n}";
    return out;
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

std::string vocab_txt(const TrainedBpe& model) {
  std::string out;
  for (size_t i = 0; i < model.tokens.size(); ++i) out += token_text(model, i) + "\n";
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
  // Byte-level BPE has no named special tokens, so its first one serves; the other layouts
  // name theirs (the caller passes them).
  if (model.special_count && options.layout == TokenizerLayout::ByteLevelBpe)
    first_special = model.tokens[0];
  json config = json::object();  // keys sorted, as transformers writes them
  config["added_tokens_decoder"] = special;
  const bool wordpiece = options.layout == TokenizerLayout::WordPiece;
  config["bos_token"] = known(options.bos_token, "bos_token");
  if (options.chat_template) config["chat_template"] = *options.chat_template;
  // WordPiece decodes as BERT does (transformers' BertTokenizerFast default).
  config["clean_up_tokenization_spaces"] = wordpiece;
  config["eos_token"] = known(options.eos_token ? options.eos_token : first_special, "eos_token");
  config["extra_special_tokens"] = json::object();
  config["model_max_length"] = 1e30;
  config["pad_token"] = known(options.pad_token ? options.pad_token : first_special, "pad_token");
  config["tokenizer_class"] = "PreTrainedTokenizerFast";
  config["unk_token"] = options.layout == TokenizerLayout::ByteLevelBpe
                            ? json(nullptr)
                            : known(options.unk_token, "unk_token");
  if (wordpiece) {
    config["cls_token"] = known(options.cls_token, "cls_token");
    config["sep_token"] = known(options.sep_token, "sep_token");
    config["mask_token"] = known(options.mask_token, "mask_token");
    config["do_lower_case"] = options.lowercase;
  }
  return config.dump(2);
}

void write_tokenizer_files(const std::string& dir, const TrainedBpe& model,
                           const TokenizerConfigOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw_error("cannot create output folder " + dir + ": " + ec.message());
  // Everything is built (and so validated) before the first file is written.
  const std::string config = tokenizer_config_json(model, options);
  const std::string tokenizer = tokenizer_json(model, options);
  write_file(fs::path(dir) / "tokenizer.json", tokenizer);
  if (options.layout == TokenizerLayout::WordPiece) {
    write_file(fs::path(dir) / "vocab.txt", vocab_txt(model));
  } else {
    write_file(fs::path(dir) / "vocab.json", vocab_json(model));
    // merges.txt separates tokens by a space and merges by a newline: SentencePiece-style
    // tokens may hold a newline (only spaces become "▁"), so tokenizer.json's [left, right]
    // pairs are their only faithful record.
    if (options.layout == TokenizerLayout::ByteLevelBpe)
      write_file(fs::path(dir) / "merges.txt", merges_txt(model));
  }
  write_file(fs::path(dir) / "tokenizer_config.json", config);
}

std::vector<std::string> tokenizer_file_names(TokenizerLayout layout) {
  if (layout == TokenizerLayout::WordPiece)
    return {"tokenizer.json", "vocab.txt", "tokenizer_config.json"};
  if (layout == TokenizerLayout::SentencePieceBpe)
    return {"tokenizer.json", "vocab.json", "tokenizer_config.json"};
  return {"tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json"};
}

}  // namespace lmkit::bpe_train
