// Every public golden vector of the byte-level and SentencePiece-style BPE tokenizers in
// shared/data/tokenizers, produced by Hugging Face `tokenizers` 0.23.2.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "lmkit/tokenizer/tokenizer.h"
#include "support/test_data.h"

namespace lmkit {
namespace {

using nlohmann::json;

class GoldenVectors : public ::testing::TestWithParam<std::string> {};

std::vector<std::pair<uint32_t, uint32_t>> offsets_of(const json& j) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const json& o : j) out.emplace_back(o[0].get<uint32_t>(), o[1].get<uint32_t>());
  return out;
}

TEST_P(GoldenVectors, MatchHuggingFace) {
  std::string dir = testing::data_path("tokenizers/" + GetParam());
  std::string text = testing::read_file_maybe_gz(dir + "/tokenizer.json");
  auto tok = Tokenizer::from_json(text, dir + "/tokenizer.json");
  std::istringstream lines(testing::read_file_maybe_gz(dir + "/vectors.jsonl"));
  std::string line;
  int checked = 0;
  while (std::getline(lines, line)) {
    json v = json::parse(line);
    std::string input = v["text"];
    SCOPED_TRACE(v["id"].get<std::string>() + " (" + v["category"].get<std::string>() + "): " + input.substr(0, 80));
    if (v["category"] == "pair") {
      Encoding p = tok->encode_pair(input, v["pair"].get<std::string>(), true);
      EXPECT_EQ(p.ids, v["pair_ids"].get<std::vector<int32_t>>());
      EXPECT_EQ(p.tokens, v["pair_tokens"].get<std::vector<std::string>>());
      EXPECT_EQ(p.type_ids, v["pair_type_ids"].get<std::vector<uint32_t>>());
      EXPECT_EQ(p.offsets, offsets_of(v["pair_offsets"]));
    }
    Encoding plain = tok->encode_full(input, false);
    EXPECT_EQ(plain.ids, v["ids"].get<std::vector<int32_t>>());
    EXPECT_EQ(plain.tokens, v["tokens"].get<std::vector<std::string>>());
    EXPECT_EQ(plain.offsets, offsets_of(v["offsets"]));
    Encoding special = tok->encode_full(input, true);
    EXPECT_EQ(special.ids, v["ids_with_special"].get<std::vector<int32_t>>());
    EXPECT_EQ(special.tokens, v["tokens_with_special"].get<std::vector<std::string>>());
    EXPECT_EQ(special.offsets, offsets_of(v["offsets_with_special"]));
    EXPECT_EQ(special.special_tokens_mask, v["special_tokens_mask"].get<std::vector<uint8_t>>());
    EXPECT_EQ(tok->decode(special.ids, false), v["decode_keep_special"].get<std::string>());
    EXPECT_EQ(tok->decode(special.ids, true), v["decode_skip_special"].get<std::string>());
    ++checked;
  }
  EXPECT_GT(checked, 90);
}

INSTANTIATE_TEST_SUITE_P(Bpe, GoldenVectors,
                         ::testing::Values("qwen3", "llama3", "llama2", "deepseek_v3",
                                           "hf_trained_32k", "hf_trained_sample_32k"),
                         [](const auto& info) { return info.param; });
// SentencePiece-style: gemma3 (BPE, 262k vocabulary) and t5 (Unigram, Precompiled, Metaspace).
INSTANTIATE_TEST_SUITE_P(SentencePiece, GoldenVectors, ::testing::Values("gemma3", "t5"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(WordPiece, GoldenVectors, ::testing::Values("bert-base-uncased", "bert-base-chinese"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace lmkit
