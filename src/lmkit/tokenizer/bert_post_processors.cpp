// BertProcessing, RobertaProcessing and ByteLevel's offset trimming, as in Hugging Face.
#include "lmkit/tokenizer/char_classes.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {

void trim_byte_level_offsets(Encoding& e, bool add_prefix_space) {
  constexpr uint32_t kByteLevelSpace = 0x120;  // Ġ, the byte-level character of ' '
  auto is_space = [](uint32_t cp) { return cp == kByteLevelSpace || chars::is_whitespace(cp); };
  for (size_t i = 0; i < e.tokens.size(); ++i) {
    std::vector<uint32_t> cps;
    const std::string& t = e.tokens[i];
    for (size_t k = 0; k < t.size();) cps.push_back(utf8::next(t, k));
    uint32_t leading = 0, trailing = 0;
    while (leading < cps.size() && is_space(cps[leading])) ++leading;
    while (trailing < cps.size() && is_space(cps[cps.size() - 1 - trailing])) ++trailing;
    auto& [begin, end] = e.offsets[i];
    if (leading > 0) {
      // A single space before the first token is the one add_prefix_space put there: keep it.
      bool is_first = i == 0 || begin == 0;
      if (!(is_first && add_prefix_space && leading == 1)) begin = std::min(begin + leading, end);
    }
    if (trailing > 0 && end >= trailing) end = std::max(end - trailing, begin);
  }
}

namespace {

class BertProcessing : public PostProcessor {
 public:
  BertProcessing(std::pair<std::string, int32_t> sep, std::pair<std::string, int32_t> cls)
      : sep_(std::move(sep)), cls_(std::move(cls)) {}
  Encoding process(Encoding a, std::optional<Encoding> b, bool add_special_tokens) const override {
    if (!add_special_tokens) return plain_concat(std::move(a), std::move(b));
    Encoding out;
    push_special_token(out, cls_.second, cls_.first, 0);
    set_type_ids(a, 0);
    append_encoding(out, a);
    push_special_token(out, sep_.second, sep_.first, 0);
    if (b) {
      set_type_ids(*b, 1);
      append_encoding(out, *b);
      push_special_token(out, sep_.second, sep_.first, 1);
    }
    return out;
  }
  size_t added_tokens(bool is_pair) const override { return is_pair ? 3 : 2; }

 private:
  std::pair<std::string, int32_t> sep_, cls_;
};

// <s> A </s> and <s> A </s></s> B </s>; every type id is 0, with or without special tokens.
class RobertaProcessing : public PostProcessor {
 public:
  RobertaProcessing(std::pair<std::string, int32_t> sep, std::pair<std::string, int32_t> cls, bool trim_offsets,
                    bool add_prefix_space)
      : sep_(std::move(sep)), cls_(std::move(cls)), trim_offsets_(trim_offsets), add_prefix_space_(add_prefix_space) {}
  Encoding process(Encoding a, std::optional<Encoding> b, bool add_special_tokens) const override {
    if (trim_offsets_) {
      trim_byte_level_offsets(a, add_prefix_space_);
      if (b) trim_byte_level_offsets(*b, add_prefix_space_);
    }
    set_type_ids(a, 0);
    if (b) set_type_ids(*b, 0);
    Encoding out;
    if (add_special_tokens) push_special_token(out, cls_.second, cls_.first, 0);
    append_encoding(out, a);
    if (add_special_tokens) push_special_token(out, sep_.second, sep_.first, 0);
    if (b) {
      if (add_special_tokens) push_special_token(out, sep_.second, sep_.first, 0);
      append_encoding(out, *b);
      if (add_special_tokens) push_special_token(out, sep_.second, sep_.first, 0);
    }
    return out;
  }
  size_t added_tokens(bool is_pair) const override { return is_pair ? 4 : 2; }

 private:
  std::pair<std::string, int32_t> sep_, cls_;
  bool trim_offsets_, add_prefix_space_;
};

class ByteLevelTrimOffsets : public PostProcessor {
 public:
  explicit ByteLevelTrimOffsets(bool add_prefix_space) : add_prefix_space_(add_prefix_space) {}
  Encoding process(Encoding a, std::optional<Encoding> b, bool) const override {
    trim_byte_level_offsets(a, add_prefix_space_);
    if (b) trim_byte_level_offsets(*b, add_prefix_space_);
    return plain_concat(std::move(a), std::move(b));
  }

 private:
  bool add_prefix_space_;
};

}  // namespace

std::unique_ptr<PostProcessor> make_bert_processing(std::pair<std::string, int32_t> sep,
                                                    std::pair<std::string, int32_t> cls) {
  return std::make_unique<BertProcessing>(std::move(sep), std::move(cls));
}
std::unique_ptr<PostProcessor> make_roberta_processing(std::pair<std::string, int32_t> sep,
                                                       std::pair<std::string, int32_t> cls, bool trim_offsets,
                                                       bool add_prefix_space) {
  return std::make_unique<RobertaProcessing>(std::move(sep), std::move(cls), trim_offsets, add_prefix_space);
}
std::unique_ptr<PostProcessor> make_byte_level_post_trim_offsets(bool add_prefix_space) {
  return std::make_unique<ByteLevelTrimOffsets>(add_prefix_space);
}

}  // namespace lmkit::tok
