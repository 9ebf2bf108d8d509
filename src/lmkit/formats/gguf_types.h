// Internal helpers shared by the GGUF reader and writer.
#pragma once
#include <cstddef>
#include <cstdint>

#include "lmkit/formats/gguf.h"

namespace lmkit {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian u32
inline constexpr uint64_t kGgufDefaultAlignment = 32;
// ggml's GGML_MAX_DIMS: llama.cpp refuses tensors with more dimensions.
inline constexpr uint32_t kGgufMaxDims = 4;

// Name as the GGUF specification spells it ("UINT32", "STRING", ...).
const char* gguf_type_name(GgufType t);

// Bytes one element of a fixed-size type takes; 0 for STRING and ARRAY (variable size).
inline size_t gguf_fixed_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    default: return 0;
  }
}

inline bool gguf_type_is_known(uint32_t raw) { return raw <= static_cast<uint32_t>(GgufType::F64); }

}  // namespace lmkit
