// safetensors reader and writer: the shared tiny models (cross-checked against their config.json
// and against each other: the bf16 and f16 copies are roundings of the f32 one), hostile
// headers (each must give one lmkit::Error naming the file and the problem), and round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lmkit/base/error.h"
#include "lmkit/formats/safetensors.h"
#include "support/test_data.h"

namespace lmkit {
namespace {

using testing::data_path;
using testing::temp_dir;

std::string model_file(const std::string& model) {
  return data_path("models/" + model + "/model.safetensors");
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// Builds a safetensors image from a header text and a payload of `payload_bytes` zero bytes.
std::vector<uint8_t> image(const std::string& header, size_t payload_bytes) {
  std::vector<uint8_t> out(8);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + payload_bytes, 0);
  return out;
}

// Parses and expects an lmkit::Error whose message names the source and contains `needle`.
void expect_parse_error(const std::vector<uint8_t>& bytes, const std::string& needle) {
  try {
    parse_safetensors(bytes.data(), bytes.size(), "hostile.safetensors");
    FAIL() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("hostile.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << "message: " << msg;
  }
}

TEST(Safetensors, LlamaTinyShapesMatchConfig) {
  SafetensorsFile f(model_file("llama-tiny"));
  nlohmann::json cfg = read_json(data_path("models/llama-tiny/config.json"));
  const int64_t hidden = cfg["hidden_size"], vocab = cfg["vocab_size"];
  const int64_t inter = cfg["intermediate_size"], layers = cfg["num_hidden_layers"];
  const int64_t heads = cfg["num_attention_heads"], kv_heads = cfg["num_key_value_heads"];
  const int64_t head_dim = hidden / heads;

  EXPECT_EQ(f.metadata().at("format"), "pt");
  // embed, norm, lm_head, and 9 per layer (q, k, v, o, gate, up, down, 2 norms).
  EXPECT_EQ(f.tensors().size(), static_cast<size_t>(3 + 9 * layers));
  auto shape_of = [&](const std::string& name) {
    const TensorView* t = f.find(name);
    EXPECT_NE(t, nullptr) << name;
    return t ? t->shape : std::vector<int64_t>{};
  };
  EXPECT_EQ(shape_of("model.embed_tokens.weight"), (std::vector<int64_t>{vocab, hidden}));
  EXPECT_EQ(shape_of("lm_head.weight"), (std::vector<int64_t>{vocab, hidden}));
  EXPECT_EQ(shape_of("model.norm.weight"), (std::vector<int64_t>{hidden}));
  EXPECT_EQ(shape_of("model.layers.1.self_attn.k_proj.weight"),
            (std::vector<int64_t>{kv_heads * head_dim, hidden}));
  EXPECT_EQ(shape_of("model.layers.0.mlp.down_proj.weight"), (std::vector<int64_t>{hidden, inter}));
  EXPECT_EQ(f.find("model.layers.2.mlp.down_proj.weight"), nullptr);

  // Sorted by offset, packed back to back, every view inside the mapped file.
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const TensorView& t = f.tensors()[i];
    EXPECT_EQ(t.dtype, DType::F32);
    EXPECT_EQ(t.nbytes, static_cast<size_t>(t.numel()) * 4);
    if (i > 0) {
      const TensorView& p = f.tensors()[i - 1];
      EXPECT_EQ(static_cast<const uint8_t*>(p.data) + p.nbytes, t.data);
    }
  }
  // Norm weights of these models are seeded away from 1 (models/README.md).
  const float* norm = static_cast<const float*>(f.find("model.norm.weight")->data);
  EXPECT_TRUE(std::isfinite(norm[0]));
  EXPECT_NE(norm[0], 1.0f);
}

// The bf16 and f16 copies were made by rounding the f32 weights, so every element read through
// one reader must equal the rounding of the element read from the other file.
TEST(Safetensors, HalfPrecisionCopiesAreRoundingsOfF32) {
  SafetensorsFile f32(model_file("llama-tiny"));
  SafetensorsFile bf16(model_file("llama-tiny-bf16"));
  SafetensorsFile f16(model_file("llama-tiny-fp16"));
  ASSERT_EQ(bf16.tensors().size(), f32.tensors().size());
  ASSERT_EQ(f16.tensors().size(), f32.tensors().size());
  size_t compared = 0;
  for (const TensorView& ref : f32.tensors()) {
    const TensorView* b = bf16.find(ref.name);
    const TensorView* h = f16.find(ref.name);
    ASSERT_TRUE(b && h) << ref.name;
    ASSERT_EQ(b->dtype, DType::BF16);
    ASSERT_EQ(h->dtype, DType::F16);
    ASSERT_EQ(b->shape, ref.shape);
    ASSERT_EQ(h->shape, ref.shape);
    const float* x = static_cast<const float*>(ref.data);
    const uint16_t* bx = static_cast<const uint16_t*>(b->data);
    const uint16_t* hx = static_cast<const uint16_t*>(h->data);
    for (int64_t i = 0; i < ref.numel(); ++i) {
      ASSERT_EQ(bx[i], f32_to_bf16(x[i])) << ref.name << "[" << i << "]";
      ASSERT_EQ(hx[i], f32_to_f16(x[i])) << ref.name << "[" << i << "]";
      ++compared;
    }
  }
  EXPECT_GT(compared, 100000u);
}

TEST(Safetensors, AllSharedModelsParse) {
  for (const char* m : {"llama-tiny", "qwen2-tiny", "bert-tiny-mlm", "t5-tiny"}) {
    SafetensorsFile f(model_file(m));
    EXPECT_FALSE(f.tensors().empty()) << m;
  }
  // Tied tensors are absent as transformers saves them (models/README.md).
  SafetensorsFile bert(model_file("bert-tiny-mlm"));
  EXPECT_EQ(bert.find("cls.predictions.decoder.weight"), nullptr);
  EXPECT_NE(bert.find("cls.predictions.bias"), nullptr);
  SafetensorsFile t5(model_file("t5-tiny"));
  EXPECT_NE(t5.find("shared.weight"), nullptr);
  EXPECT_EQ(t5.find("encoder.embed_tokens.weight"), nullptr);
}

TEST(Safetensors, RoundTripThroughWriter) {
  SafetensorsFile src(model_file("qwen2-tiny"));
  std::vector<TensorToWrite> out;
  for (const TensorView& t : src.tensors())
    out.push_back({t.name, t.dtype, t.shape, t.data, t.nbytes});
  std::string path = temp_dir() + "/roundtrip.safetensors";
  write_safetensors(path, out, {{"format", "pt"}, {"note", "written by lmkit"}});

  SafetensorsFile back(path);
  EXPECT_EQ(back.metadata().at("note"), "written by lmkit");
  ASSERT_EQ(back.tensors().size(), src.tensors().size());
  for (const TensorView& t : src.tensors()) {
    const TensorView* b = back.find(t.name);
    ASSERT_NE(b, nullptr) << t.name;
    EXPECT_EQ(b->shape, t.shape);
    EXPECT_EQ(b->dtype, t.dtype);
    ASSERT_EQ(b->nbytes, t.nbytes);
    EXPECT_EQ(std::memcmp(b->data, t.data, t.nbytes), 0) << t.name;
  }
  // Header padded so the data section is 8-byte aligned.
  std::ifstream in(path, std::ios::binary);
  uint64_t header_len = 0;
  in.read(reinterpret_cast<char*>(&header_len), 8);
  EXPECT_EQ(header_len % 8, 0u);
}

TEST(Safetensors, WriterRejectsBadTensors) {
  float x[4] = {1, 2, 3, 4};
  std::string path = temp_dir() + "/bad.safetensors";
  EXPECT_THROW(write_safetensors(path, {{"w", DType::F32, {2, 3}, x, sizeof x}}), Error);
  EXPECT_THROW(write_safetensors(path, {{"w", DType::Q8_0, {32}, x, 34}}), Error);
  EXPECT_THROW(write_safetensors(path, {{"w", DType::F32, {4}, x, 16}, {"w", DType::F32, {4}, x, 16}}),
               Error);
}

TEST(SafetensorsBadInput, TooShortForLength) {
  expect_parse_error({1, 2, 3}, "shorter than the 8-byte header length");
}

TEST(SafetensorsBadInput, HeaderLengthPastEnd) {
  auto bytes = image("{}", 0);
  bytes[0] = 200;
  expect_parse_error(bytes, "runs past the end of the file");
}

TEST(SafetensorsBadInput, HugeHeaderLength) {
  auto bytes = image("{}", 0);
  for (int i = 0; i < 8; ++i) bytes[i] = 0xff;
  expect_parse_error(bytes, "runs past the end of the file");
}

TEST(SafetensorsBadInput, NotJson) {
  expect_parse_error(image("{\"a\": [1, 2", 0), "not valid JSON");
  expect_parse_error(image("hello world", 0), "not a JSON object");
}

TEST(SafetensorsBadInput, UnknownDtype) {
  expect_parse_error(image(R"({"w":{"dtype":"Q9","shape":[1],"data_offsets":[0,4]}})", 4),
                     "unknown dtype \"Q9\"");
}

TEST(SafetensorsBadInput, UnsupportedValidDtype) {
  expect_parse_error(image(R"({"w":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}})", 1),
                     "dtype BOOL is not supported");
}

TEST(SafetensorsBadInput, ByteSizeNotShapeTimesDtype) {
  expect_parse_error(image(R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})", 24),
                     "needs 24");
}

TEST(SafetensorsBadInput, OffsetsPastEnd) {
  expect_parse_error(image(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", 16),
                     "run past the data section of 16 bytes");
}

TEST(SafetensorsBadInput, OffsetsOverlap) {
  expect_parse_error(
      image(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
            16),
      "overlap");
}

TEST(SafetensorsBadInput, EndBeforeBegin) {
  expect_parse_error(image(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 16),
                     "end before begin");
}

TEST(SafetensorsBadInput, DimsProductOverflows) {
  expect_parse_error(
      image(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0),
      "more elements than fit in 64 bits");
  expect_parse_error(
      image(R"({"w":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}})", 0),
      "more bytes than fit in 64 bits");
}

TEST(SafetensorsBadInput, NegativeOrNonIntegerShape) {
  expect_parse_error(image(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", 0),
                     "\"shape\" must hold non-negative integers");
  expect_parse_error(image(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,0]}})", 0),
                     "\"shape\" must hold non-negative integers");
}

TEST(SafetensorsBadInput, MissingField) {
  expect_parse_error(image(R"({"w":{"dtype":"F32","shape":[1]}})", 4), "missing \"data_offsets\"");
}

TEST(SafetensorsBadInput, MetadataMustBeStrings) {
  expect_parse_error(image(R"({"__metadata__":{"format":3}})", 0),
                     "\"__metadata__\" value for \"format\" must be a string");
}

TEST(SafetensorsBadInput, TruncatedRealFileNamesPath) {
  std::ifstream in(model_file("llama-tiny"), std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string path = temp_dir() + "/truncated.safetensors";
  {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 100));
  }
  try {
    SafetensorsFile f(path);
    FAIL() << "truncated file accepted";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("truncated file?"), std::string::npos) << msg;
  }
}

TEST(SafetensorsBadInput, MissingFile) {
  EXPECT_THROW(SafetensorsFile(temp_dir() + "/does-not-exist.safetensors"), Error);
}

}  // namespace
}  // namespace lmkit
