// libFuzzer target: parse_gguf must either accept an image or throw lmkit::Error; it must never
// crash. Accepted tensor views are bounds-checked against the image, and the typed metadata
// accessors are exercised too (they must throw lmkit::Error on a type mismatch, nothing else).
#include <cstddef>
#include <cstdint>

#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"

namespace {

void touch_value(const lmkit::GgufValue& v) {
  auto attempt = [](auto&& f) {
    try {
      f();
    } catch (const lmkit::Error&) {
    }
  };
  attempt([&] { (void)v.as_string(); });
  attempt([&] { (void)v.as_int(); });
  attempt([&] { (void)v.as_float(); });
  attempt([&] { (void)v.as_bool(); });
  attempt([&] { (void)v.as_strings(); });
  attempt([&] { (void)v.as_floats(); });
  attempt([&] { (void)v.as_ints(); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    lmkit::GgufHeader h = lmkit::parse_gguf(data, size, "fuzz.gguf");
    for (const auto& [key, value] : h.metadata) touch_value(value);
    volatile uint8_t sink = 0;
    for (const lmkit::TensorView& t : h.tensors) {
      if (t.nbytes == 0) continue;
      const auto* p = static_cast<const uint8_t*>(t.data);
      if (p < data || p + t.nbytes > data + size) __builtin_trap();
      sink = sink ^ p[0] ^ p[t.nbytes - 1];
    }
  } catch (const lmkit::Error&) {
  }
  return 0;
}
