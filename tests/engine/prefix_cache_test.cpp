#include "lmkit/engine/prefix_cache.h"

#include <gtest/gtest.h>

#include <numeric>

namespace lmkit::engine {
namespace {

constexpr int64_t kBs = 4;

std::vector<int32_t> iota_tokens(int n, int32_t first) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

// Registers the full blocks of `tokens` as a sequence would, with freshly allocated blocks
// the caller then releases (as a finished sequence does). Returns the blocks.
std::vector<int32_t> cache_sequence(PrefixCache& cache, KvBlockAllocator& alloc,
                                    const std::vector<int32_t>& tokens) {
  std::vector<int32_t> blocks;
  BlockHash prev;
  for (size_t k = 0; (k + 1) * kBs <= tokens.size(); ++k) {
    std::span<const int32_t> bt(tokens.data() + k * kBs, kBs);
    const BlockHash h = cache.chain(k == 0 ? nullptr : &prev, bt);
    const int32_t b = alloc.allocate();
    cache.insert(h, bt, b);
    blocks.push_back(b);
    prev = h;
  }
  cache.touch(blocks);
  for (int32_t b : blocks) alloc.release(b);
  return blocks;
}

TEST(PrefixCache, FindsTheLongestCachedRunOfFullBlocks) {
  KvBlockAllocator alloc(16);
  PrefixCache cache(alloc, kBs, 42);
  const auto tokens = iota_tokens(10, 100);  // two full blocks and a partial one
  const auto blocks = cache_sequence(cache, alloc, tokens);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(cache.size(), 2);
  EXPECT_EQ(cache.evictable(), 2);
  EXPECT_EQ(alloc.n_free(), 14);

  std::vector<BlockHash> hashes;
  auto longer = tokens;
  longer.push_back(7);
  auto hit = cache.match(longer, 100, hashes);
  EXPECT_EQ(hit, blocks);
  EXPECT_EQ(hashes.size(), 2u);
  EXPECT_EQ(alloc.ref_count(blocks[0]), 2) << "the caller holds a reference";
  EXPECT_EQ(cache.evictable(), 0);
  for (int32_t b : hit) alloc.release(b);

  EXPECT_EQ(cache.match(longer, 1, hashes).size(), 1u) << "max_blocks caps the match";
  alloc.release(blocks[0]);

  // The same second block after a different first block is a different prefix: no hit.
  auto other = longer;
  other[0] = 999;
  EXPECT_TRUE(cache.match(other, 100, hashes).empty());
  // A change in the second block keeps the first.
  other = longer;
  other[5] = 999;
  hit = cache.match(other, 100, hashes);
  EXPECT_EQ(hit.size(), 1u);
  for (int32_t b : hit) alloc.release(b);
}

TEST(PrefixCache, EvictsLeastRecentlyUsedAndPrefixEndsFirst) {
  KvBlockAllocator alloc(6);
  PrefixCache cache(alloc, kBs, 7);
  const auto a = cache_sequence(cache, alloc, iota_tokens(12, 0));    // 3 blocks
  const auto b = cache_sequence(cache, alloc, iota_tokens(8, 500));   // 2 blocks, more recent
  EXPECT_EQ(alloc.n_free(), 1);
  EXPECT_EQ(cache.evict(1), 1);
  std::vector<BlockHash> hashes;
  auto hit = cache.match(iota_tokens(12, 0), 100, hashes);
  EXPECT_EQ(hit.size(), 2u) << "the least recent block, the end of prefix a, went first";
  for (int32_t x : hit) alloc.release(x);
  // `a` is now the most recent: b's blocks go next, its last block first.
  EXPECT_TRUE(cache.ensure_free(3));
  hit = cache.match(iota_tokens(8, 500), 100, hashes);
  EXPECT_EQ(hit.size(), 1u);
  for (int32_t x : hit) alloc.release(x);
}

TEST(PrefixCache, NeverEvictsBlocksASequenceStillHolds) {
  KvBlockAllocator alloc(3);
  PrefixCache cache(alloc, kBs, 1);
  const auto blocks = cache_sequence(cache, alloc, iota_tokens(8, 0));
  std::vector<BlockHash> hashes;
  auto held = cache.match(iota_tokens(8, 0), 100, hashes);  // a running sequence holds them
  EXPECT_EQ(cache.evict(5), 0);
  EXPECT_FALSE(cache.ensure_free(2));
  EXPECT_EQ(alloc.n_free(), 1);
  for (int32_t b : held) alloc.release(b);
  EXPECT_TRUE(cache.ensure_free(3));
  EXPECT_EQ(cache.size(), 0);
}

TEST(PrefixCache, DuplicateBlocksStayPrivateAndClearFreesEverything) {
  KvBlockAllocator alloc(8);
  {
    PrefixCache cache(alloc, kBs, 3);
    cache_sequence(cache, alloc, iota_tokens(8, 0));
    // A second sequence computed the same prefix in other blocks: not registered twice, so
    // its blocks return to the allocator when it releases them.
    cache_sequence(cache, alloc, iota_tokens(8, 0));
    EXPECT_EQ(cache.size(), 2);
    EXPECT_EQ(alloc.n_free(), 6);
    cache.clear();
    EXPECT_EQ(alloc.n_free(), 8);
    cache_sequence(cache, alloc, iota_tokens(4, 9));
    EXPECT_EQ(alloc.n_free(), 7);
  }
  EXPECT_EQ(alloc.n_free(), 8) << "the destructor releases the cache's references";
}

TEST(PrefixCache, HashesDependOnTheSeedAndOnEveryTokenBefore) {
  KvBlockAllocator alloc(1);
  PrefixCache c1(alloc, kBs, 1), c2(alloc, kBs, 2);
  const auto t = iota_tokens(4, 0);
  EXPECT_FALSE(c1.chain(nullptr, t) == c2.chain(nullptr, t));
  const BlockHash p1 = c1.chain(nullptr, iota_tokens(4, 10));
  const BlockHash p2 = c1.chain(nullptr, iota_tokens(4, 11));
  EXPECT_FALSE(c1.chain(&p1, t) == c1.chain(&p2, t));
  EXPECT_TRUE(c1.chain(&p1, t) == c1.chain(&p1, t));
}

}  // namespace
}  // namespace lmkit::engine
