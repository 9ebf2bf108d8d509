// BertNormalizer, Strip and StripAccents, with Hugging Face's semantics and alignments.
#include "lmkit/tokenizer/char_classes.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {
namespace {

// Rebuilds t character by character: `map(cp, out)` appends the replacement code points
// (none to delete the character); every one of them keeps the original character's origin.
template <class Map>
void map_chars(NormalizedText& t, Map map) {
  NormalizedText out;
  out.text.reserve(t.text.size());
  std::vector<uint32_t> cps;
  size_t i = 0;
  while (i < t.text.size()) {
    size_t start = i;
    uint32_t cp = utf8::next(t.text, i);
    cps.clear();
    map(cp, cps);
    for (uint32_t c : cps) {
      size_t before = out.text.size();
      utf8::append(out.text, c);
      out.orig_begin.insert(out.orig_begin.end(), out.text.size() - before, t.orig_begin[start]);
      out.orig_end.insert(out.orig_end.end(), out.text.size() - before, t.orig_end[i - 1]);
    }
  }
  t = std::move(out);
}

void remove_nonspacing_marks(NormalizedText& t) {
  map_chars(t, [](uint32_t cp, std::vector<uint32_t>& out) {
    if (!chars::is_mark_nonspacing(cp)) out.push_back(cp);
  });
}

class BertNormalizer : public Normalizer {
 public:
  explicit BertNormalizer(BertNormalizerOptions o)
      : o_(o), nfd_(make_unicode_normalizer("NFD")), lowercase_(make_lowercase()) {}
  void apply(NormalizedText& t) const override {
    if (o_.clean_text) {
      // Controls, NUL and U+FFFD go; every kind of whitespace becomes a plain space.
      map_chars(t, [](uint32_t cp, std::vector<uint32_t>& out) {
        bool keep_control = cp == '\t' || cp == '\n' || cp == '\r';
        if (cp == 0 || cp == 0xFFFD || (!keep_control && chars::is_other(cp))) return;
        out.push_back(keep_control || chars::is_whitespace(cp) ? ' ' : cp);
      });
    }
    if (o_.handle_chinese_chars) {
      map_chars(t, [](uint32_t cp, std::vector<uint32_t>& out) {
        if (chars::is_chinese_char(cp)) {
          out.insert(out.end(), {' ', cp, ' '});
        } else {
          out.push_back(cp);
        }
      });
    }
    // strip_accents: null means "as lowercase", as in Hugging Face.
    if (o_.strip_accents.value_or(o_.lowercase)) {
      nfd_->apply(t);
      remove_nonspacing_marks(t);
    }
    if (o_.lowercase) lowercase_->apply(t);
  }

 private:
  BertNormalizerOptions o_;
  std::unique_ptr<Normalizer> nfd_, lowercase_;
};

// Removes leading and/or trailing whitespace (Rust's char::is_whitespace).
class Strip : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void apply(NormalizedText& t) const override {
    size_t b = 0, e = t.text.size();
    if (left_) {
      while (b < e) {
        size_t i = b;
        if (!chars::is_whitespace(utf8::next(t.text, i))) break;
        b = i;
      }
    }
    if (right_) {
      while (e > b) {
        size_t s = e - 1;
        while (s > b && (static_cast<unsigned char>(t.text[s]) & 0xC0) == 0x80) --s;
        size_t i = s;
        if (!chars::is_whitespace(utf8::next(t.text, i))) break;
        e = s;
      }
    }
    if (e < t.text.size()) t.replace_range(e, t.text.size(), "");
    if (b > 0) t.replace_range(0, b, "");
  }

 private:
  bool left_, right_;
};

// Hugging Face's StripAccents removes nonspacing marks only; it does not decompose first
// (tokenizer.json files pair it with NFD/NFKD for that).
class StripAccents : public Normalizer {
 public:
  void apply(NormalizedText& t) const override { remove_nonspacing_marks(t); }
};

}  // namespace

std::unique_ptr<Normalizer> make_bert_normalizer(BertNormalizerOptions options) {
  return std::make_unique<BertNormalizer>(options);
}
std::unique_ptr<Normalizer> make_strip(bool left, bool right) { return std::make_unique<Strip>(left, right); }
std::unique_ptr<Normalizer> make_strip_accents() { return std::make_unique<StripAccents>(); }

}  // namespace lmkit::tok
