#include "lmkit/formats/hf_weights.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "lmkit/base/error.h"
#include "lmkit/formats/safetensors.h"

namespace lmkit {

namespace fs = std::filesystem;

struct WeightSet::Impl {
  std::string path;
  std::vector<std::string> files;
  std::vector<std::unique_ptr<SafetensorsFile>> shards;
  struct Entry {
    const TensorView* view;
    size_t shard;
  };
  std::map<std::string, Entry, std::less<>> by_name;

  void add_file(const std::string& file) {
    auto st = std::make_unique<SafetensorsFile>(file);
    size_t shard = shards.size();
    for (const TensorView& t : st->tensors()) {
      auto [it, inserted] = by_name.emplace(t.name, Entry{&t, shard});
      if (!inserted)
        throw_error(fmt::format("{}: tensor '{}' is stored in both {} and {}", path, t.name,
                                files[it->second.shard], file));
    }
    files.push_back(file);
    shards.push_back(std::move(st));
  }

  void open_index(const fs::path& index_path) {
    const std::string ip = index_path.string();
    nlohmann::json index;
    {
      std::ifstream in(index_path);
      if (!in) throw_error(fmt::format("cannot read '{}'", ip));
      index = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    }
    if (index.is_discarded() || !index.is_object())
      throw_error(fmt::format("{}: not a JSON object", ip));
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      throw_error(fmt::format("{}: missing \"weight_map\" object (tensor name -> shard file)", ip));
    const nlohmann::json& map = index["weight_map"];
    if (map.empty()) throw_error(fmt::format("{}: \"weight_map\" is empty", ip));

    // Shards are opened in name order so files() and error messages are stable.
    std::set<std::string> shard_names;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it->is_string())
        throw_error(fmt::format("{}: weight_map entry for '{}' must be a file name string", ip,
                                it.key()));
      const std::string& shard = it->get_ref<const std::string&>();
      fs::path rel(shard);
      // A shard name comes from a downloaded file; it must not reach outside the model folder.
      if (shard.empty() || rel.is_absolute() || shard.find("..") != std::string::npos)
        throw_error(fmt::format("{}: weight_map entry for '{}' names an invalid shard file '{}'",
                                ip, it.key(), shard));
      shard_names.insert(shard);
    }
    const fs::path dir = index_path.parent_path();
    std::map<std::string, size_t> shard_index;
    for (const std::string& shard : shard_names) {
      fs::path file = dir / shard;
      if (!fs::exists(file))
        throw_error(fmt::format("{}: shard '{}' listed in the weight_map is missing (expected {})",
                                ip, shard, file.string()));
      shard_index[shard] = shards.size();
      add_file(file.string());
    }
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string& shard = it->get_ref<const std::string&>();
      auto found = by_name.find(it.key());
      if (found == by_name.end())
        throw_error(fmt::format("{}: tensor '{}' is mapped to '{}' but that file has no such "
                                "tensor",
                                ip, it.key(), shard));
      if (found->second.shard != shard_index[shard])
        throw_error(fmt::format("{}: tensor '{}' is mapped to '{}' but is stored in '{}'", ip,
                                it.key(), shard, files[found->second.shard]));
    }
  }
};

WeightSet::WeightSet(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  fs::path p(path);
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) {
    if (p.filename() == "model.safetensors.index.json")
      impl_->open_index(p);
    else
      impl_->add_file(path);
    return;
  }
  if (!fs::is_directory(p, ec))
    throw_error(fmt::format("model path '{}' does not exist", path));
  if (fs::exists(p / "model.safetensors.index.json"))
    impl_->open_index(p / "model.safetensors.index.json");
  else if (fs::exists(p / "model.safetensors"))
    impl_->add_file((p / "model.safetensors").string());
  else
    throw_error(fmt::format("{}: no model.safetensors or model.safetensors.index.json in this "
                            "folder (only safetensors weights are supported, not "
                            "pytorch_model.bin)",
                            path));
}

WeightSet::~WeightSet() = default;
WeightSet::WeightSet(WeightSet&&) noexcept = default;
WeightSet& WeightSet::operator=(WeightSet&&) noexcept = default;

const TensorView* WeightSet::find(std::string_view name) const {
  auto it = impl_->by_name.find(name);
  return it == impl_->by_name.end() ? nullptr : it->second.view;
}

const TensorView& WeightSet::get(std::string_view name) const {
  if (const TensorView* t = find(name)) return *t;
  std::string searched;
  for (const std::string& f : impl_->files) {
    if (!searched.empty()) searched += ", ";
    searched += fs::path(f).filename().string();
  }
  throw_error(fmt::format("{}: tensor '{}' not found (searched {})", impl_->path, name, searched));
}

const std::string& WeightSet::file_of(std::string_view name) const {
  static const std::string kNone;
  auto it = impl_->by_name.find(name);
  return it == impl_->by_name.end() ? kNone : impl_->files[it->second.shard];
}

std::vector<const TensorView*> WeightSet::tensors() const {
  std::vector<const TensorView*> out;
  out.reserve(impl_->by_name.size());
  for (const auto& [name, e] : impl_->by_name) out.push_back(e.view);
  return out;
}

const std::vector<std::string>& WeightSet::files() const { return impl_->files; }
const std::string& WeightSet::path() const { return impl_->path; }

}  // namespace lmkit
