// Every public golden vector of the byte-level and SentencePiece-style BPE tokenizers in
// shared/data/tokenizers, produced by Hugging Face `tokenizers` 0.23.2.
#include <gtest/gtest.h>

#include "golden_check.h"
#include "lmkit/tokenizer/tokenizer.h"
#include "support/test_data.h"

namespace lmkit {
namespace {

class GoldenVectors : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenVectors, MatchHuggingFace) {
  std::string dir = testing::data_path("tokenizers/" + GetParam());
  std::string text = testing::read_file_maybe_gz(dir + "/tokenizer.json");
  auto tok = Tokenizer::from_json(text, dir + "/tokenizer.json");
  EXPECT_GT(testing::check_golden_vectors(*tok, dir + "/vectors.jsonl"), 90);
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
