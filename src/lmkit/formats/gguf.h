// GGUF (version 2 and 3) reader and writer. The reader memory-maps the file and validates the
// header, metadata and tensor table before handing out tensors that point into the mapping.
// Shapes are reversed to outermost-first (see tensor.h).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lmkit/base/mmap_file.h"
#include "lmkit/tensor/tensor.h"

namespace lmkit {

// GGUF metadata value types, numbered as in the file format.
enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

struct GgufValue {
  GgufType type = GgufType::U32;
  // Scalars are held widened; strings as std::string; arrays as element type + values.
  std::variant<uint64_t, int64_t, double, bool, std::string> scalar;
  GgufType array_type = GgufType::U32;
  std::vector<GgufValue> array;

  bool is_array() const { return type == GgufType::ARRAY; }
  // These throw lmkit::Error when the value has another type.
  std::string as_string() const;
  int64_t as_int() const;       // any integer type
  double as_float() const;      // any numeric type
  bool as_bool() const;
  std::vector<std::string> as_strings() const;  // ARRAY of STRING
  std::vector<float> as_floats() const;         // ARRAY of numbers
  std::vector<int64_t> as_ints() const;         // ARRAY of integers
};

struct GgufHeader {
  uint32_t version = 3;
  std::map<std::string, GgufValue> metadata;
  std::vector<TensorView> tensors;  // in file order
  uint64_t alignment = 32;
};

// Parses and validates a whole GGUF image held in memory; `source` names it in errors.
GgufHeader parse_gguf(const uint8_t* data, size_t size, const std::string& source);

class GgufFile {
 public:
  explicit GgufFile(const std::string& path);
  const std::string& path() const { return file_.path(); }
  uint32_t version() const { return header_.version; }
  const std::map<std::string, GgufValue>& metadata() const { return header_.metadata; }
  const GgufValue* find(std::string_view key) const;
  // Typed look-ups: the `_or` forms return the fallback when the key is absent and throw when
  // it is present with the wrong type; the plain forms throw (naming the key) when absent.
  std::string get_string(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  int64_t get_int_or(std::string_view key, int64_t fallback) const;
  double get_float_or(std::string_view key, double fallback) const;
  const std::vector<TensorView>& tensors() const { return header_.tensors; }
  const TensorView* find_tensor(std::string_view name) const;

 private:
  MmapFile file_;
  GgufHeader header_;
  std::map<std::string, size_t, std::less<>> index_;  // tensor name -> position in tensors
};

// Builds a GGUF file: metadata in insertion order, then tensors (aligned). Used by
// `lmkit quantize` and by tests that need hostile or synthetic files.
class GgufWriter {
 public:
  void set(const std::string& key, GgufValue value);
  void set_string(const std::string& key, const std::string& value);
  void set_u32(const std::string& key, uint32_t value);
  void set_i32(const std::string& key, int32_t value);
  void set_f32(const std::string& key, float value);
  void set_bool(const std::string& key, bool value);
  void set_strings(const std::string& key, const std::vector<std::string>& values);
  void set_floats(const std::string& key, const std::vector<float>& values);
  void set_i32s(const std::string& key, const std::vector<int32_t>& values);
  // shape is outermost-first, like TensorView. The data is copied here, so the caller's
  // buffer may go away before write(); write() then streams the copies to disk.
  void add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                  const void* data, size_t nbytes);
  void write(const std::string& path) const;
  std::vector<uint8_t> to_bytes() const;

 private:
  std::vector<std::pair<std::string, GgufValue>> kv_;
  struct PendingTensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  uint64_t alignment() const;
  std::vector<uint8_t> header_bytes(uint64_t alignment) const;  // up to the data section
  std::vector<PendingTensor> tensors_;
};

}  // namespace lmkit
