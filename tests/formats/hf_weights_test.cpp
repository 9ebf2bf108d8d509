// WeightSet over single-file and sharded Hugging Face weight folders. The sharded folder is
// made here by splitting llama-tiny's tensors over two files with an index, the way
// transformers' save_pretrained(max_shard_size=...) lays it out.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/formats/hf_weights.h"
#include "lmkit/formats/safetensors.h"
#include "support/test_data.h"

namespace lmkit {
namespace {

namespace fs = std::filesystem;
using testing::data_path;
using testing::temp_dir;

std::string llama_dir() { return data_path("models/llama-tiny"); }

// Splits llama-tiny into two shards; returns the folder. `edit` may alter the index JSON.
std::string make_sharded(const std::function<void(nlohmann::json&)>& edit = {}) {
  static int counter = 0;
  std::string dir = temp_dir() + "/sharded" + std::to_string(counter++);
  fs::create_directories(dir);
  SafetensorsFile src(llama_dir() + "/model.safetensors");
  std::vector<TensorToWrite> a, b;
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  size_t i = 0;
  for (const TensorView& t : src.tensors()) {
    bool first = i++ % 2 == 0;
    (first ? a : b).push_back({t.name, t.dtype, t.shape, t.data, t.nbytes});
    index["weight_map"][t.name] =
        first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  write_safetensors(dir + "/model-00001-of-00002.safetensors", a, {{"format", "pt"}});
  write_safetensors(dir + "/model-00002-of-00002.safetensors", b, {{"format", "pt"}});
  if (edit) edit(index);
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump(2);
  return dir;
}

void expect_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(WeightSet, SingleFileFolder) {
  WeightSet w(llama_dir());
  SafetensorsFile src(llama_dir() + "/model.safetensors");
  EXPECT_EQ(w.files().size(), 1u);
  EXPECT_EQ(w.tensors().size(), src.tensors().size());
  ASSERT_EQ(w.get("model.norm.weight").nbytes, src.find("model.norm.weight")->nbytes);
  EXPECT_EQ(std::memcmp(w.get("model.norm.weight").data, src.find("model.norm.weight")->data,
                        src.find("model.norm.weight")->nbytes),
            0);
  EXPECT_EQ(w.get("model.norm.weight").shape, (std::vector<int64_t>{64}));
}

TEST(WeightSet, ShardedFolderFindsTensorsAcrossShards) {
  std::string dir = make_sharded();
  WeightSet w(dir);
  SafetensorsFile src(llama_dir() + "/model.safetensors");
  ASSERT_EQ(w.files().size(), 2u);
  ASSERT_EQ(w.tensors().size(), src.tensors().size());
  std::set<std::string> used;
  for (const TensorView& t : src.tensors()) {
    const TensorView& s = w.get(t.name);
    EXPECT_EQ(s.shape, t.shape);
    ASSERT_EQ(s.nbytes, t.nbytes);
    EXPECT_EQ(std::memcmp(s.data, t.data, t.nbytes), 0) << t.name;
    used.insert(w.file_of(t.name));
  }
  EXPECT_EQ(used.size(), 2u);
  // The index file itself is also accepted as the path.
  WeightSet via_index(dir + "/model.safetensors.index.json");
  EXPECT_EQ(via_index.tensors().size(), src.tensors().size());
}

TEST(WeightSet, MissingTensorNamesTensorAndFiles) {
  WeightSet w(make_sharded());
  EXPECT_EQ(w.find("lm_head.bias"), nullptr);
  expect_error([&] { w.get("lm_head.bias"); }, "tensor 'lm_head.bias' not found (searched "
                                               "model-00001-of-00002.safetensors, "
                                               "model-00002-of-00002.safetensors)");
}

TEST(WeightSet, BadFolders) {
  std::string empty = temp_dir() + "/empty-model";
  fs::create_directories(empty);
  expect_error([&] { WeightSet w(empty); }, "no model.safetensors or model.safetensors.index.json");
  expect_error([&] { WeightSet w(temp_dir() + "/nope"); }, "does not exist");
}

TEST(WeightSet, BadIndex) {
  expect_error([] { WeightSet w(make_sharded([](nlohmann::json& j) { j.erase("weight_map"); })); },
               "missing \"weight_map\"");
  expect_error(
      [] {
        WeightSet w(make_sharded([](nlohmann::json& j) {
          j["weight_map"]["extra.weight"] = "model-00003-of-00002.safetensors";
        }));
      },
      "shard 'model-00003-of-00002.safetensors' listed in the weight_map is missing");
  expect_error(
      [] {
        WeightSet w(make_sharded([](nlohmann::json& j) {
          j["weight_map"]["extra.weight"] = "model-00001-of-00002.safetensors";
        }));
      },
      "tensor 'extra.weight' is mapped to 'model-00001-of-00002.safetensors' but that file has "
      "no such tensor");
  expect_error(
      [] {
        WeightSet w(make_sharded([](nlohmann::json& j) {
          j["weight_map"]["model.norm.weight"] = "../../etc/passwd";
        }));
      },
      "invalid shard file '../../etc/passwd'");
  std::string dir = make_sharded();
  std::ofstream(dir + "/model.safetensors.index.json") << "{not json";
  expect_error([&] { WeightSet w(dir); }, "not a JSON object");
}

}  // namespace
}  // namespace lmkit
