// Bad WordPiece/BERT-family settings in tokenizer.json: each is an lmkit::Error naming the
// file and the field or component, never a crash or a silent default.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace lmkit {
namespace {

using nlohmann::json;

json special(int id, const char* content) {
  return {{"id", id}, {"content", content}, {"special", true}, {"normalized", false}};
}

json base_tokenizer() {
  json vocab = {{"[UNK]", 0}, {"[CLS]", 1}, {"[SEP]", 2}, {"a", 3}, {"##b", 4}, {"b", 5}};
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", json::array({special(0, "[UNK]"), special(1, "[CLS]"), special(2, "[SEP]")})},
          {"normalizer", {{"type", "BertNormalizer"}}},
          {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
          {"post_processor", {{"type", "BertProcessing"}, {"sep", {"[SEP]", 2}}, {"cls", {"[CLS]", 1}}}},
          {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
          {"model",
           {{"type", "WordPiece"},
            {"unk_token", "[UNK]"},
            {"continuing_subword_prefix", "##"},
            {"max_input_chars_per_word", 100},
            {"vocab", vocab}}}};
}

// Loading (and, when given, encoding `text`) fails with a message containing every fragment.
void expect_error(const json& j, std::vector<std::string> fragments, const char* text = nullptr) {
  try {
    auto tok = Tokenizer::from_json(j.dump(), "crafted.json");
    if (text) tok->encode_pair(text, "b b b", true);
    FAIL() << "no error for " << j.dump().substr(0, 200);
  } catch (const Error& e) {
    std::string msg = e.what();
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "'" << f << "' not in: " << msg;
  }
}

TEST(BertFamilyErrors, BaseTokenizerWorks) {
  auto tok = Tokenizer::from_json(base_tokenizer().dump(), "crafted.json");
  EXPECT_EQ(tok->encode("ab a", true), (std::vector<int32_t>{1, 3, 4, 3, 2}));
  EXPECT_EQ(tok->decode({1, 3, 4, 3, 2}, true), "ab a");
}

TEST(BertFamilyErrors, MalformedFieldsNameTheField) {
  json j = base_tokenizer();
  j["model"]["max_input_chars_per_word"] = "many";
  expect_error(j, {"crafted.json", "max_input_chars_per_word"});
  j = base_tokenizer();
  j["model"]["vocab"]["a"] = -3;
  expect_error(j, {"crafted.json", "model.vocab", "'a'"});
  j = base_tokenizer();
  j["post_processor"]["sep"] = "[SEP]";
  expect_error(j, {"BertProcessing", "'sep'"});
  j = base_tokenizer();
  j["normalizer"]["lowercase"] = "yes";
  expect_error(j, {"lowercase", "true or false"});
  j = base_tokenizer();
  j["pre_tokenizer"] = {{"type", "Punctuation"}, {"behavior", "Sideways"}};
  expect_error(j, {"Punctuation pre-tokenizer", "Sideways"});
  j = base_tokenizer();
  j["decoder"] = {{"type", "CTC"}, {"pad_token", 7}};
  expect_error(j, {"CTC decoder", "pad_token"});
}

// Ids index dense tables: a hostile id must be refused, not allocate gigabytes (found by
// fuzz_tokenizer_json in CI).
TEST(BertFamilyErrors, AbsurdTokenIdsAreRefused) {
  json j = base_tokenizer();
  j["model"]["vocab"]["a"] = 50000000000ull;
  expect_error(j, {"crafted.json", "model.vocab['a']", "50000000000"});
  j = base_tokenizer();
  j["added_tokens"][1]["id"] = 1ull << 31;
  expect_error(j, {"added_tokens", "2147483648"});
  json bpe = {{"model", {{"type", "BPE"}, {"vocab", {{"a", 0}, {"b", 3000000000ull}}}, {"merges", json::array()}}}};
  expect_error(bpe, {"model.vocab['b']", "3000000000"});
  bpe["model"]["vocab"]["b"] = 1;
  EXPECT_EQ(Tokenizer::from_json(bpe.dump(), "crafted.json")->encode("ab", false), (std::vector<int32_t>{0, 1}));
}

TEST(BertFamilyErrors, UntypedModelIsRecognisedByItsFieldsOrRefused) {
  json j = base_tokenizer();
  j["model"].erase("type");
  EXPECT_EQ(Tokenizer::from_json(j.dump(), "crafted.json")->encode("ab", false), (std::vector<int32_t>{3, 4}));
  j["model"] = {{"vocab", {{"a", 0}}}};
  expect_error(j, {"model", "no \"type\"", "WordPiece"});
  j["model"] = {{"type", "Sentencepiece"}, {"vocab", {{"a", 0}}}};
  expect_error(j, {"unsupported model type 'Sentencepiece'"});
}

TEST(BertFamilyErrors, MissingUnkTokenIsReportedWhenNeeded) {
  json j = base_tokenizer();
  j["model"]["unk_token"] = "<nope>";
  auto tok = Tokenizer::from_json(j.dump(), "crafted.json");
  EXPECT_EQ(tok->encode("a", false), (std::vector<int32_t>{3}));
  try {
    tok->encode("zzz", false);
    FAIL() << "an unknown word needs the unk token";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'<nope>'"), std::string::npos) << e.what();
  }
}

TEST(BertFamilyErrors, TruncationAndPaddingSettings) {
  json j = base_tokenizer();
  j["truncation"] = {{"max_length", 8}, {"stride", 0}, {"strategy", "MiddleOut"}, {"direction", "Right"}};
  expect_error(j, {"truncation", "MiddleOut"});
  j["truncation"] = {{"max_length", 8}, {"stride", 0}, {"strategy", "LongestFirst"}, {"direction", "Up"}};
  expect_error(j, {"truncation", "direction"});
  j["truncation"] = {{"stride", 0}};
  expect_error(j, {"truncation", "max_length"});
  j = base_tokenizer();
  j["padding"] = {{"strategy", "Longest"}};
  expect_error(j, {"padding", "strategy"});
  j["padding"] = {{"strategy", {{"Fixed", -2}}}};
  expect_error(j, {"padding.strategy", "Fixed"});
  // Two tokens cannot hold the three special tokens of a pair (Hugging Face underflows here).
  j = base_tokenizer();
  j["truncation"] = {{"max_length", 2}, {"stride", 0}, {"strategy", "LongestFirst"}, {"direction", "Right"}};
  expect_error(j, {"max_length 2", "3 special tokens"}, "a a a");
  // Hugging Face asserts that the stride is smaller than what a sequence is cut to.
  j["truncation"] = {{"max_length", 6}, {"stride", 2}, {"strategy", "LongestFirst"}, {"direction", "Right"}};
  expect_error(j, {"stride 2"}, "a a a a a a a");
}

}  // namespace
}  // namespace lmkit
