// GGUF reader: every read goes through a bounds-checked cursor, so a truncated or hostile
// file gives an lmkit::Error naming the file, the field and the offset instead of reading past
// the buffer.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/formats/gguf_types.h"
#include "lmkit/formats/shape_math.h"

namespace lmkit {
namespace {

// Arrays may nest (the specification allows arrays of arrays); real files use depth 1, and a
// bound keeps a hostile file from recursing the stack away.
constexpr int kMaxArrayDepth = 8;

class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const std::string& source)
      : data_(data), size_(size), source_(source) {}

  size_t pos() const { return pos_; }
  size_t left() const { return size_ - pos_; }
  const std::string& source() const { return source_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw_error(fmt::format("{}: GGUF {} (at byte {})", source_, what, pos_));
  }

  void need(uint64_t n, const std::string& what) const {
    if (n > left())
      fail(fmt::format("{}: needs {} bytes but only {} remain (truncated file?)", what, n, left()));
  }

  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const std::string& what) {
    uint64_t len = read<uint64_t>(what + " length");
    if (len > left())
      fail(fmt::format("{}: string length {} runs past the end of the file ({} bytes remain)",
                       what, len, left()));
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& source_;
};

GgufType read_type(Cursor& c, const std::string& what) {
  uint32_t raw = c.read<uint32_t>(what + " type");
  if (!gguf_type_is_known(raw))
    c.fail(fmt::format("{}: unknown value type {} (expected 0..12)", what, raw));
  return static_cast<GgufType>(raw);
}

GgufValue read_value(Cursor& c, GgufType type, const std::string& what, int depth);

GgufValue read_scalar(Cursor& c, GgufType type, const std::string& what) {
  GgufValue v;
  v.type = type;
  switch (type) {
    case GgufType::U8: v.scalar = uint64_t{c.read<uint8_t>(what)}; break;
    case GgufType::I8: v.scalar = int64_t{c.read<int8_t>(what)}; break;
    case GgufType::U16: v.scalar = uint64_t{c.read<uint16_t>(what)}; break;
    case GgufType::I16: v.scalar = int64_t{c.read<int16_t>(what)}; break;
    case GgufType::U32: v.scalar = uint64_t{c.read<uint32_t>(what)}; break;
    case GgufType::I32: v.scalar = int64_t{c.read<int32_t>(what)}; break;
    case GgufType::U64: v.scalar = uint64_t{c.read<uint64_t>(what)}; break;
    case GgufType::I64: v.scalar = int64_t{c.read<int64_t>(what)}; break;
    case GgufType::F32: v.scalar = double{c.read<float>(what)}; break;
    case GgufType::F64: v.scalar = c.read<double>(what); break;
    case GgufType::BOOL: {
      uint8_t b = c.read<uint8_t>(what);
      if (b > 1) c.fail(fmt::format("{}: BOOL value {} is neither 0 nor 1", what, b));
      v.scalar = b == 1;
      break;
    }
    case GgufType::STRING: v.scalar = c.read_string(what); break;
    case GgufType::ARRAY: break;  // handled by read_value
  }
  return v;
}

GgufValue read_value(Cursor& c, GgufType type, const std::string& what, int depth) {
  if (type != GgufType::ARRAY) return read_scalar(c, type, what);
  if (depth >= kMaxArrayDepth) c.fail(fmt::format("{}: arrays nested too deeply", what));
  GgufValue v;
  v.type = GgufType::ARRAY;
  v.array_type = read_type(c, what + " element");
  uint64_t count = c.read<uint64_t>(what + " element count");
  // Every element takes at least one byte (8 for a string or array length), so a count larger
  // than the bytes left is impossible; checking it here avoids reserving absurd sizes.
  size_t min_size = gguf_fixed_size(v.array_type);
  if (min_size == 0) min_size = 8;
  if (count > c.left() / min_size)
    c.fail(fmt::format("{}: array of {} {} elements cannot fit in the {} bytes that remain "
                       "(truncated file?)",
                       what,
                       count, gguf_type_name(v.array_type), c.left()));
  v.array.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) v.array.push_back(read_value(c, v.array_type, what, depth + 1));
  return v;
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

GgufHeader parse_gguf(const uint8_t* data, size_t size, const std::string& source) {
  Cursor c(data, size, source);
  GgufHeader out;
  uint32_t magic = c.read<uint32_t>("magic");
  if (magic != kGgufMagic) {
    char m[5] = {};
    std::memcpy(m, &magic, 4);
    for (char& ch : m)
      if (ch && (ch < 32 || ch > 126)) ch = '?';
    throw_error(fmt::format("{}: not a GGUF file: magic is \"{}\", expected \"GGUF\"", source, m));
  }
  out.version = c.read<uint32_t>("version");
  if (out.version != 2 && out.version != 3) {
    if (out.version == 1)
      throw_error(source + ": GGUF version 1 is not supported (expected version 2 or 3; "
                           "convert the file with a current llama.cpp)");
    if ((out.version & 0xffff) == 0)
      throw_error(fmt::format("{}: GGUF version field {:#x} looks big-endian; only "
                              "little-endian GGUF is supported",
                              source, out.version));
    throw_error(fmt::format("{}: unsupported GGUF version {} (expected 2 or 3)", source,
                            out.version));
  }
  uint64_t tensor_count = c.read<uint64_t>("tensor count");
  uint64_t kv_count = c.read<uint64_t>("metadata count");
  // A key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at
  // least 8 + 4 + 4 + 8 bytes.
  if (kv_count > c.left() / 13)
    c.fail(fmt::format("metadata count {} cannot fit in a {}-byte file (truncated file?)",
                       kv_count, size));
  if (tensor_count > c.left() / 24)
    c.fail(fmt::format("tensor count {} cannot fit in a {}-byte file (truncated file?)",
                       tensor_count, size));

  for (uint64_t i = 0; i < kv_count; ++i) {
    std::string key = c.read_string(fmt::format("metadata key #{}", i));
    std::string what = fmt::format("metadata key '{}'", key);
    GgufType type = read_type(c, what);
    GgufValue value = read_value(c, type, what, 0);
    if (!out.metadata.emplace(key, std::move(value)).second) c.fail(what + ": duplicate key");
  }

  if (auto it = out.metadata.find("general.alignment"); it != out.metadata.end()) {
    const GgufValue& a = it->second;
    if (a.type != GgufType::U32)
      c.fail(fmt::format("general.alignment must be UINT32, found {}", gguf_type_name(a.type)));
    uint64_t align = std::get<uint64_t>(a.scalar);
    if (align == 0 || (align & (align - 1)) != 0)
      c.fail(fmt::format("general.alignment {} is not a power of two", align));
    out.alignment = align;
  }

  struct Info {
    TensorView view;
    uint64_t offset;
  };
  std::vector<Info> infos;
  infos.reserve(static_cast<size_t>(tensor_count));
  std::set<std::string, std::less<>> names;
  for (uint64_t i = 0; i < tensor_count; ++i) {
    Info info;
    info.view.name = c.read_string(fmt::format("tensor #{} name", i));
    std::string what = fmt::format("tensor '{}'", info.view.name);
    if (!names.insert(info.view.name).second) c.fail(what + ": duplicate tensor name");
    uint32_t n_dims = c.read<uint32_t>(what + " dimension count");
    if (n_dims > kGgufMaxDims)
      c.fail(fmt::format("{}: {} dimensions, at most {} are allowed", what, n_dims, kGgufMaxDims));
    std::vector<int64_t> ne(n_dims);
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim = c.read<uint64_t>(what + " dimension");
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        c.fail(fmt::format("{}: dimension {} is too large", what, dim));
      ne[d] = static_cast<int64_t>(dim);
    }
    info.view.shape.assign(ne.rbegin(), ne.rend());  // GGUF is innermost-first
    uint32_t raw_type = c.read<uint32_t>(what + " type");
    if (!dtype_is_known(raw_type))
      c.fail(fmt::format("{}: unknown or unsupported tensor type {}", what, raw_type));
    info.view.dtype = static_cast<DType>(raw_type);
    info.offset = c.read<uint64_t>(what + " offset");
    if (info.offset % out.alignment != 0)
      c.fail(fmt::format("{}: data offset {} is not a multiple of the alignment {}", what,
                         info.offset, out.alignment));
    info.view.nbytes = checked_tensor_bytes(info.view.dtype, info.view.shape,
                                            fmt::format("{}: GGUF {}", source, what));
    infos.push_back(std::move(info));
  }

  const uint64_t data_start = align_up(c.pos(), out.alignment);
  const uint64_t data_size = size > data_start ? size - data_start : 0;
  if (!infos.empty() && data_start > size)
    c.fail(fmt::format("data section would start at byte {} past the end of the {}-byte file",
                       data_start, size));

  std::vector<const Info*> by_offset;
  for (const Info& info : infos) {
    if (info.offset > data_size || info.view.nbytes > data_size - info.offset)
      throw_error(fmt::format("{}: GGUF tensor '{}': data [{}, +{}) runs past the end of the "
                              "{}-byte data section (truncated file?)",
                              source, info.view.name, info.offset, info.view.nbytes, data_size));
    if (info.view.nbytes) by_offset.push_back(&info);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Info* a, const Info* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const Info& p = *by_offset[i - 1];
    const Info& q = *by_offset[i];
    if (q.offset < p.offset + p.view.nbytes)
      throw_error(fmt::format("{}: GGUF tensors '{}' [{}, {}) and '{}' [{}, {}) overlap", source,
                              p.view.name, p.offset, p.offset + p.view.nbytes, q.view.name,
                              q.offset, q.offset + q.view.nbytes));
  }

  out.tensors.reserve(infos.size());
  for (Info& info : infos) {
    info.view.data = data + data_start + info.offset;
    out.tensors.push_back(std::move(info.view));
  }
  return out;
}

GgufFile::GgufFile(const std::string& path) : file_(path) {
  header_ = parse_gguf(file_.data(), file_.size(), path);
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_.emplace(header_.tensors[i].name, i);
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = header_.metadata.find(std::string(key));
  return it == header_.metadata.end() ? nullptr : &it->second;
}

const TensorView* GgufFile::find_tensor(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

namespace {
template <typename F>
auto with_key_context(const std::string& path, std::string_view key, F&& f) {
  try {
    return f();
  } catch (const Error& e) {
    throw_error(fmt::format("{}: metadata key '{}': {}", path, key, e.what()));
  }
}
}  // namespace

std::string GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) throw_error(fmt::format("{}: required GGUF metadata key '{}' is missing", path(), key));
  return with_key_context(path(), key, [&] { return v->as_string(); });
}

int64_t GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) throw_error(fmt::format("{}: required GGUF metadata key '{}' is missing", path(), key));
  return with_key_context(path(), key, [&] { return v->as_int(); });
}

int64_t GgufFile::get_int_or(std::string_view key, int64_t fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  return with_key_context(path(), key, [&] { return v->as_int(); });
}

double GgufFile::get_float_or(std::string_view key, double fallback) const {
  const GgufValue* v = find(key);
  if (!v) return fallback;
  return with_key_context(path(), key, [&] { return v->as_float(); });
}

}  // namespace lmkit
