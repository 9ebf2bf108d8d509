// `lmkit run` end to end on stories260K.gguf against llama.cpp's greedy output, and on the
// tokenizer-less tiny Llama against transformers' greedy output.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "process.h"
#include "support/test_data.h"

namespace lmkit::testing {
namespace {

using nlohmann::json;

std::string stories() { return materialize_maybe_gz(data_path("stories260K/stories260K.gguf")); }
json stories_reference() {
  return json::parse(read_file_maybe_gz(data_path("stories260K/reference.json")));
}

json run_json(const std::vector<std::string>& args) {
  ProcessResult r = run_lmkit(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  try {
    return json::parse(r.out);
  } catch (const json::parse_error& e) {
    ADD_FAILURE() << "stdout is not JSON: " << r.out << "\nstderr: " << r.err;
    return json::object();
  }
}

TEST(Run, GreedyJsonMatchesLlamaCpp) {
  const json ref = stories_reference();
  json out = run_json({"run", stories(), ref["prompt"], "--temperature", "0", "--max-tokens", "64",
                       "--json", "-t", "2"});
  EXPECT_EQ(out["prompt_ids"], ref["prompt_token_ids_with_bos"]);
  EXPECT_EQ(out["generated_ids"], ref["generated_token_ids"]);
  EXPECT_EQ(out["text"], ref["generated_text"]);
  EXPECT_EQ(out["prompt_tokens"], 5);
  EXPECT_EQ(out["completion_tokens"], 64);
  EXPECT_EQ(out["finish_reason"], "length");
  EXPECT_EQ(out["threads"], 2);
  for (const char* key : {"load_ms", "prefill_ms", "decode_ms", "prefill_tokens_per_s",
                          "decode_tokens_per_s"})
    EXPECT_TRUE(out["timings"][key].is_number()) << key;
  EXPECT_EQ(out["timings"]["prefill_tokens"], 5);
  EXPECT_EQ(out["timings"]["decode_tokens"], 63);
}

TEST(Run, PromptIdsGiveTheSameContinuation) {
  const json ref = stories_reference();
  std::string ids;
  for (const auto& id : ref["prompt_token_ids_with_bos"])
    ids += (ids.empty() ? "" : ",") + std::to_string(id.get<int>());
  json out = run_json({"run", stories(), "--prompt-ids", ids, "--temperature", "0",
                       "--max-tokens", "64", "--json"});
  EXPECT_EQ(out["generated_ids"], ref["generated_token_ids"]);
  EXPECT_EQ(out["text"], ref["generated_text"]);
}

TEST(Run, StreamedTextIsTheSameText) {
  const json ref = stories_reference();
  ProcessResult r = run_lmkit({"run", stories(), ref["prompt"], "--temperature", "0",
                               "--max-tokens", "64"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, ref["generated_text"].get<std::string>() + "\n");
}

TEST(Run, StopStringEndsTheTextBeforeIt) {
  const json ref = stories_reference();
  const std::string full = ref["generated_text"];
  json out = run_json({"run", stories(), ref["prompt"], "--temperature", "0", "--max-tokens", "64",
                       "--stop", "Lily", "--stop", "never appears", "--json"});
  EXPECT_EQ(out["text"], full.substr(0, full.find("Lily")));
  EXPECT_EQ(out["finish_reason"], "stop");
  EXPECT_EQ(out["stop_string"], "Lily");
}

TEST(Run, LogprobsGiveTopNAtEachPosition) {
  const json ref = stories_reference();
  json out = run_json({"run", stories(), ref["prompt"], "--temperature", "0", "--max-tokens", "16",
                       "--logprobs", "4", "--json"});
  ASSERT_EQ(out["logprobs"].size(), 16u);
  for (size_t i = 0; i < 16; ++i) {
    const json& pos = out["logprobs"][i];
    EXPECT_EQ(pos["id"], out["generated_ids"][i]);
    ASSERT_EQ(pos["top_logprobs"].size(), 4u);
    EXPECT_EQ(pos["top_logprobs"][0]["id"], pos["id"]) << "greedy picks the top token";
    EXPECT_TRUE(pos["token"].is_string());
    double mass = 0, previous = 0;
    for (size_t k = 0; k < 4; ++k) {
      double lp = pos["top_logprobs"][k]["logprob"];
      EXPECT_LE(lp, 0.0);
      if (k) EXPECT_LE(lp, previous);
      previous = lp;
      mass += std::exp(lp);
    }
    EXPECT_LE(mass, 1.0 + 1e-5);
    EXPECT_GT(mass, 0.0);
  }
}

TEST(Run, SameSeedSameSample) {
  auto sample = [](const std::string& seed) {
    return run_json({"run", stories(), "Once upon a time", "--temperature", "1.0", "--top-k", "0",
                     "--top-p", "1", "--min-p", "0", "--seed", seed, "--max-tokens", "32",
                     "--ignore-eos", "--json"});
  };
  json a = sample("42"), b = sample("42"), c = sample("4242");
  EXPECT_EQ(a["generated_ids"], b["generated_ids"]);
  EXPECT_EQ(a["seed"], 42);
  EXPECT_NE(a["generated_ids"], c["generated_ids"]);
}

TEST(Run, TokenizerlessHuggingFaceModelWithPromptIds) {
  const std::string dir = data_path("models/llama-tiny");
  const json ref = json::parse(read_file_maybe_gz(dir + "/reference.json"));
  const json& c = ref["cases"][1];
  std::string ids;
  for (const auto& id : c["input_ids"]) ids += (ids.empty() ? "" : ",") + std::to_string(id.get<int>());
  json out = run_json({"run", dir, "--prompt-ids", ids, "--max-tokens", "16", "--json"});
  EXPECT_EQ(out["generated_ids"], c["greedy"]["new_tokens"]) << "generation_config.json: greedy";
  EXPECT_TRUE(out["text"].is_null());
  ProcessResult text = run_lmkit({"run", dir, "hello"});
  EXPECT_NE(text.exit_code, 0);
  EXPECT_NE(text.err.find("no tokenizer"), std::string::npos) << text.err;
}

// One failing run: non-zero exit, nothing on stdout, and an error on stderr naming `needle`.
void expect_clean_failure(const std::vector<std::string>& args, const std::string& needle) {
  ProcessResult r = run_lmkit(args);
  std::string cmd;
  for (const auto& a : args) cmd += a + " ";
  EXPECT_NE(r.exit_code, 0) << cmd;
  EXPECT_NE(r.exit_code, 2) << "an internal error, not a clean one: " << r.err;
  EXPECT_LT(r.exit_code, 128) << "crashed: " << cmd;
  EXPECT_EQ(r.out, "") << cmd;
  EXPECT_NE(r.err.find(needle), std::string::npos) << cmd << "\nstderr: " << r.err;
  EXPECT_LE(non_empty_lines(r.err).size(), 2u) << r.err;
}

TEST(Run, BadInputsAreOneClearError) {
  const std::string dir = temp_dir();
  expect_clean_failure({"run", dir + "/nope.gguf", "hi"}, "nope.gguf");
  const std::string gguf = read_file_maybe_gz(data_path("stories260K/stories260K.gguf"));
  {
    std::ofstream out(dir + "/truncated.gguf", std::ios::binary);
    out.write(gguf.data(), static_cast<std::streamsize>(gguf.size() - 1000));
  }
  expect_clean_failure({"run", dir + "/truncated.gguf", "hi"}, "truncated.gguf");
  expect_clean_failure({"run", stories(), "hi", "--temperature", "warm"}, "--temperature");
  expect_clean_failure({"run", stories(), "hi", "--top-p", "1.5"}, "--top-p");
  expect_clean_failure({"run", stories(), "--prompt-ids", "1,x,3"}, "element 1");
  expect_clean_failure({"run", stories(), "--prompt-ids", "1,99999"}, "99999");
  expect_clean_failure({"run", stories()}, "prompt");
  expect_clean_failure({"run", stories(), "hi", "--chat"}, "chat template");
  expect_clean_failure({"run", stories(), "hi", "--logprobs", "3"}, "--json");
  expect_clean_failure({"run", stories(), "Once upon a time there was", "--ctx-size", "4"},
                       "context holds only 4");
  expect_clean_failure({"run", stories(), "hi", "--ctx-size", "100000"}, "2048");
}

}  // namespace
}  // namespace lmkit::testing
