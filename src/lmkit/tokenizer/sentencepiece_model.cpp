// SentencePiece .model files (a serialized ModelProto) turned into the pipeline that
// transformers' slow-to-fast converters build from them:
//  - unigram models as T5Converter/SpmConverter does: Precompiled(charsmap) normalizer,
//    WhitespaceSplit (when remove_extra_whitespaces) + Metaspace(add_dummy_prefix ? always :
//    never), Unigram over every piece with its score, Metaspace decoder;
//  - BPE models as LlamaConverter does (legacy layout): Prepend("▁") (when add_dummy_prefix)
//    + Replace(" ", "▁") normalizer, BPE with merges recovered from the piece scores, byte
//    fallback as trained, decoder Replace/ByteFallback/Fuse/Strip;
//  - CONTROL and UNKNOWN pieces become special added tokens, USER_DEFINED pieces plain ones.
// What the .model cannot say comes from tokenizer_config.json beside it when there is one:
// T5's <extra_id_N> tokens (extra_ids, 100 for T5Tokenizer) and the template that appends
// </s>; LlamaTokenizer's <s> prefix (also the default for BPE models).
//
// The protobuf wire format is read by hand: only the fields above are used, every other
// field is skipped by wire type, and anything malformed (truncation, impossible lengths,
// wrong wire types, invalid UTF-8) is an lmkit::Error naming the file, field and byte offset.
#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {
namespace {

enum PieceType { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct SpmPiece {
  std::string piece;
  float score = 0;
  int type = kNormal;
};

struct SpmModel {
  std::vector<SpmPiece> pieces;
  int model_type = 1;  // 1 unigram, 2 BPE, 3 word, 4 char
  bool byte_fallback = false;
  int32_t unk_id = 0;
  std::string charsmap;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
};

// One length-delimited message of the protobuf wire format.
class WireReader {
 public:
  WireReader(std::string_view data, size_t base, const std::string& source, std::string message)
      : data_(data), base_(base), source_(source), message_(std::move(message)) {}

  struct Field {
    uint32_t number;
    int wire;
    uint64_t value;         // varint and fixed values
    std::string_view bytes;  // length-delimited payload
    size_t offset;           // of the payload in the file
  };

  bool next(Field& f) {
    if (pos_ >= data_.size()) return false;
    size_t at = pos_;
    uint64_t key = varint("a field key");
    f.number = static_cast<uint32_t>(key >> 3);
    f.wire = static_cast<int>(key & 7);
    if (f.number == 0 || (key >> 3) > 0x1FFFFFFF) fail(at, "invalid field number " + std::to_string(key >> 3));
    switch (f.wire) {
      case 0:
        f.value = varint("field " + std::to_string(f.number));
        break;
      case 1:
        f.value = fixed(8, f.number);
        break;
      case 5:
        f.value = fixed(4, f.number);
        break;
      case 2: {
        uint64_t len = varint("the length of field " + std::to_string(f.number));
        if (len > data_.size() - pos_)
          fail(at, "field " + std::to_string(f.number) + " declares " + std::to_string(len) + " bytes but only " +
                       std::to_string(data_.size() - pos_) + " remain");
        f.offset = base_ + pos_;
        f.bytes = data_.substr(pos_, static_cast<size_t>(len));
        pos_ += static_cast<size_t>(len);
        break;
      }
      default:
        fail(at, "field " + std::to_string(f.number) + " has wire type " + std::to_string(f.wire) +
                     ", which SentencePiece models never use (groups or invalid)");
    }
    return true;
  }

  // Checks the wire type of a field this reader understands.
  void expect(const Field& f, int wire, const char* name) const {
    static const char* const kWireNames[] = {"varint", "fixed64", "length-delimited", "group start", "group end",
                                             "fixed32"};
    if (f.wire != wire)
      fail(pos_, std::string(name) + " (field " + std::to_string(f.number) + ") must be " + kWireNames[wire] +
                     ", found " + (f.wire <= 5 ? kWireNames[f.wire] : "wire type " + std::to_string(f.wire)));
  }
  std::string string_field(const Field& f, const char* name) const {
    expect(f, 2, name);
    if (!utf8::is_valid(f.bytes)) fail(pos_, std::string(name) + " is not valid UTF-8");
    return std::string(f.bytes);
  }

  [[noreturn]] void fail(size_t at, const std::string& what) const {
    throw_error(source_ + ": malformed SentencePiece model in " + message_ + " at byte " + std::to_string(base_ + at) +
                ": " + what);
  }

 private:
  uint64_t varint(const std::string& what) {
    uint64_t v = 0;
    size_t start = pos_;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos_ >= data_.size()) fail(start, "truncated varint in " + what);
      uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
    fail(start, "varint longer than 10 bytes in " + what);
  }
  uint64_t fixed(size_t n, uint32_t number) {
    if (data_.size() - pos_ < n) fail(pos_, "truncated fixed-size value in field " + std::to_string(number));
    uint64_t v = 0;
    std::memcpy(&v, data_.data() + pos_, n);  // little-endian
    pos_ += n;
    return v;
  }

  std::string_view data_;
  size_t base_;
  size_t pos_ = 0;
  const std::string& source_;
  std::string message_;
};

SpmPiece parse_piece(const WireReader::Field& outer, size_t index, const std::string& source) {
  WireReader r(outer.bytes, outer.offset, source, "pieces[" + std::to_string(index) + "]");
  SpmPiece p;
  bool has_piece = false;
  WireReader::Field f;
  while (r.next(f)) {
    if (f.number == 1) {
      p.piece = r.string_field(f, "piece");
      has_piece = true;
    } else if (f.number == 2) {
      r.expect(f, 5, "score");
      uint32_t bits = static_cast<uint32_t>(f.value);
      std::memcpy(&p.score, &bits, 4);
    } else if (f.number == 3) {
      r.expect(f, 0, "type");
      if (f.value < kNormal || f.value > kByte) r.fail(0, "unknown piece type " + std::to_string(f.value));
      p.type = static_cast<int>(f.value);
    }
  }
  if (!has_piece || p.piece.empty()) r.fail(0, "piece has no text");
  return p;
}

SpmModel parse_model(std::string_view bytes, const std::string& source) {
  SpmModel m;
  WireReader top(bytes, 0, source, "ModelProto");
  WireReader::Field f;
  while (top.next(f)) {
    if (f.number == 1) {
      top.expect(f, 2, "pieces");
      m.pieces.push_back(parse_piece(f, m.pieces.size(), source));
    } else if (f.number == 2) {
      top.expect(f, 2, "trainer_spec");
      WireReader r(f.bytes, f.offset, source, "trainer_spec");
      WireReader::Field t;
      while (r.next(t)) {
        if (t.number == 3) {
          r.expect(t, 0, "model_type");
          m.model_type = static_cast<int>(t.value);
        } else if (t.number == 35) {
          r.expect(t, 0, "byte_fallback");
          m.byte_fallback = t.value != 0;
        } else if (t.number == 40) {
          r.expect(t, 0, "unk_id");
          m.unk_id = static_cast<int32_t>(t.value);
        }
      }
    } else if (f.number == 3) {
      top.expect(f, 2, "normalizer_spec");
      WireReader r(f.bytes, f.offset, source, "normalizer_spec");
      WireReader::Field n;
      while (r.next(n)) {
        if (n.number == 2) {
          r.expect(n, 2, "precompiled_charsmap");
          m.charsmap.assign(n.bytes);
        } else if (n.number == 3) {
          r.expect(n, 0, "add_dummy_prefix");
          m.add_dummy_prefix = n.value != 0;
        } else if (n.number == 4) {
          r.expect(n, 0, "remove_extra_whitespaces");
          m.remove_extra_whitespaces = n.value != 0;
        }
      }
    }
  }
  if (m.pieces.empty()) throw_error(source + ": not a SentencePiece model (no pieces)");
  if (m.unk_id < 0 || static_cast<size_t>(m.unk_id) >= m.pieces.size())
    throw_error(source + ": trainer_spec.unk_id " + std::to_string(m.unk_id) + " is not a piece id (" +
                std::to_string(m.pieces.size()) + " pieces)");
  return m;
}

// What tokenizer_config.json beside the model adds.
struct ConverterConfig {
  std::string tokenizer_class;
  int extra_ids = 0;
};

ConverterConfig read_config(const std::string& config_json, const std::string& config_source) {
  ConverterConfig c;
  if (config_json.empty()) return c;
  nlohmann::json j = nlohmann::json::parse(config_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw_error(config_source + ": not a JSON object");
  if (auto it = j.find("tokenizer_class"); it != j.end() && it->is_string()) c.tokenizer_class = *it;
  bool t5 = c.tokenizer_class.rfind("T5Tokenizer", 0) == 0;
  if (auto it = j.find("extra_ids"); it != j.end() && !it->is_null()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() > 100000)
      throw_error(config_source + ": extra_ids must be a non-negative integer");
    c.extra_ids = it->get<int>();
  } else if (t5) {
    c.extra_ids = 100;  // T5Tokenizer's default
  }
  return c;
}

// transformers' SentencePieceExtractor: for every piece (in id order) each split into two
// pieces of the vocabulary is a merge, ordered by the ids of its parts; then all merges are
// stably sorted by the score of the piece they make, highest first.
std::vector<std::pair<std::string, std::string>> merges_from_scores(const SpmModel& m) {
  std::unordered_map<std::string_view, int32_t> ids;
  for (size_t i = 0; i < m.pieces.size(); ++i) ids[m.pieces[i].piece] = static_cast<int32_t>(i);
  struct Merge {
    std::string_view left, right;
    float score;
  };
  std::vector<Merge> merges;
  std::vector<std::pair<std::pair<int32_t, int32_t>, size_t>> local;
  for (const SpmPiece& p : m.pieces) {
    std::string_view s = p.piece;
    local.clear();
    size_t i = 0;
    utf8::next(s, i);
    for (; i < s.size(); utf8::next(s, i)) {
      auto l = ids.find(s.substr(0, i));
      auto r = ids.find(s.substr(i));
      if (l != ids.end() && r != ids.end()) local.push_back({{l->second, r->second}, i});
    }
    std::sort(local.begin(), local.end());
    for (const auto& [lr, cut] : local) merges.push_back({s.substr(0, cut), s.substr(cut), p.score});
  }
  std::stable_sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) { return a.score > b.score; });
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(merges.size());
  for (const Merge& mg : merges) out.emplace_back(std::string(mg.left), std::string(mg.right));
  return out;
}

std::vector<TemplateItem> template_of(std::initializer_list<std::pair<const char*, uint32_t>> items) {
  std::vector<TemplateItem> out;
  for (auto [name, type_id] : items) {
    std::string n = name;
    if (n == "$A" || n == "$B") out.push_back({true, n == "$B" ? 1 : 0, "", type_id});
    else out.push_back({false, 0, n, type_id});
  }
  return out;
}

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece_model(std::string_view bytes, const std::string& source,
                                                    const std::string& config_json, const std::string& config_source) {
  SpmModel m = parse_model(bytes, source);
  ConverterConfig config = read_config(config_json, config_source);
  const std::string kSpace = "\xE2\x96\x81";  // ▁
  PipelineParts parts;
  std::vector<AddedToken> added;
  for (size_t id = 0; id < m.pieces.size(); ++id) {
    const SpmPiece& p = m.pieces[id];
    if (p.type == kControl || p.type == kUnknown || p.type == kUserDefined) {
      AddedToken t;
      t.id = static_cast<int32_t>(id);
      t.content = p.piece;
      t.special = p.type != kUserDefined;
      added.push_back(std::move(t));
    }
  }
  auto find_control = [&](const std::string& piece) -> std::optional<int32_t> {
    for (size_t id = 0; id < m.pieces.size(); ++id)
      if (m.pieces[id].piece == piece && m.pieces[id].type == kControl) return static_cast<int32_t>(id);
    return std::nullopt;
  };
  PrependScheme scheme = m.add_dummy_prefix ? PrependScheme::Always : PrependScheme::Never;

  if (m.model_type == 1) {
    std::vector<std::pair<std::string, double>> pieces;
    pieces.reserve(m.pieces.size() + config.extra_ids);
    for (const SpmPiece& p : m.pieces) pieces.emplace_back(p.piece, static_cast<double>(p.score));
    for (int k = config.extra_ids - 1; k >= 0; --k) {
      AddedToken t;
      t.id = static_cast<int32_t>(pieces.size());
      t.content = "<extra_id_" + std::to_string(k) + ">";
      t.special = true;
      pieces.emplace_back(t.content, 0.0);
      added.push_back(std::move(t));
    }
    if (!m.charsmap.empty()) {
      try {
        parts.normalizer = make_precompiled(m.charsmap);
      } catch (const Error& e) {
        throw_error(source + ": normalizer_spec.precompiled_charsmap: " + e.what());
      }
    }
    std::vector<std::unique_ptr<PreTokenizer>> pre;
    if (m.remove_extra_whitespaces) pre.push_back(make_whitespace_split());
    pre.push_back(make_metaspace(kSpace, scheme, true));
    parts.pre_tokenizer = make_pre_tokenizer_sequence(std::move(pre));
    parts.model = make_unigram_model(std::move(pieces), m.unk_id, m.byte_fallback);
    parts.decoder = make_metaspace_decoder(kSpace, scheme);
    bool t5 = config.tokenizer_class.rfind("T5Tokenizer", 0) == 0;
    if (auto eos = find_control("</s>"); eos && t5) {
      SpecialTokenIds ids{{*eos}, {"</s>"}};
      parts.post_processor = make_template_processing(template_of({{"$A", 0}, {"</s>", 0}}),
                                                      template_of({{"$A", 0}, {"</s>", 0}, {"$B", 0}, {"</s>", 0}}),
                                                      {{"</s>", ids}});
    }
  } else if (m.model_type == 2) {
    if (config.extra_ids) throw_error(config_source + ": extra_ids with a BPE SentencePiece model is not supported");
    Vocab vocab;
    for (size_t id = 0; id < m.pieces.size(); ++id) vocab.add(m.pieces[id].piece, static_cast<int32_t>(id));
    BpeOptions o;
    o.byte_fallback = m.byte_fallback;
    o.fuse_unk = true;
    o.unk_token = m.pieces[m.unk_id].piece;
    std::vector<std::unique_ptr<Normalizer>> norm;
    if (m.add_dummy_prefix) norm.push_back(make_prepend(kSpace));
    norm.push_back(make_replace(" ", false, kSpace));
    parts.normalizer = make_normalizer_sequence(std::move(norm));
    try {
      parts.model = std::make_unique<BpeModel>(std::move(vocab), merges_from_scores(m), std::move(o));
    } catch (const Error& e) {
      throw_error(source + ": " + e.what());
    }
    std::vector<std::unique_ptr<Decoder>> dec;
    dec.push_back(make_replace_decoder(kSpace, " "));
    dec.push_back(make_byte_fallback_decoder());
    dec.push_back(make_fuse_decoder());
    if (m.add_dummy_prefix) dec.push_back(make_strip_decoder(" ", 1, 0));
    parts.decoder = make_decoder_sequence(std::move(dec));
    if (auto bos = find_control("<s>")) {
      SpecialTokenIds ids{{*bos}, {"<s>"}};
      parts.post_processor = make_template_processing(template_of({{"<s>", 0}, {"$A", 0}}),
                                                      template_of({{"<s>", 0}, {"$A", 0}, {"<s>", 1}, {"$B", 1}}),
                                                      {{"<s>", ids}});
    }
  } else {
    throw_error(source + ": trainer_spec.model_type " + std::to_string(m.model_type) +
                " is not supported (transformers converts only unigram (1) and BPE (2) models)");
  }
  parts.added_tokens = std::move(added);
  return make_pipeline_tokenizer(std::move(parts));
}

}  // namespace lmkit::tok

namespace lmkit::tok {

bool looks_like_sentencepiece_model(std::string_view bytes) {
  // A ModelProto starts with its first piece: field 1, length-delimited (0x0A), a one-byte
  // length, then the piece's own field 1 (0x0A). JSON opens with '{' after any whitespace.
  if (bytes.size() < 3 || bytes[0] != '\x0A' || bytes[2] != '\x0A') return false;
  size_t first = bytes.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && bytes[first] != '{' && bytes[first] != '[';
}

}  // namespace lmkit::tok
