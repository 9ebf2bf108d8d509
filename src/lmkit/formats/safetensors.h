// safetensors reader: the file is memory-mapped and tensors point into the mapping (zero
// copy). The header is validated completely before any tensor is handed out: offsets inside
// the data section, no overlaps, byte size equal to shape x dtype, known dtypes only.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lmkit/base/mmap_file.h"
#include "lmkit/tensor/tensor.h"

namespace lmkit {

struct SafetensorsHeader {
  std::vector<TensorView> tensors;  // data pointers into the parsed buffer, sorted by offset
  std::map<std::string, std::string> metadata;  // "__metadata__"
};

// Parses and validates a whole safetensors image held in memory. `source` names it in errors.
// Throws lmkit::Error on any inconsistency. Used by SafetensorsFile and by the fuzz target.
SafetensorsHeader parse_safetensors(const uint8_t* data, size_t size, const std::string& source);

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);
  const std::string& path() const { return file_.path(); }
  const std::vector<TensorView>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const TensorView* find(std::string_view name) const;

 private:
  MmapFile file_;
  SafetensorsHeader header_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in header_.tensors
};

// Writes tensors as a safetensors file (header padded to 8 bytes, tensors in the given order).
struct TensorToWrite {
  std::string name;
  DType dtype;  // F32, F16, BF16, I32, I64, I8
  std::vector<int64_t> shape;
  const void* data;
  size_t nbytes;
};
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace lmkit
