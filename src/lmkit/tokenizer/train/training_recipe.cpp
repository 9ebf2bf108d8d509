#include "lmkit/tokenizer/train/training_recipe.h"

#include <algorithm>
#include <cstdio>

#include "lmkit/base/error.h"

namespace lmkit::bpe_train {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A token the layout cannot work without must be a special token (so it has an id).
void require_special(const std::vector<std::string>& specials, const std::string& token,
                     const char* role, TokenizerLayout layout) {
  if (contains(specials, token)) return;
  throw_error(std::string("tokenizer training: --model ") + tokenizer_layout_name(layout) +
              " needs its " + role + " \"" + token +
              "\" among the special tokens (add it to --special-tokens)");
}

// The default of an optional token: the given one, else `fallback` if it is a special token.
std::optional<std::string> given_or_special(const std::optional<std::string>& given,
                                            const std::vector<std::string>& specials,
                                            const char* fallback) {
  if (given) return given;
  if (contains(specials, fallback)) return std::string(fallback);
  return std::nullopt;
}

}  // namespace

std::optional<TokenizerLayout> parse_tokenizer_layout(const std::string& name) {
  if (name == "bpe") return TokenizerLayout::ByteLevelBpe;
  if (name == "sentencepiece-bpe") return TokenizerLayout::SentencePieceBpe;
  if (name == "wordpiece") return TokenizerLayout::WordPiece;
  return std::nullopt;
}

const char* tokenizer_layout_name(TokenizerLayout layout) {
  switch (layout) {
    case TokenizerLayout::ByteLevelBpe: return "bpe";
    case TokenizerLayout::SentencePieceBpe: return "sentencepiece-bpe";
    case TokenizerLayout::WordPiece: return "wordpiece";
  }
  return "?";
}

std::vector<std::string> byte_fallback_tokens() {
  std::vector<std::string> out;
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    out.emplace_back(buf);
  }
  return out;
}

TrainingRecipe make_training_recipe(const TrainingRequest& r) {
  TrainingRecipe recipe;
  BpeTrainerOptions& t = recipe.trainer;
  TokenizerConfigOptions& f = recipe.files;
  t.vocab_size = r.vocab_size;
  t.min_frequency = r.min_frequency;
  t.threads = r.threads;
  f.layout = r.layout;
  f.chat_template = r.chat_template;
  f.lowercase = r.lowercase;
  const char* name = tokenizer_layout_name(r.layout);
  if (r.layout != TokenizerLayout::ByteLevelBpe && r.seen_bytes_only)
    throw_error(std::string("tokenizer training: --seen-bytes-only is for --model bpe, not ") + name);
  if (r.layout == TokenizerLayout::ByteLevelBpe && r.limit_alphabet)
    throw_error("tokenizer training: --limit-alphabet is for the character-based models "
                "(sentencepiece-bpe, wordpiece); byte-level bpe always has 256 bytes");
  if (r.layout != TokenizerLayout::WordPiece && !r.continuing_order.empty())
    throw_error(std::string("tokenizer training: --continuing-subword-order is for --model wordpiece, not ") + name);
  if (r.layout != TokenizerLayout::WordPiece && !r.lowercase)
    throw_error(std::string("tokenizer training: --no-lowercase is for --model wordpiece, not ") + name);

  switch (r.layout) {
    case TokenizerLayout::ByteLevelBpe:
      t.special_tokens = r.special_tokens.value_or(std::vector<std::string>{});
      t.full_byte_alphabet = !r.seen_bytes_only;
      if (r.unk_token)
        throw_error("tokenizer training: --unk-token is for sentencepiece-bpe and wordpiece; "
                    "byte-level bpe never needs one");
      f.bos_token = r.bos_token;
      f.eos_token = r.eos_token;
      f.pad_token = r.pad_token;
      recipe.pre_tokenize = byte_level_pre_tokenizer();
      break;
    case TokenizerLayout::SentencePieceBpe:
      t.special_tokens = r.special_tokens.value_or(std::vector<std::string>{"<unk>", "<s>", "</s>"});
      t.characters = true;
      t.limit_alphabet = r.limit_alphabet;
      t.reserved_tokens = byte_fallback_tokens();
      f.unk_token = r.unk_token.value_or("<unk>");
      require_special(t.special_tokens, f.unk_token, "unk token", r.layout);
      f.bos_token = given_or_special(r.bos_token, t.special_tokens, "<s>");
      f.eos_token = given_or_special(r.eos_token, t.special_tokens, "</s>");
      f.pad_token = r.pad_token;
      recipe.pre_tokenize = metaspace_pre_tokenizer();
      break;
    case TokenizerLayout::WordPiece:
      t.special_tokens = r.special_tokens.value_or(
          std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"});
      t.characters = true;
      t.limit_alphabet = r.limit_alphabet;
      t.continuing_subword_prefix = "##";
      t.continuing_order = r.continuing_order;
      f.unk_token = r.unk_token.value_or("[UNK]");
      require_special(t.special_tokens, f.unk_token, "unk token", r.layout);
      require_special(t.special_tokens, f.cls_token, "cls token", r.layout);
      require_special(t.special_tokens, f.sep_token, "sep token", r.layout);
      f.mask_token = given_or_special(std::nullopt, t.special_tokens, "[MASK]");
      f.bos_token = r.bos_token;
      f.eos_token = r.eos_token;
      f.pad_token = given_or_special(r.pad_token, t.special_tokens, "[PAD]");
      recipe.pre_tokenize = bert_pre_tokenizer(r.lowercase);
      break;
  }
  return recipe;
}

}  // namespace lmkit::bpe_train
