// BERT vocab.txt and GPT-2 vocab.json + merges.txt, assembled as transformers' fast
// tokenizers do, must encode exactly like the tokenizer.json Hugging Face wrote for the same
// model: checked on every golden vector.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "golden_check.h"
#include "lmkit/base/error.h"
#include "lmkit/tokenizer/tokenizer.h"
#include "support/test_data.h"

namespace lmkit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

TEST(VocabFiles, BertVocabTxtMatchesTokenizerJson) {
  for (const char* name : {"bert-base-uncased", "bert-base-chinese"}) {
    SCOPED_TRACE(name);
    std::string dir = testing::data_path(std::string("tokenizers/") + name);
    // tokenizer_config.json beside vocab.txt says do_lower_case (true for uncased, false for chinese).
    auto tok = Tokenizer::from_vocab_txt(dir + "/vocab.txt");
    EXPECT_GT(testing::check_golden_vectors(*tok, dir + "/vectors.jsonl"), 90);
  }
}

TEST(VocabFiles, Gpt2VocabAndMergesMatchTokenizerJson) {
  std::string src = testing::data_path("tokenizers/hf_trained_sample_32k");
  json full = json::parse(testing::read_file_maybe_gz(src + "/tokenizer.json"));
  std::string dir = testing::temp_dir();
  write(dir + "/vocab.json", full["model"]["vocab"].dump());
  write(dir + "/merges.txt", testing::read_file_maybe_gz(src + "/merges.txt"));
  write(dir + "/tokenizer_config.json", testing::read_file_maybe_gz(src + "/tokenizer_config.json"));
  auto tok = Tokenizer::from_path(dir);  // no tokenizer.json there: vocab.json + merges.txt
  EXPECT_GT(testing::check_golden_vectors(*tok, src + "/vectors.jsonl"), 90);
  EXPECT_TRUE(tok->is_special(*tok->token_to_id("<|im_end|>")));
}

TEST(VocabFiles, FromPathFindsEachKind) {
  std::string bert = testing::data_path("tokenizers/bert-base-uncased");
  EXPECT_EQ(Tokenizer::from_path(bert)->encode("Hello!", true), Tokenizer::from_path(bert + "/vocab.txt")->encode("Hello!", true));
  EXPECT_EQ(Tokenizer::from_path(bert + "/tokenizer.json")->vocab_size(), 30522);
  std::string dir = testing::temp_dir() + "/only_vocab_txt";
  fs::create_directories(dir);
  write(dir + "/vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n##!\n!\n");
  auto tok = Tokenizer::from_path(dir);  // no tokenizer_config.json: lowercase, the default
  EXPECT_EQ(tok->encode("HELLO!", true), (std::vector<int32_t>{2, 4, 6, 3}));
  EXPECT_EQ(tok->decode({2, 4, 6, 3}, true), "hello!");
}

void expect_error(const std::function<void()>& f, const std::string& fragment) {
  try {
    f();
    FAIL() << "expected an error mentioning " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(VocabFiles, BadFilesAreClearErrors) {
  std::string dir = testing::temp_dir() + "/bad";
  fs::create_directories(dir);
  expect_error([&] { Tokenizer::from_path(dir); }, "no tokenizer.json (nor vocab.json + merges.txt, vocab.txt, tokenizer.model or spiece.model)");
  expect_error([&] { Tokenizer::from_path(dir + "/missing.json"); }, "does not exist");
  write(dir + "/vocab.txt", "hello\nworld\n");
  expect_error([&] { Tokenizer::from_vocab_txt(dir + "/vocab.txt"); }, "'[UNK]' is not in the vocabulary");
  write(dir + "/vocab.txt", "[UNK]\n[CLS]\n[SEP]\n");
  write(dir + "/tokenizer_config.json", R"({"do_lower_case": "yes"})");
  expect_error([&] { Tokenizer::from_vocab_txt(dir + "/vocab.txt"); }, "tokenizer_config.json beside");
  expect_error([&] { Tokenizer::from_vocab_txt(dir + "/vocab.txt"); }, "'do_lower_case' must be true or false");
  write(dir + "/tokenizer_config.json", R"({"added_tokens_decoder": {"0": {"content": "[UNK]", "special": 1}}})");
  expect_error([&] { Tokenizer::from_vocab_txt(dir + "/vocab.txt"); }, "added_tokens_decoder[0]: 'special'");
  fs::remove(dir + "/tokenizer_config.json");
  write(dir + "/vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
  write(dir + "/merges.txt", "#version: 0.2\na b\na b c\n");
  expect_error([&] { Tokenizer::from_path(dir + "/vocab.json"); }, "merges.txt: line 3");
  write(dir + "/merges.txt", "a x\n");
  expect_error([&] { Tokenizer::from_path(dir + "/vocab.json"); }, "merges.txt");
  write(dir + "/vocab.json", "[1, 2]");
  expect_error([&] { Tokenizer::from_path(dir + "/vocab.json"); }, "vocab.json: expected a JSON object");
}

}  // namespace
}  // namespace lmkit
