// Loading a decoder from a Hugging Face directory or a GGUF file: parse the config, bind the
// named tensors (zero copy), keep the files mapped for as long as the model lives.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/formats/safetensors.h"
#include "lmkit/models/decoder.h"
#include "lmkit/models/model.h"

namespace lmkit {
namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_error(path.string() + ": cannot be read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::unique_ptr<CausalLM> load_causal_lm_from_hf_dir(const std::string& dir) {
  const fs::path root(dir);
  const fs::path config_path = root / "config.json";
  if (!fs::exists(config_path)) throw_error(dir + ": no config.json (not a Hugging Face model directory)");
  ModelConfig config = parse_hf_config(read_text(config_path), config_path.string());

  const fs::path single = root / "model.safetensors";
  if (!fs::exists(single)) {
    if (fs::exists(root / "model.safetensors.index.json"))
      throw_error(dir + ": sharded checkpoints (model.safetensors.index.json) are not supported yet");
    throw_error(dir + ": no model.safetensors");
  }
  auto file = std::make_shared<SafetensorsFile>(single.string());
  models::TensorFinder find = [&file](const std::string& name) { return file->find(name); };
  const auto naming = config.arch == Architecture::InternLM2 ? models::WeightNaming::InternLM2
                                                             : models::WeightNaming::HuggingFace;
  models::DecoderWeights weights = models::bind_weights(config, naming, find, single.string());
  weights.owners.push_back(file);
  return models::make_decoder(std::move(config), std::move(weights));
}

std::unique_ptr<CausalLM> load_causal_lm_from_gguf(std::shared_ptr<const GgufFile> gguf) {
  if (!gguf) throw_error("load_causal_lm_from_gguf: no file");
  ModelConfig config = config_from_gguf(*gguf);
  models::TensorFinder find = [&gguf](const std::string& name) { return gguf->find_tensor(name); };
  models::DecoderWeights weights =
      models::bind_weights(config, models::WeightNaming::Gguf, find, gguf->path());
  weights.owners.push_back(gguf);
  return models::make_decoder(std::move(config), std::move(weights));
}

}  // namespace lmkit
