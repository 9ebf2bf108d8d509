// Character predicates with the exact meaning the Hugging Face `tokenizers` components give
// them (Rust's char::is_whitespace, the unicode_categories crate's is_other/is_punctuation,
// ...), so BERT normalization and the character-class pre-tokenizers agree with it.
#pragma once
#include <cstdint>

namespace lmkit::tok::chars {

// Rust char::is_whitespace: the Unicode White_Space property.
bool is_whitespace(uint32_t cp);
// General category C* (Cc, Cf, Cn, Co, Cs).
bool is_other(uint32_t cp);
// General category P* (Pc, Pd, Ps, Pe, Pi, Pf, Po).
bool is_punctuation(uint32_t cp);
// BertPreTokenizer's and Punctuation's test: ASCII punctuation or a P* character.
bool is_bert_punctuation(uint32_t cp);
// General category Mn.
bool is_mark_nonspacing(uint32_t cp);
// Rust char::is_numeric: Nd, Nl or No.
bool is_numeric(uint32_t cp);
// The CJK ideograph blocks BERT surrounds with spaces.
bool is_chinese_char(uint32_t cp);

}  // namespace lmkit::tok::chars
