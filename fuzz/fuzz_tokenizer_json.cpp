// libFuzzer target: Tokenizer::from_json must either build a tokenizer or throw lmkit::Error,
// for any bytes. A tokenizer that loads is then driven with a fixed text and with the input
// itself as text, and its output decoded: none of that may crash either (invalid UTF-8 text is
// an lmkit::Error by design).
#include <cstddef>
#include <cstdint>
#include <string>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string json(reinterpret_cast<const char*>(data), size);
  std::unique_ptr<lmkit::Tokenizer> tok;
  try {
    tok = lmkit::Tokenizer::from_json(json, "fuzz.json");
  } catch (const lmkit::Error&) {
    return 0;
  }
  for (const std::string& text : {std::string("Hello, world! 你好 123\n\t <s>"), json.substr(0, 256)}) {
    try {
      lmkit::Encoding e = tok->encode_full(text, true);
      (void)tok->decode(e.ids, false);
      (void)tok->decode(e.ids, true);
      (void)tok->encode_pair(text, "pair", true);
    } catch (const lmkit::Error&) {
    }
  }
  for (int32_t id : {-1, 0, 1, tok->vocab_size() - 1, tok->vocab_size(), 1 << 30}) {
    (void)tok->id_to_token(id);
    try {
      (void)tok->decode({id}, false);
    } catch (const lmkit::Error&) {
    }
  }
  return 0;
}
