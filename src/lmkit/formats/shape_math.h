// Overflow-checked size arithmetic shared by the safetensors and GGUF readers and writers:
// a hostile header can declare dimensions whose product wraps around, which would make a
// tiny byte range pass the size check.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lmkit/tensor/dtype.h"

namespace lmkit {

// Element count of `shape`; throws lmkit::Error naming `where` on a negative dimension or
// when the product does not fit in int64.
int64_t checked_numel(const std::vector<int64_t>& shape, const std::string& where);

// Bytes for a tensor of `shape` and `dtype`; throws when the innermost dimension does not fill
// whole blocks of a block-quantized type or when the byte count overflows.
uint64_t checked_tensor_bytes(DType dtype, const std::vector<int64_t>& shape,
                              const std::string& where);

}  // namespace lmkit
