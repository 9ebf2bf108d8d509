#include "lmkit/tokenizer/train/word_counts.h"

#include <algorithm>
#include <cstring>

namespace lmkit::bpe_train {
namespace {

uint64_t mix(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ULL;
  x ^= x >> 32;
  return x;
}

}  // namespace

uint64_t hash_word(std::string_view word) {
  // Eight bytes at a time: words are short, so the tail load dominates and stays cheap.
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ word.size();
  const char* p = word.data();
  size_t n = word.size();
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = mix(h ^ v) + 0x9E3779B97F4A7C15ULL;
    p += 8;
    n -= 8;
  }
  if (n) {
    uint64_t v = 0;
    std::memcpy(&v, p, n);
    h = mix(h ^ v ^ (uint64_t{n} << 59));
  }
  return h;
}

WordCounts::WordCounts() : slots_(1024) {}

void WordCounts::add(std::string_view word, uint64_t count) {
  add_hashed(word, hash_word(word), count, true);
}

void WordCounts::add_hashed(std::string_view word, uint64_t hash, uint64_t count,
                            bool copy_key) {
  total_ += count;
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.count == 0) {
      s.hash = hash;
      s.data = copy_key ? store(word) : word.data();
      s.length = static_cast<uint32_t>(word.size());
      s.count = count;
      distinct_bytes_ += word.size();
      if (++used_ * 4 > slots_.size() * 3) grow();
      return;
    }
    if (s.hash == hash && s.length == word.size() &&
        std::memcmp(s.data, word.data(), word.size()) == 0) {
      s.count += count;
      return;
    }
  }
}

const char* WordCounts::store(std::string_view word) {
  constexpr size_t kBlock = size_t{1} << 20;
  if (block_used_ + word.size() > block_size_) {
    block_size_ = std::max(kBlock, word.size());
    blocks_.push_back(std::make_unique<char[]>(block_size_));
    block_used_ = 0;
  }
  char* dst = blocks_.back().get() + block_used_;
  std::memcpy(dst, word.data(), word.size());
  block_used_ += word.size();
  return dst;
}

void WordCounts::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (!s.count) continue;
    size_t i = s.hash & mask;
    while (slots_[i].count) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void WordCounts::absorb(WordCounts&& other) {
  // Take over the other table's key blocks: its keys then need no copy. Our current block
  // stays the one new keys go to.
  std::vector<std::unique_ptr<char[]>> mine = std::move(blocks_);
  blocks_ = std::move(other.blocks_);
  for (auto& b : mine) blocks_.push_back(std::move(b));
  for (const Slot& s : other.slots_)
    if (s.count) add_hashed(std::string_view(s.data, s.length), s.hash, s.count, false);
  other = WordCounts();
}

}  // namespace lmkit::bpe_train
