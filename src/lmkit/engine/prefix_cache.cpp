#include "lmkit/engine/prefix_cache.h"

#include <algorithm>
#include <cassert>

namespace lmkit::engine {

namespace {

// splitmix64's finaliser: a full-avalanche 64-bit mix.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

PrefixCache::PrefixCache(KvBlockAllocator& allocator, int64_t block_size, uint64_t seed)
    : allocator_(allocator), block_size_(block_size), seed_(seed) {}

PrefixCache::~PrefixCache() {
  for (auto& [hash, entry] : entries_) allocator_.release(entry.block);
}

BlockHash PrefixCache::chain(const BlockHash* parent, std::span<const int32_t> tokens) const {
  // Two independent 64-bit lanes (different seeds and multipliers): a 128-bit hash of the
  // parent's hash and the tokens, so a collision needs both lanes to collide at once.
  uint64_t a = mix(seed_ ^ 0x243f6a8885a308d3ULL);
  uint64_t b = mix(seed_ ^ 0x13198a2e03707344ULL);
  if (parent) {
    a = mix(a ^ parent->a);
    b = mix(b + parent->b * 0x9e3779b97f4a7c15ULL);
  }
  for (int32_t t : tokens) {
    const auto u = static_cast<uint64_t>(static_cast<uint32_t>(t));
    a = mix(a ^ u);
    b = mix(b + (u + 1) * 0xd6e8feb86659fd93ULL);
  }
  return {a, b};
}

std::vector<int32_t> PrefixCache::match(std::span<const int32_t> tokens, int64_t max_blocks,
                                        std::vector<BlockHash>& hashes) {
  std::vector<int32_t> blocks;
  hashes.clear();
  const int64_t n_full = static_cast<int64_t>(tokens.size()) / block_size_;
  for (int64_t k = 0; k < std::min(n_full, max_blocks); ++k) {
    auto block_tokens = tokens.subspan(static_cast<size_t>(k * block_size_),
                                       static_cast<size_t>(block_size_));
    const BlockHash h = chain(hashes.empty() ? nullptr : &hashes.back(), block_tokens);
    auto it = entries_.find(h);
    if (it == entries_.end() ||
        !std::equal(block_tokens.begin(), block_tokens.end(), it->second.tokens.begin()))
      break;
    allocator_.retain(it->second.block);
    blocks.push_back(it->second.block);
    hashes.push_back(h);
  }
  touch(blocks);
  return blocks;
}

void PrefixCache::insert(const BlockHash& hash, std::span<const int32_t> tokens, int32_t block) {
  assert(static_cast<int64_t>(tokens.size()) == block_size_);
  if (entries_.count(hash) || hash_of_block_.count(block)) return;
  allocator_.retain(block);
  lru_.push_front(block);
  entries_.emplace(hash, Entry{hash, block, std::vector<int32_t>(tokens.begin(), tokens.end()),
                               lru_.begin()});
  hash_of_block_.emplace(block, hash);
}

void PrefixCache::touch(std::span<const int32_t> blocks) {
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    auto h = hash_of_block_.find(*it);
    if (h == hash_of_block_.end()) continue;
    Entry& e = entries_.at(h->second);
    lru_.splice(lru_.begin(), lru_, e.lru);
  }
}

void PrefixCache::forget(std::unordered_map<BlockHash, Entry, HashOf>::iterator it) {
  lru_.erase(it->second.lru);
  hash_of_block_.erase(it->second.block);
  allocator_.release(it->second.block);
  entries_.erase(it);
}

int64_t PrefixCache::evict(int64_t n) {
  int64_t freed = 0;
  for (auto it = lru_.end(); freed < n && it != lru_.begin();) {
    --it;
    const int32_t block = *it;
    if (allocator_.ref_count(block) != 1) continue;  // a sequence still uses it
    auto next = it;  // forget() erases *it; continue from its more recent neighbour
    ++next;
    forget(entries_.find(hash_of_block_.at(block)));
    it = next;
    ++freed;
  }
  return freed;
}

bool PrefixCache::ensure_free(int64_t n) {
  const int64_t missing = n - allocator_.n_free();
  if (missing > 0) evict(missing);
  return allocator_.n_free() >= n;
}

int64_t PrefixCache::evictable() const {
  int64_t n = 0;
  for (int32_t block : lru_) n += allocator_.ref_count(block) == 1 ? 1 : 0;
  return n;
}

void PrefixCache::clear() {
  evict(size());
  // Blocks still held by sequences leave the cache too; their holders free them.
  while (!entries_.empty()) forget(entries_.begin());
}

}  // namespace lmkit::engine
