// SentencePiece family: .model files (t5's real spiece.model, and a BPE model written here
// from llama2's vocabulary) against the golden vectors of the matching tokenizer.json, hostile
// .model files, configurations Hugging Face refuses (tests/tokenizer/data/oracle/
// spm_load_errors.json, written by oracle/make_sentencepiece_cases.cjs), malformed charsmaps,
// and the double-array trie the Unigram model searches with.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/double_array_trie.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/tokenizer.h"
#include "golden_check.h"
#include "support/test_data.h"

namespace lmkit {
namespace {

using nlohmann::json;

// Every public golden vector of `name`, encoded by `tok` (the shared check of golden_check.h).
void expect_golden(const Tokenizer& tok, const std::string& name) {
  int checked = testing::check_golden_vectors(tok, testing::data_path("tokenizers/" + name + "/vectors.jsonl"));
  EXPECT_GT(checked, 90);
}

TEST(SentencePieceModel, T5SpieceModelMatchesItsTokenizerJson) {
  // tokenizer_config.json beside it names T5Tokenizer: 100 <extra_id_N> tokens and "$A </s>".
  auto tok = Tokenizer::from_file(testing::data_path("tokenizers/t5/spiece.model"));
  EXPECT_EQ(tok->vocab_size(), 32100);
  EXPECT_EQ(tok->token_to_id("<extra_id_0>"), 32099);
  EXPECT_TRUE(tok->is_special(1));
  expect_golden(*tok, "t5");
}

TEST(SentencePieceModel, WithoutConfigThereAreNoExtraIdsNorTemplate) {
  std::string dir = testing::temp_dir();
  std::string path = dir + "/renamed.bin";  // detected by content, not extension
  std::ofstream(path, std::ios::binary) << testing::read_file_maybe_gz(testing::data_path("tokenizers/t5/spiece.model"));
  auto tok = Tokenizer::from_file(path);
  EXPECT_EQ(tok->vocab_size(), 32000);
  EXPECT_EQ(tok->encode("Hello world!", true), (std::vector<int32_t>{8774, 296, 55}));
}

TEST(SentencePieceModel, FromPathFindsSpieceModelInADirectory) {
  std::string dir = testing::temp_dir() + "/spiece_only";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/spiece.model", std::ios::binary) << testing::read_file_maybe_gz(testing::data_path("tokenizers/t5/spiece.model"));
  EXPECT_EQ(Tokenizer::from_path(dir)->encode("Hello world!", true), (std::vector<int32_t>{8774, 296, 55}));
}

// ---- a small protobuf writer for crafted ModelProto files ----
std::string varint(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    out += static_cast<char>(v ? b | 0x80 : b);
  } while (v);
  return out;
}
std::string key(uint32_t field, int wire) { return varint(static_cast<uint64_t>(field) << 3 | wire); }
std::string bytes_field(uint32_t field, const std::string& payload) { return key(field, 2) + varint(payload.size()) + payload; }
std::string varint_field(uint32_t field, uint64_t v) { return key(field, 0) + varint(v); }
std::string float_field(uint32_t field, float f) {
  char b[4];
  std::memcpy(b, &f, 4);
  return key(field, 5) + std::string(b, 4);
}
std::string piece(const std::string& text, float score, int type) {
  return bytes_field(1, bytes_field(1, text) + float_field(2, score) + varint_field(3, static_cast<uint64_t>(type)));
}

// llama2's vocabulary as a SentencePiece BPE model, scored as the real Llama model is (normal
// pieces -(id - 259), whitespace-only pieces -1e9, others 0), from which transformers'
// extractor recovers exactly the merges of llama2's tokenizer.json.
std::string llama2_as_model() {
  json j = json::parse(testing::read_file_maybe_gz(testing::data_path("tokenizers/llama2/tokenizer.json")));
  std::vector<std::string> pieces(j["model"]["vocab"].size());
  for (auto& [t, id] : j["model"]["vocab"].items()) pieces[id.get<size_t>()] = t;
  std::string out;
  for (size_t id = 0; id < pieces.size(); ++id) {
    const std::string& p = pieces[id];
    int type = id == 0 ? 2 : id < 3 ? 3 : id < 259 ? 6 : 1;
    bool spaces = p.find_first_not_of("\xE2\x96\x81") == std::string::npos;
    float score = id < 259 ? 0.0f : spaces ? -1e9f : -static_cast<float>(id - 259);
    out += piece(p, score, type);
  }
  out += bytes_field(2, varint_field(3, 2) + varint_field(35, 1));  // trainer_spec: BPE, byte_fallback
  out += bytes_field(3, bytes_field(1, "identity") + varint_field(3, 1) + varint_field(4, 0));
  return out;
}

TEST(SentencePieceModel, BpeModelBuildsLlamaConverterPipeline) {
  std::string path = testing::temp_dir() + "/tokenizer.model";
  std::ofstream(path, std::ios::binary) << llama2_as_model();
  auto tok = Tokenizer::from_file(path);
  EXPECT_EQ(tok->vocab_size(), 32000);
  expect_golden(*tok, "llama2");
}

// ---- hostile files ----
void expect_model_error(const std::string& bytes, const std::string& expect) {
  SCOPED_TRACE("expecting '" + expect + "'");
  try {
    tok::load_sentencepiece_model(bytes, "evil.model", "", "tokenizer_config.json");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("evil.model"), std::string::npos) << what;
    EXPECT_NE(what.find(expect), std::string::npos) << what;
  }
}

TEST(SentencePieceModel, HostileFilesGetClearErrors) {
  const std::string good = piece("<unk>", 0, 2) + piece("a", -1, 1) + bytes_field(2, varint_field(3, 1));
  expect_model_error("", "no pieces");
  expect_model_error(bytes_field(2, varint_field(3, 1)), "no pieces");
  for (size_t cut : {1, 2, 5, 9}) expect_model_error(good.substr(0, cut), "ModelProto");
  expect_model_error(good.substr(0, good.size() - 1), "declares 2 bytes but only 1 remain");
  expect_model_error(good + bytes_field(2, key(3, 0)), "truncated varint in field 3");
  expect_model_error(key(1, 2) + varint(0xFFFFFFFFull), "declares 4294967295 bytes but only 0 remain");
  expect_model_error(key(1, 2) + std::string(11, '\xFF'), "varint longer than 10 bytes");
  expect_model_error(varint_field(1, 7), "pieces (field 1) must be length-delimited, found varint");
  expect_model_error(bytes_field(1, varint_field(1, 3)), "piece (field 1) must be length-delimited");
  expect_model_error(bytes_field(1, bytes_field(1, "a") + varint_field(2, 1)), "score (field 2) must be fixed32");
  expect_model_error(bytes_field(1, bytes_field(1, "a") + varint_field(3, 9)), "unknown piece type 9");
  expect_model_error(bytes_field(1, float_field(2, 1)), "piece has no text");
  expect_model_error(bytes_field(1, bytes_field(1, "\xC3")), "not valid UTF-8");
  expect_model_error(good + key(7, 3), "wire type 3");
  expect_model_error(std::string("\x00", 1), "invalid field number 0");
  expect_model_error(good + bytes_field(2, varint_field(40, 5)), "unk_id 5 is not a piece id");
  expect_model_error(good + bytes_field(2, varint_field(3, 3)), "model_type 3 is not supported");
  expect_model_error(good + bytes_field(3, bytes_field(2, "xy")), "precompiled_charsmap");
  // Unknown fields of every wire type are skipped.
  std::string extra = good + varint_field(99, 5) + key(98, 1) + std::string(8, 'x') + float_field(97, 1) +
                      bytes_field(96, "junk");
  auto tok = tok::load_sentencepiece_model(extra, "ok.model", "", "");
  EXPECT_EQ(tok->encode("a a", false), (std::vector<int32_t>{0, 1, 0, 1}));  // "▁" is unknown here
}

// Random corruptions of a small model carrying t5's real charsmap: loading and encoding either
// work or throw lmkit::Error, never anything else (run under the sanitizer build to catch
// out-of-bounds reads as well).
TEST(SentencePieceModel, CorruptedModelsFailCleanly) {
  json t5 = json::parse(testing::read_file_maybe_gz(testing::data_path("tokenizers/t5/tokenizer.json")));
  std::string charsmap = *tok::base64_decode(t5["normalizer"]["precompiled_charsmap"].get<std::string>());
  std::string base;
  for (const char* p : {"<unk>", "<s>", "</s>"}) base += piece(p, 0, p[1] == 'u' ? 2 : 3);
  for (const char* p : {"\xE2\x96\x81", "a", "b", "\xE2\x96\x81ab", "hello", "e", "l", "o", "h"}) base += piece(p, -2, 1);
  base += bytes_field(2, varint_field(3, 1) + varint_field(40, 0));
  base += bytes_field(3, bytes_field(1, "nmt_nfkc") + bytes_field(2, charsmap) + varint_field(3, 1) + varint_field(4, 1));
  std::mt19937 rng(11);
  int loaded = 0, refused = 0;
  for (int round = 0; round < 400; ++round) {
    std::string bytes = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      // Half the edits hit the pieces and specs, half the charsmap's trie.
      size_t at = rng() % 2 ? rng() % 200 : base.size() - charsmap.size() + rng() % std::min<size_t>(charsmap.size(), 200000);
      if (bytes.empty()) break;
      switch (rng() % 3) {
        case 0: bytes[at % bytes.size()] = static_cast<char>(rng()); break;
        case 1: bytes.resize(at % bytes.size()); break;
        default: bytes.insert(at % (bytes.size() + 1), 1, static_cast<char>(rng())); break;
      }
    }
    try {
      auto tok = tok::load_sentencepiece_model(bytes, "fuzz.model", "", "");
      ++loaded;
      tok->encode("hello \xEF\xBD\x97\xEF\xBD\x8F \xEF\xAC\x81 caf\xC3\xA9 \xE4\xBD\xA0 ab", true);
    } catch (const Error&) {
      ++refused;
    }
  }
  EXPECT_GT(loaded, 0);
  EXPECT_GT(refused, 0);
}

TEST(SentencePieceModel, BadConfigBesideTheModelIsNamed) {
  const std::string good = piece("<unk>", 0, 2) + piece("a", -1, 1);
  try {
    tok::load_sentencepiece_model(good, "m.model", "{\"extra_ids\": -3}", "dir/tokenizer_config.json");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dir/tokenizer_config.json: extra_ids"), std::string::npos) << e.what();
  }
}

// ---- tokenizer.json errors ----
TEST(SentencePieceJson, RefusesWhatHuggingFaceRefuses) {
  std::ifstream in(std::string(LMKIT_SOURCE_DIR) + "/tests/tokenizer/data/oracle/spm_load_errors.json");
  ASSERT_TRUE(in) << "run tests/tokenizer/oracle/make_sentencepiece_cases.cjs";
  json cases = json::parse(in);
  EXPECT_GE(cases.size(), 10u);
  for (auto& [name, c] : cases.items()) {
    SCOPED_TRACE(name + " (Hugging Face: " + c["huggingface_error"].get<std::string>() + ")");
    EXPECT_THROW(Tokenizer::from_json(c["tokenizer"].dump(), name + ".json"), Error);
  }
}

std::string unigram_json(const json& normalizer) {
  json j = {{"normalizer", normalizer},
            {"model", {{"type", "Unigram"}, {"unk_id", 0}, {"vocab", json::array({json::array({"<unk>", 0.0})})}}}};
  return j.dump();
}

void expect_json_error(const std::string& text, const std::string& expect) {
  try {
    Tokenizer::from_json(text, "t.json");
    ADD_FAILURE() << "no error for " << text.substr(0, 200);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("t.json"), std::string::npos) << e.what();
  }
}

TEST(SentencePieceJson, MalformedCharsmapsAreErrors) {
  // Hugging Face aborts the process on these (a panic in its deserializer); lmkit names them.
  expect_json_error(unigram_json({{"type", "Precompiled"}, {"precompiled_charsmap", nullptr}}), "precompiled_charsmap");
  expect_json_error(unigram_json({{"type", "Precompiled"}, {"precompiled_charsmap", ""}}), "shorter than its 4-byte header");
  expect_json_error(unigram_json({{"type", "Precompiled"}, {"precompiled_charsmap", "%%%"}}), "not valid base64");
  // Header announcing 4 KB of trie in an 8-byte blob.
  expect_json_error(unigram_json({{"type", "Precompiled"}, {"precompiled_charsmap", "ABAAAAAAAAA="}}), "declares a 4096-byte trie");
  expect_json_error(unigram_json({{"type", "Precompiled"}, {"precompiled_charsmap", "AAAAAAAAAAA="}}), "empty trie");
  // One unit whose offset leads outside the array: found when text is normalized.
  std::string blob("\x04\x00\x00\x00\x00\xFC\xFF\x7F", 8);
  std::string b64 = "BAAAAAD8/38=";
  ASSERT_EQ(tok::base64_decode(b64), blob);
  auto tok = Tokenizer::from_json(unigram_json({{"type", "Precompiled"}, {"precompiled_charsmap", b64}}), "t.json");
  EXPECT_THROW(tok->encode("abc", false), Error);
}

TEST(SentencePieceJson, UnigramWithoutUnkFailsOnUnknownCharacters) {
  json j = {{"model", {{"type", "Unigram"}, {"unk_id", nullptr}, {"vocab", json::array({json::array({"a", -1.0}), json::array({"b", -2.0})})}}}};
  auto tok = Tokenizer::from_json(j.dump(), "t.json");
  EXPECT_EQ(tok->encode("abab", false), (std::vector<int32_t>{0, 1, 0, 1}));
  EXPECT_THROW(tok->encode("abc", false), Error);
}

TEST(Base64, DecodesStandardAlphabetWithOrWithoutPadding) {
  EXPECT_EQ(tok::base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(tok::base64_decode("aGVsbG8"), "hello");
  EXPECT_EQ(tok::base64_decode("+/+/"), std::string("\xFB\xFF\xBF", 3));
  EXPECT_EQ(tok::base64_decode(""), "");
  EXPECT_FALSE(tok::base64_decode("a"));
  EXPECT_FALSE(tok::base64_decode("aGV-"));
}

// ---- double-array trie against a brute-force prefix search ----
TEST(DoubleArrayTrie, PrefixSearchMatchesBruteForce) {
  std::mt19937 rng(7);
  std::map<std::string, int32_t> expected;  // key -> last value given
  std::vector<std::pair<std::string, int32_t>> keys;
  for (int i = 0; i < 20000; ++i) {
    std::string k;
    size_t len = 1 + rng() % 6;
    for (size_t c = 0; c < len; ++c) k += static_cast<char>(i % 7 == 0 ? rng() % 256 : 'a' + rng() % 5);
    keys.emplace_back(k, i);
    expected[k] = i;
  }
  keys.emplace_back("", 99);  // never matches
  tok::DoubleArrayTrie trie(keys);
  for (int q = 0; q < 3000; ++q) {
    std::string text;
    for (int c = 0; c < 8; ++c) text += static_cast<char>(q % 5 == 0 ? rng() % 256 : 'a' + rng() % 5);
    size_t from = rng() % 4;
    std::vector<std::pair<size_t, int32_t>> got, want;
    trie.for_each_prefix(text, from, [&](size_t len, int32_t v) { got.emplace_back(len, v); });
    for (size_t len = 1; from + len <= text.size(); ++len) {
      auto it = expected.find(text.substr(from, len));
      if (it != expected.end()) want.emplace_back(len, it->second);
    }
    ASSERT_EQ(got, want) << "query " << q;
    for (auto [len, v] : want) EXPECT_EQ(trie.find(text.substr(from, len)), v);
  }
  EXPECT_EQ(trie.find(""), -1);
  EXPECT_EQ(trie.find("zzzzzzzzz"), -1);
}

}  // namespace
}  // namespace lmkit
