// Encoding throughput of one tokenizer over a JSONL corpus, for tokenizer_encode_bench.mjs:
//   bench_tokenizer_encode TOKENIZER.json CORPUS.jsonl THREADS [FIELD]
// Loads every text first (load and I/O are not timed), then encodes them all with
// add_special_tokens=false on THREADS threads, texts handed out one at a time so long records
// don't unbalance the threads, as Hugging Face's encodeBatch spreads a batch over rayon.
// Prints one JSON line: bytes, texts, tokens, seconds, MB/s, and a checksum of all ids (the sum
// over texts of a 32-bit FNV-1a of each text's ids) that the script compares with Hugging
// Face's, so both sides are known to have produced the same tokens.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/base/thread_pool.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace {

uint32_t fnv1a(const std::vector<int32_t>& ids) {
  uint32_t h = 2166136261u;
  for (int32_t id : ids) {
    h ^= static_cast<uint32_t>(id);
    h *= 16777619u;
  }
  return h;
}

int run(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s TOKENIZER.json CORPUS.jsonl THREADS [FIELD]\n", argv[0]);
    return 2;
  }
  const std::string field = argc > 4 ? argv[4] : "text";
  auto tokenizer = lmkit::Tokenizer::from_file(argv[1]);
  std::vector<std::string> texts;
  size_t bytes = 0;
  std::ifstream in(argv[2]);
  if (!in) lmkit::throw_error(std::string("cannot read ") + argv[2]);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    texts.push_back(nlohmann::json::parse(line).at(field).get<std::string>());
    bytes += texts.back().size();
  }
  lmkit::ThreadPool pool(std::stoi(argv[3]));
  std::vector<uint64_t> tokens(pool.size(), 0), checksum(pool.size(), 0);
  std::atomic<size_t> next{0};
  auto start = std::chrono::steady_clock::now();
  pool.run([&](int t) {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < texts.size();) {
      std::vector<int32_t> ids = tokenizer->encode(texts[i], false);
      tokens[t] += ids.size();
      checksum[t] += fnv1a(ids);
    }
  });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  uint64_t total_tokens = 0, sum = 0;
  for (int t = 0; t < pool.size(); ++t) {
    total_tokens += tokens[t];
    sum += checksum[t];
  }
  nlohmann::ordered_json out;
  out["threads"] = pool.size();
  out["texts"] = texts.size();
  out["bytes"] = bytes;
  out["tokens"] = total_tokens;
  out["seconds"] = seconds;
  out["mb_per_s"] = bytes / 1e6 / seconds;
  out["checksum"] = static_cast<uint32_t>(sum);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tokenizer_encode: %s\n", e.what());
    return 1;
  }
}
