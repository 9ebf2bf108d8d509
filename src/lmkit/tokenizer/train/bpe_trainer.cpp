#include "lmkit/tokenizer/train/bpe_trainer.h"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <unordered_set>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/train/byte_level_alphabet.h"
#include "lmkit/tokenizer/train/pair_table.h"
#include "lmkit/tokenizer/train/word_counts.h"

namespace lmkit::bpe_train {
namespace {

// One candidate merge in the heap. `positions` indexes a list of the words it was queued for.
struct Candidate {
  uint64_t count;
  PairKey pair;
  uint32_t positions;
};

// std::*_heap keep the largest element on top: highest count, then the smallest pair.
struct CandidateBelow {
  bool operator()(const Candidate& a, const Candidate& b) const {
    if (a.count != b.count) return a.count < b.count;
    return a.pair > b.pair;
  }
};

// Word-index lists owned by heap entries, recycled so the merge loop does not keep
// allocating vectors.
class PositionLists {
 public:
  uint32_t acquire() {
    if (!free_.empty()) {
      uint32_t i = free_.back();
      free_.pop_back();
      return i;
    }
    lists_.emplace_back();
    return static_cast<uint32_t>(lists_.size() - 1);
  }
  void release(uint32_t i) {
    auto& l = lists_[i];
    if (l.capacity() > 4096) std::vector<uint32_t>().swap(l);  // give big lists' memory back
    l.clear();
    free_.push_back(i);
  }
  std::vector<uint32_t>& operator[](uint32_t i) { return lists_[i]; }

 private:
  std::vector<std::vector<uint32_t>> lists_;
  std::vector<uint32_t> free_;
};

// All distinct words as symbol-id sequences in one array; merges shrink them in place.
struct WordTable {
  std::vector<uint32_t> symbols;
  std::vector<uint64_t> begin;
  std::vector<uint32_t> length;
  std::vector<int64_t> count;
};

// A new pair formed in a word by the current merge.
struct Formed {
  PairKey pair;
  uint32_t word;
  bool operator<(const Formed& o) const { return pair != o.pair ? pair < o.pair : word < o.word; }
};

class Trainer {
 public:
  Trainer(const WordCounts& words, const BpeTrainerOptions& options, const MergeProgress& progress)
      : words_(words), options_(options), progress_(progress) {}

  TrainedBpe run() {
    add_special_tokens();
    add_alphabet();
    if (options_.vocab_size < result_.tokens.size())
      throw_error("tokenizer training: vocab size " + std::to_string(options_.vocab_size) +
                  " is smaller than the " + std::to_string(result_.special_count) +
                  " special tokens plus the " +
                  std::to_string(result_.tokens.size() - result_.special_count) +
                  "-symbol byte alphabet (" + std::to_string(result_.tokens.size()) + ")");
    split_words_into_bytes();
    count_initial_pairs();
    merge_until_done();
    return std::move(result_);
  }

 private:
  int32_t add_token(std::string raw_key, std::string stored) {
    int32_t id = static_cast<int32_t>(result_.tokens.size());
    result_.tokens.push_back(std::move(stored));
    raw_.push_back(raw_key);
    if (!raw_key.empty()) index_.emplace(std::move(raw_key), id);
    return id;
  }

  void add_special_tokens() {
    validate_bpe_trainer_options(options_);
    for (const std::string& t : options_.special_tokens) {
      // A merge whose bytes spell a special token reuses its id, as Hugging Face's single
      // string-to-id map does; only tokens made of byte-level characters can be spelled so.
      auto raw = byte_level_to_bytes(t);
      add_token(raw ? *raw : std::string(), t);
    }
    result_.special_count = result_.tokens.size();
  }

  void add_alphabet() {
    std::array<bool, 256> present{};
    if (options_.full_byte_alphabet) {
      present.fill(true);
    } else {
      words_.for_each([&](std::string_view w, uint64_t) {
        for (unsigned char c : w) present[c] = true;
      });
    }
    byte_id_.fill(-1);
    for (uint8_t b : bytes_in_byte_level_order()) {
      if (!present[b]) continue;
      std::string key(1, static_cast<char>(b));
      auto it = index_.find(key);
      byte_id_[b] = it != index_.end() ? it->second : add_token(key, key);
    }
  }

  void split_words_into_bytes() {
    size_t n_words = words_.distinct();
    if (n_words == 0) throw_error("tokenizer training: the corpus has no words to learn from");
    table_.begin.reserve(n_words);
    table_.length.reserve(n_words);
    table_.count.reserve(n_words);
    words_.for_each([&](std::string_view w, uint64_t count) {
      table_.begin.push_back(table_.symbols.size());
      for (unsigned char c : w) table_.symbols.push_back(static_cast<uint32_t>(byte_id_[c]));
      table_.length.push_back(static_cast<uint32_t>(w.size()));
      table_.count.push_back(static_cast<int64_t>(count));
    });
  }

  void count_initial_pairs() {
    const size_t n_words = table_.begin.size();
    for (size_t i = 0; i < n_words; ++i) {
      const uint32_t* s = &table_.symbols[table_.begin[i]];
      const uint32_t n = table_.length[i];
      const int64_t c = table_.count[i];
      for (uint32_t k = 0; k + 1 < n; ++k) {
        PairTable::Entry& e = pairs_.at(make_pair_key(s[k], s[k + 1]));
        e.count += c;
        if (e.aux == 0) e.aux = lists_.acquire() + 1;
        auto& list = lists_[e.aux - 1];
        if (list.empty() || list.back() != i) list.push_back(static_cast<uint32_t>(i));
      }
    }
    pairs_.for_each([&](PairTable::Entry& e) {
      if (e.count > 0) heap_.push_back({static_cast<uint64_t>(e.count), e.key, e.aux - 1});
      else lists_.release(e.aux - 1);
      e.aux = 0;
    });
    std::make_heap(heap_.begin(), heap_.end(), CandidateBelow{});
  }

  Candidate pop() {
    std::pop_heap(heap_.begin(), heap_.end(), CandidateBelow{});
    Candidate top = heap_.back();
    heap_.pop_back();
    return top;
  }
  void push(const Candidate& c) {
    heap_.push_back(c);
    std::push_heap(heap_.begin(), heap_.end(), CandidateBelow{});
  }

  void merge_until_done() {
    const size_t target = options_.vocab_size - result_.tokens.size();
    size_t last_report = 0;
    while (result_.tokens.size() < options_.vocab_size && !heap_.empty()) {
      Candidate top = pop();
      const int64_t current = pairs_.find(top.pair)->count;
      if (top.count != static_cast<uint64_t>(current)) {
        top.count = static_cast<uint64_t>(current);
        push(top);
        continue;
      }
      if (top.count < 1 || options_.min_frequency > top.count) break;

      const uint32_t left = pair_left(top.pair), right = pair_right(top.pair);
      std::string merged = raw_of(left) + raw_of(right);
      auto it = index_.find(merged);
      const int32_t new_id = it != index_.end() ? it->second : add_token(merged, merged);
      result_.merges.push_back({static_cast<int32_t>(left), static_cast<int32_t>(right), new_id});

      rewrite_words(lists_[top.positions], left, right, static_cast<uint32_t>(new_id));
      lists_.release(top.positions);
      queue_formed_pairs();

      if (progress_ && result_.merges.size() - last_report >= 256) {
        last_report = result_.merges.size();
        progress_(last_report, target);
      }
    }
    if (progress_) progress_(result_.merges.size(), target);
  }

  // A special token takes part in a merge only when it doubles as an alphabet symbol (say
  // "a"); its bytes are then what the merged token is spelled with.
  const std::string& raw_of(uint32_t id) const { return raw_[id]; }

  // Replaces every (left, right) in the listed words by merged, updating the global pair
  // counts and remembering every pair that got formed.
  void rewrite_words(const std::vector<uint32_t>& positions, uint32_t left, uint32_t right,
                     uint32_t merged) {
    formed_.clear();
    for (uint32_t w : positions) {
      uint32_t* s = &table_.symbols[table_.begin[w]];
      const uint32_t n = table_.length[w];
      const int64_t c = table_.count[w];
      uint32_t out = 0, in = 0;
      while (in < n) {
        if (s[in] == left && in + 1 < n && s[in + 1] == right) {
          if (out > 0) {
            pairs_.at(make_pair_key(s[out - 1], left)).count -= c;
            pairs_.at(make_pair_key(s[out - 1], merged)).count += c;
            formed_.push_back({make_pair_key(s[out - 1], merged), w});
          }
          s[out++] = merged;
          in += 2;
          if (in < n) {
            pairs_.at(make_pair_key(right, s[in])).count -= c;
            pairs_.at(make_pair_key(merged, s[in])).count += c;
            formed_.push_back({make_pair_key(merged, s[in]), w});
          }
        } else {
          s[out++] = s[in++];
        }
      }
      table_.length[w] = out;
    }
  }

  void queue_formed_pairs() {
    std::sort(formed_.begin(), formed_.end());
    for (size_t i = 0; i < formed_.size();) {
      const PairKey pair = formed_[i].pair;
      size_t j = i;
      while (j < formed_.size() && formed_[j].pair == pair) ++j;
      const int64_t count = pairs_.find(pair)->count;
      if (count > 0) {
        uint32_t list_id = lists_.acquire();
        auto& list = lists_[list_id];
        for (size_t k = i; k < j; ++k)
          if (list.empty() || list.back() != formed_[k].word) list.push_back(formed_[k].word);
        push({static_cast<uint64_t>(count), pair, list_id});
      }
      i = j;
    }
  }

  const WordCounts& words_;
  const BpeTrainerOptions& options_;
  const MergeProgress& progress_;

  TrainedBpe result_;
  std::vector<std::string> raw_;                     // id -> raw bytes ("" if none)
  std::unordered_map<std::string, int32_t> index_;  // raw bytes -> id
  std::array<int32_t, 256> byte_id_{};
  WordTable table_;
  PairTable pairs_;
  PositionLists lists_;
  std::vector<Candidate> heap_;
  std::vector<Formed> formed_;
};

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

}  // namespace

void validate_bpe_trainer_options(const BpeTrainerOptions& options) {
  std::unordered_set<std::string> seen;
  for (const std::string& t : options.special_tokens) {
    if (t.empty()) throw_error("tokenizer training: a special token is empty");
    if (!is_valid_utf8(t))
      throw_error("tokenizer training: special token \"" + t + "\" is not valid UTF-8");
    if (!seen.insert(t).second)
      throw_error("tokenizer training: special token \"" + t + "\" is given twice");
  }
  const size_t alphabet = options.full_byte_alphabet ? 256 : 1;
  if (options.vocab_size < options.special_tokens.size() + alphabet)
    throw_error("tokenizer training: vocab size " + std::to_string(options.vocab_size) +
                " is smaller than the " + std::to_string(options.special_tokens.size()) +
                " special tokens plus the " +
                (options.full_byte_alphabet ? "256-symbol byte alphabet" : "alphabet"));
}

TrainedBpe train_bpe(const WordCounts& words, const BpeTrainerOptions& options,
                     const MergeProgress& progress) {
  return Trainer(words, options, progress).run();
}

}  // namespace lmkit::bpe_train
