// `lmkit tokenizer encode|decode|info --tokenizer` on BERT vocab.txt and GPT-2 vocab.json +
// merges.txt, files or directories, against the golden vectors of the same models.
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
namespace fs = std::filesystem;

json first_vector(const std::string& tokenizer, const std::string& category) {
  std::istringstream lines(read_file_maybe_gz(data_path("tokenizers/" + tokenizer + "/vectors.jsonl")));
  std::string line;
  while (std::getline(lines, line)) {
    json v = json::parse(line);
    if (v["category"] == category) return v;
  }
  ADD_FAILURE() << "no vector of category " << category;
  return {};
}

// A folder with only vocab.txt and tokenizer_config.json, as BERT checkpoints ship them.
std::string bert_vocab_dir(const std::string& name) {
  std::string src = data_path("tokenizers/" + name);
  std::string dir = temp_dir() + "/" + name;
  fs::create_directories(dir);
  fs::copy_file(src + "/vocab.txt", dir + "/vocab.txt", fs::copy_options::overwrite_existing);
  fs::copy_file(src + "/tokenizer_config.json", dir + "/tokenizer_config.json", fs::copy_options::overwrite_existing);
  return dir;
}

TEST(TokenizerVocabFiles, EncodeBertVocabTxtDirectoryMatchesHuggingFace) {
  for (const char* name : {"bert-base-uncased", "bert-base-chinese"}) {
    for (const char* category : {"accents", "chinese-simplified", "pair"}) {
      json v = first_vector(name, category);
      ProcessResult r = run_lmkit({"tokenizer", "encode", "--tokenizer", bert_vocab_dir(name), "--json",
                                   "--add-special-tokens", v["text"]});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      json got = json::parse(r.out);
      EXPECT_EQ(got["ids"], v["ids_with_special"]) << name << " " << category;
      EXPECT_EQ(got["offsets"], v["offsets_with_special"]) << name << " " << category;
    }
  }
}

TEST(TokenizerVocabFiles, DecodeAndInfoOnVocabTxtFile) {
  json v = first_vector("bert-base-uncased", "english");
  std::string vocab = bert_vocab_dir("bert-base-uncased") + "/vocab.txt";
  std::string ids;
  for (const json& id : v["ids_with_special"]) ids += (ids.empty() ? "" : ",") + std::to_string(id.get<int>());
  ProcessResult r = run_lmkit({"tokenizer", "decode", "--tokenizer", vocab, "--skip-special-tokens", ids});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, v["decode_skip_special"].get<std::string>() + "\n");
  r = run_lmkit({"tokenizer", "info", "--tokenizer", vocab});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["vocab_size"], 30522);
}

TEST(TokenizerVocabFiles, EncodeGpt2VocabJsonAndMerges) {
  std::string src = data_path("tokenizers/hf_trained_sample_32k");
  std::string dir = temp_dir() + "/gpt2_files";
  fs::create_directories(dir);
  json full = json::parse(read_file_maybe_gz(src + "/tokenizer.json"));
  std::ofstream(dir + "/vocab.json") << full["model"]["vocab"].dump();
  std::ofstream(dir + "/merges.txt") << read_file_maybe_gz(src + "/merges.txt");
  json v = first_vector("hf_trained_sample_32k", "code");
  for (const std::string& path : {dir, dir + "/vocab.json"}) {
    ProcessResult r = run_lmkit({"tokenizer", "encode", "--tokenizer", path, "--json", v["text"]});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json got = json::parse(r.out);
    EXPECT_EQ(got["ids"], v["ids"]) << path;
    EXPECT_EQ(got["tokens"], v["tokens"]) << path;
  }
}

TEST(TokenizerVocabFiles, VocabJsonWithoutMergesIsOneClearError) {
  std::string dir = temp_dir() + "/no_merges";
  fs::create_directories(dir);
  std::ofstream(dir + "/vocab.json") << R"({"a": 0})";
  ProcessResult r = run_lmkit({"tokenizer", "encode", "--tokenizer", dir + "/vocab.json", "a"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("needs merges.txt beside it"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lmkit::testing
