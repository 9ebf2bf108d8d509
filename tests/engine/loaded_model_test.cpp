// load_model on a Hugging Face directory: the tokenizer it brings encodes prompts as
// transformers does, so truncation and padding set in tokenizer.json never cut or pad a prompt.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "lmkit/engine/loaded_model.h"
#include "lmkit/tokenizer/tokenizer.h"
#include "support/test_data.h"

namespace lmkit {
namespace {

namespace fs = std::filesystem;

// llama-tiny's weights beside a word-level tokenizer.json that truncates to 3 tokens and pads
// to 8.
std::string model_dir_with_truncating_tokenizer() {
  fs::path dir = fs::path(testing::temp_dir()) / "llama-tiny-truncating";
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors"}) {
    fs::path link = dir / f;
    if (!fs::exists(link)) fs::create_symlink(testing::data_path(std::string("models/llama-tiny/") + f), link);
  }
  nlohmann::json vocab = {{"[UNK]", 0}, {"[PAD]", 1}};
  for (const char* w : {"a", "b", "c", "d", "e", "f"}) vocab[w] = static_cast<int>(vocab.size());
  nlohmann::json tok = {
      {"version", "1.0"},
      {"truncation", {{"max_length", 3}, {"stride", 0}, {"strategy", "LongestFirst"}, {"direction", "Right"}}},
      {"padding", {{"strategy", {{"Fixed", 8}}}, {"direction", "Right"}, {"pad_to_multiple_of", nullptr},
                   {"pad_id", 1}, {"pad_type_id", 0}, {"pad_token", "[PAD]"}}},
      {"added_tokens", nlohmann::json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
      {"post_processor", nullptr},
      {"decoder", nullptr},
      {"model", {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", "[UNK]"}}}};
  std::ofstream(dir / "tokenizer.json") << tok.dump();
  return dir.string();
}

TEST(LoadedModel, PromptsAreNeitherTruncatedNorPadded) {
  std::string dir = model_dir_with_truncating_tokenizer();
  // The file really does truncate and pad when used on its own ...
  auto raw = Tokenizer::from_file(dir + "/tokenizer.json");
  EXPECT_EQ(raw->encode("a b c d e", false), (std::vector<int32_t>{2, 3, 4, 1, 1, 1, 1, 1}));
  // ... but the model's tokenizer encodes the whole prompt, as transformers does.
  engine::LoadedModel m = engine::load_model(dir);
  EXPECT_EQ(m.tokenize("a b c d e"), (std::vector<int32_t>{2, 3, 4, 5, 6}));
}

}  // namespace
}  // namespace lmkit
