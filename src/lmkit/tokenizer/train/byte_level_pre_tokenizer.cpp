// The trainer counts words split exactly as the encoder splits them: this is the encoder's
// ByteLevel(use_regex=true) pre-tokenizer (tokenizer/pre_tokenizers.cpp), one piece of code
// for both.
#include <memory>

#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/train/pre_tokenizer_fn.h"

namespace lmkit::bpe_train {

PreTokenizeFn byte_level_pre_tokenizer() {
  std::shared_ptr<const tok::PreTokenizer> split = tok::make_byte_level(false, true);
  return [split](std::string_view text, std::vector<std::string_view>& words) {
    thread_local std::vector<tok::Piece> pieces;
    thread_local std::string buffer;
    // The pipeline splits a std::string; copying the chunk is cheap next to the regex.
    buffer.assign(text);
    pieces.assign(1, tok::Piece{0, static_cast<uint32_t>(buffer.size())});
    split->split(buffer, pieces);
    for (const tok::Piece& p : pieces)
      if (p.end > p.begin) words.push_back(text.substr(p.begin, p.end - p.begin));
  };
}

}  // namespace lmkit::bpe_train
