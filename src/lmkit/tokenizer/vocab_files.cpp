// Tokenizers stored as plain vocabulary files, assembled the way transformers' fast
// tokenizers convert them: BERT's vocab.txt (BertTokenizerFast) and GPT-2's vocab.json +
// merges.txt (GPT2TokenizerFast). Each is turned into the equivalent tokenizer.json and
// loaded by the same code, so there is one pipeline and one set of checks.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error("cannot read tokenizer file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// tokenizer_config.json beside the vocabulary, or an empty object.
json sibling_config(const std::string& path) {
  fs::path config = fs::path(path).parent_path() / "tokenizer_config.json";
  if (!fs::exists(config)) return json::object();
  json j = json::parse(read_all(config.string()), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw_error(config.string() + ": not a JSON object");
  return j;
}

// A true/false setting of tokenizer_config.json (absent or null: the fallback).
bool config_flag(const json& j, const char* key, bool fallback, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw_error(where + ": '" + key + "' must be true or false, not " + it->dump());
  return it->get<bool>();
}

// added_tokens_decoder of tokenizer_config.json (what transformers registers), else the
// given special tokens that the vocabulary has.
ordered_json added_tokens(const json& config, const ordered_json& vocab, std::initializer_list<const char*> defaults,
                          const std::string& config_source) {
  ordered_json out = ordered_json::array();
  auto it = config.find("added_tokens_decoder");
  if (it != config.end() && it->is_object()) {
    for (auto& [id, t] : it->items()) {
      if (!t.is_object() || !t.contains("content") || !t["content"].is_string())
        throw_error(config_source + ": added_tokens_decoder[" + id + "] has no string 'content'");
      int64_t n = -1;
      try {
        n = std::stoll(id);
      } catch (...) {
      }
      if (n < 0) throw_error(config_source + ": added_tokens_decoder key '" + id + "' is not an id");
      std::string where = config_source + ": added_tokens_decoder[" + id + "]";
      out.push_back({{"id", n},
                     {"content", t["content"]},
                     {"single_word", config_flag(t, "single_word", false, where)},
                     {"lstrip", config_flag(t, "lstrip", false, where)},
                     {"rstrip", config_flag(t, "rstrip", false, where)},
                     {"normalized", config_flag(t, "normalized", false, where)},
                     {"special", config_flag(t, "special", true, where)}});
    }
    return out;
  }
  for (const char* name : defaults) {
    auto v = vocab.find(name);
    if (v == vocab.end()) continue;
    out.push_back({{"id", *v}, {"content", name}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                   {"normalized", false}, {"special", true}});
  }
  return out;
}

std::string config_string(const json& config, const char* key, const char* fallback) {
  auto it = config.find(key);
  if (it != config.end() && it->is_string()) return it->get<std::string>();
  // transformers also writes special tokens as {"content": ...} objects.
  if (it != config.end() && it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  return fallback;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_vocab_txt(const std::string& path) {
  std::istringstream lines(read_all(path));
  ordered_json vocab = ordered_json::object();
  std::string line;
  int32_t id = 0;
  while (std::getline(lines, line)) {
    // Hugging Face's WordPiece::read_file: the line number is the id, trailing whitespace goes.
    size_t end = line.find_last_not_of(" \t\r\n\v\f");
    line.resize(end == std::string::npos ? 0 : end + 1);
    vocab[line] = id++;  // a repeated token keeps its last id, as a HashMap insert does
  }
  if (id == 0) throw_error(path + ": empty vocabulary");
  json config = sibling_config(path);
  std::string unk = config_string(config, "unk_token", "[UNK]");
  std::string cls = config_string(config, "cls_token", "[CLS]");
  std::string sep = config_string(config, "sep_token", "[SEP]");
  for (const std::string& t : {unk, cls, sep})
    if (!vocab.contains(t)) throw_error(path + ": special token '" + t + "' is not in the vocabulary");
  const std::string config_source = "tokenizer_config.json beside " + path;
  bool lowercase = config_flag(config, "do_lower_case", true, config_source);
  ordered_json strip_accents;  // null: follow lowercase
  if (config.contains("strip_accents") && !config["strip_accents"].is_null())
    strip_accents = config_flag(config, "strip_accents", true, config_source);
  ordered_json j = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added_tokens(config, vocab, {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}, config_source)},
      {"normalizer",
       {{"type", "BertNormalizer"},
        {"clean_text", true},
        {"handle_chinese_chars", config_flag(config, "tokenize_chinese_chars", true, config_source)},
        {"strip_accents", strip_accents},
        {"lowercase", lowercase}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", cls}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                    {{"SpecialToken", {{"id", sep}, {"type_id", 0}}}}}},
        {"pair", {{{"SpecialToken", {{"id", cls}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                  {{"SpecialToken", {{"id", sep}, {"type_id", 0}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}},
                  {{"SpecialToken", {{"id", sep}, {"type_id", 1}}}}}},
        {"special_tokens",
         {{cls, {{"id", cls}, {"ids", {vocab[cls]}}, {"tokens", {cls}}}},
          {sep, {{"id", sep}, {"ids", {vocab[sep]}}, {"tokens", {sep}}}}}}}},
      {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
      {"model",
       {{"type", "WordPiece"},
        {"unk_token", unk},
        {"continuing_subword_prefix", "##"},
        {"max_input_chars_per_word", 100},
        {"vocab", vocab}}}};
  return from_json(j.dump(), path);
}

std::unique_ptr<Tokenizer> Tokenizer::from_vocab_and_merges(const std::string& vocab_json,
                                                            const std::string& merges_txt) {
  ordered_json vocab = ordered_json::parse(read_all(vocab_json), nullptr, false);
  if (vocab.is_discarded() || !vocab.is_object()) throw_error(vocab_json + ": expected a JSON object of token -> id");
  std::istringstream lines(read_all(merges_txt));
  ordered_json merges = ordered_json::array();
  std::string line;
  size_t line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if ((line_no == 1 && line.rfind("#version", 0) == 0) || line.empty()) continue;
    size_t sp = line.find(' ');
    if (sp == std::string::npos || sp == 0 || line.find(' ', sp + 1) != std::string::npos)
      throw_error(merges_txt + ": line " + std::to_string(line_no) + " is not two tokens separated by a space");
    merges.push_back(line);
  }
  json config = sibling_config(vocab_json);
  bool add_prefix_space =
      config_flag(config, "add_prefix_space", false, "tokenizer_config.json beside " + vocab_json);
  ordered_json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true},
                             {"use_regex", true}};
  ordered_json post = byte_level;
  post["trim_offsets"] = false;
  ordered_json j = {{"version", "1.0"},
                    {"truncation", nullptr},
                    {"padding", nullptr},
                    {"added_tokens", added_tokens(config, vocab, {"<|endoftext|>"},
                                                  "tokenizer_config.json beside " + vocab_json)},
                    {"normalizer", nullptr},
                    {"pre_tokenizer", byte_level},
                    {"post_processor", post},
                    {"decoder", byte_level},
                    {"model",
                     {{"type", "BPE"},
                      {"dropout", nullptr},
                      {"unk_token", nullptr},
                      {"continuing_subword_prefix", ""},
                      {"end_of_word_suffix", ""},
                      {"fuse_unk", false},
                      {"byte_fallback", false},
                      {"vocab", vocab},
                      {"merges", merges}}}};
  return from_json(j.dump(), vocab_json + " + " + merges_txt);
}

std::unique_ptr<Tokenizer> Tokenizer::from_path(const std::string& path) {
  if (fs::is_directory(path)) {
    fs::path dir(path);
    if (fs::exists(dir / "tokenizer.json")) return from_file((dir / "tokenizer.json").string());
    if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt"))
      return from_vocab_and_merges((dir / "vocab.json").string(), (dir / "merges.txt").string());
    if (fs::exists(dir / "vocab.txt")) return from_vocab_txt((dir / "vocab.txt").string());
    // SentencePiece models under the names T5/ALBERT (spiece.model) and Llama/Mistral use.
    for (const char* name : {"tokenizer.model", "spiece.model"})
      if (fs::exists(dir / name)) return from_file((dir / name).string());
    throw_error("no tokenizer.json (nor vocab.json + merges.txt, vocab.txt, tokenizer.model or "
                "spiece.model) in '" + path + "'");
  }
  if (!fs::exists(path)) throw_error("tokenizer path '" + path + "' does not exist");
  if (ends_with(path, ".gguf")) return from_gguf(GgufFile(path));
  if (ends_with(path, ".txt")) return from_vocab_txt(path);
  if (fs::path(path).filename() == "vocab.json") {
    fs::path merges = fs::path(path).parent_path() / "merges.txt";
    if (!fs::exists(merges)) throw_error("'" + path + "' needs merges.txt beside it");
    return from_vocab_and_merges(path, merges.string());
  }
  return from_file(path);
}

}  // namespace lmkit
