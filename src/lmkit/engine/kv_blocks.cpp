#include "lmkit/engine/kv_blocks.h"

#include <cassert>
#include <string>

#include "lmkit/base/error.h"

namespace lmkit::engine {

KvBlockAllocator::KvBlockAllocator(int64_t n_blocks) {
  if (n_blocks <= 0)
    throw_error("KV cache: the number of blocks must be positive, got " +
                std::to_string(n_blocks));
  ref_counts_.assign(static_cast<size_t>(n_blocks), 0);
  free_.reserve(static_cast<size_t>(n_blocks));
  // Pushed in reverse so block 0 is handed out first (tables read in order in a debugger).
  for (int64_t b = n_blocks - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));
}

int32_t KvBlockAllocator::allocate() {
  if (free_.empty()) return -1;
  int32_t b = free_.back();
  free_.pop_back();
  ref_counts_[static_cast<size_t>(b)] = 1;
  return b;
}

void KvBlockAllocator::retain(int32_t block) {
  assert(ref_counts_.at(static_cast<size_t>(block)) > 0);
  ++ref_counts_[static_cast<size_t>(block)];
}

void KvBlockAllocator::release(int32_t block) {
  int32_t& rc = ref_counts_.at(static_cast<size_t>(block));
  assert(rc > 0);
  if (--rc == 0) free_.push_back(block);
}

BlockTable::BlockTable(KvBlockAllocator& allocator, int64_t block_size)
    : allocator_(&allocator), block_size_(block_size) {
  assert(block_size > 0);
}

BlockTable::~BlockTable() {
  if (allocator_) clear();
}

BlockTable::BlockTable(BlockTable&& other) noexcept
    : allocator_(other.allocator_), block_size_(other.block_size_),
      blocks_(std::move(other.blocks_)) {
  other.allocator_ = nullptr;
  other.blocks_.clear();
}

bool BlockTable::reserve(int64_t n_tokens) {
  const int64_t needed = (n_tokens + block_size_ - 1) / block_size_;
  const int64_t extra = needed - static_cast<int64_t>(blocks_.size());
  if (extra <= 0) return true;
  if (extra > allocator_->n_free()) return false;
  for (int64_t i = 0; i < extra; ++i) blocks_.push_back(allocator_->allocate());
  return true;
}

void BlockTable::truncate(int64_t n_tokens) {
  const auto keep = static_cast<size_t>((n_tokens + block_size_ - 1) / block_size_);
  while (blocks_.size() > keep) {
    allocator_->release(blocks_.back());
    blocks_.pop_back();
  }
}

}  // namespace lmkit::engine
