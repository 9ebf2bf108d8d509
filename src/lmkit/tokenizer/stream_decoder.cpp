#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit {

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}

// Decodes the whole id list each time and emits the new suffix, holding back trailing
// U+FFFD characters that may still become a character when the next byte token arrives. Decoding the
// full list keeps decoder rules that look at neighbours (byte fallback, leading-space strip)
// exactly as a one-shot decode applies them.
std::string StreamDecoder::push(int32_t id) {
  ids_.push_back(id);
  std::string text = tokenizer_.decode(ids_, skip_special_);
  static const std::string kReplacement = "\xEF\xBF\xBD";
  size_t usable = text.size();
  while (usable >= 3 && text.compare(usable - 3, 3, kReplacement) == 0) usable -= 3;
  if (usable <= emitted_bytes_) return {};
  std::string piece = text.substr(emitted_bytes_, usable - emitted_bytes_);
  emitted_bytes_ = usable;
  return piece;
}

std::string StreamDecoder::flush() {
  std::string text = tokenizer_.decode(ids_, skip_special_);
  if (text.size() <= emitted_bytes_) return {};
  std::string rest = text.substr(emitted_bytes_);
  emitted_bytes_ = text.size();
  return rest;
}

}  // namespace lmkit
