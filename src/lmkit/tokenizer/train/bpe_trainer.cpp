#include "lmkit/tokenizer/train/bpe_trainer.h"

#include <algorithm>
#include <chrono>
#include <array>
#include <unordered_map>
#include <unordered_set>

#include "lmkit/base/error.h"
#include "lmkit/base/log.h"
#include "lmkit/tokenizer/train/byte_level_alphabet.h"
#include "lmkit/base/thread_pool.h"
#include "lmkit/tokenizer/train/pair_delta_map.h"
#include "lmkit/tokenizer/train/pair_table.h"
#include "lmkit/tokenizer/train/utf8_check.h"
#include "lmkit/tokenizer/train/word_counts.h"
#include "lmkit/tokenizer/utf8.h"

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
// A word's bookkeeping sits in one record so a merge step's random walk over the words
// costs one cache miss per word for it.
struct WordRecord {
  uint64_t begin;
  int64_t count;
  uint32_t length;
};
struct WordTable {
  std::vector<uint32_t> symbols;
  std::vector<WordRecord> words;
};

// Below this many words a step runs on one thread: waking the pool costs more.
constexpr size_t kParallelWords = 4096;

class Trainer {
 public:
  // words is released (if owned) as soon as it has been turned into symbol sequences.
  Trainer(const WordCounts& words, WordCounts* owned, const BpeTrainerOptions& options,
          const MergeProgress& progress)
      : words_(words),
        owned_words_(owned),
        options_(options),
        progress_(progress),
        pool_(options.threads),
        deltas_(static_cast<size_t>(pool_.size())) {}

  TrainedBpe run() {
    result_.byte_level = !options_.characters;
    add_special_tokens();
    if (options_.characters) add_character_alphabet();
    else add_alphabet();
    if (options_.vocab_size < result_.tokens.size()) {
      const size_t fixed = result_.special_count + result_.reserved_count;
      std::string what = std::to_string(result_.special_count) + " special tokens";
      if (result_.reserved_count)
        what += ", the " + std::to_string(result_.reserved_count) + " byte-fallback tokens";
      if (options_.characters) {
        what += " and the " + std::to_string(alphabet_size_) + "-character alphabet";
        if (result_.tokens.size() - fixed > alphabet_size_)
          what += " with " + std::to_string(result_.tokens.size() - fixed - alphabet_size_) +
                  " \"" + options_.continuing_subword_prefix + "\"-prefixed forms";
        if (!options_.limit_alphabet) what += " (--limit-alphabet caps it)";
      } else {
        what += " plus the " + std::to_string(result_.tokens.size() - fixed) + "-symbol byte alphabet";
      }
      throw_error("tokenizer training: vocab size " + std::to_string(options_.vocab_size) +
                  " is smaller than the " + what + " (" + std::to_string(result_.tokens.size()) +
                  " tokens before any merge)");
    }
    auto t0 = std::chrono::steady_clock::now();
    if (options_.characters) split_words_into_characters();
    else split_words_into_bytes();
    if (owned_words_) *owned_words_ = WordCounts();  // lower the peak: the table has it all
    count_initial_pairs();
    auto t1 = std::chrono::steady_clock::now();
    merge_until_done();
    auto t2 = std::chrono::steady_clock::now();
    log_debug("bpe trainer: " + std::to_string(table_.words.size()) + " distinct words, " +
              std::to_string(pairs_.size()) + " pairs seen; initial counts " +
              std::to_string(std::chrono::duration<double>(t1 - t0).count()) + " s, merges " +
              std::to_string(std::chrono::duration<double>(t2 - t1).count()) + " s");
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
      if (options_.characters) {
        add_token(t, t);
        continue;
      }
      // A merge whose bytes spell a special token reuses its id, as Hugging Face's single
      // string-to-id map does; only tokens made of byte-level characters can be spelled so.
      auto raw = byte_level_to_bytes(t);
      add_token(raw ? *raw : std::string(), t);
    }
    result_.special_count = result_.tokens.size();
    for (const std::string& t : options_.reserved_tokens) {
      if (options_.characters) {
        add_token(t, t);
      } else {
        auto raw = byte_level_to_bytes(t);
        add_token(raw ? *raw : std::string(), t);
      }
    }
    result_.reserved_count = options_.reserved_tokens.size();
  }

  // BpeTrainer::compute_alphabet and the first half of tokenize_words for a character
  // alphabet (see bpe_trainer.h for where the ids differ from Hugging Face's hash order).
  void add_character_alphabet() {
    std::unordered_map<uint32_t, uint64_t> seen;  // code point -> occurrences
    std::unordered_set<uint32_t> continuing;      // seen after a word's first character
    words_.for_each([&](std::string_view w, uint64_t count) {
      for (size_t i = 0; i < w.size();) {
        const bool first = i == 0;
        const uint32_t cp = utf8::next(w, i);
        seen[cp] += count;
        if (!first) continuing.insert(cp);
      }
    });
    std::vector<std::pair<uint32_t, uint64_t>> kept(seen.begin(), seen.end());
    if (options_.limit_alphabet && kept.size() > options_.limit_alphabet) {
      std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second < b.second : a.first > b.first;
      });
      kept.erase(kept.begin(), kept.end() - static_cast<ptrdiff_t>(options_.limit_alphabet));
      // A dropped character that is also a special token stays in the words: Hugging Face
      // looks characters up in its whole vocabulary, not in the alphabet.
      std::unordered_set<uint32_t> kept_set;
      for (const auto& k : kept) kept_set.insert(k.first);
      for (const auto& [cp, count] : seen) {
        std::string s;
        utf8::append(s, cp);
        if (!kept_set.count(cp) && index_.count(s)) kept.emplace_back(cp, count);
      }
    }
    std::sort(kept.begin(), kept.end());
    alphabet_size_ = kept.size();
    for (const auto& [cp, count] : kept) {
      std::string s;
      utf8::append(s, cp);
      auto it = index_.find(s);
      char_id_[cp] = it != index_.end() ? it->second : add_token(s, s);
    }
    if (options_.continuing_subword_prefix.empty()) return;
    if (!options_.continuing_order.empty()) {
      std::unordered_map<std::string, size_t> rank;
      for (size_t i = 0; i < options_.continuing_order.size(); ++i)
        rank.emplace(options_.continuing_order[i], i);
      auto rank_of = [&](uint32_t cp) {
        std::string s = options_.continuing_subword_prefix;
        utf8::append(s, cp);
        auto it = rank.find(s);
        return it == rank.end() ? rank.size() : it->second;
      };
      std::stable_sort(kept.begin(), kept.end(),
                       [&](const auto& a, const auto& b) { return rank_of(a.first) < rank_of(b.first); });
    }
    for (const auto& [cp, count] : kept) {
      if (!continuing.count(cp)) continue;
      std::string s = options_.continuing_subword_prefix;
      utf8::append(s, cp);
      auto it = index_.find(s);
      continuing_id_[cp] = it != index_.end() ? it->second : add_token(s, s);
    }
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
    table_.symbols.reserve(words_.distinct_bytes());
    table_.words.reserve(n_words);
    words_.for_each([&](std::string_view w, uint64_t count) {
      table_.words.push_back({table_.symbols.size(), static_cast<int64_t>(count),
                              static_cast<uint32_t>(w.size())});
      for (unsigned char c : w) table_.symbols.push_back(static_cast<uint32_t>(byte_id_[c]));
    });
  }

  // Characters outside the alphabet (cut by limit_alphabet) are left out of the word, as
  // Hugging Face's tokenize_words does, so their neighbours become adjacent.
  void split_words_into_characters() {
    size_t n_words = words_.distinct();
    if (n_words == 0) throw_error("tokenizer training: the corpus has no words to learn from");
    table_.symbols.reserve(words_.distinct_bytes());
    table_.words.reserve(n_words);
    const bool prefixed = !options_.continuing_subword_prefix.empty();
    words_.for_each([&](std::string_view w, uint64_t count) {
      const uint64_t begin = table_.symbols.size();
      for (size_t i = 0; i < w.size();) {
        const bool first = i == 0;
        const uint32_t cp = utf8::next(w, i);
        const auto& ids = prefixed && !first ? continuing_id_ : char_id_;
        auto it = ids.find(cp);
        if (it != ids.end()) table_.symbols.push_back(static_cast<uint32_t>(it->second));
      }
      table_.words.push_back({begin, static_cast<int64_t>(count),
                              static_cast<uint32_t>(table_.symbols.size() - begin)});
    });
  }

  // Every pair of every word is "formed" once at the start: the initial heap is what the
  // first step's bookkeeping would queue.
  void count_initial_pairs() {
    const size_t n_words = table_.words.size();
    auto count_range = [&](PairDeltaMap& map, size_t from, size_t to) {
      for (size_t i = from; i < to; ++i) {
        const WordRecord& rec = table_.words[i];
        const uint32_t* s = &table_.symbols[rec.begin];
        const uint32_t n = rec.length;
        const int64_t c = rec.count;
        for (uint32_t k = 0; k + 1 < n; ++k)
          map.formed(make_pair_key(s[k], s[k + 1]), c, static_cast<uint32_t>(i));
      }
    };
    const int used = n_words >= kParallelWords ? pool_.size() : 1;
    for (int t = 0; t < used; ++t) deltas_[t].clear();
    if (used == 1) {
      count_range(deltas_[0], 0, n_words);
    } else {
      pool_.run([&](int t) {
        count_range(deltas_[t], n_words * t / used, n_words * (t + 1) / used);
      });
    }
    apply_deltas(used);
  }

  // Folds the threads' changes into the global pair counts, in thread order (so each
  // pair's word list stays sorted), and queues every formed pair that still occurs.
  void apply_deltas(int used) {
    ++stamp_;
    touched_.clear();
    for (int t = 0; t < used; ++t) {
      PairDeltaMap& map = deltas_[t];
      constexpr size_t kAhead = 8;  // global table lookups miss the cache: fetch ahead
      for (size_t k = 0; k < map.size(); ++k) {
        if (k + kAhead < map.size()) pairs_.prefetch(map[k + kAhead].key);
        const PairDeltaMap::Slot& slot = map[k];
        PairTable::Entry& e = pairs_.at(slot.key);
        e.count += slot.delta;
        if (slot.list == PairDeltaMap::kNoList) continue;
        if (e.stamp != stamp_) {
          e.stamp = stamp_;
          e.aux = lists_.acquire();
          touched_.push_back(slot.key);
        }
        auto& src = map.list(slot.list);
        auto& dst = lists_[e.aux];
        if (dst.empty()) dst.swap(src);  // the common case: no copy
        else dst.insert(dst.end(), src.begin(), src.end());
      }
    }
    for (size_t k = 0; k < touched_.size(); ++k) {
      if (k + 8 < touched_.size()) pairs_.prefetch(touched_[k + 8]);
      const PairKey key = touched_[k];
      const PairTable::Entry* e = pairs_.find(key);
      if (e->count > 0) push({static_cast<uint64_t>(e->count), key, e->aux});
      else lists_.release(e->aux);
    }
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
      std::string merged = raw_of(left);
      merged += without_prefix(raw_of(right));
      auto it = index_.find(merged);
      const int32_t new_id = it != index_.end() ? it->second : add_token(merged, merged);
      result_.merges.push_back({static_cast<int32_t>(left), static_cast<int32_t>(right), new_id});

      rewrite_words(lists_[top.positions], left, right, static_cast<uint32_t>(new_id));
      lists_.release(top.positions);

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

  std::string_view without_prefix(std::string_view s) const {
    const std::string& prefix = options_.continuing_subword_prefix;
    if (!prefix.empty() && s.substr(0, prefix.size()) == prefix) s.remove_prefix(prefix.size());
    return s;
  }

  // Replaces every (left, right) in the listed words by merged, then updates the global
  // pair counts and queues the pairs that got formed. Large steps run on all threads.
  void rewrite_words(const std::vector<uint32_t>& positions, uint32_t left, uint32_t right,
                     uint32_t merged) {
    const size_t n = positions.size();
    const int used = n >= kParallelWords ? pool_.size() : 1;
    for (int t = 0; t < used; ++t) deltas_[t].clear();
    if (used == 1) {
      rewrite_range(deltas_[0], positions.data(), positions.data() + n, left, right, merged);
    } else {
      pool_.run([&](int t) {
        rewrite_range(deltas_[t], positions.data() + n * t / used,
                      positions.data() + n * (t + 1) / used, left, right, merged);
      });
    }
    apply_deltas(used);
  }

  // The same pass over a word as Hugging Face's Word::merge, with the same changes: for
  // each occurrence, -1 for (previous, left) and (right, next), +1 for (previous, merged)
  // and (merged, next), where "previous" may itself be the merged symbol just written.
  void rewrite_range(PairDeltaMap& map, const uint32_t* first, const uint32_t* last, uint32_t left,
                     uint32_t right, uint32_t merged) {
    WordRecord* words = table_.words.data();
    uint32_t* symbols = table_.symbols.data();
    // Memory latency, not arithmetic, bounds this loop: fetch records and symbols ahead.
    constexpr ptrdiff_t kRecordAhead = 16, kSymbolsAhead = 8;
    for (const uint32_t* p = first; p != last; ++p) {
      if (last - p > kRecordAhead) __builtin_prefetch(&words[p[kRecordAhead]]);
      if (last - p > kSymbolsAhead) __builtin_prefetch(&symbols[words[p[kSymbolsAhead]].begin]);
      const uint32_t w = *p;
      WordRecord& rec = words[w];
      uint32_t* s = &symbols[rec.begin];
      const uint32_t n = rec.length;
      const int64_t c = rec.count;
      uint32_t out = 0, in = 0;
      while (in < n) {
        if (s[in] == left && in + 1 < n && s[in + 1] == right) {
          if (out > 0) {
            map.add(make_pair_key(s[out - 1], left), -c);
            map.formed(make_pair_key(s[out - 1], merged), c, w);
          }
          s[out++] = merged;
          in += 2;
          if (in < n) {
            map.add(make_pair_key(right, s[in]), -c);
            map.formed(make_pair_key(merged, s[in]), c, w);
          }
        } else {
          s[out++] = s[in++];
        }
      }
      rec.length = out;
    }
  }

  const WordCounts& words_;
  WordCounts* owned_words_;
  const BpeTrainerOptions& options_;
  const MergeProgress& progress_;

  TrainedBpe result_;
  std::vector<std::string> raw_;                     // id -> raw bytes ("" if none)
  std::unordered_map<std::string, int32_t> index_;  // raw bytes -> id
  std::array<int32_t, 256> byte_id_{};
  std::unordered_map<uint32_t, int32_t> char_id_, continuing_id_;  // code point -> id
  size_t alphabet_size_ = 0;
  WordTable table_;
  PairTable pairs_;
  PositionLists lists_;
  std::vector<Candidate> heap_;
  ThreadPool pool_;
  std::vector<PairDeltaMap> deltas_;  // one per pool thread
  std::vector<PairKey> touched_;
  uint32_t stamp_ = 0;
};

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
  for (const std::string& t : options.reserved_tokens) {
    if (t.empty() || !is_valid_utf8(t))
      throw_error("tokenizer training: a reserved token is empty or not valid UTF-8");
    if (!seen.insert(t).second)
      throw_error("tokenizer training: special token \"" + t +
                  "\" collides with a byte-fallback token of the same text");
  }
  const bool bytes = !options.characters && options.full_byte_alphabet;
  const size_t fixed = options.special_tokens.size() + options.reserved_tokens.size();
  if (options.vocab_size < fixed + (bytes ? 256 : 1)) {
    std::string what = std::to_string(options.special_tokens.size()) + " special tokens";
    if (!options.reserved_tokens.empty())
      what += ", the " + std::to_string(options.reserved_tokens.size()) + " byte-fallback tokens";
    what += bytes ? " plus the 256-symbol byte alphabet" : " plus the alphabet";
    throw_error("tokenizer training: vocab size " + std::to_string(options.vocab_size) +
                " is smaller than the " + what);
  }
}

TrainedBpe train_bpe(const WordCounts& words, const BpeTrainerOptions& options,
                     const MergeProgress& progress) {
  return Trainer(words, nullptr, options, progress).run();
}

TrainedBpe train_bpe(WordCounts&& words, const BpeTrainerOptions& options,
                     const MergeProgress& progress) {
  return Trainer(words, &words, options, progress).run();
}

}  // namespace lmkit::bpe_train
