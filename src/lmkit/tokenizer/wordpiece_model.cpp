// WordPiece (BERT) and WordLevel models, as Hugging Face `tokenizers` implements them.
#include <algorithm>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {
namespace {

// Greedy longest-match-first from the left; pieces after the first carry the continuing
// prefix. A word with any position that no token covers becomes one unk token, as does a
// word longer than max_input_chars_per_word.
class WordPieceModel : public TokenModel {
 public:
  WordPieceModel(Vocab vocab, WordPieceOptions o) : vocab_(std::move(vocab)), o_(std::move(o)) {
    unk_id_ = vocab_.find(o_.unk_token);
    for (int32_t id = 0; id < vocab_.size(); ++id)
      if (const std::string* t = vocab_.token(id)) longest_ = std::max(longest_, t->size());
  }

  void tokenize(std::string_view word, std::vector<ModelToken>& out) const override {
    std::vector<uint32_t> starts;  // byte offset of each character, then word.size()
    for (size_t i = 0; i < word.size(); utf8::next(word, i)) starts.push_back(static_cast<uint32_t>(i));
    const uint32_t n = static_cast<uint32_t>(starts.size());
    starts.push_back(static_cast<uint32_t>(word.size()));
    if (n > o_.max_input_chars_per_word) return push_unk(n, out);

    size_t first_new = out.size();
    std::string candidate;
    uint32_t start = 0;
    while (start < n) {
      const std::string& prefix = start > 0 ? o_.continuing_subword_prefix : empty_;
      uint32_t end = n;
      // Candidates longer than the longest token cannot match: skip them without building.
      while (end > start && prefix.size() + starts[end] - starts[start] > longest_) --end;
      std::optional<int32_t> id;
      for (; end > start; --end) {
        candidate.assign(prefix);
        candidate.append(word.substr(starts[start], starts[end] - starts[start]));
        if ((id = vocab_.find(candidate))) break;
      }
      if (!id) {
        out.resize(first_new);
        return push_unk(n, out);
      }
      out.push_back({*id, start, end});
      start = end;
    }
  }
  const Vocab& vocab() const override { return vocab_; }

 private:
  void push_unk(uint32_t n_chars, std::vector<ModelToken>& out) const {
    if (!unk_id_)
      throw_error("WordPiece model: the unk token '" + o_.unk_token +
                  "' is needed but is not in the vocabulary");
    out.push_back({*unk_id_, 0, n_chars});
  }

  Vocab vocab_;
  WordPieceOptions o_;
  std::optional<int32_t> unk_id_;
  size_t longest_ = 0;
  const std::string empty_;
};

// One token per word: the word itself if it is in the vocabulary, else the unk token.
class WordLevelModel : public TokenModel {
 public:
  WordLevelModel(Vocab vocab, std::string unk_token) : vocab_(std::move(vocab)), unk_token_(std::move(unk_token)) {
    unk_id_ = vocab_.find(unk_token_);
  }
  void tokenize(std::string_view word, std::vector<ModelToken>& out) const override {
    uint32_t n = static_cast<uint32_t>(utf8::count(word));
    if (auto id = vocab_.find(word)) {
      out.push_back({*id, 0, n});
      return;
    }
    if (!unk_id_)
      throw_error("WordLevel model: '" + std::string(word) + "' is not in the vocabulary and the unk token '" +
                  unk_token_ + "' is not either");
    out.push_back({*unk_id_, 0, n});
  }
  const Vocab& vocab() const override { return vocab_; }

 private:
  Vocab vocab_;
  std::string unk_token_;
  std::optional<int32_t> unk_id_;
};

}  // namespace

std::unique_ptr<TokenModel> make_wordpiece_model(Vocab vocab, WordPieceOptions options) {
  return std::make_unique<WordPieceModel>(std::move(vocab), std::move(options));
}
std::unique_ptr<TokenModel> make_word_level_model(Vocab vocab, std::string unk_token) {
  return std::make_unique<WordLevelModel>(std::move(vocab), std::move(unk_token));
}

}  // namespace lmkit::tok
