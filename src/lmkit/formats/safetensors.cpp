#include "lmkit/formats/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "lmkit/base/error.h"
#include "lmkit/formats/shape_math.h"

namespace lmkit {
namespace {

using nlohmann::json;

// The reference implementation refuses headers above 100 MB; a larger value is a corrupt or
// hostile file, and refusing it early avoids parsing garbage as JSON.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

struct DTypeName {
  const char* name;
  DType dtype;
};
constexpr DTypeName kDTypeNames[] = {
    {"F64", DType::F64}, {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16},
    {"I64", DType::I64}, {"I32", DType::I32}, {"I16", DType::I16}, {"I8", DType::I8},
};
// Valid safetensors dtypes that lmkit has no DType for: named in the error so the user knows
// the file is fine but unsupported, rather than corrupt.
constexpr const char* kKnownUnsupported[] = {"U8",  "BOOL", "U16", "U32", "U64",
                                             "F8_E4M3", "F8_E5M2"};

const char* safetensors_dtype_name(DType t) {
  for (const DTypeName& d : kDTypeNames)
    if (d.dtype == t) return d.name;
  return nullptr;
}

std::string supported_dtype_list() {
  std::string out;
  for (const DTypeName& d : kDTypeNames) {
    if (!out.empty()) out += ", ";
    out += d.name;
  }
  return out;
}

DType parse_dtype(const json& v, const std::string& where) {
  if (!v.is_string()) throw_error(where + ": \"dtype\" must be a string");
  const std::string& s = v.get_ref<const std::string&>();
  for (const DTypeName& d : kDTypeNames)
    if (s == d.name) return d.dtype;
  for (const char* u : kKnownUnsupported)
    if (s == u)
      throw_error(fmt::format("{}: dtype {} is not supported by lmkit (supported: {})", where, s,
                              supported_dtype_list()));
  throw_error(fmt::format("{}: unknown dtype \"{}\" (expected one of {})", where, s,
                          supported_dtype_list()));
}

uint64_t parse_u64(const json& v, const std::string& where, const char* field) {
  if (!v.is_number_unsigned())
    throw_error(fmt::format("{}: \"{}\" must hold non-negative integers, got {}", where, field,
                            v.dump()));
  return v.get<uint64_t>();
}

struct RawEntry {
  TensorView view;
  uint64_t begin = 0;
  uint64_t end = 0;
};

RawEntry parse_entry(const std::string& name, const json& v, const std::string& where) {
  if (!v.is_object()) throw_error(where + ": expected an object with dtype, shape, data_offsets");
  RawEntry e;
  e.view.name = name;
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) throw_error(fmt::format("{}: missing \"{}\"", where, key));
  e.view.dtype = parse_dtype(v.at("dtype"), where);

  const json& shape = v.at("shape");
  if (!shape.is_array()) throw_error(where + ": \"shape\" must be an array of integers");
  for (const json& d : shape) {
    uint64_t dim = parse_u64(d, where, "shape");
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw_error(fmt::format("{}: shape dimension {} is too large", where, dim));
    e.view.shape.push_back(static_cast<int64_t>(dim));
  }

  const json& offs = v.at("data_offsets");
  if (!offs.is_array() || offs.size() != 2)
    throw_error(where + ": \"data_offsets\" must be an array [begin, end]");
  e.begin = parse_u64(offs[0], where, "data_offsets");
  e.end = parse_u64(offs[1], where, "data_offsets");
  if (e.end < e.begin)
    throw_error(fmt::format("{}: data_offsets [{}, {}] end before begin", where, e.begin, e.end));

  uint64_t expected = checked_tensor_bytes(e.view.dtype, e.view.shape, where);
  if (e.end - e.begin != expected)
    throw_error(fmt::format("{}: data_offsets [{}, {}] span {} bytes but shape {} x {} needs {}",
                            where, e.begin, e.end, e.end - e.begin, e.view.shape_string(),
                            safetensors_dtype_name(e.view.dtype), expected));
  return e;
}

}  // namespace

SafetensorsHeader parse_safetensors(const uint8_t* data, size_t size, const std::string& source) {
  if (size < 8)
    throw_error(fmt::format("{}: not a safetensors file: {} bytes, shorter than the 8-byte "
                            "header length",
                            source, size));
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
  if (header_len > size - 8)
    throw_error(fmt::format("{}: safetensors header length {} runs past the end of the file "
                            "({} bytes; truncated file?)",
                            source, header_len, size));
  if (header_len > kMaxHeaderBytes)
    throw_error(fmt::format("{}: safetensors header length {} exceeds the {}-byte limit", source,
                            header_len, kMaxHeaderBytes));
  if (header_len < 2 || data[8] != '{')
    throw_error(fmt::format("{}: safetensors header is not a JSON object (expected '{{' at "
                            "byte 8)",
                            source));

  const char* text = reinterpret_cast<const char*>(data + 8);
  json root = json::parse(text, text + header_len, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded())
    throw_error(fmt::format("{}: safetensors header ({} bytes) is not valid JSON", source,
                            header_len));
  if (!root.is_object()) throw_error(source + ": safetensors header is not a JSON object");

  const uint8_t* payload = data + 8 + header_len;
  const uint64_t payload_size = size - 8 - header_len;

  SafetensorsHeader out;
  std::vector<RawEntry> entries;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object())
        throw_error(source + ": safetensors \"__metadata__\" must be an object of strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          throw_error(fmt::format("{}: safetensors \"__metadata__\" value for \"{}\" must be a "
                                  "string, got {}",
                                  source, m.key(), m->dump()));
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    std::string where = fmt::format("{}: tensor '{}'", source, it.key());
    RawEntry e = parse_entry(it.key(), *it, where);
    if (e.end > payload_size)
      throw_error(fmt::format("{}: data_offsets [{}, {}] run past the data section of {} bytes "
                              "(truncated file?)",
                              where, e.begin, e.end, payload_size));
    entries.push_back(std::move(e));
  }

  std::sort(entries.begin(), entries.end(), [](const RawEntry& a, const RawEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  // Empty tensors take no bytes and may share an offset with anything; only real byte ranges
  // can overlap.
  const RawEntry* prev = nullptr;
  for (const RawEntry& e : entries) {
    if (e.begin == e.end) continue;
    if (prev && e.begin < prev->end)
      throw_error(fmt::format("{}: tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", source,
                              prev->view.name, prev->begin, prev->end, e.view.name, e.begin,
                              e.end));
    prev = &e;
  }

  out.tensors.reserve(entries.size());
  for (RawEntry& e : entries) {
    e.view.data = payload + e.begin;
    e.view.nbytes = static_cast<size_t>(e.end - e.begin);
    out.tensors.push_back(std::move(e.view));
  }
  return out;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(path) {
  header_ = parse_safetensors(file_.data(), file_.size(), path);
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_.emplace(header_.tensors[i].name, i);
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // nlohmann's ordered_json keeps insertion order, so the header lists tensors as given.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    std::string where = fmt::format("writing {}: tensor '{}'", path, t.name);
    if (t.name == "__metadata__") throw_error(where + ": the name is reserved");
    if (header.contains(t.name)) throw_error(where + ": duplicate tensor name");
    const char* dname = safetensors_dtype_name(t.dtype);
    if (!dname)
      throw_error(fmt::format("{}: dtype {} cannot be stored in safetensors (supported: {})",
                              where, dtype_name(t.dtype), supported_dtype_list()));
    uint64_t expected = checked_tensor_bytes(t.dtype, t.shape, where);
    if (expected != t.nbytes)
      throw_error(fmt::format("{}: {} bytes given but shape x dtype needs {}", where, t.nbytes,
                              expected));
    if (t.nbytes && !t.data) throw_error(where + ": no data");
    header[t.name] = {{"dtype", dname},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.nbytes}}};
    offset += t.nbytes;
  }
  std::string text = header.dump();
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');

  namespace fs = std::filesystem;
  // Written to a temporary name and renamed, so a crash never leaves a truncated file that
  // looks complete.
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw_error(fmt::format("cannot create '{}'", tmp));
    uint8_t len[8];
    uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const TensorToWrite& t : tensors)
      out.write(static_cast<const char*>(t.data), static_cast<std::streamsize>(t.nbytes));
    out.flush();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw_error(fmt::format("failed writing '{}' (disk full?)", tmp));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw_error(fmt::format("cannot rename '{}' to '{}': {}", tmp, path, ec.message()));
}

}  // namespace lmkit
