// What one thread's share of a merge step (or of the initial count) does to the pair
// counts: the summed count change per pair and, for pairs that were formed, the words they
// were formed in. Kept per thread so words can be rewritten in parallel and the shared
// PairTable is touched once per distinct pair instead of once per occurrence.
#pragma once
#include <cstdint>
#include <vector>

#include "lmkit/tokenizer/train/pair_table.h"

namespace lmkit::bpe_train {

class PairDeltaMap {
 public:
  static constexpr uint32_t kNoList = ~uint32_t{0};
  struct Slot {
    PairKey key;
    int64_t delta;
    uint32_t list;  // index into lists(), or kNoList if the pair was not formed
  };

  PairDeltaMap() : slots_(1024, Slot{kEmpty, 0, kNoList}) {}

  void add(PairKey key, int64_t delta) { slot(key).delta += delta; }

  // The pair was formed in `word` (words arrive in increasing order within one step).
  void formed(PairKey key, int64_t delta, uint32_t word) {
    Slot& s = slot(key);
    s.delta += delta;
    if (s.list == kNoList) {
      s.list = static_cast<uint32_t>(lists_used_++);
      if (lists_.size() < lists_used_) lists_.emplace_back();
    }
    auto& l = lists_[s.list];
    if (l.empty() || l.back() != word) l.push_back(word);
  }

  // The touched pairs, in the order they were first touched.
  size_t size() const { return used_.size(); }
  const Slot& operator[](size_t k) const { return slots_[used_[k]]; }
  const std::vector<uint32_t>& list(uint32_t i) const { return lists_[i]; }
  std::vector<uint32_t>& list(uint32_t i) { return lists_[i]; }

  void clear() {
    for (uint32_t i : used_) slots_[i] = Slot{kEmpty, 0, kNoList};
    used_.clear();
    for (size_t i = 0; i < lists_used_; ++i) {
      if (lists_[i].capacity() > 65536) std::vector<uint32_t>().swap(lists_[i]);
      lists_[i].clear();
    }
    lists_used_ = 0;
  }

 private:
  static constexpr PairKey kEmpty = ~PairKey{0};

  Slot& slot(PairKey key) {
    size_t mask = slots_.size() - 1;
    size_t h = key * 0x9E3779B97F4A7C15ULL;
    for (size_t i = (h >> 20) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.key == key) return s;
      if (s.key == kEmpty) {
        if ((used_.size() + 1) * 2 > slots_.size()) {
          grow();
          return slot(key);
        }
        s.key = key;
        used_.push_back(static_cast<uint32_t>(i));
        return s;
      }
    }
  }

  void grow() {
    std::vector<Slot> old(slots_.size() * 2, Slot{kEmpty, 0, kNoList});
    old.swap(slots_);
    size_t mask = slots_.size() - 1;
    used_.clear();
    for (const Slot& s : old) {
      if (s.key == kEmpty) continue;
      size_t h = s.key * 0x9E3779B97F4A7C15ULL;
      size_t i = (h >> 20) & mask;
      while (slots_[i].key != kEmpty) i = (i + 1) & mask;
      slots_[i] = s;
      used_.push_back(static_cast<uint32_t>(i));
    }
  }

  std::vector<Slot> slots_;
  std::vector<uint32_t> used_;
  std::vector<std::vector<uint32_t>> lists_;
  size_t lists_used_ = 0;
};

}  // namespace lmkit::bpe_train
