// Loading a decoder from a Hugging Face directory or a GGUF file: parse the config, bind the
// named tensors (zero copy), keep the files mapped for as long as the model lives.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/formats/hf_weights.h"
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

  // Single file or shards (model.safetensors.index.json); all stay mapped with the model.
  auto set = std::make_shared<WeightSet>(dir);
  const std::string source = set->files().size() == 1 ? set->files().front() : set->path();
  models::TensorFinder find = [&set](const std::string& name) { return set->find(name); };
  const auto naming = config.arch == Architecture::InternLM2 ? models::WeightNaming::InternLM2
                                                             : models::WeightNaming::HuggingFace;
  models::DecoderWeights weights = models::bind_weights(config, naming, find, source);
  weights.owners.push_back(set);
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
