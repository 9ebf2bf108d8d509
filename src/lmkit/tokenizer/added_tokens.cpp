#include <algorithm>
#include <cctype>

#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens)
    : tokens_(std::move(tokens)), by_first_byte_(256) {
  for (size_t i = 0; i < tokens_.size(); ++i)
    if (!tokens_[i].content.empty())
      by_first_byte_[static_cast<unsigned char>(tokens_[i].content[0])].push_back(static_cast<int32_t>(i));
  for (auto& list : by_first_byte_)
    std::stable_sort(list.begin(), list.end(), [&](int32_t a, int32_t b) {
      return tokens_[a].content.size() > tokens_[b].content.size();
    });
}

namespace {

bool is_word_char(std::string_view text, size_t byte_pos, bool before) {
  // single_word: the match must not touch a letter, digit or underscore on that side.
  if (before) {
    if (byte_pos == 0) return false;
    size_t k = byte_pos - 1;
    while (k > 0 && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80) --k;
    size_t j = k;
    uint32_t cp = utf8::next(text, j);
    return cp >= 0x80 || std::isalnum(static_cast<int>(cp)) || cp == '_';
  }
  if (byte_pos >= text.size()) return false;
  size_t j = byte_pos;
  uint32_t cp = utf8::next(text, j);
  return cp >= 0x80 || std::isalnum(static_cast<int>(cp)) || cp == '_';
}

}  // namespace

void AddedTokenMatcher::split(std::string_view text, std::vector<Segment>& out) const {
  size_t plain_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    int32_t found = -1;
    for (int32_t idx : by_first_byte_[static_cast<unsigned char>(text[i])]) {
      const AddedToken& t = tokens_[idx];
      if (text.compare(i, t.content.size(), t.content) != 0) continue;
      if (t.single_word && (is_word_char(text, i, true) || is_word_char(text, i + t.content.size(), false)))
        continue;
      found = idx;
      break;
    }
    if (found < 0) {
      ++i;
      continue;
    }
    const AddedToken& t = tokens_[found];
    size_t b = i, e = i + t.content.size();
    if (t.lstrip)
      while (b > plain_start && std::isspace(static_cast<unsigned char>(text[b - 1]))) --b;
    if (t.rstrip)
      while (e < text.size() && std::isspace(static_cast<unsigned char>(text[e]))) ++e;
    if (b > plain_start) out.push_back({static_cast<uint32_t>(plain_start), static_cast<uint32_t>(b), -1});
    out.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e), found});
    plain_start = i = e;
  }
  if (plain_start < text.size())
    out.push_back({static_cast<uint32_t>(plain_start), static_cast<uint32_t>(text.size()), -1});
}

}  // namespace lmkit::tok
