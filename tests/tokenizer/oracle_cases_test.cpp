// Crafted tokenizer.json files (tests/tokenizer/data/oracle/*.tokenizer.json) exercising the
// WordPiece/BERT-family components, post-processors and truncation/padding, checked against
// what Hugging Face `tokenizers` 0.23.2 outputs for them (*.expected.jsonl, written by
// tests/tokenizer/oracle/make_cases.cjs).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string oracle_dir() { return std::string(LMKIT_SOURCE_DIR) + "/tests/tokenizer/data/oracle"; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  const std::string suffix = ".tokenizer.json";
  for (const auto& entry : fs::directory_iterator(oracle_dir())) {
    std::string f = entry.path().filename().string();
    if (f.size() > suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0)
      names.push_back(f.substr(0, f.size() - suffix.size()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::pair<uint32_t, uint32_t>> offsets_of(const json& j) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const json& o : j) out.emplace_back(o[0].get<uint32_t>(), o[1].get<uint32_t>());
  return out;
}

class OracleCases : public ::testing::TestWithParam<std::string> {};

TEST_P(OracleCases, MatchHuggingFace) {
  std::string base = oracle_dir() + "/" + GetParam();
  auto tok = Tokenizer::from_file(base + ".tokenizer.json");
  std::istringstream lines(slurp(base + ".expected.jsonl"));
  std::string line;
  int checked = 0;
  while (std::getline(lines, line)) {
    json v = json::parse(line);
    if (v.contains("decode_ids")) {
      auto ids = v["decode_ids"].get<std::vector<int32_t>>();
      EXPECT_EQ(tok->decode(ids, v["skip_special_tokens"].get<bool>()), v["text"].get<std::string>())
          << "decoding " << v["decode_ids"].dump();
      ++checked;
      continue;
    }
    std::string text = v["text"];
    bool add = v["add_special_tokens"];
    bool is_pair = v.contains("pair");
    SCOPED_TRACE(std::string(add ? "with" : "without") + " special tokens: " + v.dump().substr(0, 160));
    auto run = [&] {
      return is_pair ? tok->encode_pair(text, v["pair"].get<std::string>(), add) : tok->encode_full(text, add);
    };
    if (v.contains("error")) {
      EXPECT_THROW(run(), Error) << "Hugging Face refuses this: " << v["error"].get<std::string>();
      ++checked;
      continue;
    }
    Encoding e = run();
    EXPECT_EQ(e.ids, v["ids"].get<std::vector<int32_t>>());
    EXPECT_EQ(e.tokens, v["tokens"].get<std::vector<std::string>>());
    EXPECT_EQ(e.offsets, offsets_of(v["offsets"]));
    EXPECT_EQ(e.type_ids, v["type_ids"].get<std::vector<uint32_t>>());
    EXPECT_EQ(e.special_tokens_mask, v["special_tokens_mask"].get<std::vector<uint8_t>>());
    EXPECT_EQ(e.attention_mask, v["attention_mask"].get<std::vector<uint8_t>>());
    EXPECT_EQ(e.sequence_ids, v["sequence_ids"].get<std::vector<int32_t>>());
    if (v.contains("decode_keep_special")) {
      EXPECT_EQ(tok->decode(e.ids, false), v["decode_keep_special"].get<std::string>());
      EXPECT_EQ(tok->decode(e.ids, true), v["decode_skip_special"].get<std::string>());
    }
    ++checked;
  }
  EXPECT_GT(checked, 60);
}

INSTANTIATE_TEST_SUITE_P(Crafted, OracleCases, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

TEST(OracleCasesSetup, AllCasesPresent) { EXPECT_GE(case_names().size(), 40u); }

}  // namespace
}  // namespace lmkit
