// Open-addressing map from a symbol pair (left << 32 | right) to its count, the trainer's
// hottest structure: every rewritten occurrence updates two or four entries. Entries are
// never erased (a count may drop to zero and come back), which keeps probing simple.
#pragma once
#include <cstdint>
#include <vector>

namespace lmkit::bpe_train {

using PairKey = uint64_t;

inline PairKey make_pair_key(uint32_t left, uint32_t right) {
  return (uint64_t{left} << 32) | right;
}
inline uint32_t pair_left(PairKey k) { return static_cast<uint32_t>(k >> 32); }
inline uint32_t pair_right(PairKey k) { return static_cast<uint32_t>(k); }

class PairTable {
 public:
  struct Entry {
    PairKey key;
    int64_t count;
    uint32_t aux;    // free for the caller (the trainer keeps a word list index here)
    uint32_t stamp;  // free for the caller (the trainer's merge step that set aux)
  };

  explicit PairTable(size_t expected = 1 << 16) {
    size_t cap = 64;
    while (cap < expected * 2) cap <<= 1;
    entries_.assign(cap, Entry{kEmpty, 0, 0, 0});
  }

  // The entry for key, created with count 0 if absent.
  Entry& at(PairKey key) {
    size_t mask = entries_.size() - 1;
    for (size_t i = slot_of(key) & mask;; i = (i + 1) & mask) {
      Entry& e = entries_[i];
      if (e.key == key) return e;
      if (e.key == kEmpty) {
        if ((used_ + 1) * 2 > entries_.size()) {
          grow();
          return at(key);
        }
        ++used_;
        e.key = key;
        return e;
      }
    }
  }

  // nullptr if absent.
  const Entry* find(PairKey key) const {
    size_t mask = entries_.size() - 1;
    for (size_t i = slot_of(key) & mask;; i = (i + 1) & mask) {
      const Entry& e = entries_[i];
      if (e.key == key) return &e;
      if (e.key == kEmpty) return nullptr;
    }
  }

  size_t size() const { return used_; }

  // Starts loading the slot where key's probe begins (the usual place of its entry).
  void prefetch(PairKey key) const {
    __builtin_prefetch(&entries_[slot_of(key) & (entries_.size() - 1)]);
  }

  template <class F>
  void for_each(F&& fn) {
    for (Entry& e : entries_)
      if (e.key != kEmpty) fn(e);
  }

 private:
  // No real pair has two ids of 2^32 - 1.
  static constexpr PairKey kEmpty = ~PairKey{0};

  static size_t slot_of(PairKey k) {
    k ^= k >> 29;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 32;
    return static_cast<size_t>(k);
  }

  void grow() {
    std::vector<Entry> old(entries_.size() * 2, Entry{kEmpty, 0, 0, 0});
    old.swap(entries_);
    size_t mask = entries_.size() - 1;
    for (const Entry& e : old) {
      if (e.key == kEmpty) continue;
      size_t i = slot_of(e.key) & mask;
      while (entries_[i].key != kEmpty) i = (i + 1) & mask;
      entries_[i] = e;
    }
  }

  std::vector<Entry> entries_;
  size_t used_ = 0;
};

}  // namespace lmkit::bpe_train
