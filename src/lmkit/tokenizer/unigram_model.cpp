// The Unigram model of Hugging Face `tokenizers` (SentencePiece's unigram language model):
// the segmentation of a word maximising the sum of piece scores, found by Viterbi over the
// prefixes a double-array trie yields at each character. Details that decide exact output:
//  - a character no piece of its own length covers gets an unknown node scored
//    min(score) - 10, even when longer pieces start there;
//  - ties keep the first candidate seen (earlier start, then shorter piece);
//  - consecutive unknown pieces are fused into one, reported with the text it covers (not
//    "<unk>"); with byte_fallback a fused piece that is not in the vocabulary becomes one
//    <0xNN> token per byte, all carrying the piece's offsets, when every byte token exists;
//  - a word needing an unknown node when unk_id is unset is an error, as in Hugging Face.
#include <cstdio>
#include <limits>
#include <optional>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/double_array_trie.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {
namespace {

constexpr double kUnknownPenalty = 10.0;

class UnigramModel : public TokenModel {
 public:
  UnigramModel(std::vector<std::pair<std::string, double>> pieces, std::optional<int32_t> unk_id,
               bool byte_fallback)
      : unk_id_(unk_id), byte_fallback_(byte_fallback) {
    if (unk_id_) {
      if (pieces.empty()) throw_error("Unigram vocab is empty but unk_id is set");
      if (*unk_id_ < 0 || static_cast<size_t>(*unk_id_) >= pieces.size())
        throw_error("Unigram unk_id " + std::to_string(*unk_id_) + " is not in the vocabulary (size " +
                    std::to_string(pieces.size()) + ")");
    }
    scores_.reserve(pieces.size());
    std::vector<std::pair<std::string, int32_t>> keys;
    keys.reserve(pieces.size());
    for (size_t id = 0; id < pieces.size(); ++id) {
      scores_.push_back(pieces[id].second);
      min_score_ = std::min(min_score_, pieces[id].second);
      keys.emplace_back(pieces[id].first, static_cast<int32_t>(id));
    }
    // Hugging Face's token -> id map keeps the last id of a duplicated piece; adding in
    // reverse gives Vocab (which keeps the first) the same answer.
    for (size_t id = pieces.size(); id-- > 0;) vocab_.add(std::move(pieces[id].first), static_cast<int32_t>(id));
    trie_ = DoubleArrayTrie(std::move(keys));
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      byte_ids_[b] = trie_.find(name);
    }
  }

  const Vocab& vocab() const override { return vocab_; }

  void tokenize(std::string_view word, std::vector<ModelToken>& out) const override {
    if (word.empty()) return;
    struct Node {
      double score = 0;
      int32_t id = -1;
      int32_t start = -1;  // byte where the best piece ending here starts; -1 unreached
    };
    thread_local std::vector<Node> best;
    thread_local std::vector<uint32_t> char_at;  // code point index of each byte boundary
    const size_t n = word.size();
    best.assign(n + 1, Node{});
    char_at.assign(n + 1, 0);
    const double unk_score = min_score_ - kUnknownPenalty;
    uint32_t chars = 0;
    for (size_t start = 0; start < n;) {
      size_t next = start;
      utf8::next(word, next);
      const size_t char_len = next - start;
      char_at[start] = chars++;
      const double here = best[start].score;
      bool single = false;
      trie_.for_each_prefix(word, start, [&](size_t len, int32_t id) {
        Node& target = best[start + len];
        double candidate = here + scores_[id];
        if (target.start < 0 || candidate > target.score) target = {candidate, id, static_cast<int32_t>(start)};
        single |= len == char_len;
      });
      if (!single) {
        if (!unk_id_)
          throw_error("Unigram: a character has no piece of its own and the model has no unk_id");
        Node& target = best[next];
        double candidate = here + unk_score;
        if (target.start < 0 || candidate > target.score) target = {candidate, *unk_id_, static_cast<int32_t>(start)};
      }
      start = next;
    }
    char_at[n] = chars;

    // Walk back from the end, fusing runs of unknown pieces.
    thread_local std::vector<std::pair<uint32_t, uint32_t>> spans;  // byte ranges, reversed
    thread_local std::vector<uint8_t> fused;
    spans.clear();
    fused.clear();
    for (size_t end = n; end > 0;) {
      const Node& node = best[end];
      size_t start = static_cast<size_t>(node.start);
      bool unknown = unk_id_ && node.id == *unk_id_;
      if (unknown && !fused.empty() && fused.back()) {
        spans.back().first = static_cast<uint32_t>(start);
      } else {
        spans.emplace_back(static_cast<uint32_t>(start), static_cast<uint32_t>(end));
        fused.push_back(unknown);
      }
      end = start;
    }
    for (size_t k = spans.size(); k-- > 0;) {
      auto [b, e] = spans[k];
      uint32_t cb = char_at[b], ce = char_at[e];
      if (!fused[k]) {
        out.push_back({best[e].id, cb, ce});
        continue;
      }
      // A fused unknown piece is looked up again as a whole, as Hugging Face does.
      std::string_view text = word.substr(b, e - b);
      int32_t id = trie_.find(text);
      if (id >= 0 && id != *unk_id_) {
        out.push_back({id, cb, ce});
        continue;
      }
      if (id < 0 && byte_fallback_ && all_bytes_known(text)) {
        for (char ch : text) out.push_back({byte_ids_[static_cast<unsigned char>(ch)], cb, ce});
        continue;
      }
      ModelToken t{*unk_id_, cb, ce};
      t.text_is_value = true;
      out.push_back(t);
    }
  }

 private:
  bool all_bytes_known(std::string_view text) const {
    for (char ch : text)
      if (byte_ids_[static_cast<unsigned char>(ch)] < 0) return false;
    return true;
  }

  Vocab vocab_;
  DoubleArrayTrie trie_;
  std::vector<double> scores_;
  double min_score_ = std::numeric_limits<double>::infinity();
  std::optional<int32_t> unk_id_;
  bool byte_fallback_;
  int32_t byte_ids_[256];
};

}  // namespace

std::unique_ptr<TokenModel> make_unigram_model(std::vector<std::pair<std::string, double>> pieces,
                                               std::optional<int32_t> unk_id, bool byte_fallback) {
  return std::make_unique<UnigramModel>(std::move(pieces), unk_id, byte_fallback);
}

}  // namespace lmkit::tok
