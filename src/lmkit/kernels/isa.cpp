// Choosing the SIMD path: cpuid (plus the OS's XSAVE state, without which the wide registers
// are unusable even if the CPU has them), capped by LMKIT_ISA for tests and comparisons.
#include <cpuid.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lmkit/kernels/ops.h"

namespace lmkit::kernels {
namespace {

uint64_t read_xcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

Isa detect_isa() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::Scalar;
  const bool osxsave = c & (1u << 27), fma = c & (1u << 12), f16c = c & (1u << 29);
  if (!osxsave) return Isa::Scalar;
  const uint64_t xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;
  const bool zmm_state = (xcr0 & 0xE6) == 0xE6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::Scalar;
  const bool avx2 = b & (1u << 5), bmi2 = b & (1u << 8);
  const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
             avx512vl = b & (1u << 31);
  const bool avx512vbmi = c & (1u << 1), avx512vnni = c & (1u << 11);
  unsigned a1 = 0, b1, c1, d1;
  __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
  const bool avx512bf16 = a1 & (1u << 5);
  if (!(ymm_state && avx2 && fma && f16c && bmi2)) return Isa::Scalar;
  // The AVX-512 file is compiled with all of these, so all are required to run any of it.
  if (zmm_state && avx512f && avx512dq && avx512bw && avx512vl && avx512vbmi && avx512vnni &&
      avx512bf16)
    return Isa::Avx512;
  return Isa::Avx2;
}

Isa env_cap() {
  const char* env = std::getenv("LMKIT_ISA");
  if (!env || !*env) return Isa::Avx512;
  if (std::strcmp(env, "scalar") == 0) return Isa::Scalar;
  if (std::strcmp(env, "avx2") == 0) return Isa::Avx2;
  if (std::strcmp(env, "avx512") == 0) return Isa::Avx512;
  // Not fatal: an unknown value must not stop a server from starting, so warn and ignore it.
  std::fprintf(stderr, "lmkit: ignoring LMKIT_ISA=%s (expected scalar, avx2 or avx512)\n", env);
  return Isa::Avx512;
}

Isa clamp(Isa want) {
  const Isa best = best_supported_isa();
  return static_cast<int>(want) < static_cast<int>(best) ? want : best;
}

std::atomic<int>& active_slot() {
  static std::atomic<int> slot{static_cast<int>(clamp(env_cap()))};
  return slot;
}

}  // namespace

Isa best_supported_isa() {
  static const Isa best = detect_isa();
  return best;
}

Isa active_isa() { return static_cast<Isa>(active_slot().load(std::memory_order_relaxed)); }

void set_isa(Isa isa) { active_slot().store(static_cast<int>(clamp(isa)), std::memory_order_relaxed); }

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "unknown";
}

namespace detail {

const Ops& active_ops() {
  switch (active_isa()) {
    case Isa::Scalar: return scalar_ops();
    case Isa::Avx2: return avx2_ops();
    case Isa::Avx512: return avx512_ops();
  }
  return scalar_ops();
}

}  // namespace detail
}  // namespace lmkit::kernels
