#include "lmkit/engine/kv_blocks.h"

#include <gtest/gtest.h>

#include <set>

#include "lmkit/base/error.h"

namespace lmkit::engine {
namespace {

TEST(KvBlocks, TablesTakeWholeBlocksAndGiveThemBack) {
  KvBlockAllocator alloc(10);
  {
    BlockTable a(alloc, 16);
    EXPECT_TRUE(a.reserve(1));
    EXPECT_EQ(a.blocks().size(), 1u);
    EXPECT_TRUE(a.reserve(16));
    EXPECT_EQ(a.blocks().size(), 1u);
    EXPECT_TRUE(a.reserve(17));
    EXPECT_EQ(a.blocks().size(), 2u);
    EXPECT_EQ(a.capacity(), 32);
    BlockTable b(alloc, 16);
    EXPECT_TRUE(b.reserve(100));  // 7 blocks
    EXPECT_EQ(alloc.n_free(), 1);
    std::set<int32_t> all(a.blocks().begin(), a.blocks().end());
    all.insert(b.blocks().begin(), b.blocks().end());
    EXPECT_EQ(all.size(), 9u) << "no block is handed out twice";
    b.truncate(33);  // keeps 3 blocks
    EXPECT_EQ(b.blocks().size(), 3u);
    EXPECT_EQ(alloc.n_free(), 5);
  }
  EXPECT_EQ(alloc.n_free(), 10) << "destroyed tables free their blocks";
}

TEST(KvBlocks, ReserveBeyondTheFreeBlocksAllocatesNothing) {
  KvBlockAllocator alloc(3);
  BlockTable a(alloc, 4);
  EXPECT_TRUE(a.reserve(8));
  EXPECT_FALSE(a.reserve(13));
  EXPECT_EQ(a.blocks().size(), 2u);
  EXPECT_EQ(alloc.n_free(), 1);
}

TEST(KvBlocks, SharedBlocksStayAllocatedUntilTheLastHolderReleases) {
  KvBlockAllocator alloc(2);
  int32_t b = alloc.allocate();
  alloc.retain(b);
  EXPECT_EQ(alloc.ref_count(b), 2);
  alloc.release(b);
  EXPECT_EQ(alloc.n_free(), 1);
  alloc.release(b);
  EXPECT_EQ(alloc.n_free(), 2);
}

TEST(KvBlocks, MovedTablesKeepTheirBlocksOnce) {
  KvBlockAllocator alloc(4);
  BlockTable a(alloc, 2);
  ASSERT_TRUE(a.reserve(5));
  BlockTable b(std::move(a));
  EXPECT_EQ(b.blocks().size(), 3u);
  EXPECT_EQ(alloc.n_free(), 1);
}

TEST(KvBlocks, ZeroBlocksIsAnError) { EXPECT_THROW(KvBlockAllocator(0), Error); }

}  // namespace
}  // namespace lmkit::engine
