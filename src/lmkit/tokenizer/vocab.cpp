#include "lmkit/tokenizer/vocab.h"

namespace lmkit {

void Vocab::add(std::string token, int32_t id) {
  if (id < 0) return;
  if (static_cast<size_t>(id) >= to_token_.size()) {
    to_token_.resize(id + 1);
    present_.resize(id + 1, 0);
  }
  to_token_[id] = token;
  entries_ += present_[id] ? 0 : 1;
  present_[id] = 1;
  to_id_.emplace(std::move(token), id);
}

}  // namespace lmkit
