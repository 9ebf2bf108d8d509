// libFuzzer target: the real tokenizers of the shared test data (qwen3 byte-level BPE, llama2
// SentencePiece-style BPE with byte fallback, and whatever else LMKIT_FUZZ_TOKENIZERS lists)
// encode any input: valid UTF-8 must encode, with offsets inside the text, ids inside the
// vocabulary, and decode must not crash; invalid UTF-8 must be an lmkit::Error.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/tokenizer.h"

namespace {

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = cp << 6 | (d & 0x3F);
    }
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// Loaded once in LLVMFuzzerInitialize: loading qwen3 under the sanitizers takes seconds, which
// must not count against the first input's time limit.
std::vector<std::unique_ptr<lmkit::Tokenizer>>& tokenizers() {
  static std::vector<std::unique_ptr<lmkit::Tokenizer>> all;
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* list = std::getenv("LMKIT_FUZZ_TOKENIZERS");  // paths separated by ':'
  if (!list || !*list) {
    std::fprintf(stderr, "fuzz_encoder: set LMKIT_FUZZ_TOKENIZERS to tokenizer.json paths (fuzz/run does)\n");
    std::abort();
  }
  std::stringstream ss(list);
  std::string path;
  while (std::getline(ss, path, ':'))
    if (!path.empty()) tokenizers().push_back(lmkit::Tokenizer::from_file(path));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  bool valid = valid_utf8(text);
  size_t n_chars = 0;
  for (unsigned char c : text) n_chars += (c & 0xC0) != 0x80;
  for (const auto& tok : tokenizers()) {
    lmkit::Encoding e;
    try {
      e = tok->encode_full(text, true);
    } catch (const lmkit::Error&) {
      if (valid) __builtin_trap();  // valid text must always encode
      continue;
    }
    if (!valid) __builtin_trap();  // invalid UTF-8 must be refused, never encoded
    for (size_t k = 0; k < e.ids.size(); ++k) {
      if (e.ids[k] < 0 || e.ids[k] >= tok->vocab_size()) __builtin_trap();
      if (e.offsets[k].first > e.offsets[k].second || e.offsets[k].second > n_chars) __builtin_trap();
    }
    (void)tok->decode(e.ids, true);
  }
  return 0;
}
