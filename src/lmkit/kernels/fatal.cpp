#include "lmkit/kernels/fatal.h"

#include <cstdio>
#include <cstdlib>

namespace lmkit::kernels {

void kernel_fatal(const char* function, const char* message, long long value) {
  std::fprintf(stderr, "lmkit kernels: %s: %s (%lld)\n", function, message, value);
  std::abort();
}

}  // namespace lmkit::kernels
