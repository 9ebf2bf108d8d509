// Per-thread scratch memory that grows to the largest size asked for and is then reused,
// so kernels do not allocate in steady state.
#pragma once
#include <cstddef>

namespace lmkit::kernels::detail {

enum class ScratchSlot { MatmulPrepared = 0, MatmulRow = 1, Count = 2 };

// 64-byte aligned, at least `bytes` long, valid until the same thread asks for the same slot
// again with a larger size.
void* thread_scratch(ScratchSlot slot, size_t bytes);

}  // namespace lmkit::kernels::detail
