// Builds the pipeline from a Hugging Face tokenizer.json.
#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"
#include "lmkit/tokenizer/vocab.h"

namespace lmkit {
namespace tok {
namespace {

using nlohmann::json;

struct Loader {
  std::string source;

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw_error(source + ": " + where + ": " + what);
  }

  std::string str(const json& j, const char* key, const std::string& where) const {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) fail(where, std::string("expected string field '") + key + "'");
    return it->get<std::string>();
  }
  bool flag(const json& j, const char* key, bool fallback) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(key, "expected true or false");
    return it->get<bool>();
  }
  // {"String": "..."} or {"Regex": "..."}
  std::pair<std::string, bool> pattern(const json& j, const std::string& where) const {
    auto it = j.find("pattern");
    if (it == j.end() || !it->is_object()) fail(where, "expected a 'pattern' object");
    if (it->contains("String")) return {(*it)["String"].get<std::string>(), false};
    if (it->contains("Regex")) return {(*it)["Regex"].get<std::string>(), true};
    fail(where, "pattern must have 'String' or 'Regex'");
  }
  std::string str_or(const json& j, const char* key, const std::string& fallback, const std::string& where) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_string()) fail(where, std::string("'") + key + "' must be a string");
    return it->get<std::string>();
  }
  // Ids index dense tables (id -> token), so an absurd id would allocate gigabytes; the largest
  // real vocabularies hold ~256k tokens.
  int32_t token_id(const json& id, const std::string& where) const {
    if (!id.is_number_unsigned() || id.get<uint64_t>() > kMaxTokenId)
      fail(where, "token id " + id.dump() + " is not an integer in 0.." + std::to_string(kMaxTokenId));
    return static_cast<int32_t>(id.get<uint64_t>());
  }
  uint32_t count_or(const json& j, const char* key, uint32_t fallback, const std::string& where) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_number_unsigned()) fail(where, std::string("'") + key + "' must be a non-negative integer");
    return it->get<uint32_t>();
  }
  SplitBehavior split_behavior(const json& j, const std::string& where, const char* fallback) const {
    std::string b = str_or(j, "behavior", fallback, where);
    if (b == "Removed") return SplitBehavior::Removed;
    if (b == "Isolated") return SplitBehavior::Isolated;
    if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
    if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
    if (b == "Contiguous") return SplitBehavior::Contiguous;
    fail(where, "unknown behavior '" + b +
                    "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
  }
  // ["[SEP]", 102]
  std::pair<std::string, int32_t> token_and_id(const json& j, const char* key, const std::string& where) const {
    auto it = j.find(key);
    if (it == j.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_string() || !(*it)[1].is_number_unsigned())
      fail(where, std::string("'") + key + "' must be [token, id]");
    return {(*it)[0].get<std::string>(), (*it)[1].get<int32_t>()};
  }
  std::optional<TruncationParams> truncation(const json& j) const {
    if (j.is_null()) return std::nullopt;
    if (!j.is_object()) fail("truncation", "expected an object or null");
    TruncationParams t;
    if (!j.contains("max_length")) fail("truncation", "missing 'max_length'");
    t.max_length = count_or(j, "max_length", t.max_length, "truncation");
    t.stride = count_or(j, "stride", 0, "truncation");
    std::string strategy = str_or(j, "strategy", "LongestFirst", "truncation");
    if (strategy == "LongestFirst") t.strategy = TruncationStrategy::LongestFirst;
    else if (strategy == "OnlyFirst") t.strategy = TruncationStrategy::OnlyFirst;
    else if (strategy == "OnlySecond") t.strategy = TruncationStrategy::OnlySecond;
    else fail("truncation", "unknown strategy '" + strategy + "' (expected LongestFirst, OnlyFirst or OnlySecond)");
    t.left = direction(j, "truncation");
    return t;
  }
  std::optional<PaddingParams> padding(const json& j) const {
    if (j.is_null()) return std::nullopt;
    if (!j.is_object()) fail("padding", "expected an object or null");
    PaddingParams p;
    auto s = j.find("strategy");
    if (s != j.end() && s->is_object() && s->contains("Fixed")) {
      p.fixed_length = count_or(*s, "Fixed", 0, "padding.strategy");
    } else if (s != j.end() && !(s->is_string() && s->get<std::string>() == "BatchLongest")) {
      fail("padding", "strategy must be \"BatchLongest\" or {\"Fixed\": N}");
    }
    p.pad_to_multiple_of = count_or(j, "pad_to_multiple_of", 0, "padding");
    p.left = direction(j, "padding");
    p.pad_id = static_cast<int32_t>(count_or(j, "pad_id", 0, "padding"));
    p.pad_type_id = count_or(j, "pad_type_id", 0, "padding");
    p.pad_token = str_or(j, "pad_token", "[PAD]", "padding");
    return p;
  }
  bool direction(const json& j, const std::string& where) const {
    std::string d = str_or(j, "direction", "Right", where);
    if (d != "Left" && d != "Right") fail(where, "direction must be Left or Right, not '" + d + "'");
    return d == "Left";
  }
  // A token -> id object, as BPE, WordPiece and WordLevel store their vocabularies.
  Vocab vocab_object(const json& j, const std::string& where) const {
    auto it = j.find("vocab");
    if (it == j.end() || !it->is_object()) fail(where + ".vocab", "expected an object of token -> id");
    Vocab vocab;
    for (auto& [token, id] : it->items()) vocab.add(token, token_id(id, where + ".vocab['" + token + "']"));
    return vocab;
  }

  std::unique_ptr<Normalizer> normalizer(const json& j) const {
    if (j.is_null()) return nullptr;
    std::string type = str(j, "type", "normalizer");
    if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") return make_unicode_normalizer(type);
    if (type == "Lowercase") return make_lowercase();
    if (type == "BertNormalizer") {
      BertNormalizerOptions o;
      o.clean_text = flag(j, "clean_text", true);
      o.handle_chinese_chars = flag(j, "handle_chinese_chars", true);
      if (j.contains("strip_accents") && !j["strip_accents"].is_null()) o.strip_accents = flag(j, "strip_accents", true);
      o.lowercase = flag(j, "lowercase", true);
      return make_bert_normalizer(o);
    }
    if (type == "Strip") return make_strip(flag(j, "strip_left", true), flag(j, "strip_right", true));
    if (type == "StripAccents") return make_strip_accents();
    if (type == "Prepend") return make_prepend(str(j, "prepend", "Prepend normalizer"));
    if (type == "Precompiled") return precompiled(j);
    if (type == "Replace") {
      auto [p, is_regex] = pattern(j, "Replace normalizer");
      return make_replace(p, is_regex, str(j, "content", "Replace normalizer"));
    }
    if (type == "Sequence") {
      std::vector<std::unique_ptr<Normalizer>> parts;
      for (const json& n : j.at("normalizers"))
        if (auto p = normalizer(n)) parts.push_back(std::move(p));
      return make_normalizer_sequence(std::move(parts));
    }
    fail("normalizer", "unsupported normalizer type '" + type + "'");
  }

  std::unique_ptr<PreTokenizer> pre_tokenizer(const json& j) const {
    if (j.is_null()) return nullptr;
    std::string type = str(j, "type", "pre_tokenizer");
    if (type == "ByteLevel") return make_byte_level(flag(j, "add_prefix_space", false), flag(j, "use_regex", true));
    if (type == "Split") {
      auto [p, is_regex] = pattern(j, "Split pre-tokenizer");
      std::string b = str(j, "behavior", "Split pre-tokenizer");
      SplitBehavior behavior;
      if (b == "Removed") behavior = SplitBehavior::Removed;
      else if (b == "Isolated") behavior = SplitBehavior::Isolated;
      else if (b == "MergedWithPrevious") behavior = SplitBehavior::MergedWithPrevious;
      else if (b == "MergedWithNext") behavior = SplitBehavior::MergedWithNext;
      else if (b == "Contiguous") behavior = SplitBehavior::Contiguous;
      else fail("Split pre-tokenizer", "unknown behavior '" + b + "'");
      return make_split(p, is_regex, behavior, flag(j, "invert", false));
    }
    if (type == "WhitespaceSplit") return make_whitespace_split();
    if (type == "Metaspace") {
      auto [replacement, scheme] = metaspace_fields(j, "Metaspace pre-tokenizer");
      return make_metaspace(replacement, scheme, flag(j, "split", true));
    }
    if (type == "Whitespace") return make_whitespace();
    if (type == "BertPreTokenizer") return make_bert_pre_tokenizer();
    if (type == "Punctuation") return make_punctuation(split_behavior(j, "Punctuation pre-tokenizer", "Isolated"));
    if (type == "Digits") return make_digits(flag(j, "individual_digits", false));
    if (type == "UnicodeScripts") return make_unicode_scripts();
    if (type == "Sequence") {
      std::vector<std::unique_ptr<PreTokenizer>> parts;
      for (const json& n : j.at("pretokenizers"))
        if (auto p = pre_tokenizer(n)) parts.push_back(std::move(p));
      return make_pre_tokenizer_sequence(std::move(parts));
    }
    fail("pre_tokenizer", "unsupported pre-tokenizer type '" + type + "'");
  }

  std::unique_ptr<Decoder> decoder(const json& j) const {
    if (j.is_null()) return nullptr;
    std::string type = str(j, "type", "decoder");
    if (type == "ByteLevel") return make_byte_level_decoder();
    if (type == "ByteFallback") return make_byte_fallback_decoder();
    if (type == "Fuse") return make_fuse_decoder();
    if (type == "Metaspace") {
      auto [replacement, scheme] = metaspace_fields(j, "Metaspace decoder");
      return make_metaspace_decoder(replacement, scheme);
    }
    if (type == "WordPiece")
      return make_wordpiece_decoder(str_or(j, "prefix", "##", "WordPiece decoder"), flag(j, "cleanup", true));
    if (type == "CTC")
      return make_ctc_decoder(str_or(j, "pad_token", "<pad>", "CTC decoder"),
                              str_or(j, "word_delimiter_token", "|", "CTC decoder"), flag(j, "cleanup", true));
    if (type == "Replace") {
      auto [p, is_regex] = pattern(j, "Replace decoder");
      if (is_regex) fail("Replace decoder", "regex patterns are not supported yet");
      return make_replace_decoder(p, str(j, "content", "Replace decoder"));
    }
    if (type == "Strip")
      return make_strip_decoder(str(j, "content", "Strip decoder"), j.value("start", 0u), j.value("stop", 0u));
    if (type == "Sequence") {
      std::vector<std::unique_ptr<Decoder>> parts;
      for (const json& n : j.at("decoders"))
        if (auto p = decoder(n)) parts.push_back(std::move(p));
      return make_decoder_sequence(std::move(parts));
    }
    fail("decoder", "unsupported decoder type '" + type + "'");
  }

  std::vector<TemplateItem> template_items(const json& j) const {
    std::vector<TemplateItem> items;
    for (const json& it : j) {
      if (it.contains("SpecialToken")) {
        const json& s = it["SpecialToken"];
        items.push_back({false, 0, s.at("id").get<std::string>(), s.value("type_id", 0u)});
      } else if (it.contains("Sequence")) {
        const json& s = it["Sequence"];
        std::string id = s.at("id").get<std::string>();
        items.push_back({true, id == "B" ? 1 : 0, "", s.value("type_id", 0u)});
      } else {
        fail("TemplateProcessing", "unknown template item " + it.dump());
      }
    }
    return items;
  }

  std::unique_ptr<PostProcessor> post_processor(const json& j) const {
    if (j.is_null()) return nullptr;
    std::string type = str(j, "type", "post_processor");
    if (type == "ByteLevel") {
      if (flag(j, "trim_offsets", false)) return make_byte_level_post_trim_offsets(flag(j, "add_prefix_space", false));
      return make_byte_level_post();
    }
    if (type == "BertProcessing")
      return make_bert_processing(token_and_id(j, "sep", "BertProcessing"), token_and_id(j, "cls", "BertProcessing"));
    if (type == "RobertaProcessing")
      return make_roberta_processing(token_and_id(j, "sep", "RobertaProcessing"),
                                     token_and_id(j, "cls", "RobertaProcessing"), flag(j, "trim_offsets", true),
                                     flag(j, "add_prefix_space", true));
    if (type == "TemplateProcessing") {
      std::vector<std::pair<std::string, SpecialTokenIds>> specials;
      for (auto& [name, s] : j.at("special_tokens").items()) {
        SpecialTokenIds ids;
        ids.ids = s.at("ids").get<std::vector<int32_t>>();
        ids.tokens = s.at("tokens").get<std::vector<std::string>>();
        if (ids.ids.size() != ids.tokens.size())
          fail("TemplateProcessing", "special token '" + name + "' has ids and tokens of different lengths");
        specials.emplace_back(name, std::move(ids));
      }
      return make_template_processing(template_items(j.at("single")), template_items(j.at("pair")),
                                      std::move(specials));
    }
    if (type == "Sequence") {
      std::vector<std::unique_ptr<PostProcessor>> parts;
      for (const json& n : j.at("processors"))
        if (auto p = post_processor(n)) parts.push_back(std::move(p));
      return make_post_sequence(std::move(parts));
    }
    fail("post_processor", "unsupported post-processor type '" + type + "'");
  }

  std::unique_ptr<TokenModel> model(const json& j) const {
    if (!j.is_object()) fail("model", "expected an object");
    std::string type = j.contains("type") ? str(j, "type", "model") : model_type_from_fields(j);
    if (type == "BPE") return bpe_model(j);
    if (type == "Unigram") return unigram_model(j);
    if (type == "WordPiece") {
      WordPieceOptions o;
      o.unk_token = str_or(j, "unk_token", o.unk_token, "WordPiece model");
      o.continuing_subword_prefix = str_or(j, "continuing_subword_prefix", o.continuing_subword_prefix, "WordPiece model");
      o.max_input_chars_per_word = count_or(j, "max_input_chars_per_word", o.max_input_chars_per_word, "WordPiece model");
      return make_wordpiece_model(vocab_object(j, "model"), std::move(o));
    }
    if (type == "WordLevel")
      return make_word_level_model(vocab_object(j, "model"), str_or(j, "unk_token", "<unk>", "WordLevel model"));
    fail("model", "unsupported model type '" + type + "' (supported: BPE, WordPiece, WordLevel, Unigram)");
  }

  // Files written before models carried "type" (bert-base-chinese's, among others):
  // Hugging Face tries BPE, WordPiece, WordLevel, Unigram in turn and keeps the first whose
  // fields are all there.
  std::string model_type_from_fields(const json& j) const {
    bool object_vocab = j.contains("vocab") && j["vocab"].is_object();
    if (object_vocab && j.contains("merges")) return "BPE";
    if (object_vocab && j.contains("unk_token") && j.contains("continuing_subword_prefix") &&
        j.contains("max_input_chars_per_word"))
      return "WordPiece";
    if (object_vocab && j.contains("unk_token")) return "WordLevel";
    if (j.contains("vocab") && j["vocab"].is_array()) return "Unigram";
    fail("model", "no \"type\" and its fields match no model (BPE needs vocab and merges, WordPiece "
                  "vocab, unk_token, continuing_subword_prefix and max_input_chars_per_word, WordLevel vocab "
                  "and unk_token, Unigram a vocab list)");
  }

  std::unique_ptr<TokenModel> bpe_model(const json& j) const {
    if (j.contains("dropout") && !j["dropout"].is_null() && j["dropout"].get<double>() != 0.0)
      fail("model", "BPE dropout is not supported");
    Vocab vocab = vocab_object(j, "model");
    std::vector<std::pair<std::string, std::string>> merges;
    for (const json& m : j.at("merges")) {
      if (m.is_string()) {
        std::string s = m.get<std::string>();
        size_t sp = s.find(' ', 1);
        if (sp == std::string::npos) fail("model.merges", "merge '" + s + "' is not two tokens");
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (m.is_array() && m.size() == 2) {
        merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        fail("model.merges", "each merge must be \"a b\" or [a, b]");
      }
    }
    BpeOptions o;
    o.byte_fallback = flag(j, "byte_fallback", false);
    o.ignore_merges = flag(j, "ignore_merges", false);
    o.fuse_unk = flag(j, "fuse_unk", false);
    if (j.contains("unk_token") && j["unk_token"].is_string()) o.unk_token = j["unk_token"].get<std::string>();
    if (j.contains("continuing_subword_prefix") && j["continuing_subword_prefix"].is_string())
      o.continuing_subword_prefix = j["continuing_subword_prefix"].get<std::string>();
    if (j.contains("end_of_word_suffix") && j["end_of_word_suffix"].is_string())
      o.end_of_word_suffix = j["end_of_word_suffix"].get<std::string>();
    try {
      return std::make_unique<BpeModel>(std::move(vocab), merges, std::move(o));
    } catch (const Error& e) {
      fail("model", e.what());
    }
  }

  // SentencePiece family: Unigram model, Metaspace, Precompiled.
  std::unique_ptr<TokenModel> unigram_model(const json& j) const {
    auto v = j.find("vocab");
    if (v == j.end() || !v->is_array()) fail("model.vocab", "expected a list of [piece, score]");
    std::vector<std::pair<std::string, double>> pieces;
    pieces.reserve(v->size());
    for (const json& e : *v) {
      if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
        fail("model.vocab", "entry #" + std::to_string(pieces.size()) + " is not [piece, score]: " + e.dump());
      pieces.emplace_back(e[0].get<std::string>(), e[1].get<double>());
    }
    std::optional<int32_t> unk_id;
    auto u = j.find("unk_id");
    if (u != j.end() && !u->is_null()) {
      if (!u->is_number_unsigned()) fail("model.unk_id", "expected a non-negative integer or null");
      uint64_t id = u->get<uint64_t>();
      if (id >= pieces.size())
        fail("model.unk_id", std::to_string(id) + " is not in the vocabulary (" + std::to_string(pieces.size()) +
                                 " pieces)");
      unk_id = static_cast<int32_t>(id);
    }
    try {
      return make_unigram_model(std::move(pieces), unk_id, flag(j, "byte_fallback", false));
    } catch (const Error& e) {
      fail("model", e.what());
    }
  }

  // replacement and prepend_scheme, with the legacy add_prefix_space as Hugging Face reads it:
  // add_prefix_space=false requires prepend_scheme "never" (absent means "always", an error).
  std::pair<std::string, PrependScheme> metaspace_fields(const json& j, const std::string& where) const {
    std::string replacement = str(j, "replacement", where);
    if (utf8::count(replacement) != 1 || !utf8::is_valid(replacement))
      fail(where, "replacement must be exactly one character, not '" + replacement + "'");
    std::string s = str_or(j, "prepend_scheme", "always", where);
    PrependScheme scheme;
    if (s == "always") scheme = PrependScheme::Always;
    else if (s == "first") scheme = PrependScheme::First;
    else if (s == "never") scheme = PrependScheme::Never;
    else fail(where, "prepend_scheme must be \"always\", \"first\" or \"never\", not '" + s + "'");
    if (!flag(j, "add_prefix_space", true)) {
      if (scheme != PrependScheme::Never)
        fail(where, "add_prefix_space=false does not match prepend_scheme \"" + s + "\"");
    }
    return {replacement, scheme};
  }

  std::unique_ptr<Normalizer> precompiled(const json& j) const {
    const char* where = "Precompiled normalizer";
    auto bytes = base64_decode(str(j, "precompiled_charsmap", where));
    if (!bytes) fail(std::string(where) + ".precompiled_charsmap", "not valid base64");
    try {
      return make_precompiled(std::move(*bytes));
    } catch (const Error& e) {
      fail(where, e.what());
    }
  }
};

}  // namespace
}  // namespace tok

std::unique_ptr<Tokenizer> Tokenizer::from_json(const std::string& text, const std::string& source) {
  using nlohmann::json;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw_error(source + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw_error(source + ": expected a JSON object at the top level");
  tok::Loader L{source};
  try {
    tok::PipelineParts parts;
    parts.truncation = L.truncation(j.value("truncation", json()));
    parts.padding = L.padding(j.value("padding", json()));
    parts.normalizer = L.normalizer(j.value("normalizer", json()));
    parts.pre_tokenizer = L.pre_tokenizer(j.value("pre_tokenizer", json()));
    parts.model = L.model(j.at("model"));
    parts.post_processor = L.post_processor(j.value("post_processor", json()));
    parts.decoder = L.decoder(j.value("decoder", json()));
    // Hugging Face does not take the ids written in added_tokens: it adds the tokens in order,
    // each getting the model's id for its text, else the next id past both the model's
    // vocabulary (its number of entries) and the added tokens so far; a repeated text keeps its
    // first id. Real files agree with that; hand-edited ones get what Hugging Face gives them.
    const Vocab& model_vocab = parts.model->vocab();
    int64_t max_added = -1;
    std::unordered_map<std::string, int32_t> added_ids;
    for (const json& a : j.value("added_tokens", json::array())) {
      tok::AddedToken t;
      L.token_id(a.at("id"), "added_tokens");  // still a well-formed id
      t.content = a.at("content").get<std::string>();
      if (added_ids.count(t.content)) continue;
      if (auto id = model_vocab.find(t.content)) t.id = *id;
      else t.id = static_cast<int32_t>(std::max<int64_t>(max_added + 1, model_vocab.entries()));
      if (t.id > static_cast<int64_t>(kMaxTokenId)) L.fail("added_tokens", "too many added tokens");
      max_added = std::max<int64_t>(max_added, t.id);
      added_ids.emplace(t.content, t.id);
      t.special = a.value("special", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      t.single_word = a.value("single_word", false);
      t.normalized = a.value("normalized", false);
      parts.added_tokens.push_back(std::move(t));
    }
    return tok::make_pipeline_tokenizer(std::move(parts));
  } catch (const nlohmann::json::exception& e) {
    throw_error(source + ": malformed tokenizer.json: " + e.what());
  }
}

std::unique_ptr<Tokenizer> Tokenizer::from_file(const std::string& path) {
  auto slurp = [](const std::string& p, std::string& out) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
  };
  std::string bytes;
  if (!slurp(path, bytes)) throw_error("cannot read tokenizer file '" + path + "'");
  bool model_extension = path.size() >= 6 && path.compare(path.size() - 6, 6, ".model") == 0;
  if (model_extension || tok::looks_like_sentencepiece_model(bytes)) {
    // SentencePiece .model: what it cannot say comes from tokenizer_config.json beside it.
    size_t slash = path.find_last_of('/');
    std::string config_path = (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) +
                              "tokenizer_config.json";
    std::string config;
    if (!slurp(config_path, config)) config.clear();
    return tok::load_sentencepiece_model(bytes, path, config, config_path);
  }
  return from_json(bytes, path);
}

}  // namespace lmkit
