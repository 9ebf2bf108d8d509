#include "lmkit/tensor/dtype.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include "lmkit/base/error.h"

namespace lmkit {
namespace {

struct Entry {
  DType type;
  DTypeTraits traits;
};

constexpr std::array<Entry, 22> kTable = {{
    {DType::F32, {"f32", 1, 4}},
    {DType::F16, {"f16", 1, 2}},
    {DType::Q4_0, {"q4_0", 32, 18}},
    {DType::Q4_1, {"q4_1", 32, 20}},
    {DType::Q5_0, {"q5_0", 32, 22}},
    {DType::Q5_1, {"q5_1", 32, 24}},
    {DType::Q8_0, {"q8_0", 32, 34}},
    {DType::Q8_1, {"q8_1", 32, 36}},
    {DType::Q2_K, {"q2_k", 256, 84}},
    {DType::Q3_K, {"q3_k", 256, 110}},
    {DType::Q4_K, {"q4_k", 256, 144}},
    {DType::Q5_K, {"q5_k", 256, 176}},
    {DType::Q6_K, {"q6_k", 256, 210}},
    {DType::Q8_K, {"q8_k", 256, 292}},
    {DType::IQ4_NL, {"iq4_nl", 32, 18}},
    {DType::IQ4_XS, {"iq4_xs", 256, 136}},
    {DType::I8, {"i8", 1, 1}},
    {DType::I16, {"i16", 1, 2}},
    {DType::I32, {"i32", 1, 4}},
    {DType::I64, {"i64", 1, 8}},
    {DType::F64, {"f64", 1, 8}},
    {DType::BF16, {"bf16", 1, 2}},
}};

const Entry* find_entry(uint32_t raw) {
  for (const Entry& e : kTable)
    if (static_cast<uint32_t>(e.type) == raw) return &e;
  return nullptr;
}

}  // namespace

const DTypeTraits& dtype_traits(DType t) {
  const Entry* e = find_entry(static_cast<uint32_t>(t));
  if (!e) throw_error("unknown tensor type id " + std::to_string(static_cast<uint32_t>(t)));
  return e->traits;
}

bool dtype_is_known(uint32_t raw) { return find_entry(raw) != nullptr; }

DType dtype_from_name(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string valid;
  for (const Entry& e : kTable) {
    if (lower == e.traits.name) return e.type;
    valid += valid.empty() ? "" : ", ";
    valid += e.traits.name;
  }
  throw_error("unknown type '" + name + "'; valid types: " + valid);
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t abs = x & 0x7fffffff;
  if (abs >= 0x7f800000u) {  // inf or nan
    return static_cast<uint16_t>(sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 | ((abs >> 13) & 0x3ff) : 0));
  }
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00);  // overflow to inf
  if (abs < 0x38800000u) {  // result is subnormal or zero
    if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
    uint32_t exp = abs >> 23;
    uint32_t mant = (abs & 0x7fffff) | 0x800000;
    uint32_t rshift = 126 - exp;  // f16 subnormal units are 2^-24; mant carries 2^(exp-150)
    uint32_t half = mant >> rshift;
    uint32_t rem = mant & ((1u << rshift) - 1);
    uint32_t halfway = 1u << (rshift - 1);
    if (rem > halfway || (rem == halfway && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t rounded = abs + 0xfff + ((abs >> 13) & 1);  // round to nearest even
  return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
}

uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet NaN
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

}  // namespace lmkit
