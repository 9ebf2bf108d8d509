// What each kind of trained tokenizer needs: the pre-tokenizer the words are counted with,
// the trainer's settings and the layout of the saved files, with each kind's default special
// tokens (bert-base's for WordPiece, Llama 2's for SentencePiece-style BPE). One place, so
// the CLI, the tests and the benches build the same thing.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lmkit/tokenizer/train/bpe_trainer.h"
#include "lmkit/tokenizer/train/pre_tokenizer_fn.h"
#include "lmkit/tokenizer/train/tokenizer_files.h"

namespace lmkit::bpe_train {

struct TrainingRequest {
  TokenizerLayout layout = TokenizerLayout::ByteLevelBpe;
  // Unset: none for byte-level BPE, "<unk>,<s>,</s>" for SentencePiece-style BPE,
  // "[PAD],[UNK],[CLS],[SEP],[MASK]" for WordPiece.
  std::optional<std::vector<std::string>> special_tokens;
  size_t vocab_size = 30000;
  uint64_t min_frequency = 0;
  // Unset: the layout's own ("<unk>" / "[UNK]" for the unk token; "<s>" and "</s>" as bos and
  // eos for SentencePiece-style BPE and "[PAD]" as pad for WordPiece when they are special
  // tokens; byte-level BPE as tokenizer_files.h says).
  std::optional<std::string> unk_token, bos_token, eos_token, pad_token;
  std::optional<std::string> chat_template;
  size_t limit_alphabet = 0;     // characters kept (0: all); not for byte-level BPE
  bool lowercase = true;         // WordPiece's BertNormalizer
  bool seen_bytes_only = false;  // byte-level BPE: alphabet of the bytes seen only
  int threads = 0;
  // WordPiece: ids of the "##" forms in this order (see BpeTrainerOptions::continuing_order).
  std::vector<std::string> continuing_order;
};

struct TrainingRecipe {
  BpeTrainerOptions trainer;
  TokenizerConfigOptions files;
  PreTokenizeFn pre_tokenize;
};

// Throws lmkit::Error for an option the layout does not take, or a token the layout needs
// (unk; cls and sep for WordPiece) missing from the special tokens.
TrainingRecipe make_training_recipe(const TrainingRequest& request);

// "bpe", "sentencepiece-bpe", "wordpiece"; nullopt for anything else.
std::optional<TokenizerLayout> parse_tokenizer_layout(const std::string& name);
const char* tokenizer_layout_name(TokenizerLayout layout);

// "<0x00>" .. "<0xFF>", the byte-fallback tokens of SentencePiece-style BPE, in byte order.
std::vector<std::string> byte_fallback_tokens();

}  // namespace lmkit::bpe_train
