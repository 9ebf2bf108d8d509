// The files a trained byte-level BPE is saved as, in the layouts Hugging Face reads:
// tokenizer.json as `tokenizers` 0.23 writes it (merges as [left, right] pairs), vocab.json +
// merges.txt as BPE.save() writes them, and tokenizer_config.json in transformers'
// PreTrainedTokenizerFast layout.
#pragma once
#include <optional>
#include <string>

#include "lmkit/tokenizer/train/bpe_trainer.h"

namespace lmkit::bpe_train {

struct TokenizerConfigOptions {
  // Unset: no BOS, and EOS = PAD = the first special token (none without special tokens).
  std::optional<std::string> bos_token, eos_token, pad_token;
  std::optional<std::string> chat_template;
};

std::string tokenizer_json(const TrainedBpe& model);
std::string vocab_json(const TrainedBpe& model);
std::string merges_txt(const TrainedBpe& model);
// Throws lmkit::Error if a bos/eos/pad token is not in the vocabulary.
std::string tokenizer_config_json(const TrainedBpe& model, const TokenizerConfigOptions& options);

// Writes the four files into dir (created if missing). Throws lmkit::Error naming the file
// that cannot be written.
void write_tokenizer_files(const std::string& dir, const TrainedBpe& model,
                           const TokenizerConfigOptions& options);

// The vocabulary string of token id (the special token's text, or the byte-level spelling).
std::string token_text(const TrainedBpe& model, size_t id);

}  // namespace lmkit::bpe_train
