#include "lmkit/base/error.h"
#include "lmkit/tokenizer/pipeline.h"

namespace lmkit::tok {

void append_encoding(Encoding& dst, const Encoding& src) {
  dst.ids.insert(dst.ids.end(), src.ids.begin(), src.ids.end());
  dst.tokens.insert(dst.tokens.end(), src.tokens.begin(), src.tokens.end());
  dst.offsets.insert(dst.offsets.end(), src.offsets.begin(), src.offsets.end());
  dst.special_tokens_mask.insert(dst.special_tokens_mask.end(), src.special_tokens_mask.begin(),
                                 src.special_tokens_mask.end());
  dst.type_ids.insert(dst.type_ids.end(), src.type_ids.begin(), src.type_ids.end());
  dst.attention_mask.insert(dst.attention_mask.end(), src.attention_mask.begin(), src.attention_mask.end());
  dst.sequence_ids.insert(dst.sequence_ids.end(), src.sequence_ids.begin(), src.sequence_ids.end());
}

void push_special_token(Encoding& e, int32_t id, const std::string& token, uint32_t type_id) {
  e.ids.push_back(id);
  e.tokens.push_back(token);
  e.offsets.emplace_back(0, 0);
  e.special_tokens_mask.push_back(1);
  e.type_ids.push_back(type_id);
  e.attention_mask.push_back(1);
  e.sequence_ids.push_back(-1);
}

void set_type_ids(Encoding& e, uint32_t type_id) { e.type_ids.assign(e.ids.size(), type_id); }

// Without special tokens, a pair is simply A then B with type ids 0 and 1.
Encoding plain_concat(Encoding a, std::optional<Encoding> b) {
  set_type_ids(a, 0);
  if (b) {
    set_type_ids(*b, 1);
    append_encoding(a, *b);
  }
  return a;
}

namespace {

class TemplateProcessing : public PostProcessor {
 public:
  TemplateProcessing(std::vector<TemplateItem> single, std::vector<TemplateItem> pair,
                     std::vector<std::pair<std::string, SpecialTokenIds>> specials)
      : single_(std::move(single)), pair_(std::move(pair)), specials_(std::move(specials)) {
    for (const auto* items : {&single_, &pair_})
      for (const TemplateItem& it : *items)
        if (!it.is_sequence && !find(it.special))
          throw_error("TemplateProcessing uses special token '" + it.special +
                      "' that is missing from special_tokens");
  }
  // Without special tokens the template still assigns the type ids, as Hugging Face does.
  Encoding process(Encoding a, std::optional<Encoding> b, bool add_special_tokens) const override {
    const auto& items = b ? pair_ : single_;
    Encoding out;
    for (const TemplateItem& it : items) {
      if (it.is_sequence) {
        Encoding part = it.sequence_index == 0 ? a : (b ? *b : Encoding{});
        set_type_ids(part, it.type_id);
        append_encoding(out, part);
      } else if (add_special_tokens) {
        const SpecialTokenIds* s = find(it.special);
        for (size_t k = 0; k < s->ids.size(); ++k) push_special_token(out, s->ids[k], s->tokens[k], it.type_id);
      }
    }
    return out;
  }
  size_t added_tokens(bool is_pair) const override {
    size_t n = 0;
    for (const TemplateItem& it : is_pair ? pair_ : single_)
      if (!it.is_sequence) n += find(it.special)->ids.size();
    return n;
  }

 private:
  const SpecialTokenIds* find(const std::string& name) const {
    for (const auto& [n, s] : specials_)
      if (n == name) return &s;
    return nullptr;
  }
  std::vector<TemplateItem> single_, pair_;
  std::vector<std::pair<std::string, SpecialTokenIds>> specials_;
};

// ByteLevel as a post-processor adds no tokens; its one job, trimming offsets, is only
// asked for with trim_offsets=true, which the loader refuses (issue 3).
class ByteLevelPost : public PostProcessor {
 public:
  Encoding process(Encoding a, std::optional<Encoding> b, bool) const override {
    return plain_concat(std::move(a), std::move(b));
  }
};

class PostSequence : public PostProcessor {
 public:
  explicit PostSequence(std::vector<std::unique_ptr<PostProcessor>> parts) : parts_(std::move(parts)) {}
  Encoding process(Encoding a, std::optional<Encoding> b, bool add_special_tokens) const override {
    // Each stage sees the previous result as a single sequence, as Hugging Face chains them.
    bool first = true;
    for (const auto& p : parts_) {
      a = p->process(std::move(a), first ? std::move(b) : std::nullopt, add_special_tokens);
      first = false;
    }
    return a;
  }
  size_t added_tokens(bool is_pair) const override {
    size_t n = 0;
    for (const auto& p : parts_) n += p->added_tokens(is_pair);
    return n;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

}  // namespace

std::unique_ptr<PostProcessor> make_template_processing(
    std::vector<TemplateItem> single, std::vector<TemplateItem> pair,
    std::vector<std::pair<std::string, SpecialTokenIds>> specials) {
  return std::make_unique<TemplateProcessing>(std::move(single), std::move(pair), std::move(specials));
}
std::unique_ptr<PostProcessor> make_byte_level_post() { return std::make_unique<ByteLevelPost>(); }
std::unique_ptr<PostProcessor> make_post_sequence(std::vector<std::unique_ptr<PostProcessor>> parts) {
  return std::make_unique<PostSequence>(std::move(parts));
}

}  // namespace lmkit::tok
