// A static byte trie in double-array form (base/check arrays): one array look-up per input
// byte, so the Unigram model's prefix searches cost O(length of the longest match) with no
// hashing or pointer chasing.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lmkit::tok {

class DoubleArrayTrie {
 public:
  DoubleArrayTrie() = default;
  // keys: (bytes, value >= 0). Empty keys are ignored (they can never match, as in Hugging
  // Face's trie); for a key given twice the last value wins.
  explicit DoubleArrayTrie(std::vector<std::pair<std::string, int32_t>> keys);

  // Calls f(length, value) for every key that is a prefix of text[from...], shortest first.
  template <typename F>
  void for_each_prefix(std::string_view text, size_t from, F&& f) const {
    if (base_.empty()) return;
    uint32_t state = 0;
    for (size_t i = from; i < text.size(); ++i) {
      uint32_t next = base_[state] + static_cast<unsigned char>(text[i]);
      if (next >= check_.size() || check_[next] != static_cast<int32_t>(state)) return;
      state = next;
      if (value_[state] >= 0) f(i + 1 - from, value_[state]);
    }
  }
  // The value of exactly `key`, or -1.
  int32_t find(std::string_view key) const;
  size_t states() const { return check_.size(); }

 private:
  std::vector<uint32_t> base_;
  std::vector<int32_t> check_;  // parent state; -1 for a free slot
  std::vector<int32_t> value_;  // value of the key ending at this state, or -1
};

}  // namespace lmkit::tok
