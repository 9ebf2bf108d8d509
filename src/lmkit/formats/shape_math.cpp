#include "lmkit/formats/shape_math.h"

#include <fmt/format.h>

#include <limits>

#include "lmkit/base/error.h"
#include "lmkit/tensor/tensor.h"

namespace lmkit {

namespace {
std::string shape_text(const std::vector<int64_t>& shape) {
  TensorView v;
  v.shape = shape;
  return v.shape_string();
}
}  // namespace

int64_t checked_numel(const std::vector<int64_t>& shape, const std::string& where) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw_error(fmt::format("{}: negative dimension in shape {}", where, shape_text(shape)));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw_error(fmt::format("{}: shape {} has more elements than fit in 64 bits", where,
                              shape_text(shape)));
    n *= d;
  }
  return n;
}

uint64_t checked_tensor_bytes(DType dtype, const std::vector<int64_t>& shape,
                              const std::string& where) {
  int64_t n = checked_numel(shape, where);
  const DTypeTraits& tr = dtype_traits(dtype);
  int64_t inner = shape.empty() ? 1 : shape.back();
  if (tr.block_elements > 1 && inner % tr.block_elements != 0)
    throw_error(fmt::format("{}: innermost dimension {} is not a multiple of the {} block size {}",
                            where, inner, tr.name, tr.block_elements));
  uint64_t blocks = static_cast<uint64_t>(n / tr.block_elements);
  if (blocks != 0 && tr.block_bytes > std::numeric_limits<uint64_t>::max() / blocks)
    throw_error(fmt::format("{}: shape {} of {} needs more bytes than fit in 64 bits", where,
                            shape_text(shape), tr.name));
  return blocks * tr.block_bytes;
}

}  // namespace lmkit
