// A non-owning view of a tensor in memory (usually inside a memory-mapped model file).
// Shapes are outermost first, as in PyTorch and safetensors: a linear layer's weight is
// {out_features, in_features} and each row is contiguous. GGUF's innermost-first ne[] is
// reversed on load so every reader hands out the same convention.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lmkit/tensor/dtype.h"

namespace lmkit {

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t rows() const { return shape.size() < 2 ? 1 : numel() / shape.back(); }
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
  std::string shape_string() const;  // "[896, 4864]"
};

}  // namespace lmkit
