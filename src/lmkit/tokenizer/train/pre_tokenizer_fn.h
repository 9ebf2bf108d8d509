// The trainer's view of pre-tokenization: text in, words out (as byte ranges of the text,
// before any byte-to-character mapping). Must be callable from several threads at once.
#pragma once
#include <functional>
#include <string_view>
#include <vector>

namespace lmkit::bpe_train {

using PreTokenizeFn = std::function<void(std::string_view text, std::vector<std::string_view>& words)>;

// ByteLevel(add_prefix_space=false, use_regex=true), the split Hugging Face's byte-level
// BPE trainer counts words with.
PreTokenizeFn byte_level_pre_tokenizer();

}  // namespace lmkit::bpe_train
