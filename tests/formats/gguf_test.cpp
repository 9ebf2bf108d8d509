// GGUF reader and writer: stories260K (values from its README), a full round trip through
// GgufWriter, v2 files, and hostile files (each one lmkit::Error naming the file and field).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "lmkit/base/error.h"
#include "lmkit/formats/gguf.h"
#include "support/test_data.h"

namespace lmkit {
namespace {

using testing::data_path;
using testing::materialize_maybe_gz;
using testing::temp_dir;

std::string stories_path() {
  return materialize_maybe_gz(data_path("stories260K/stories260K.gguf"));
}

// Little-endian byte builder for hand-made (and deliberately broken) GGUF images.
struct Bytes {
  std::vector<uint8_t> b;
  template <typename T>
  Bytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    b.insert(b.end(), p, p + sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& header(uint32_t version, uint64_t tensors, uint64_t kvs) {
    b.insert(b.end(), {'G', 'G', 'U', 'F'});
    return put(version).put(tensors).put(kvs);
  }
  Bytes& tensor_info(const std::string& name, std::vector<uint64_t> ne, uint32_t type,
                     uint64_t offset) {
    str(name).put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) put(d);
    return put(type).put(offset);
  }
  Bytes& pad(size_t alignment) {
    b.resize((b.size() + alignment - 1) / alignment * alignment, 0);
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.resize(b.size() + n, 0);
    return *this;
  }
};

void expect_parse_error(const std::vector<uint8_t>& bytes, const std::string& needle) {
  try {
    parse_gguf(bytes.data(), bytes.size(), "hostile.gguf");
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("hostile.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg;
  }
}

TEST(Gguf, Stories260KMetadataMatchesReadme) {
  GgufFile f(stories_path());
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(f.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f.get_int("llama.block_count"), 5);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 4);
  EXPECT_EQ(f.get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(f.get_int("llama.rope.dimension_count"), 8);
  EXPECT_EQ(f.get_int("llama.context_length"), 2048);
  EXPECT_NEAR(f.get_float_or("llama.attention.layer_norm_rms_epsilon", 0), 1e-5, 1e-9);
  EXPECT_EQ(f.find("llama.rope.freq_base"), nullptr);
  EXPECT_EQ(f.get_float_or("llama.rope.freq_base", 10000.0), 10000.0);
  EXPECT_EQ(f.get_int_or("llama.no_such_key", -7), -7);
  EXPECT_EQ(f.get_int("tokenizer.ggml.bos_token_id"), 1);
  EXPECT_EQ(f.get_int("tokenizer.ggml.eos_token_id"), 2);

  std::vector<std::string> tokens = f.find("tokenizer.ggml.tokens")->as_strings();
  ASSERT_EQ(tokens.size(), 512u);
  EXPECT_EQ(tokens[0], "<unk>");
  EXPECT_EQ(tokens[1], "<s>");
  EXPECT_EQ(tokens[2], "</s>");
  EXPECT_EQ(tokens[3], "<0x00>");
  EXPECT_EQ(tokens[258], "<0xFF>");
  EXPECT_EQ(f.find("tokenizer.ggml.scores")->as_floats().size(), 512u);
  EXPECT_EQ(f.find("tokenizer.ggml.token_type")->as_ints().size(), 512u);

  // Wrong-type and missing look-ups name the key and the file.
  try {
    f.get_string("llama.block_count");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'llama.block_count'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected STRING"), std::string::npos) << e.what();
  }
  try {
    f.get_int("llama.nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'llama.nope' is missing"), std::string::npos);
  }
}

TEST(Gguf, Stories260KTensors) {
  GgufFile f(stories_path());
  ASSERT_EQ(f.tensors().size(), 48u);
  const TensorView* emb = f.find_tensor("token_embd.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->shape, (std::vector<int64_t>{512, 64}));  // reversed from GGUF's ne = {64, 512}
  EXPECT_EQ(emb->dtype, DType::F32);
  EXPECT_EQ(emb->nbytes, 512u * 64 * 4);
  EXPECT_EQ(f.find_tensor("output_norm.weight")->shape, (std::vector<int64_t>{64}));
  EXPECT_EQ(f.find_tensor("blk.0.ffn_gate.weight")->shape, (std::vector<int64_t>{172, 64}));
  EXPECT_EQ(f.find_tensor("blk.4.attn_k.weight")->shape, (std::vector<int64_t>{32, 64}));
  EXPECT_EQ(f.find_tensor("blk.5.attn_k.weight"), nullptr);
  for (const TensorView& t : f.tensors()) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 32, 0u) << t.name;
    const float* x = static_cast<const float*>(t.data);
    for (int64_t i = 0; i < t.numel(); ++i) ASSERT_TRUE(std::isfinite(x[i])) << t.name;
  }
}

void expect_same_value(const GgufValue& a, const GgufValue& b, const std::string& key) {
  ASSERT_EQ(a.type, b.type) << key;
  if (a.is_array()) {
    ASSERT_EQ(a.array_type, b.array_type) << key;
    ASSERT_EQ(a.array.size(), b.array.size()) << key;
    for (size_t i = 0; i < a.array.size(); ++i) expect_same_value(a.array[i], b.array[i], key);
  } else {
    EXPECT_EQ(a.scalar, b.scalar) << key;
  }
}

TEST(Gguf, RoundTripThroughWriter) {
  GgufFile src(stories_path());
  GgufWriter w;
  for (const auto& [k, v] : src.metadata()) w.set(k, v);
  w.set_u32("general.alignment", 64);
  for (const TensorView& t : src.tensors()) w.add_tensor(t.name, t.dtype, t.shape, t.data, t.nbytes);
  std::string path = temp_dir() + "/roundtrip.gguf";
  w.write(path);
  {
    // The streamed file and the in-memory image are the same bytes.
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(file, w.to_bytes());
  }

  GgufFile back(path);
  EXPECT_EQ(back.version(), 3u);
  EXPECT_EQ(back.get_int("general.alignment"), 64);
  ASSERT_EQ(back.metadata().size(), src.metadata().size() + 1);
  for (const auto& [k, v] : src.metadata()) {
    const GgufValue* b = back.find(k);
    ASSERT_NE(b, nullptr) << k;
    expect_same_value(v, *b, k);
  }
  ASSERT_EQ(back.tensors().size(), src.tensors().size());
  for (size_t i = 0; i < src.tensors().size(); ++i) {
    const TensorView& a = src.tensors()[i];
    const TensorView& b = back.tensors()[i];
    EXPECT_EQ(a.name, b.name);  // file order kept
    EXPECT_EQ(a.shape, b.shape);
    ASSERT_EQ(a.nbytes, b.nbytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.nbytes), 0) << a.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data) % 64, 0u) << b.name;
  }
}

TEST(Gguf, WriterTypesAndQuantizedTensor) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_i32("a.i32", -5);
  w.set_bool("a.bool", true);
  w.set_f32("a.f32", 0.25f);
  w.set_i32s("a.i32s", {1, -2, 3});
  w.set_floats("a.floats", {0.5f, -1.5f});
  w.set_u32("a.u32", 1);
  w.set_u32("a.u32", 2);  // replaces in place
  std::vector<uint8_t> q8(2 * 34, 7);
  w.add_tensor("q", DType::Q8_0, {2, 32}, q8.data(), q8.size());
  std::vector<uint8_t> bytes = w.to_bytes();
  GgufHeader h = parse_gguf(bytes.data(), bytes.size(), "memory");
  EXPECT_EQ(h.metadata.size(), 7u);
  EXPECT_EQ(h.metadata.at("a.i32").as_int(), -5);
  EXPECT_TRUE(h.metadata.at("a.bool").as_bool());
  EXPECT_EQ(h.metadata.at("a.f32").as_float(), 0.25);
  EXPECT_EQ(h.metadata.at("a.i32s").as_ints(), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(h.metadata.at("a.floats").as_floats(), (std::vector<float>{0.5f, -1.5f}));
  EXPECT_EQ(h.metadata.at("a.u32").as_int(), 2);
  EXPECT_THROW(h.metadata.at("a.u32").as_bool(), Error);
  EXPECT_THROW(h.metadata.at("a.i32s").as_strings(), Error);
  ASSERT_EQ(h.tensors.size(), 1u);
  EXPECT_EQ(h.tensors[0].dtype, DType::Q8_0);
  EXPECT_EQ(h.tensors[0].nbytes, 68u);
  EXPECT_EQ(h.tensors[0].shape, (std::vector<int64_t>{2, 32}));

  EXPECT_THROW(w.add_tensor("bad", DType::Q8_0, {2, 30}, q8.data(), q8.size()), Error);
  EXPECT_THROW(w.add_tensor("bad", DType::F32, {3}, q8.data(), 8), Error);
  EXPECT_THROW(w.add_tensor("q", DType::Q8_0, {2, 32}, q8.data(), q8.size()), Error);
}

TEST(Gguf, ReadsVersion2) {
  Bytes b;
  b.header(2, 1, 1).str("general.architecture").put<uint32_t>(8).str("llama");
  b.tensor_info("t", {4}, 0, 0).pad(32);
  for (float x : {1.f, 2.f, 3.f, 4.f}) b.put(x);
  GgufHeader h = parse_gguf(b.b.data(), b.b.size(), "v2.gguf");
  EXPECT_EQ(h.version, 2u);
  ASSERT_EQ(h.tensors.size(), 1u);
  EXPECT_EQ(static_cast<const float*>(h.tensors[0].data)[3], 4.f);
}

TEST(GgufBadInput, BadMagic) {
  Bytes b;
  b.b = {'G', 'G', 'M', 'L', 3, 0, 0, 0};
  b.zeros(16);
  expect_parse_error(b.b, "not a GGUF file: magic is \"GGML\"");
}

TEST(GgufBadInput, BadVersion) {
  expect_parse_error(Bytes().header(1, 0, 0).b, "version 1 is not supported");
  expect_parse_error(Bytes().header(4, 0, 0).b, "unsupported GGUF version 4");
  expect_parse_error(Bytes().header(0x03000000, 0, 0).b, "big-endian");
}

TEST(GgufBadInput, Truncated) {
  std::ifstream in(stories_path(), std::ios::binary);
  std::vector<uint8_t> all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Cut inside the header, inside the metadata, and inside the tensor data.
  for (size_t n : {size_t{6}, size_t{20}, size_t{3000}, all.size() - 1}) {
    std::vector<uint8_t> cut(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n));
    expect_parse_error(cut, "truncated file?");
  }
}

TEST(GgufBadInput, AbsurdCounts) {
  expect_parse_error(Bytes().header(3, 0, uint64_t{1} << 60).b, "metadata count");
  expect_parse_error(Bytes().header(3, uint64_t{1} << 60, 0).b, "tensor count");
  Bytes arr;
  arr.header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(uint64_t{1} << 62);
  expect_parse_error(arr.b, "array of 4611686018427387904 STRING elements cannot fit");
}

TEST(GgufBadInput, AbsurdStringLength) {
  Bytes b;
  b.header(3, 0, 1).put<uint64_t>(~uint64_t{0}).zeros(16);
  expect_parse_error(b.b, "string length 18446744073709551615 runs past the end");
  Bytes v;
  v.header(3, 0, 1).str("k").put<uint32_t>(8).put<uint64_t>(1000).str("short").zeros(8);
  expect_parse_error(v.b, "metadata key 'k': string length 1000");
}

TEST(GgufBadInput, UnknownValueAndTensorType) {
  Bytes v;
  v.header(3, 0, 1).str("k").put<uint32_t>(13).put<uint32_t>(0);
  expect_parse_error(v.b, "metadata key 'k': unknown value type 13");
  Bytes t;
  t.header(3, 1, 0).tensor_info("w", {4}, 99, 0).pad(32).zeros(64);
  expect_parse_error(t.b, "tensor 'w': unknown or unsupported tensor type 99");
}

TEST(GgufBadInput, TensorDataPastEnd) {
  Bytes b;
  b.header(3, 1, 0).tensor_info("w", {16}, 0, 0).pad(32).zeros(60);
  expect_parse_error(b.b, "tensor 'w': data [0, +64) runs past the end");
  Bytes c;
  c.header(3, 1, 0).tensor_info("w", {1}, 0, uint64_t{1} << 63).pad(32).zeros(64);
  expect_parse_error(c.b, "runs past the end");
}

TEST(GgufBadInput, OverlappingTensors) {
  Bytes b;
  b.header(3, 2, 0).tensor_info("a", {16}, 0, 0).tensor_info("b", {16}, 0, 32).pad(32).zeros(128);
  expect_parse_error(b.b, "tensors 'a' [0, 64) and 'b' [32, 96) overlap");
}

TEST(GgufBadInput, DimsProductOverflows) {
  Bytes b;
  b.header(3, 1, 0).tensor_info("w", {uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0).pad(32);
  expect_parse_error(b.b, "more elements than fit in 64 bits");
  Bytes d;
  d.header(3, 1, 0).tensor_info("w", {~uint64_t{0}}, 0, 0).pad(32);
  expect_parse_error(d.b, "dimension 18446744073709551615 is too large");
  Bytes n;
  n.header(3, 1, 0).tensor_info("w", {1, 1, 1, 1, 1}, 0, 0).pad(32);
  expect_parse_error(n.b, "5 dimensions, at most 4");
}

TEST(GgufBadInput, MisalignedData) {
  Bytes b;
  b.header(3, 2, 0).tensor_info("a", {2}, 0, 0).tensor_info("b", {2}, 0, 8).pad(32).zeros(64);
  expect_parse_error(b.b, "tensor 'b': data offset 8 is not a multiple of the alignment 32");
  Bytes a;
  a.header(3, 0, 1).str("general.alignment").put<uint32_t>(4).put<uint32_t>(24);
  expect_parse_error(a.b, "general.alignment 24 is not a power of two");
  Bytes t;
  t.header(3, 0, 1).str("general.alignment").put<uint32_t>(8).str("32");
  expect_parse_error(t.b, "general.alignment must be UINT32");
}

TEST(GgufBadInput, QuantizedRowNotWholeBlocks) {
  Bytes b;
  b.header(3, 1, 0).tensor_info("w", {30, 2}, 8, 0).pad(32).zeros(128);
  expect_parse_error(b.b, "innermost dimension 30 is not a multiple of the q8_0 block size 32");
}

TEST(GgufBadInput, DuplicateKeysAndNames) {
  Bytes k;
  k.header(3, 0, 2).str("k").put<uint32_t>(4).put<uint32_t>(1).str("k").put<uint32_t>(4).put<uint32_t>(2);
  expect_parse_error(k.b, "metadata key 'k': duplicate key");
  Bytes t;
  t.header(3, 2, 0).tensor_info("w", {8}, 0, 0).tensor_info("w", {8}, 0, 32).pad(32).zeros(64);
  expect_parse_error(t.b, "tensor 'w': duplicate tensor name");
}

TEST(GgufBadInput, BadBool) {
  Bytes b;
  b.header(3, 0, 1).str("k").put<uint32_t>(7).put<uint8_t>(2);
  expect_parse_error(b.b, "BOOL value 2 is neither 0 nor 1");
}

TEST(GgufBadInput, FileErrorsNamePath) {
  std::string path = temp_dir() + "/garbage.gguf";
  { std::ofstream(path) << "this is not a model"; }
  try {
    GgufFile f(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(GgufFile(temp_dir() + "/missing.gguf"), Error);
}

}  // namespace
}  // namespace lmkit
