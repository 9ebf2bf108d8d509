// Strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF): text handed
// to the Oniguruma pre-tokenizer must be valid, and special tokens end up in JSON files.
#pragma once
#include <string_view>

namespace lmkit::bpe_train {

bool is_valid_utf8(std::string_view s);

}  // namespace lmkit::bpe_train
