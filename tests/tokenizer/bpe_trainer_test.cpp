// The byte-level BPE trainer against Hugging Face's BpeTrainer: the golden output in
// shared/data/tokenizers/hf_trained_sample_32k was produced by the Rust crate from
// shared/data/corpus/sample.jsonl with the settings used here.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lmkit/tokenizer/train/bpe_trainer.h"
#include "lmkit/tokenizer/train/corpus_word_count.h"
#include "lmkit/tokenizer/train/tokenizer_files.h"
#include "support/test_data.h"

namespace lmkit::bpe_train {
namespace {

const std::vector<std::string> kSpecials = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};

// Trained once for all the tests that compare with the golden files.
const TrainedBpe& sample_model() {
  static const TrainedBpe model = [] {
    CorpusOptions corpus;
    corpus.files = {testing::data_path("corpus/sample.jsonl")};
    corpus.threads = 2;
    corpus.block_bytes = 256 << 10;  // several blocks, so the parallel path is exercised
    CorpusStats stats;
    WordCounts words = count_corpus_words(corpus, byte_level_pre_tokenizer(), stats);
    EXPECT_EQ(stats.sequences, 5153u);
    EXPECT_EQ(stats.skipped_lines, 0u);
    BpeTrainerOptions options;
    options.vocab_size = 32000;
    options.special_tokens = kSpecials;
    return train_bpe(words, options);
  }();
  return model;
}

nlohmann::json golden_tokenizer() {
  return nlohmann::json::parse(
      testing::read_file_maybe_gz(testing::data_path("tokenizers/hf_trained_sample_32k/tokenizer.json")));
}

TEST(BpeTrainer, VocabularyMatchesHuggingFaceOnSample) {
  const TrainedBpe& model = sample_model();
  const auto golden = golden_tokenizer();
  const auto& vocab = golden["model"]["vocab"];
  ASSERT_EQ(model.tokens.size(), vocab.size());
  size_t mismatches = 0;
  for (const auto& [text, id] : vocab.items()) {
    size_t i = id.get<size_t>();
    ASSERT_LT(i, model.tokens.size());
    if (token_text(model, i) != text && ++mismatches <= 10)
      ADD_FAILURE() << "id " << i << ": lmkit has \"" << token_text(model, i)
                    << "\", Hugging Face \"" << text << "\"";
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(BpeTrainer, MergesMatchHuggingFaceOnSampleInOrder) {
  const TrainedBpe& model = sample_model();
  const auto golden = golden_tokenizer();
  const auto& merges = golden["model"]["merges"];
  ASSERT_EQ(model.merges.size(), merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string left = token_text(model, model.merges[i].left);
    const std::string right = token_text(model, model.merges[i].right);
    ASSERT_EQ(left + " " + right, merges[i][0].get<std::string>() + " " + merges[i][1].get<std::string>())
        << "merge " << i;
  }
}

TEST(BpeTrainer, WritesFilesIdenticalToHuggingFace) {
  const TrainedBpe& model = sample_model();
  const std::string dir = testing::data_path("tokenizers/hf_trained_sample_32k");
  EXPECT_TRUE(tokenizer_json(model) == testing::read_file_maybe_gz(dir + "/tokenizer.json"))
      << "tokenizer.json differs from the one Hugging Face wrote";
  EXPECT_TRUE(merges_txt(model) == testing::read_file_maybe_gz(dir + "/merges.txt"))
      << "merges.txt differs from the one Hugging Face's trainer wrote";
  auto golden_config = nlohmann::json::parse(testing::read_file_maybe_gz(dir + "/tokenizer_config.json"));
  TokenizerConfigOptions options;
  options.chat_template = golden_config["chat_template"].get<std::string>();
  EXPECT_EQ(nlohmann::json::parse(tokenizer_config_json(model, options)), golden_config);
}

}  // namespace
}  // namespace lmkit::bpe_train
