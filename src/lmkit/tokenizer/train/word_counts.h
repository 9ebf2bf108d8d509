// How often each distinct pre-tokenized word occurs: the trainer's whole view of the corpus.
// Keys live in byte blocks that never move and slots in an open-addressing table, so counting a large
// corpus costs one hash probe per word and no allocation per distinct word.
#pragma once
#include <cstdint>
#include <memory>
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
  // Sum of the lengths of the distinct words.
  size_t distinct_bytes() const { return distinct_bytes_; }

  template <class F>
  void for_each(F&& fn) const {
    for (const Slot& s : slots_)
      if (s.count) fn(std::string_view(s.data, s.length), s.count);
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* data = nullptr;
    uint64_t count = 0;  // 0 marks an empty slot
    uint32_t length = 0;
  };
  void add_hashed(std::string_view word, uint64_t hash, uint64_t count, bool copy_key);
  const char* store(std::string_view word);
  void grow();

  std::vector<Slot> slots_;
  // Keys in fixed blocks that never move, so growing costs no copying of keys.
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_used_ = 0, block_size_ = 0;
  size_t distinct_bytes_ = 0;
  size_t used_ = 0;
  uint64_t total_ = 0;
};

uint64_t hash_word(std::string_view word);

}  // namespace lmkit::bpe_train
