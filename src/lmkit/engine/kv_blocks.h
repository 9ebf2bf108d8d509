// Bookkeeping for the blocks of a models::KvCache: which blocks are free and which sequence
// holds which. Blocks are reference counted so that the prefix cache (prefix_cache.h) can
// share the blocks of a common prompt prefix between sequences and keep them after they end.
//
// Threading: not thread-safe. The thread that runs a model's forward passes owns the
// allocator and every BlockTable over it (docs/engine.md).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lmkit::engine {

class KvBlockAllocator {
 public:
  explicit KvBlockAllocator(int64_t n_blocks);
  int64_t n_blocks() const { return static_cast<int64_t>(ref_counts_.size()); }
  int64_t n_free() const { return static_cast<int64_t>(free_.size()); }
  // A free block with a reference count of 1, or -1 when none is left.
  int32_t allocate();
  void retain(int32_t block);
  // Drops one reference; the block is free again when none remain.
  void release(int32_t block);
  int32_t ref_count(int32_t block) const { return ref_counts_.at(static_cast<size_t>(block)); }

 private:
  std::vector<int32_t> ref_counts_;
  std::vector<int32_t> free_;  // a stack: the most recently freed block is reused first
};

// One sequence's ordered blocks (its block table). Releases them when destroyed, so a
// finished or cancelled request frees its cache the moment its owner drops it.
class BlockTable {
 public:
  BlockTable(KvBlockAllocator& allocator, int64_t block_size);
  ~BlockTable();
  BlockTable(const BlockTable&) = delete;
  BlockTable& operator=(const BlockTable&) = delete;
  BlockTable(BlockTable&& other) noexcept;

  // Makes room for positions [0, n_tokens). Returns false (allocating nothing) when the
  // allocator has too few free blocks.
  bool reserve(int64_t n_tokens);
  // Keeps the blocks that hold positions [0, n_tokens) and releases the rest.
  void truncate(int64_t n_tokens);
  void clear() { truncate(0); }
  // Appends a block the caller has already retained on this table's behalf (a prefix-cache
  // hit shared with other tables); the table releases that reference like its own.
  void append_retained(int32_t block) { blocks_.push_back(block); }

  const std::vector<int32_t>& blocks() const { return blocks_; }
  int64_t capacity() const { return static_cast<int64_t>(blocks_.size()) * block_size_; }
  int64_t block_size() const { return block_size_; }

 private:
  KvBlockAllocator* allocator_;
  int64_t block_size_;
  std::vector<int32_t> blocks_;
};

}  // namespace lmkit::engine
