#include "lmkit/tokenizer/pipeline.h"

namespace lmkit::tok {

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

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
      emit(runs, out);
    }
    pieces = std::move(out);
  }

 private:
  void emit(const std::vector<std::tuple<uint32_t, uint32_t, bool>>& runs, std::vector<Piece>& out) const {
    switch (behavior_) {
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
        bool pending = false;
        for (auto [b, e, m] : runs) {
          if (pending) {
            out.back().end = e;
          } else {
            out.push_back({b, e});
          }
          pending = m;
        }
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
  bool maps_bytes() const override { return true; }
  bool add_prefix_space() const { return add_prefix_space_; }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Split> split_;
};

class WhitespaceSplit : public PreTokenizer {
 public:
  void split(const std::string& text, std::vector<Piece>& pieces) const override {
    std::vector<Piece> out;
    for (const Piece& p : pieces) {
      uint32_t i = p.begin;
      while (i < p.end) {
        while (i < p.end && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        uint32_t b = i;
        while (i < p.end && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i > b) out.push_back({b, i});
      }
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
