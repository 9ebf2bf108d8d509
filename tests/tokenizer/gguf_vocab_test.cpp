#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "lmkit/tokenizer/tokenizer.h"
#include "support/test_data.h"

namespace lmkit {
namespace {

using nlohmann::json;

json stories_reference() {
  return json::parse(testing::read_file_maybe_gz(testing::data_path("stories260K/reference.json")));
}

TEST(GgufVocab, Stories260KEncodesReferencePromptWithBos) {
  GgufFile g(testing::data_path("stories260K/stories260K.gguf"));
  auto tok = Tokenizer::from_gguf(g);
  json ref = stories_reference();
  EXPECT_EQ(tok->encode(ref["prompt"].get<std::string>(), true),
            ref["prompt_token_ids_with_bos"].get<std::vector<int32_t>>());
}

TEST(GgufVocab, Stories260KDecodesReferenceContinuation) {
  GgufFile g(testing::data_path("stories260K/stories260K.gguf"));
  auto tok = Tokenizer::from_gguf(g);
  json ref = stories_reference();
  auto ids = ref["generated_token_ids"].get<std::vector<int32_t>>();
  EXPECT_EQ(tok->decode(ids, true), ref["generated_text"].get<std::string>());
  // Streaming gives the same text, piece by piece.
  StreamDecoder stream(*tok, true);
  std::string streamed;
  for (int32_t id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  EXPECT_EQ(streamed, ref["generated_text"].get<std::string>());
}

TEST(GgufVocab, ByteFallbackRoundTripsTextOutsideTheVocabulary) {
  GgufFile g(testing::data_path("stories260K/stories260K.gguf"));
  auto tok = Tokenizer::from_gguf(g);
  std::string text = "Héllo 世界 🙂";
  auto ids = tok->encode(text, false);
  EXPECT_EQ(tok->decode(ids, true), text);
  // Multi-byte characters arrive over several byte tokens: the stream never emits half of one.
  StreamDecoder stream(*tok, true);
  std::string streamed;
  for (int32_t id : ids) {
    std::string piece = stream.push(id);
    EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos) << "replacement char emitted";
    streamed += piece;
  }
  streamed += stream.flush();
  EXPECT_EQ(streamed, text);
}

// Writes w to a file, loads its vocabulary and expects an lmkit::Error mentioning `expect`.
void expect_vocab_error(const GgufWriter& w, const std::string& expect) {
  std::string path = testing::temp_dir() + "/vocab.gguf";
  w.write(path);
  GgufFile g(path);
  try {
    Tokenizer::from_gguf(g);
    ADD_FAILURE() << "expected an error mentioning " << expect;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
  }
}

TEST(GgufVocab, FileWithoutVocabularyIsAClearError) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  expect_vocab_error(w, "tokenizer.ggml.model");
}

TEST(GgufVocab, UnknownVocabularyTypeIsNamed) {
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "rwkv");
  w.set_strings("tokenizer.ggml.tokens", {"a", "b"});
  expect_vocab_error(w, "rwkv");
}

TEST(GgufVocab, ScoresOfTheWrongLengthAreNamed) {
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_strings("tokenizer.ggml.tokens", {"a", "b"});
  w.set_floats("tokenizer.ggml.scores", {0.0f});
  expect_vocab_error(w, "tokenizer.ggml.scores has 1 entries for 2 tokens");
}

TEST(TokenizerInput, InvalidUtf8IsRejectedWithAClearError) {
  std::string dir = testing::data_path("tokenizers/qwen3");
  auto tok = Tokenizer::from_json(testing::read_file_maybe_gz(dir + "/tokenizer.json"), "qwen3");
  for (std::string bad : {std::string("abc\xff"), std::string("\xc3"), std::string("\xed\xa0\x80"),
                          std::string("\xc0\xaf")}) {
    try {
      tok->encode(bad, false);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("UTF-8"), std::string::npos);
    }
  }
}

TEST(TokenizerJson, MalformedFilesNameTheProblem) {
  struct Case {
    const char* json;
    const char* expect;
  } cases[] = {
      {"{", "not valid JSON"},
      {"[]", "JSON object"},
      {R"({"model": {"type": "Unigram", "unk_id": 3, "vocab": [["a", -1.0]]}})", "unk_id"},
      {R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})", "not in the vocabulary"},
      {R"({"normalizer": {"type": "Frobnicate"}, "model": {"type": "BPE", "vocab": {}, "merges": []}})",
       "Frobnicate"},
      {R"({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}})", "not an integer"},
  };
  for (const Case& c : cases) {
    try {
      Tokenizer::from_json(c.json, "test.json");
      ADD_FAILURE() << "expected an error for " << c.json;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("test.json"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace lmkit
