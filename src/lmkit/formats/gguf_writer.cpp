// GGUF writer (version 3, little-endian): metadata in insertion order, then the tensor table,
// then the tensor data, each tensor at a multiple of general.alignment (32 unless set).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/formats/gguf_types.h"
#include "lmkit/formats/shape_math.h"

namespace lmkit {
namespace {

class ByteSink {
 public:
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  void pad_to(uint64_t alignment) {
    bytes.resize((bytes.size() + alignment - 1) / alignment * alignment, 0);
  }
  std::vector<uint8_t> bytes;
};

void put_value(ByteSink& out, const GgufValue& v, const std::string& key) {
  switch (v.type) {
    case GgufType::U8: out.put<uint8_t>(static_cast<uint8_t>(std::get<uint64_t>(v.scalar))); break;
    case GgufType::I8: out.put<int8_t>(static_cast<int8_t>(std::get<int64_t>(v.scalar))); break;
    case GgufType::U16: out.put<uint16_t>(static_cast<uint16_t>(std::get<uint64_t>(v.scalar))); break;
    case GgufType::I16: out.put<int16_t>(static_cast<int16_t>(std::get<int64_t>(v.scalar))); break;
    case GgufType::U32: out.put<uint32_t>(static_cast<uint32_t>(std::get<uint64_t>(v.scalar))); break;
    case GgufType::I32: out.put<int32_t>(static_cast<int32_t>(std::get<int64_t>(v.scalar))); break;
    case GgufType::U64: out.put<uint64_t>(std::get<uint64_t>(v.scalar)); break;
    case GgufType::I64: out.put<int64_t>(std::get<int64_t>(v.scalar)); break;
    case GgufType::F32: out.put<float>(static_cast<float>(std::get<double>(v.scalar))); break;
    case GgufType::F64: out.put<double>(std::get<double>(v.scalar)); break;
    case GgufType::BOOL: out.put<uint8_t>(std::get<bool>(v.scalar) ? 1 : 0); break;
    case GgufType::STRING: out.put_string(std::get<std::string>(v.scalar)); break;
    case GgufType::ARRAY:
      out.put<uint32_t>(static_cast<uint32_t>(v.array_type));
      out.put<uint64_t>(v.array.size());
      for (const GgufValue& e : v.array) {
        if (e.type != v.array_type)
          throw_error(fmt::format("GGUF writer: key '{}': array of {} holds a {} element", key,
                                  gguf_type_name(v.array_type), gguf_type_name(e.type)));
        put_value(out, e, key);
      }
      break;
  }
}

// Checks that the variant alternative matches the declared type, so a hand-built GgufValue
// with a mismatch is reported instead of throwing std::bad_variant_access mid-write.
void check_value(const GgufValue& v, const std::string& key) {
  bool ok = true;
  switch (v.type) {
    case GgufType::U8: case GgufType::U16: case GgufType::U32: case GgufType::U64:
      ok = std::holds_alternative<uint64_t>(v.scalar); break;
    case GgufType::I8: case GgufType::I16: case GgufType::I32: case GgufType::I64:
      ok = std::holds_alternative<int64_t>(v.scalar); break;
    case GgufType::F32: case GgufType::F64: ok = std::holds_alternative<double>(v.scalar); break;
    case GgufType::BOOL: ok = std::holds_alternative<bool>(v.scalar); break;
    case GgufType::STRING: ok = std::holds_alternative<std::string>(v.scalar); break;
    case GgufType::ARRAY:
      for (const GgufValue& e : v.array) check_value(e, key);
      break;
  }
  if (!ok)
    throw_error(fmt::format("GGUF writer: key '{}': value does not hold a {}", key,
                            gguf_type_name(v.type)));
}

// Assigns the alternative directly (no temporary variant), which also keeps GCC's
// -Wmaybe-uninitialized from misfiring on variant copies in sanitizer builds.
template <typename T>
GgufValue scalar_value(GgufType type, T&& x) {
  GgufValue v;
  v.type = type;
  v.scalar.emplace<std::decay_t<T>>(std::forward<T>(x));
  return v;
}

template <typename T, typename Make>
GgufValue array_value(GgufType element_type, const std::vector<T>& values, Make make) {
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.array_type = element_type;
  v.array.reserve(values.size());
  for (const T& x : values) v.array.push_back(make(x));
  return v;
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  check_value(value, key);
  for (auto& [k, v] : kv_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::set_string(const std::string& key, const std::string& value) {
  set(key, scalar_value(GgufType::STRING, value));
}
void GgufWriter::set_u32(const std::string& key, uint32_t value) {
  set(key, scalar_value(GgufType::U32, uint64_t{value}));
}
void GgufWriter::set_i32(const std::string& key, int32_t value) {
  set(key, scalar_value(GgufType::I32, int64_t{value}));
}
void GgufWriter::set_f32(const std::string& key, float value) {
  set(key, scalar_value(GgufType::F32, double{value}));
}
void GgufWriter::set_bool(const std::string& key, bool value) {
  set(key, scalar_value(GgufType::BOOL, value));
}
void GgufWriter::set_strings(const std::string& key, const std::vector<std::string>& values) {
  set(key, array_value(GgufType::STRING, values,
                       [](const std::string& s) { return scalar_value(GgufType::STRING, s); }));
}
void GgufWriter::set_floats(const std::string& key, const std::vector<float>& values) {
  set(key, array_value(GgufType::F32, values,
                       [](float f) { return scalar_value(GgufType::F32, double{f}); }));
}
void GgufWriter::set_i32s(const std::string& key, const std::vector<int32_t>& values) {
  set(key, array_value(GgufType::I32, values,
                       [](int32_t i) { return scalar_value(GgufType::I32, int64_t{i}); }));
}

void GgufWriter::add_tensor(const std::string& name, DType dtype,
                            const std::vector<int64_t>& shape, const void* data, size_t nbytes) {
  std::string where = fmt::format("GGUF writer: tensor '{}'", name);
  for (const PendingTensor& t : tensors_)
    if (t.name == name) throw_error(where + ": duplicate tensor name");
  if (shape.size() > kGgufMaxDims)
    throw_error(fmt::format("{}: {} dimensions, at most {} are allowed", where, shape.size(),
                            kGgufMaxDims));
  uint64_t expected = checked_tensor_bytes(dtype, shape, where);
  if (expected != nbytes)
    throw_error(fmt::format("{}: {} bytes given but shape x {} needs {}", where, nbytes,
                            dtype_name(dtype), expected));
  if (nbytes && !data) throw_error(where + ": no data");
  PendingTensor t{name, dtype, shape, {}};
  const auto* p = static_cast<const uint8_t*>(data);
  if (nbytes) t.bytes.assign(p, p + nbytes);
  tensors_.push_back(std::move(t));
}

uint64_t GgufWriter::alignment() const {
  for (const auto& [k, v] : kv_)
    if (k == "general.alignment") {
      if (v.type != GgufType::U32) throw_error("GGUF writer: general.alignment must be UINT32");
      uint64_t a = std::get<uint64_t>(v.scalar);
      if (a == 0 || (a & (a - 1)))
        throw_error(fmt::format("GGUF writer: general.alignment {} is not a power of two", a));
      return a;
    }
  return kGgufDefaultAlignment;
}

std::vector<uint8_t> GgufWriter::header_bytes(uint64_t alignment) const {
  ByteSink out;
  out.put<uint32_t>(kGgufMagic);
  out.put<uint32_t>(3);
  out.put<uint64_t>(tensors_.size());
  out.put<uint64_t>(kv_.size());
  for (const auto& [k, v] : kv_) {
    out.put_string(k);
    out.put<uint32_t>(static_cast<uint32_t>(v.type));
    put_value(out, v, k);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    out.put_string(t.name);
    out.put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it)
      out.put<uint64_t>(static_cast<uint64_t>(*it));
    out.put<uint32_t>(static_cast<uint32_t>(t.dtype));
    out.put<uint64_t>(offset);
    offset = (offset + t.bytes.size() + alignment - 1) / alignment * alignment;
  }
  out.pad_to(alignment);
  return std::move(out.bytes);
}

std::vector<uint8_t> GgufWriter::to_bytes() const {
  const uint64_t align = alignment();
  std::vector<uint8_t> out = header_bytes(align);
  for (const PendingTensor& t : tensors_) {
    out.insert(out.end(), t.bytes.begin(), t.bytes.end());
    out.resize((out.size() + align - 1) / align * align, 0);
  }
  return out;
}

void GgufWriter::write(const std::string& path) const {
  const uint64_t align = alignment();
  std::vector<uint8_t> header = header_bytes(align);
  // Written under a temporary name and renamed, so a failed write never leaves a truncated
  // file behind that a later load would take for a model.
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw_error(fmt::format("cannot create '{}'", tmp));
    out.write(reinterpret_cast<const char*>(header.data()), static_cast<std::streamsize>(header.size()));
    static const char kZeros[256] = {};
    for (const PendingTensor& t : tensors_) {
      out.write(reinterpret_cast<const char*>(t.bytes.data()),
                static_cast<std::streamsize>(t.bytes.size()));
      uint64_t pad = (align - t.bytes.size() % align) % align;
      while (pad > 0) {
        uint64_t n = std::min<uint64_t>(pad, sizeof kZeros);
        out.write(kZeros, static_cast<std::streamsize>(n));
        pad -= n;
      }
    }
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw_error(fmt::format("failed writing '{}' (disk full?)", tmp));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw_error(fmt::format("cannot rename '{}' to '{}': {}", tmp, path, ec.message()));
}

}  // namespace lmkit
