// Element and block types of weights and activations. The numeric values are GGUF's
// (ggml_type), so a GGUF tensor's type maps straight onto DType.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace lmkit {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ4_NL = 20,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
};

struct DTypeTraits {
  const char* name;        // as GGUF tools print it: "f32", "q4_0", ...
  int64_t block_elements;  // elements per block (1 for plain types)
  size_t block_bytes;      // bytes per block
};

// Throws lmkit::Error for a value that is not a known type.
const DTypeTraits& dtype_traits(DType t);
bool dtype_is_known(uint32_t raw);
inline const char* dtype_name(DType t) { return dtype_traits(t).name; }
// Parses "f32", "F16", "bf16", "q4_0", "Q8_0", ...; throws lmkit::Error listing the valid names.
DType dtype_from_name(const std::string& name);

// Bytes taken by n elements of t; n must be a multiple of the block size (checked by callers
// that read files, which must reject rows that do not fill whole blocks).
inline size_t dtype_row_bytes(DType t, int64_t n) {
  const DTypeTraits& tr = dtype_traits(t);
  return static_cast<size_t>(n / tr.block_elements) * tr.block_bytes;
}

// IEEE half and bfloat16 conversions (round to nearest even, NaN preserved).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
uint16_t f32_to_bf16(float f);

}  // namespace lmkit
