// Prefix caching over the KV block pool: a full block is identified by a hash of its tokens and
// of every token before it (chained block by block), so two requests whose prompts start the
// same way find the same blocks and share them instead of recomputing them. Cached blocks stay
// after their requests end and are evicted least-recently-used when the allocator runs dry.
//
// The cache holds one reference on each block it knows (KvBlockAllocator ref counts); a block
// is evictable when that is the only reference left. Hashes are 128-bit with a per-cache random
// seed, and each entry keeps its block's tokens, which a lookup compares: a hit needs equal
// tokens and an equal 128-bit hash of everything before them.
//
// Threading: not thread-safe; owned by the scheduler thread with the allocator.
#pragma once
#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

#include "lmkit/engine/kv_blocks.h"

namespace lmkit::engine {

struct BlockHash {
  uint64_t a = 0, b = 0;
  bool operator==(const BlockHash&) const = default;
};

class PrefixCache {
 public:
  PrefixCache(KvBlockAllocator& allocator, int64_t block_size, uint64_t seed);
  ~PrefixCache();  // releases every cached block
  PrefixCache(const PrefixCache&) = delete;
  PrefixCache& operator=(const PrefixCache&) = delete;

  int64_t block_size() const { return block_size_; }
  // The hash of the block after `parent` (nullptr for the first block) holding `tokens`.
  BlockHash chain(const BlockHash* parent, std::span<const int32_t> tokens) const;

  // The cached blocks holding the longest run of full blocks at the start of `tokens`, at most
  // max_blocks of them. Each returned block is retained for the caller and becomes most
  // recently used; `hashes` receives their hashes.
  std::vector<int32_t> match(std::span<const int32_t> tokens, int64_t max_blocks,
                             std::vector<BlockHash>& hashes);

  // Registers `block` (already computed) as holding `tokens` (block_size of them) after the
  // prefix hashed into `hash`; the cache retains it. When an equal block is already cached the
  // call does nothing: the duplicate stays private to its sequence and is freed with it.
  void insert(const BlockHash& hash, std::span<const int32_t> tokens, int32_t block);

  // Marks blocks as just used, the first ones most recent, so the ends of prefixes are evicted
  // before their beginnings (a lookup walks from the start and stops at the first miss).
  void touch(std::span<const int32_t> blocks);

  // Drops up to n blocks that only the cache holds, least recently used first, returning them
  // to the allocator. Returns how many were freed.
  int64_t evict(int64_t n);
  // Evicts until the allocator has `n` free blocks; false if it cannot.
  bool ensure_free(int64_t n);

  int64_t size() const { return static_cast<int64_t>(entries_.size()); }
  int64_t evictable() const;  // cached blocks no sequence holds
  void clear();               // evicts every block no sequence holds and forgets the rest

 private:
  struct Entry {
    BlockHash hash;
    int32_t block;
    std::vector<int32_t> tokens;
    std::list<int32_t>::iterator lru;  // position in lru_ (front: most recent)
  };
  struct HashOf {
    size_t operator()(const BlockHash& h) const { return static_cast<size_t>(h.a); }
  };
  void forget(std::unordered_map<BlockHash, Entry, HashOf>::iterator it);

  KvBlockAllocator& allocator_;
  int64_t block_size_;
  uint64_t seed_;
  std::unordered_map<BlockHash, Entry, HashOf> entries_;
  std::unordered_map<int32_t, BlockHash> hash_of_block_;
  std::list<int32_t> lru_;  // cached block ids, most recently used first
};

}  // namespace lmkit::engine
