#include "lmkit/kernels/scratch.h"

#include <cstdlib>
#include <new>

namespace lmkit::kernels::detail {
namespace {

struct Buffer {
  void* data = nullptr;
  size_t size = 0;
  ~Buffer() { std::free(data); }
};

thread_local Buffer buffers[static_cast<int>(ScratchSlot::Count)];

}  // namespace

void* thread_scratch(ScratchSlot slot, size_t bytes) {
  Buffer& b = buffers[static_cast<int>(slot)];
  if (bytes > b.size) {
    std::free(b.data);
    // Grow geometrically so a slowly rising size (a growing context) reallocates rarely.
    size_t size = bytes + bytes / 2;
    size = (size + 63) / 64 * 64;
    b.data = std::aligned_alloc(64, size);
    if (!b.data) throw std::bad_alloc();
    b.size = size;
  }
  return b.data;
}

}  // namespace lmkit::kernels::detail
