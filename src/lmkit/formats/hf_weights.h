// The weights of a Hugging Face model directory: model.safetensors, or the shards listed in
// model.safetensors.index.json ("weight_map": tensor name -> shard file). All files stay
// memory-mapped for the life of the WeightSet, so the views it hands out stay valid.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lmkit/tensor/tensor.h"

namespace lmkit {

class WeightSet {
 public:
  // `path` is a model directory or a single .safetensors file. Throws lmkit::Error if the
  // directory has neither model.safetensors nor model.safetensors.index.json, if the index is
  // malformed or names a shard that is missing or lacks a tensor it maps to it, or if a tensor
  // appears in two files.
  explicit WeightSet(const std::string& path);
  ~WeightSet();
  WeightSet(WeightSet&&) noexcept;
  WeightSet& operator=(WeightSet&&) noexcept;

  // nullptr when absent (e.g. a tied lm_head that transformers did not save).
  const TensorView* find(std::string_view name) const;
  // Throws lmkit::Error naming the tensor and the file(s) searched when absent.
  const TensorView& get(std::string_view name) const;
  // The file that holds `name` (for error messages), or "" when absent.
  const std::string& file_of(std::string_view name) const;
  // All tensors, sorted by name.
  std::vector<const TensorView*> tensors() const;
  // The safetensors files opened, in a stable order.
  const std::vector<std::string>& files() const;
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmkit
