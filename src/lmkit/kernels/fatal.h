// Kernels never throw (see kernels.h); a call they cannot serve is a programmer error that
// callers rule out beforehand (matmul_supports, block-multiple lengths), so it aborts loudly.
#pragma once

namespace lmkit::kernels {

[[noreturn]] void kernel_fatal(const char* function, const char* message, long long value);

}  // namespace lmkit::kernels
