// Checks a tokenizer against every record of a shared/data/tokenizers/<name>/vectors.jsonl
// (ids, tokens, offsets with and without special tokens, special-token mask, pairs, decode).
#pragma once
#include <string>

#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::testing {

// Returns the number of records checked (gtest failures are reported as it goes).
int check_golden_vectors(const Tokenizer& tok, const std::string& vectors_jsonl_path);

}  // namespace lmkit::testing
