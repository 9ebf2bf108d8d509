// Pre-tokenizers that split on character classes: BertPreTokenizer, Whitespace,
// Punctuation, Digits. Each matching character is its own match, then the matches and the
// gaps between them are recombined by the split behavior, as Hugging Face's split with a
// char predicate does.
#include "lmkit/tokenizer/char_classes.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {
namespace {

template <class Pred>
void split_on_chars(const std::string& text, std::vector<Piece>& pieces, Pred is_match, SplitBehavior behavior) {
  std::vector<Piece> out;
  std::vector<std::tuple<uint32_t, uint32_t, bool>> runs;
  for (const Piece& p : pieces) {
    runs.clear();
    uint32_t gap_begin = p.begin;
    size_t i = p.begin;
    while (i < p.end) {
      uint32_t at = static_cast<uint32_t>(i);
      if (is_match(utf8::next(text, i))) {
        if (at > gap_begin) runs.emplace_back(gap_begin, at, false);
        runs.emplace_back(at, static_cast<uint32_t>(i), true);
        gap_begin = static_cast<uint32_t>(i);
      }
    }
    if (p.end > gap_begin) runs.emplace_back(gap_begin, p.end, false);
    apply_split_behavior(runs, behavior, out);
  }
  pieces = std::move(out);
}

class CharClassSplit : public PreTokenizer {
 public:
  CharClassSplit(bool (*is_match)(uint32_t), SplitBehavior behavior) : is_match_(is_match), behavior_(behavior) {}
  void split(const std::string& text, std::vector<Piece>& pieces) const override {
    split_on_chars(text, pieces, is_match_, behavior_);
  }

 private:
  bool (*is_match_)(uint32_t);
  SplitBehavior behavior_;
};

// Whitespace removed, then every punctuation character isolated.
class BertPreTokenizer : public PreTokenizer {
 public:
  void split(const std::string& text, std::vector<Piece>& pieces) const override {
    split_on_chars(text, pieces, chars::is_whitespace, SplitBehavior::Removed);
    split_on_chars(text, pieces, chars::is_bert_punctuation, SplitBehavior::Isolated);
  }
};

}  // namespace

std::unique_ptr<PreTokenizer> make_bert_pre_tokenizer() { return std::make_unique<BertPreTokenizer>(); }
std::unique_ptr<PreTokenizer> make_whitespace() {
  // Keeps runs of word characters and runs of other non-space characters.
  return make_split(R"(\w+|[^\w\s]+)", true, SplitBehavior::Removed, true);
}
std::unique_ptr<PreTokenizer> make_punctuation(SplitBehavior behavior) {
  return std::make_unique<CharClassSplit>(chars::is_bert_punctuation, behavior);
}
std::unique_ptr<PreTokenizer> make_digits(bool individual_digits) {
  return std::make_unique<CharClassSplit>(
      chars::is_numeric, individual_digits ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
}

}  // namespace lmkit::tok
