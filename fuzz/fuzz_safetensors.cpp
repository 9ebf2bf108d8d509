// libFuzzer target: parse_safetensors must either accept an image or throw lmkit::Error; it must
// never crash, and every tensor view it accepts must lie inside the image (each view's first
// and last byte are read, so AddressSanitizer catches a view that points outside).
#include <cstddef>
#include <cstdint>

#include "lmkit/base/error.h"
#include "lmkit/formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    lmkit::SafetensorsHeader h = lmkit::parse_safetensors(data, size, "fuzz.safetensors");
    volatile uint8_t sink = 0;
    for (const lmkit::TensorView& t : h.tensors) {
      if (t.nbytes == 0) continue;
      const auto* p = static_cast<const uint8_t*>(t.data);
      sink = sink ^ p[0] ^ p[t.nbytes - 1];
      if (p < data || p + t.nbytes > data + size) __builtin_trap();
    }
  } catch (const lmkit::Error&) {
  }
  return 0;
}
