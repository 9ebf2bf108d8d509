// Builds the pipeline from a GGUF file's tokenizer.ggml.* vocabulary, mirroring what
// llama.cpp does with the same keys (and what the equivalent tokenizer.json would do).
#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/tokenizer/pipeline.h"

namespace lmkit {
namespace {

// GGUF token types (llama.cpp's llama_token_type).
constexpr int64_t kTypeUnknown = 2, kTypeControl = 3, kTypeUserDefined = 4;

const char* const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

bool flag(const GgufFile& g, const char* key, bool fallback) {
  const GgufValue* v = g.find(key);
  return v ? v->as_bool() : fallback;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& g) {
  const GgufValue* model_v = g.find("tokenizer.ggml.model");
  if (!model_v) throw_error(g.path() + ": no tokenizer in this GGUF file (tokenizer.ggml.model is missing)");
  std::string model = model_v->as_string();
  const GgufValue* tokens_v = g.find("tokenizer.ggml.tokens");
  if (!tokens_v) throw_error(g.path() + ": tokenizer.ggml.tokens is missing");
  std::vector<std::string> tokens = tokens_v->as_strings();
  std::vector<int64_t> types(tokens.size(), 1);
  if (const GgufValue* t = g.find("tokenizer.ggml.token_type")) {
    types = t->as_ints();
    if (types.size() != tokens.size())
      throw_error(g.path() + ": tokenizer.ggml.token_type has " + std::to_string(types.size()) +
                  " entries for " + std::to_string(tokens.size()) + " tokens");
  }

  tok::PipelineParts parts;
  Vocab vocab;
  std::string unk;
  for (size_t id = 0; id < tokens.size(); ++id) {
    vocab.add(tokens[id], static_cast<int32_t>(id));
    int64_t type = types[id];
    if (type == kTypeUnknown && unk.empty()) unk = tokens[id];
    if (type == kTypeUnknown || type == kTypeControl || type == kTypeUserDefined) {
      tok::AddedToken a;
      a.id = static_cast<int32_t>(id);
      a.content = tokens[id];
      a.special = type != kTypeUserDefined;
      parts.added_tokens.push_back(std::move(a));
    }
  }

  bool default_add_bos;
  if (model == "llama") {
    const GgufValue* scores_v = g.find("tokenizer.ggml.scores");
    if (!scores_v) throw_error(g.path() + ": tokenizer.ggml.scores is missing for a 'llama' vocabulary");
    std::vector<float> scores = scores_v->as_floats();
    if (scores.size() != tokens.size())
      throw_error(g.path() + ": tokenizer.ggml.scores has " + std::to_string(scores.size()) +
                  " entries for " + std::to_string(tokens.size()) + " tokens");
    BpeOptions o;
    o.byte_fallback = true;
    if (!unk.empty()) o.unk_token = unk;
    parts.model = std::make_unique<BpeModel>(std::move(vocab), scores, std::move(o));
    std::vector<std::unique_ptr<tok::Normalizer>> norm;
    if (flag(g, "tokenizer.ggml.add_space_prefix", true)) norm.push_back(tok::make_prepend("\xE2\x96\x81"));
    norm.push_back(tok::make_replace(" ", false, "\xE2\x96\x81"));
    parts.normalizer = tok::make_normalizer_sequence(std::move(norm));
    std::vector<std::unique_ptr<tok::Decoder>> dec;
    dec.push_back(tok::make_replace_decoder("\xE2\x96\x81", " "));
    dec.push_back(tok::make_byte_fallback_decoder());
    dec.push_back(tok::make_fuse_decoder());
    dec.push_back(tok::make_strip_decoder(" ", 1, 0));
    parts.decoder = tok::make_decoder_sequence(std::move(dec));
    default_add_bos = true;
  } else if (model == "gpt2") {
    const GgufValue* merges_v = g.find("tokenizer.ggml.merges");
    if (!merges_v) throw_error(g.path() + ": tokenizer.ggml.merges is missing for a 'gpt2' vocabulary");
    std::vector<std::pair<std::string, std::string>> merges;
    for (const std::string& m : merges_v->as_strings()) {
      size_t sp = m.find(' ', 1);
      if (sp == std::string::npos) throw_error(g.path() + ": merge '" + m + "' is not two tokens");
      merges.emplace_back(m.substr(0, sp), m.substr(sp + 1));
    }
    parts.model = std::make_unique<BpeModel>(std::move(vocab), merges, BpeOptions{});
    std::string pre = "default";
    if (const GgufValue* p = g.find("tokenizer.ggml.pre")) pre = p->as_string();
    if (pre == "default" || pre == "gpt2") {
      parts.pre_tokenizer = tok::make_byte_level(false, true);
    } else if (pre == "llama-bpe" || pre == "llama3" || pre == "qwen2") {
      std::vector<std::unique_ptr<tok::PreTokenizer>> seq;
      seq.push_back(tok::make_split(pre == "qwen2" ? kQwen2Pattern : kLlama3Pattern, true,
                                    tok::SplitBehavior::Isolated, false));
      seq.push_back(tok::make_byte_level(false, false));
      parts.pre_tokenizer = tok::make_pre_tokenizer_sequence(std::move(seq));
    } else {
      throw_error(g.path() + ": unsupported pre-tokenizer tokenizer.ggml.pre = '" + pre +
                  "' (supported: default, gpt2, llama-bpe, llama3, qwen2)");
    }
    parts.decoder = tok::make_byte_level_decoder();
    default_add_bos = false;
  } else {
    throw_error(g.path() + ": unsupported tokenizer.ggml.model '" + model + "' (supported: llama, gpt2)");
  }

  // BOS/EOS as the post-processor adds them (llama.cpp's add_bos_token / add_eos_token).
  std::vector<tok::TemplateItem> single;
  std::vector<std::pair<std::string, tok::SpecialTokenIds>> specials;
  auto special_item = [&](const char* id_key, const char* name) {
    int64_t id = g.get_int_or(id_key, -1);
    if (id < 0 || static_cast<size_t>(id) >= tokens.size())
      throw_error(g.path() + ": " + name + " is requested but " + id_key + " is missing or out of range");
    specials.push_back({name, {{static_cast<int32_t>(id)}, {tokens[id]}}});
    single.push_back({false, 0, name, 0});
  };
  if (flag(g, "tokenizer.ggml.add_bos_token", default_add_bos)) special_item("tokenizer.ggml.bos_token_id", "bos");
  single.push_back({true, 0, "", 0});
  if (flag(g, "tokenizer.ggml.add_eos_token", false)) special_item("tokenizer.ggml.eos_token_id", "eos");
  std::vector<tok::TemplateItem> pair = single;
  for (auto& it : pair)
    if (it.is_sequence) it.sequence_index = 0;
  pair.push_back({true, 1, "", 1});
  parts.post_processor = tok::make_template_processing(std::move(single), std::move(pair), std::move(specials));
  return tok::make_pipeline_tokenizer(std::move(parts));
}

}  // namespace lmkit
