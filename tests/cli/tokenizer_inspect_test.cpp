// `lmkit tokenizer encode|decode|info|render` against the shared golden data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "process.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;

// A model-directory-like folder with qwen3's tokenizer.json (unpacked) and tokenizer_config.json.
std::string qwen3_dir() {
  static std::string dir = [] {
    std::string src = data_path("tokenizers/qwen3");
    std::string d = temp_dir();
    std::ofstream(d + "/tokenizer.json") << read_file_maybe_gz(src + "/tokenizer.json");
    std::filesystem::copy_file(src + "/tokenizer_config.json", d + "/tokenizer_config.json");
    return d;
  }();
  return dir;
}

json first_vector(const std::string& category) {
  std::istringstream lines(read_file_maybe_gz(data_path("tokenizers/qwen3/vectors.jsonl")));
  std::string line;
  while (std::getline(lines, line)) {
    json v = json::parse(line);
    if (v["category"] == category) return v;
  }
  ADD_FAILURE() << "no vector of category " << category;
  return {};
}

TEST(TokenizerCommands, EncodeJsonMatchesHuggingFace) {
  json v = first_vector("chinese-simplified");
  ProcessResult r = run_lmkit({"tokenizer", "encode", "--tokenizer", qwen3_dir(), "--json", v["text"]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json got = json::parse(r.out);
  EXPECT_EQ(got["ids"], v["ids"]);
  EXPECT_EQ(got["tokens"], v["tokens"]);
  EXPECT_EQ(got["offsets"], v["offsets"]);
}

TEST(TokenizerCommands, EncodeInputFileAnswersOneLinePerText) {
  std::string file = temp_dir() + "/in.jsonl";
  std::ofstream(file) << "{\"text\": \"Hello world\"}\nplain line\n";
  ProcessResult r = run_lmkit({"tokenizer", "encode", "--tokenizer", qwen3_dir(), "--input", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(non_empty_lines(r.out).size(), 2u);
}

TEST(TokenizerCommands, DecodeRoundTripsAndRejectsBadIds) {
  json v = first_vector("english");
  std::string ids;
  for (const auto& id : v["ids"]) ids += (ids.empty() ? "" : ",") + std::to_string(id.get<int>());
  ProcessResult r = run_lmkit({"tokenizer", "decode", "--tokenizer", qwen3_dir(), ids});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, v["text"].get<std::string>() + "\n");
  ProcessResult bad = run_lmkit({"tokenizer", "decode", "--tokenizer", qwen3_dir(), "1,x"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("'x' is not a token id"), std::string::npos) << bad.err;
  ProcessResult range = run_lmkit({"tokenizer", "decode", "--tokenizer", qwen3_dir(), "99999999"});
  EXPECT_EQ(range.exit_code, 1);
  EXPECT_NE(range.err.find("outside the vocabulary"), std::string::npos) << range.err;
}

TEST(TokenizerCommands, RenderMatchesTheSharedChatTemplateCases) {
  std::istringstream lines(read_file_maybe_gz(data_path("chat_templates/qwen3/cases.jsonl")));
  std::string line;
  int checked = 0;
  while (std::getline(lines, line)) {
    // Key order matters (tojson prints keys in the order given), so keep the file's order.
    nlohmann::ordered_json c = nlohmann::ordered_json::parse(line);
    std::string ctx = temp_dir() + "/ctx.json";
    std::ofstream(ctx) << c["context"].dump();
    ProcessResult r = run_lmkit({"tokenizer", "render", "--tokenizer", qwen3_dir(), "--context", ctx});
    SCOPED_TRACE(c["id"].get<std::string>());
    if (c.contains("error")) {
      EXPECT_EQ(r.exit_code, 1);
      EXPECT_NE(r.err.find(c["error"].get<std::string>()), std::string::npos) << r.err;
    } else {
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.out, c["output"].get<std::string>());
    }
    ++checked;
  }
  EXPECT_GT(checked, 3);
}

TEST(TokenizerCommands, InfoOnGgufListsSpecialTokens) {
  ProcessResult r = run_lmkit({"tokenizer", "info", "--tokenizer", data_path("stories260K/stories260K.gguf")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["vocab_size"], 512);
  EXPECT_EQ(j["special_tokens"][1]["content"], "<s>");
}

// A SentencePiece .model (t5's spiece.model; tokenizer_config.json beside it adds T5's
// <extra_id_N> tokens and the </s> template) gives the ids and tokens of t5's tokenizer.json.
TEST(TokenizerCommands, EncodesWithSentencePieceModel) {
  std::istringstream lines(read_file_maybe_gz(data_path("tokenizers/t5/vectors.jsonl")));
  std::string line;
  json v;
  while (std::getline(lines, line)) {
    v = json::parse(line);
    if (v["category"] == "accents") break;
  }
  ASSERT_EQ(v["category"], "accents");
  ProcessResult r = run_lmkit({"tokenizer", "encode", "--tokenizer", data_path("tokenizers/t5/spiece.model"),
                               "--add-special-tokens", "--json", v["text"]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json got = json::parse(r.out);
  EXPECT_EQ(got["ids"], v["ids_with_special"]);
  EXPECT_EQ(got["tokens"], v["tokens_with_special"]);
  EXPECT_EQ(got["offsets"], v["offsets_with_special"]);
  // Cut one byte into a piece (byte 1000 happens to end one, which leaves a valid, shorter model).
  std::string truncated = temp_dir() + "/truncated.model";
  std::ofstream(truncated, std::ios::binary) << read_file_maybe_gz(data_path("tokenizers/t5/spiece.model")).substr(0, 1001);
  ProcessResult bad = run_lmkit({"tokenizer", "encode", "--tokenizer", truncated, "hi"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("malformed SentencePiece model"), std::string::npos) << bad.err;
}

TEST(TokenizerCommands, MissingTokenizerIsOneClearError) {
  ProcessResult r = run_lmkit({"tokenizer", "encode", "--tokenizer", temp_dir(), "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no tokenizer.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lmkit::testing
