// Trainer rules on small word counts: Hugging Face's own unit-test example, min_frequency,
// and the option errors.
#include <gtest/gtest.h>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/train/bpe_trainer.h"
#include "lmkit/tokenizer/train/tokenizer_files.h"
#include "lmkit/tokenizer/train/word_counts.h"

namespace lmkit::bpe_train {
namespace {

// The word counts of tokenizers/src/models/bpe/trainer.rs's test_train.
WordCounts roses_are_red() {
  WordCounts w;
  for (auto [word, n] : std::vector<std::pair<const char*, int>>{
           {"roses", 1}, {"are", 2}, {"red", 1}, {"voilets", 1}, {"blue", 1}, {"BERT", 1},
           {"is", 2}, {"big", 1}, {"and", 1}, {"so", 1}, {"GPT-2", 1}})
    w.add(word, static_cast<uint64_t>(n));
  return w;
}

std::vector<std::string> texts(const TrainedBpe& m) {
  std::vector<std::string> out;
  for (size_t i = 0; i < m.tokens.size(); ++i) out.push_back(token_text(m, i));
  return out;
}

std::string expect_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no lmkit::Error thrown";
  return "";
}

TEST(BpeTrainerRules, HuggingFaceUnitTestExample) {
  // trainer.rs expects the 22 characters sorted, then "re", "are", "is" with min_frequency 2,
  // and no initial alphabet.
  BpeTrainerOptions options;
  options.min_frequency = 2;
  options.full_byte_alphabet = false;
  options.vocab_size = 30000;
  TrainedBpe m = train_bpe(roses_are_red(), options);
  std::vector<std::string> expected = {"-", "2", "B", "E", "G", "P", "R", "T", "a", "b", "d",
                                       "e", "g", "i", "l", "n", "o", "r", "s", "t", "u", "v",
                                       "re", "are", "is"};
  EXPECT_EQ(texts(m), expected);
  ASSERT_EQ(m.merges.size(), 3u);
  EXPECT_EQ(m.merges[0].left, 17);  // r + e -> re
  EXPECT_EQ(m.merges[0].right, 11);
  EXPECT_EQ(m.merges[0].result, 22);
  EXPECT_EQ(m.merges[1].left, 8);  // a + re -> are
  EXPECT_EQ(m.merges[1].right, 22);
  EXPECT_EQ(m.merges[2].left, 13);  // i + s -> is
  EXPECT_EQ(m.merges[2].right, 18);
}

TEST(BpeTrainerRules, MinFrequencyStopsAtTheFirstRarerPair) {
  BpeTrainerOptions options;
  options.full_byte_alphabet = false;
  options.min_frequency = 3;  // "re" occurs 3 times (are x2, red); every later pair at most 2
  EXPECT_EQ(train_bpe(roses_are_red(), options).merges.size(), 1u);
  options.min_frequency = 0;  // every pair that occurs at all
  EXPECT_GT(train_bpe(roses_are_red(), options).merges.size(), 3u);
}

TEST(BpeTrainerRules, StopsAtVocabSize) {
  BpeTrainerOptions options;
  options.full_byte_alphabet = false;
  options.vocab_size = 24;  // 22 characters + 2 merges
  TrainedBpe m = train_bpe(roses_are_red(), options);
  EXPECT_EQ(m.tokens.size(), 24u);
  EXPECT_EQ(m.merges.size(), 2u);
}

TEST(BpeTrainerRules, SpecialTokensComeFirstAndAlphabetIsAllBytes) {
  BpeTrainerOptions options;
  options.special_tokens = {"<s>", "</s>"};
  options.vocab_size = 300;
  TrainedBpe m = train_bpe(roses_are_red(), options);
  EXPECT_EQ(m.special_count, 2u);
  EXPECT_EQ(token_text(m, 0), "<s>");
  EXPECT_EQ(token_text(m, 1), "</s>");
  EXPECT_EQ(token_text(m, 2), "!");      // lowest byte-level code point
  EXPECT_EQ(token_text(m, 2 + 188), "Ā");  // byte 0 comes after the 188 printable bytes
  EXPECT_EQ(token_text(m, 257), "Ń");    // the last of the 256
}

TEST(BpeTrainerRules, VocabSmallerThanAlphabetIsAnError) {
  BpeTrainerOptions options;
  options.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  options.vocab_size = 258;
  std::string msg = expect_error([&] { train_bpe(roses_are_red(), options); });
  EXPECT_NE(msg.find("vocab size 258"), std::string::npos) << msg;
  EXPECT_NE(msg.find("alphabet"), std::string::npos) << msg;
  options.vocab_size = 259;  // exactly the alphabet: allowed, no merges
  EXPECT_EQ(train_bpe(roses_are_red(), options).merges.size(), 0u);
}

TEST(BpeTrainerRules, VocabSmallerThanSeenAlphabetIsAnError) {
  BpeTrainerOptions options;
  options.full_byte_alphabet = false;
  options.vocab_size = 10;  // the words use 22 characters
  std::string msg = expect_error([&] { train_bpe(roses_are_red(), options); });
  EXPECT_NE(msg.find("22"), std::string::npos) << msg;
}

TEST(BpeTrainerRules, DuplicatedSpecialTokenIsAnError) {
  BpeTrainerOptions options;
  options.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|endoftext|>"};
  std::string msg = expect_error([&] { validate_bpe_trainer_options(options); });
  EXPECT_NE(msg.find("\"<|endoftext|>\" is given twice"), std::string::npos) << msg;
  expect_error([&] { train_bpe(roses_are_red(), options); });
}

TEST(BpeTrainerRules, EmptyOrInvalidSpecialTokenIsAnError) {
  BpeTrainerOptions options;
  options.special_tokens = {""};
  EXPECT_NE(expect_error([&] { validate_bpe_trainer_options(options); }).find("empty"),
            std::string::npos);
  options.special_tokens = {"\xff"};
  EXPECT_NE(expect_error([&] { validate_bpe_trainer_options(options); }).find("UTF-8"),
            std::string::npos);
}

TEST(BpeTrainerRules, NoWordsIsAnError) {
  BpeTrainerOptions options;
  std::string msg = expect_error([&] { train_bpe(WordCounts(), options); });
  EXPECT_NE(msg.find("no words"), std::string::npos) << msg;
}

TEST(BpeTrainerRules, RepeatedSymbolsMergeLeftToRight) {
  // "aaaa" x1: (a,a) has count 3 in one word; merging gives "aa aa", then (aa,aa).
  WordCounts w;
  w.add("aaaa");
  BpeTrainerOptions options;
  options.full_byte_alphabet = false;
  TrainedBpe m = train_bpe(w, options);
  EXPECT_EQ(texts(m), (std::vector<std::string>{"a", "aa", "aaaa"}));
}

TEST(BpeTrainerRules, MergeSpellingAnExistingTokenReusesItsId) {
  // Hugging Face keeps one string-to-id map: a merge whose string is already a token (here
  // the special token "ab") gets that id and the vocabulary does not grow.
  WordCounts w;
  w.add("abc", 3);
  BpeTrainerOptions options;
  options.full_byte_alphabet = false;
  options.special_tokens = {"ab"};
  TrainedBpe m = train_bpe(w, options);
  EXPECT_EQ(texts(m), (std::vector<std::string>{"ab", "a", "b", "c", "abc"}));
  ASSERT_EQ(m.merges.size(), 2u);
  EXPECT_EQ(m.merges[0].left, 1);  // (a, b) ties with (b, c) at 3 and is the smaller pair
  EXPECT_EQ(m.merges[0].right, 2);
  EXPECT_EQ(m.merges[0].result, 0);
  EXPECT_EQ(m.merges[1].left, 0);
  EXPECT_EQ(m.merges[1].right, 3);
  EXPECT_EQ(m.merges[1].result, 4);
}

TEST(TokenizerConfig, UnknownEosTokenIsAnError) {
  BpeTrainerOptions options;
  options.full_byte_alphabet = false;
  TrainedBpe m = train_bpe(roses_are_red(), options);
  TokenizerConfigOptions config;
  config.eos_token = "</s>";
  std::string msg = expect_error([&] { tokenizer_config_json(m, config); });
  EXPECT_NE(msg.find("eos_token \"</s>\""), std::string::npos) << msg;
}

}  // namespace
}  // namespace lmkit::bpe_train
