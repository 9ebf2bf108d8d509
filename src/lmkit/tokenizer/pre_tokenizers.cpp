#include <algorithm>

#include "lmkit/tokenizer/char_classes.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

void apply_split_behavior(const std::vector<std::tuple<uint32_t, uint32_t, bool>>& runs, SplitBehavior behavior,
                          std::vector<Piece>& out) {
  switch (behavior) {
    case SplitBehavior::Removed:
      for (auto [b, e, m] : runs)
        if (!m) out.push_back({b, e});
      break;
    case SplitBehavior::Isolated:
      for (auto [b, e, m] : runs) out.push_back({b, e});
      break;
    case SplitBehavior::MergedWithPrevious: {
      bool prev_gap = false;
      for (auto [b, e, m] : runs) {
        if (m && prev_gap && !out.empty()) {
          out.back().end = e;
        } else {
          out.push_back({b, e});
        }
        prev_gap = !m;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      // Mirror image of MergedWithPrevious: a match joins the piece after it when that
      // piece is not itself a match (so "a!!b" on "!" gives "a", "!", "!b").
      size_t first = out.size();
      bool next_match = false;
      for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
        auto [b, e, m] = *it;
        if (m && !next_match && out.size() > first) {
          out.back().begin = b;
        } else {
          out.push_back({b, e});
        }
        next_match = m;
      }
      std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
      break;
    }
    case SplitBehavior::Contiguous: {
      bool prev_match = false;
      for (auto [b, e, m] : runs) {
        if (m && prev_match && !out.empty()) {
          out.back().end = e;
        } else {
          out.push_back({b, e});
        }
        prev_match = m;
      }
      break;
    }
  }
}

namespace {

// Splits every piece by matches of a pattern and recombines matches and gaps by behavior,
// as Hugging Face's Split pre-tokenizer does.
class Split : public PreTokenizer {
 public:
  Split(std::string pattern, bool is_regex, SplitBehavior behavior, bool invert)
      : literal_(std::move(pattern)), behavior_(behavior), invert_(invert) {
    if (is_regex) regex_ = std::make_unique<Regex>(literal_);
  }
  void split(const std::string& text, std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    std::vector<std::pair<size_t, size_t>> matches;
    for (const Piece& p : pieces) {
      std::string_view view(text.data() + p.begin, p.end - p.begin);
      matches.clear();
      if (regex_) {
        regex_->find_all(view, matches);
      } else if (!literal_.empty()) {
        for (size_t q = view.find(literal_); q != std::string_view::npos;
             q = view.find(literal_, q + literal_.size()))
          matches.emplace_back(q, q + literal_.size());
      }
      // (begin, end, is_match) runs covering the piece.
      std::vector<std::tuple<uint32_t, uint32_t, bool>> runs;
      size_t pos = 0;
      for (auto [b, e] : matches) {
        if (b > pos) runs.emplace_back(p.begin + pos, p.begin + b, invert_);
        runs.emplace_back(p.begin + b, p.begin + e, !invert_);
        pos = e;
      }
      if (pos < view.size()) runs.emplace_back(p.begin + pos, p.end, invert_);
      apply_split_behavior(runs, behavior_, out);
    }
    pieces = std::move(out);
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevel : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex) : add_prefix_space_(add_prefix_space) {
    if (use_regex) split_ = std::make_unique<Split>(kGpt2Pattern, true, SplitBehavior::Isolated, false);
  }
  void split(const std::string& text, std::vector<Piece>& pieces) const override {
    if (split_) split_->split(text, pieces);
  }
  // add_prefix_space: every piece that does not start with a space gets one, which (like the
  // piece's first character) points at that first character, as Hugging Face's prepend does.
  void apply(NormalizedText& t, std::vector<Piece>& pieces) const override {
    if (add_prefix_space_) {
      NormalizedText out;
      out.text.reserve(t.text.size() + pieces.size());
      std::vector<Piece> moved;
      for (const Piece& p : pieces) {
        if (p.end <= p.begin) continue;
        uint32_t base = static_cast<uint32_t>(out.text.size());
        if (t.text[p.begin] != ' ') {
          out.text += ' ';
          out.orig_begin.push_back(t.orig_begin[p.begin]);
          out.orig_end.push_back(t.orig_end[p.begin]);
        }
        out.text.append(t.text, p.begin, p.end - p.begin);
        out.orig_begin.insert(out.orig_begin.end(), t.orig_begin.begin() + p.begin, t.orig_begin.begin() + p.end);
        out.orig_end.insert(out.orig_end.end(), t.orig_end.begin() + p.begin, t.orig_end.begin() + p.end);
        moved.push_back({base, static_cast<uint32_t>(out.text.size())});
      }
      t = std::move(out);
      pieces = std::move(moved);
    }
    split(t.text, pieces);
  }
  bool maps_bytes() const override { return true; }
  bool add_prefix_space() const { return add_prefix_space_; }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Split> split_;
};

// Splits on Unicode whitespace (Rust's char::is_whitespace), dropping it.
class WhitespaceSplit : public PreTokenizer {
 public:
  void split(const std::string& text, std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    for (const Piece& p : pieces) {
      uint32_t word_begin = p.begin;
      size_t i = p.begin;
      while (i < p.end) {
        size_t at = i;
        if (chars::is_whitespace(utf8::next(text, i))) {
          if (at > word_begin) out.push_back({word_begin, static_cast<uint32_t>(at)});
          word_begin = static_cast<uint32_t>(i);
        }
      }
      if (p.end > word_begin) out.push_back({word_begin, p.end});
    }
    pieces = std::move(out);
  }
};

class Sequence : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {
    for (const auto& p : parts_) maps_bytes_ |= p->maps_bytes();
  }
  void split(const std::string& text, std::vector<Piece>& pieces) const override {
    for (const auto& p : parts_) p->split(text, pieces);
  }
  void apply(NormalizedText& t, std::vector<Piece>& pieces) const override {
    for (const auto& p : parts_) p->apply(t, pieces);
  }
  bool maps_bytes() const override { return maps_bytes_; }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
  bool maps_bytes_ = false;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_split(std::string pattern, bool is_regex, SplitBehavior behavior,
                                         bool invert) {
  return std::make_unique<Split>(std::move(pattern), is_regex, behavior, invert);
}
std::unique_ptr<PreTokenizer> make_byte_level(bool add_prefix_space, bool use_regex) {
  return std::make_unique<ByteLevel>(add_prefix_space, use_regex);
}
std::unique_ptr<PreTokenizer> make_whitespace_split() { return std::make_unique<WhitespaceSplit>(); }
std::unique_ptr<PreTokenizer> make_pre_tokenizer_sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) {
  return std::make_unique<Sequence>(std::move(parts));
}

}  // namespace lmkit::tok
