#include "lmkit/server/json_constraint.h"

#include <algorithm>
#include <limits>

#include "lmkit/server/json_grammar.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit::server {

TokenPieces::TokenPieces(const Tokenizer& tok, int64_t model_vocab_size) {
  const auto n = static_cast<size_t>(std::max<int64_t>(0, model_vocab_size));
  pieces_.resize(n);
  usable_.assign(n, false);
  // Decoding a token alone drops the leading space SentencePiece decoders strip at the start
  // of a text; decoding it after an anchor token and removing the anchor's text keeps it.
  const std::vector<int32_t> anchor_ids = tok.encode("a", /*add_special_tokens=*/false);
  if (anchor_ids.empty()) return;
  const int32_t anchor = anchor_ids.front();
  const std::string anchor_text = tok.decode({anchor}, false);
  const auto limit = std::min<size_t>(n, static_cast<size_t>(std::max(0, tok.vocab_size())));
  for (size_t i = 0; i < limit; ++i) {
    const auto id = static_cast<int32_t>(i);
    if (tok.is_special(id)) continue;
    const std::string both = tok.decode({anchor, id}, false);
    if (both.size() <= anchor_text.size() || both.compare(0, anchor_text.size(), anchor_text) != 0)
      continue;
    pieces_[i] = both.substr(anchor_text.size());
    usable_[i] = true;
  }
}

namespace {

class JsonObjectConstraint : public engine::LogitsConstraint {
 public:
  JsonObjectConstraint(std::shared_ptr<const TokenPieces> pieces, std::vector<int32_t> end_ids)
      : pieces_(std::move(pieces)), end_ids_(std::move(end_ids)) {}

  void mask(std::span<float> logits) override {
    constexpr float kNever = -std::numeric_limits<float>::infinity();
    if (grammar_.complete()) {
      for (size_t i = 0; i < logits.size(); ++i)
        if (!is_end(static_cast<int32_t>(i))) logits[i] = kNever;
      return;
    }
    bool any = false;
    for (size_t i = 0; i < logits.size(); ++i) {
      const auto id = static_cast<int32_t>(i);
      if (logits[i] == kNever) continue;
      JsonObjectGrammar next = grammar_;
      if (!pieces_->usable(id) || is_end(id) || !next.feed(pieces_->piece(id)))
        logits[i] = kNever;
      else
        any = true;
    }
    // Unreachable with a vocabulary that spells ASCII (every byte-level or byte-fallback one);
    // rather than sample from nothing, end the output (finish_reason "stop", invalid JSON).
    if (!any)
      for (int32_t id : end_ids_)
        if (id >= 0 && static_cast<size_t>(id) < logits.size()) logits[static_cast<size_t>(id)] = 0.0f;
  }

  void accept(int32_t token) override {
    if (is_end(token) || !pieces_->usable(token)) return;
    grammar_.feed(pieces_->piece(token));
  }

 private:
  bool is_end(int32_t id) const {
    return std::find(end_ids_.begin(), end_ids_.end(), id) != end_ids_.end();
  }

  std::shared_ptr<const TokenPieces> pieces_;
  std::vector<int32_t> end_ids_;
  JsonObjectGrammar grammar_;
};

}  // namespace

std::unique_ptr<engine::LogitsConstraint> make_json_object_constraint(
    std::shared_ptr<const TokenPieces> pieces, std::vector<int32_t> end_token_ids) {
  return std::make_unique<JsonObjectConstraint>(std::move(pieces), std::move(end_token_ids));
}

}  // namespace lmkit::server
