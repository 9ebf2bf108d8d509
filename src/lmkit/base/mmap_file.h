// A read-only memory-mapped file. Model weights are used in place from the mapping
// (zero copy), so loading a model does not need its size twice in memory.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace lmkit {

class MmapFile {
 public:
  MmapFile() = default;
  // Throws lmkit::Error naming the path if it cannot be opened or mapped.
  explicit MmapFile(const std::string& path);
  ~MmapFile();
  MmapFile(MmapFile&& other) noexcept;
  MmapFile& operator=(MmapFile&& other) noexcept;
  MmapFile(const MmapFile&) = delete;
  MmapFile& operator=(const MmapFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void release();
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace lmkit
