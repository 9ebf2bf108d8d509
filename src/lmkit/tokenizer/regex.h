// A compiled Oniguruma pattern: the engine Hugging Face `tokenizers` uses for its Split and
// ByteLevel regexes, so \p{L}, lookaheads and case-insensitive groups behave identically.
// Compiled once; searching is safe from several threads at once.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lmkit {

class Regex {
 public:
  // Throws lmkit::Error naming the pattern and Oniguruma's message.
  explicit Regex(const std::string& pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Non-overlapping matches as [begin, end) byte ranges, left to right. Empty matches are
  // skipped (as Hugging Face's find_iter does).
  void find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmkit
