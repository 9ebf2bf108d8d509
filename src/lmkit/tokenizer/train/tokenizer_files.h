// The files a trained tokenizer is saved as, in the layouts Hugging Face reads:
// tokenizer.json as `tokenizers` 0.23 writes it (merges as [left, right] pairs), vocab.json +
// merges.txt as BPE.save() writes them (vocab.txt as WordPiece.save() does), and
// tokenizer_config.json in transformers' PreTrainedTokenizerFast layout.
//  - ByteLevelBpe: GPT-2 style, ByteLevel pre-tokenizer, post-processor and decoder;
//  - SentencePieceBpe: Llama 2 / Mistral style, Metaspace pre-tokenizer ("▁", prepend_scheme
//    first), BPE with byte_fallback and fuse_unk, decoders Replace/ByteFallback/Fuse/Strip,
//    and a TemplateProcessing that adds the bos token when there is one;
//  - WordPiece: bert-base style, BertNormalizer, BertPreTokenizer, BertProcessing with the cls
//    and sep tokens, WordPiece decoder.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "lmkit/tokenizer/train/bpe_trainer.h"

namespace lmkit::bpe_train {

enum class TokenizerLayout { ByteLevelBpe, SentencePieceBpe, WordPiece };

struct TokenizerConfigOptions {
  TokenizerLayout layout = TokenizerLayout::ByteLevelBpe;
  // Unset: no BOS, and EOS = PAD = the first special token (none without special tokens).
  // SentencePieceBpe also puts the bos token in front of every sequence.
  std::optional<std::string> bos_token, eos_token, pad_token;
  std::optional<std::string> chat_template;
  // SentencePieceBpe and WordPiece: the model's unknown token (must be in the vocabulary).
  std::string unk_token;
  // WordPiece: what BertProcessing wraps a sequence in, the mask token (optional), and the
  // BertNormalizer's lowercase (strip_accents follows it).
  std::string cls_token = "[CLS]", sep_token = "[SEP]";
  std::optional<std::string> mask_token;
  bool lowercase = true;
};

// Byte-level BPE (the layout above is only needed for the other models).
std::string tokenizer_json(const TrainedBpe& model);
// Throws lmkit::Error if a token the layout needs (unk, cls, sep, bos) is not in the
// vocabulary.
std::string tokenizer_json(const TrainedBpe& model, const TokenizerConfigOptions& options);
// WordPiece's vocab.txt: one token per line in id order.
std::string vocab_txt(const TrainedBpe& model);
std::string vocab_json(const TrainedBpe& model);
std::string merges_txt(const TrainedBpe& model);
// Throws lmkit::Error if a bos/eos/pad token is not in the vocabulary.
std::string tokenizer_config_json(const TrainedBpe& model, const TokenizerConfigOptions& options);

// The files a layout is saved as: tokenizer.json, vocab.json, merges.txt and
// tokenizer_config.json; SentencePiece-style BPE has no merges.txt (its tokens may hold a
// newline, which that format cannot carry); WordPiece has vocab.txt instead of both.
std::vector<std::string> tokenizer_file_names(TokenizerLayout layout);

// Writes those files into dir (created if missing). Throws lmkit::Error naming the file
// that cannot be written or the token the layout needs and the vocabulary lacks.
void write_tokenizer_files(const std::string& dir, const TrainedBpe& model,
                           const TokenizerConfigOptions& options);

// The vocabulary string of token id (the special or reserved token's text, the byte-level
// spelling of a byte-level token, or the text of a character-level one).
std::string token_text(const TrainedBpe& model, size_t id);

}  // namespace lmkit::bpe_train
