#include "lmkit/tokenizer/bpe_model.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <queue>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit {

BpeModel::BpeModel(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  const std::string& prefix = options_.continuing_subword_prefix;
  merges_.reserve(merges.size() * 2);
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto ia = vocab_.find(a);
    auto ib = vocab_.find(b);
    std::string merged = a + (prefix.empty() || b.rfind(prefix, 0) != 0 ? b : b.substr(prefix.size()));
    auto im = vocab_.find(merged);
    if (!ia || !ib || !im)
      throw_error("BPE merge #" + std::to_string(rank) + " '" + a + " " + b +
                  "' uses a token that is not in the vocabulary");
    merges_.emplace(pair_key(*ia, *ib), MergeResult{static_cast<uint32_t>(rank), *im});
  }
  init_special_ids();
}

BpeModel::BpeModel(Vocab vocab, const std::vector<float>& scores, BpeOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  std::vector<float> distinct(scores);
  std::sort(distinct.begin(), distinct.end(), std::greater<float>());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  score_rank_.resize(scores.size());
  for (size_t id = 0; id < scores.size(); ++id)
    score_rank_[id] = static_cast<uint32_t>(
        std::lower_bound(distinct.begin(), distinct.end(), scores[id], std::greater<float>()) -
        distinct.begin());
  init_special_ids();
}

bool BpeModel::find_merge(int32_t a, int32_t b, MergeResult& out) const {
  if (score_rank_.empty()) {
    auto it = merges_.find(pair_key(a, b));
    if (it == merges_.end()) return false;
    out = it->second;
    return true;
  }
  const std::string* ta = vocab_.token(a);
  const std::string* tb = vocab_.token(b);
  if (!ta || !tb) return false;
  thread_local std::string joined;
  joined.assign(*ta).append(*tb);
  auto id = vocab_.find(joined);
  if (!id || static_cast<size_t>(*id) >= score_rank_.size()) return false;
  out = {score_rank_[*id], *id};
  return true;
}

void BpeModel::init_special_ids() {
  if (options_.unk_token) {
    unk_id_ = vocab_.find(*options_.unk_token);
    if (!unk_id_) throw_error("BPE unk_token '" + *options_.unk_token + "' is not in the vocabulary");
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    auto id = vocab_.find(name);
    byte_ids_[b] = id ? *id : -1;
  }
}

void BpeModel::tokenize(std::string_view word, std::vector<ModelToken>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (auto id = vocab_.find(word)) {
      out.push_back({*id, 0, static_cast<uint32_t>(utf8::count(word))});
      return;
    }
  }
  // Symbols form a doubly linked list over the word's characters.
  struct Symbol {
    int32_t id;
    uint32_t char_begin, char_end;
    int32_t prev, next;
    bool alive;
  };
  thread_local std::vector<Symbol> symbols;
  symbols.clear();
  size_t i = 0;
  uint32_t ci = 0;
  bool first = true;
  std::string piece;
  while (i < word.size()) {
    size_t start = i;
    utf8::next(word, i);
    bool last = i >= word.size();
    piece.assign(word.substr(start, i - start));
    if (!first && !options_.continuing_subword_prefix.empty())
      piece.insert(0, options_.continuing_subword_prefix);
    if (last && !options_.end_of_word_suffix.empty()) piece += options_.end_of_word_suffix;
    first = false;
    if (auto id = vocab_.find(piece)) {
      symbols.push_back({*id, ci, ci + 1, -1, -1, true});
    } else {
      bool done = false;
      if (options_.byte_fallback) {
        bool all = true;
        for (size_t k = start; k < i; ++k) all &= byte_ids_[static_cast<unsigned char>(word[k])] >= 0;
        if (all) {
          for (size_t k = start; k < i; ++k)
            symbols.push_back({byte_ids_[static_cast<unsigned char>(word[k])], ci, ci + 1, -1, -1, true});
          done = true;
        }
      }
      if (!done && unk_id_) {
        if (options_.fuse_unk && !symbols.empty() && symbols.back().id == *unk_id_) {
          symbols.back().char_end = ci + 1;
        } else {
          symbols.push_back({*unk_id_, ci, ci + 1, -1, -1, true});
        }
      }
      // With neither byte fallback nor unk the character is dropped, as Hugging Face does.
    }
    ++ci;
  }
  const int32_t n = static_cast<int32_t>(symbols.size());
  for (int32_t k = 0; k < n; ++k) {
    symbols[k].prev = k - 1;
    symbols[k].next = k + 1 < n ? k + 1 : -1;
  }
  // Candidate merges ordered by rank, then by position (leftmost first), validated when
  // popped because neighbours change as merges happen.
  struct Candidate {
    uint32_t rank;
    int32_t left;
    int32_t right_id;
    int32_t left_id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : left > o.left;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  auto consider = [&](int32_t left) {
    if (left < 0) return;
    int32_t right = symbols[left].next;
    if (right < 0) return;
    MergeResult m;
    if (find_merge(symbols[left].id, symbols[right].id, m))
      queue.push({m.rank, left, symbols[right].id, symbols[left].id});
  };
  for (int32_t k = 0; k + 1 < n; ++k) consider(k);
  while (!queue.empty()) {
    Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.left];
    if (!left.alive || left.id != c.left_id || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    if (right.id != c.right_id) continue;
    MergeResult m;
    if (!find_merge(left.id, right.id, m) || m.rank != c.rank) continue;
    left.id = m.id;
    left.char_end = right.char_end;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    consider(left.prev);
    consider(c.left);
  }
  for (int32_t k = 0; k >= 0 && k < n; k = symbols[k].next)
    out.push_back({symbols[k].id, symbols[k].char_begin, symbols[k].char_end});
}

}  // namespace lmkit
