// Constrained decoding for response_format json_object (and the json_schema {"type": "object"}
// it can enforce): before each sampling, every token that cannot continue a valid JSON object
// is masked out; once the object closes only an end token remains. Plugs into the scheduler's
// LogitsConstraint hook.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lmkit/engine/scheduler.h"

namespace lmkit {
class Tokenizer;
}

namespace lmkit::server {

// The text each vocabulary id appends to a decoded output (with the leading space a
// SentencePiece piece gets after other text), computed once per model. Ids that add nothing,
// special tokens and ids past the tokenizer's vocabulary are not usable.
class TokenPieces {
 public:
  TokenPieces(const Tokenizer& tokenizer, int64_t model_vocab_size);
  bool usable(int32_t id) const { return id >= 0 && static_cast<size_t>(id) < usable_.size() && usable_[static_cast<size_t>(id)]; }
  const std::string& piece(int32_t id) const { return pieces_[static_cast<size_t>(id)]; }
  size_t size() const { return pieces_.size(); }

 private:
  std::vector<std::string> pieces_;
  std::vector<bool> usable_;
};

std::unique_ptr<engine::LogitsConstraint> make_json_object_constraint(
    std::shared_ptr<const TokenPieces> pieces, std::vector<int32_t> end_token_ids);

}  // namespace lmkit::server
