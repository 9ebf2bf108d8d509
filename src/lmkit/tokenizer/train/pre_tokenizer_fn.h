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

// Metaspace(replacement "▁", prepend_scheme "first", split true) with no normalizer: how
// SentencePiece-style BPE (Llama 2, Mistral) splits, spaces turned into "▁" (the words are the
// rewritten text).
PreTokenizeFn metaspace_pre_tokenizer();

// BertNormalizer(clean_text, handle_chinese_chars, strip_accents following lowercase) and
// then BertPreTokenizer: how BERT's WordPiece splits (the words are the normalized text).
PreTokenizeFn bert_pre_tokenizer(bool lowercase);

}  // namespace lmkit::bpe_train
