// Token string <-> id tables shared by the tokenizer models.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lmkit {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Loaders refuse ids above this: ids index dense tables, and the largest real vocabularies hold
// ~256k tokens.
inline constexpr uint64_t kMaxTokenId = (1u << 24) - 1;

class Vocab {
 public:
  // Adds token with id; ids may be sparse. A token text seen twice keeps its first id for
  // look-ups by text (as Hugging Face's map does) but both ids decode.
  void add(std::string token, int32_t id);
  std::optional<int32_t> find(std::string_view token) const {
    auto it = to_id_.find(token);
    if (it == to_id_.end()) return std::nullopt;
    return it->second;
  }
  const std::string* token(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= to_token_.size() || !present_[id]) return nullptr;
    return &to_token_[id];
  }
  int32_t size() const { return static_cast<int32_t>(to_token_.size()); }  // highest id + 1
  int32_t entries() const { return entries_; }  // ids present (Hugging Face's get_vocab_size)

 private:
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> to_id_;
  std::vector<std::string> to_token_;
  std::vector<uint8_t> present_;
  int32_t entries_ = 0;
};

}  // namespace lmkit
