// Reading training corpora: JSONL records and text lines, streamed in blocks over several
// threads, bad lines counted and reported, empty corpora rejected.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/train/corpus_word_count.h"
#include "lmkit/tokenizer/train/train_from_corpus.h"
#include "support/test_data.h"

namespace lmkit::bpe_train {
namespace {

std::string write_temp(const std::string& name, const std::string& content) {
  std::string path = testing::temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::map<std::string, uint64_t> as_map(const WordCounts& w) {
  std::map<std::string, uint64_t> m;
  w.for_each([&](std::string_view word, uint64_t n) { m[std::string(word)] = n; });
  return m;
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

TEST(TrainCorpus, JsonlFieldIsPreTokenizedIntoByteLevelWords) {
  CorpusOptions o;
  o.files = {write_temp("a.jsonl",
                        "{\"text\": \"Hello world\", \"id\": 1}\n"
                        "{\"id\": 2, \"text\": \"hello  world\\n\u4f60\u597d\"}\n")};
  CorpusStats stats;
  auto m = as_map(count_corpus_words(o, byte_level_pre_tokenizer(), stats));
  std::map<std::string, uint64_t> expected = {
      {"Hello", 1}, {" world", 2}, {"hello", 1}, {" ", 1}, {"\n", 1}, {"\u4f60\u597d", 1}};
  EXPECT_EQ(m, expected);
  EXPECT_EQ(stats.sequences, 2u);
  EXPECT_EQ(stats.words, 7u);
  EXPECT_EQ(stats.skipped_lines, 0u);
}

TEST(TrainCorpus, TextLinesKeepTheirNewline) {
  CorpusOptions o;
  o.files = {write_temp("a.txt", "ab ab\nab\n\nlast")};
  CorpusStats stats;
  auto m = as_map(count_corpus_words(o, byte_level_pre_tokenizer(), stats));
  std::map<std::string, uint64_t> expected = {{"ab", 2}, {" ab", 1}, {"\n", 3}, {"last", 1}};
  EXPECT_EQ(m, expected);
  EXPECT_EQ(stats.sequences, 4u);
}

TEST(TrainCorpus, BadJsonLinesAreCountedAndReportedNotFatal) {
  CorpusOptions o;
  o.files = {write_temp("bad.jsonl",
                        "{\"text\": \"good one\"}\n"
                        "not json at all\n"
                        "\n"
                        "{\"body\": \"no text field\"}\n"
                        "{\"text\": 42}\n"
                        "[\"text\"]\n"
                        "{\"text\": \"good two\"}\n"
                        "{\"text\": \"truncated\n")};
  CorpusStats stats;
  auto m = as_map(count_corpus_words(o, byte_level_pre_tokenizer(), stats));
  EXPECT_EQ(stats.sequences, 2u);
  EXPECT_EQ(stats.skipped_lines, 5u);
  ASSERT_EQ(stats.skipped_examples.size(), 5u);
  EXPECT_EQ(stats.skipped_examples[0], o.files[0] + ":2: not valid JSON");
  EXPECT_EQ(stats.skipped_examples[1], o.files[0] + ":4: no field \"text\"");
  EXPECT_EQ(stats.skipped_examples[2], o.files[0] + ":5: field \"text\" is not a string");
  EXPECT_EQ(stats.skipped_examples[3], o.files[0] + ":6: not a JSON object");
  EXPECT_EQ(stats.skipped_examples[4], o.files[0] + ":8: not valid JSON");
  EXPECT_EQ(m["good"], 2u);
}

TEST(TrainCorpus, TextLineWithInvalidUtf8IsSkippedAndReported) {
  CorpusOptions o;
  o.files = {write_temp("bad.txt", "good\nbad \xff byte\noverlong \xc0\xaf\nsurrogate \xed\xa0\x80\nok\n")};
  CorpusStats stats;
  auto m = as_map(count_corpus_words(o, byte_level_pre_tokenizer(), stats));
  EXPECT_EQ(stats.sequences, 2u);
  EXPECT_EQ(stats.skipped_lines, 3u);
  ASSERT_EQ(stats.skipped_examples.size(), 3u);
  EXPECT_EQ(stats.skipped_examples[0], o.files[0] + ":2: not valid UTF-8");
  EXPECT_EQ(m, (std::map<std::string, uint64_t>{{"good", 1}, {"ok", 1}, {"\n", 2}}));
}

TEST(TrainCorpus, JsonStringWithLoneSurrogateIsSkipped) {
  CorpusOptions o;
  o.files = {write_temp("sur.jsonl", "{\"text\": \"a\\ud800b\"}\n{\"text\": \"\\ud83d\\ude00\"}\n")};
  CorpusStats stats;
  auto m = as_map(count_corpus_words(o, byte_level_pre_tokenizer(), stats));
  EXPECT_EQ(stats.skipped_lines, 1u);
  EXPECT_EQ(m, (std::map<std::string, uint64_t>{{"\xf0\x9f\x98\x80", 1}}));  // the pair is one emoji
}

TEST(TrainCorpus, OtherFieldName) {
  CorpusOptions o;
  o.field = "body";
  o.files = {write_temp("f.jsonl", "{\"text\": \"x\", \"body\": \"y z\"}\n")};
  CorpusStats stats;
  auto m = as_map(count_corpus_words(o, byte_level_pre_tokenizer(), stats));
  EXPECT_EQ(m, (std::map<std::string, uint64_t>{{"y", 1}, {" z", 1}}));
}

TEST(TrainCorpus, BlocksAndThreadsDoNotChangeTheCounts) {
  CorpusOptions one;
  one.files = {testing::data_path("corpus/sample.jsonl")};
  one.threads = 1;
  one.block_bytes = 64 << 20;  // the whole file in one block
  CorpusOptions many = one;
  many.threads = 3;
  many.block_bytes = 4096;  // many lines of the sample are longer than this
  CorpusStats s1, s2;
  auto a = as_map(count_corpus_words(one, byte_level_pre_tokenizer(), s1));
  auto b = as_map(count_corpus_words(many, byte_level_pre_tokenizer(), s2));
  EXPECT_EQ(s1.sequences, 5153u);
  EXPECT_EQ(s2.sequences, 5153u);
  EXPECT_EQ(s1.words, s2.words);
  EXPECT_EQ(s2.bytes_read, s2.total_bytes);
  EXPECT_TRUE(a == b) << a.size() << " vs " << b.size() << " distinct words";
}

TEST(TrainCorpus, SeveralFilesAddUp) {
  CorpusOptions o;
  o.files = {write_temp("p1.jsonl", "{\"text\": \"a b\"}\n"), write_temp("p2.txt", "a b\n")};
  CorpusStats stats;
  auto m = as_map(count_corpus_words(o, byte_level_pre_tokenizer(), stats));
  EXPECT_EQ(m, (std::map<std::string, uint64_t>{{"a", 2}, {" b", 2}, {"\n", 1}}));
}

TEST(TrainCorpus, EmptyCorpusIsAnError) {
  CorpusOptions o;
  o.files = {write_temp("empty.jsonl", "")};
  BpeTrainerOptions options;
  CorpusStats stats;
  std::string msg = expect_error([&] { train_bpe_on_corpus(o, options, stats); });
  EXPECT_NE(msg.find("no text"), std::string::npos) << msg;
}

TEST(TrainCorpus, CorpusOfOnlyBadLinesIsAnErrorSayingWhy) {
  CorpusOptions o;
  o.files = {write_temp("allbad.jsonl", "{\"title\": \"x\"}\n{\"title\": \"y\"}\n")};
  BpeTrainerOptions options;
  CorpusStats stats;
  std::string msg = expect_error([&] { train_bpe_on_corpus(o, options, stats); });
  EXPECT_NE(msg.find("2 lines skipped"), std::string::npos) << msg;
  EXPECT_NE(msg.find(":1: no field \"text\""), std::string::npos) << msg;
}

TEST(TrainCorpus, MissingFileIsAnErrorNamingIt) {
  CorpusOptions o;
  o.files = {testing::temp_dir() + "/does-not-exist.jsonl"};
  CorpusStats stats;
  std::string msg = expect_error([&] { count_corpus_words(o, byte_level_pre_tokenizer(), stats); });
  EXPECT_NE(msg.find("does-not-exist.jsonl"), std::string::npos) << msg;
}

TEST(TrainCorpus, BadOptionsFailBeforeReading) {
  CorpusOptions o;
  o.files = {testing::temp_dir() + "/never-read.jsonl"};
  BpeTrainerOptions options;
  options.special_tokens = {"<a>", "<a>"};
  CorpusStats stats;
  std::string msg = expect_error([&] { train_bpe_on_corpus(o, options, stats); });
  EXPECT_NE(msg.find("given twice"), std::string::npos) << msg;
}

TEST(TrainCorpus, ProgressReportsBothPhases) {
  CorpusOptions o;
  o.files = {testing::data_path("corpus/sample.jsonl")};
  o.block_bytes = 256 << 10;
  BpeTrainerOptions options;
  options.vocab_size = 2000;
  CorpusStats stats;
  size_t counting = 0, merging = 0, last_merges = 0;
  uint64_t last_bytes = 0;
  train_bpe_on_corpus(o, options, stats, [&](const TrainingProgress& p) {
    if (p.phase == TrainingProgress::Phase::CountingWords) {
      ++counting;
      EXPECT_GE(p.corpus->bytes_read, last_bytes);
      last_bytes = p.corpus->bytes_read;
    } else {
      ++merging;
      EXPECT_EQ(p.merges_target, 2000u - 256u);
      last_merges = p.merges_done;
    }
  });
  EXPECT_GT(counting, 1u);
  EXPECT_GT(merging, 1u);
  EXPECT_EQ(last_merges, 2000u - 256u);
  EXPECT_EQ(last_bytes, stats.total_bytes);
}

}  // namespace
}  // namespace lmkit::bpe_train
