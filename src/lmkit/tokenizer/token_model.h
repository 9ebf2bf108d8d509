// The "model" stage of the tokenizer pipeline: one pre-tokenized word in, token ids out.
// BPE, WordPiece, Unigram and WordLevel each implement it.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "lmkit/tokenizer/vocab.h"

namespace lmkit {

struct ModelToken {
  int32_t id;
  uint32_t char_begin;  // [char_begin, char_end) in code points of the word
  uint32_t char_end;
  // The token's text is the word's own text over [char_begin, char_end) rather than its
  // vocabulary entry: Unigram reports an unknown piece by the text it covers, as Hugging Face does.
  bool text_is_value = false;
};

class TokenModel {
 public:
  virtual ~TokenModel() = default;
  // Appends the tokens of `word` (valid UTF-8, already normalized and pre-tokenized).
  virtual void tokenize(std::string_view word, std::vector<ModelToken>& out) const = 0;
  virtual const Vocab& vocab() const = 0;
};

}  // namespace lmkit
