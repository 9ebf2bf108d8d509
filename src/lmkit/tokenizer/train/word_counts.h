// How often each distinct pre-tokenized word occurs: the trainer's whole view of the corpus.
// Keys live in one byte arena and slots in an open-addressing table, so counting a large
// corpus costs one hash probe per word and no allocation per distinct word.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lmkit::bpe_train {

class WordCounts {
 public:
  WordCounts();

  void add(std::string_view word, uint64_t count = 1);
  // Adds every word of `other` (which is left empty).
  void absorb(WordCounts&& other);

  size_t distinct() const { return used_; }
  uint64_t total() const { return total_; }
  size_t memory_bytes() const { return slots_.capacity() * sizeof(Slot) + arena_.capacity(); }

  template <class F>
  void for_each(F&& fn) const {
    for (const Slot& s : slots_)
      if (s.count) fn(std::string_view(arena_.data() + s.offset, s.length), s.count);
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint64_t offset = 0;
    uint64_t count = 0;  // 0 marks an empty slot
    uint32_t length = 0;
  };
  void add_hashed(std::string_view word, uint64_t hash, uint64_t count);
  void grow();

  std::vector<Slot> slots_;
  std::vector<char> arena_;
  size_t used_ = 0;
  uint64_t total_ = 0;
};

uint64_t hash_word(std::string_view word);

}  // namespace lmkit::bpe_train
