#include <utf8proc.h>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/pipeline.h"
#include "lmkit/tokenizer/utf8.h"

namespace lmkit::tok {

NormalizedText NormalizedText::from_original(std::string_view s, uint32_t base) {
  NormalizedText t;
  t.text.assign(s);
  t.orig_begin.resize(s.size());
  t.orig_end.resize(s.size());
  // Every byte of a character maps to the whole character, so offsets never split one.
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    utf8::next(s, i);
    for (size_t k = start; k < i; ++k) {
      t.orig_begin[k] = base + static_cast<uint32_t>(start);
      t.orig_end[k] = base + static_cast<uint32_t>(i);
    }
  }
  return t;
}

void NormalizedText::replace_range(size_t b, size_t e, std::string_view with) {
  uint32_t ob, oe;
  if (b < e) {
    ob = orig_begin[b];
    oe = orig_end[e - 1];
  } else if (b < text.size()) {
    ob = orig_begin[b];
    oe = orig_end[b];
  } else if (!text.empty()) {
    ob = orig_begin[text.size() - 1];
    oe = orig_end[text.size() - 1];
  } else {
    ob = oe = 0;
  }
  text.replace(b, e - b, with);
  orig_begin.erase(orig_begin.begin() + b, orig_begin.begin() + e);
  orig_end.erase(orig_end.begin() + b, orig_end.begin() + e);
  orig_begin.insert(orig_begin.begin() + b, with.size(), ob);
  orig_end.insert(orig_end.begin() + b, with.size(), oe);
}

namespace {

// Unicode normalization forms through utf8proc. Alignment: text is cut into segments that
// start at a character with combining class 0, each segment normalized on its own, and the
// output characters of a segment map to the segment's original range.
class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(utf8proc_option_t options) : options_(options) {}
  void apply(NormalizedText& t) const override {
    std::string whole = run(t.text);
    if (whole == t.text) return;
    NormalizedText out;
    size_t i = 0;
    while (i < t.text.size()) {
      size_t start = i;
      utf8::next(t.text, i);
      while (i < t.text.size()) {
        size_t j = i;
        uint32_t cp = utf8::next(t.text, j);
        if (utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->combining_class == 0 &&
            !(cp >= 0x1160 && cp <= 0x11FF))  // Hangul medial/final jamo compose with the lead
          break;
        i = j;
      }
      align_segment(t, start, i, out);
    }
    t = std::move(out);
  }

 private:
  // Hugging Face aligns a composed character with the first original character it absorbed
  // (the others vanish), and every other character with itself. Each output character is
  // matched to the original characters whose decompositions add up to its decomposition.
  void align_segment(const NormalizedText& t, size_t start, size_t end, NormalizedText& out) const {
    std::string_view in(t.text.data() + start, end - start);
    std::string seg = run(in);
    std::vector<size_t> in_starts;  // byte offset of each original char in `in`, plus the end
    for (size_t i = 0; i < in.size(); utf8::next(in, i)) in_starts.push_back(i);
    in_starts.push_back(in.size());
    size_t consumed = 0;
    bool fallback = false;
    NormalizedText part;
    for (size_t o = 0; o < seg.size();) {
      size_t ob = o;
      utf8::next(seg, o);
      size_t want = utf8::count(decompose(std::string_view(seg).substr(ob, o - ob)));
      size_t first = consumed, have = 0;
      while (have < want && consumed + 1 < in_starts.size()) {
        std::string_view ch = in.substr(in_starts[consumed], in_starts[consumed + 1] - in_starts[consumed]);
        have += utf8::count(decompose(ch));
        ++consumed;
      }
      if (have != want || first == consumed) {
        fallback = true;
        break;
      }
      size_t b = start + in_starts[first];
      size_t e = start + in_starts[first + 1] - 1;
      part.text.append(seg, ob, o - ob);
      part.orig_begin.insert(part.orig_begin.end(), o - ob, t.orig_begin[b]);
      part.orig_end.insert(part.orig_end.end(), o - ob, t.orig_end[e]);
    }
    if (fallback) {  // unusual reorderings: the whole segment maps to its original range
      part = NormalizedText{};
      part.text = seg;
      part.orig_begin.assign(seg.size(), t.orig_begin[start]);
      part.orig_end.assign(seg.size(), t.orig_end[end - 1]);
    }
    out.text += part.text;
    out.orig_begin.insert(out.orig_begin.end(), part.orig_begin.begin(), part.orig_begin.end());
    out.orig_end.insert(out.orig_end.end(), part.orig_end.begin(), part.orig_end.end());
  }
  static std::string decompose(std::string_view s) {
    utf8proc_uint8_t* result = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                      static_cast<utf8proc_ssize_t>(s.size()), &result,
                                      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE));
    if (n < 0) return std::string(s);
    std::string out(reinterpret_cast<char*>(result), static_cast<size_t>(n));
    std::free(result);
    return out;
  }
  std::string run(std::string_view s) const {
    if (s.empty()) return {};
    utf8proc_uint8_t* result = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                      static_cast<utf8proc_ssize_t>(s.size()), &result, options_);
    if (n < 0) throw_error(std::string("unicode normalization failed: ") + utf8proc_errmsg(n));
    std::string out(reinterpret_cast<char*>(result), static_cast<size_t>(n));
    std::free(result);
    return out;
  }
  utf8proc_option_t options_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string p) : prepend_(std::move(p)) {}
  void apply(NormalizedText& t) const override {
    if (!t.text.empty()) t.replace_range(0, 0, prepend_);
  }

 private:
  std::string prepend_;
};

class Replace : public Normalizer {
 public:
  Replace(std::string pattern, bool is_regex, std::string content)
      : literal_(pattern), content_(std::move(content)) {
    if (is_regex) regex_ = std::make_unique<Regex>(pattern);
  }
  void apply(NormalizedText& t) const override {
    std::vector<std::pair<size_t, size_t>> matches;
    if (regex_) {
      regex_->find_all(t.text, matches);
    } else if (!literal_.empty()) {
      for (size_t p = t.text.find(literal_); p != std::string::npos;
           p = t.text.find(literal_, p + literal_.size()))
        matches.emplace_back(p, p + literal_.size());
    }
    if (matches.empty() || t.text.empty()) return;
    // One pass (replacing match by match is quadratic on long texts). As in Hugging Face's
    // NormalizedString::replace, the content takes the origin of the match's LAST byte
    // ("   " -> "X" points at the third space), or of the byte before an empty match.
    NormalizedText out;
    out.text.reserve(t.text.size());
    size_t pos = 0;
    auto copy = [&](size_t b, size_t e) {
      out.text.append(t.text, b, e - b);
      out.orig_begin.insert(out.orig_begin.end(), t.orig_begin.begin() + b, t.orig_begin.begin() + e);
      out.orig_end.insert(out.orig_end.end(), t.orig_end.begin() + b, t.orig_end.begin() + e);
    };
    for (auto [b, e] : matches) {
      copy(pos, b);
      size_t k = e > 0 ? e - 1 : 0;
      uint32_t ob = t.orig_begin[k], oe = e > 0 ? t.orig_end[k] : ob;
      out.text += content_;
      out.orig_begin.insert(out.orig_begin.end(), content_.size(), ob);
      out.orig_end.insert(out.orig_end.end(), content_.size(), oe);
      pos = e;
    }
    copy(pos, t.text.size());
    t = std::move(out);
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;
  std::string content_;
};

class Lowercase : public Normalizer {
 public:
  void apply(NormalizedText& t) const override {
    NormalizedText out;
    size_t i = 0;
    while (i < t.text.size()) {
      size_t start = i;
      uint32_t cp = utf8::next(t.text, i);
      std::string ch;
      if (cp == 0x130) {
        // Rust's to_lowercase (which Hugging Face uses) applies the one unconditional
        // multi-character mapping of SpecialCasing.txt: İ -> i + combining dot above.
        ch = "i\xCC\x87";
      } else {
        utf8::append(ch, static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
      }
      out.text += ch;
      out.orig_begin.insert(out.orig_begin.end(), ch.size(), t.orig_begin[start]);
      out.orig_end.insert(out.orig_end.end(), ch.size(), t.orig_end[i - 1]);
    }
    t = std::move(out);
  }
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void apply(NormalizedText& t) const override {
    for (const auto& p : parts_) p->apply(t);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

std::unique_ptr<Normalizer> make_unicode_normalizer(const std::string& form) {
  auto base = static_cast<utf8proc_option_t>(UTF8PROC_STABLE);
  if (form == "NFC") return std::make_unique<UnicodeNormalizer>(static_cast<utf8proc_option_t>(base | UTF8PROC_COMPOSE));
  if (form == "NFD") return std::make_unique<UnicodeNormalizer>(static_cast<utf8proc_option_t>(base | UTF8PROC_DECOMPOSE));
  if (form == "NFKC")
    return std::make_unique<UnicodeNormalizer>(static_cast<utf8proc_option_t>(base | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
  if (form == "NFKD")
    return std::make_unique<UnicodeNormalizer>(static_cast<utf8proc_option_t>(base | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT));
  throw_error("unknown unicode normalization form '" + form + "'");
}
std::unique_ptr<Normalizer> make_nfc() { return make_unicode_normalizer("NFC"); }
std::unique_ptr<Normalizer> make_prepend(std::string prepend) {
  return std::make_unique<Prepend>(std::move(prepend));
}
std::unique_ptr<Normalizer> make_replace(std::string pattern, bool is_regex, std::string content) {
  return std::make_unique<Replace>(std::move(pattern), is_regex, std::move(content));
}
std::unique_ptr<Normalizer> make_lowercase() { return std::make_unique<Lowercase>(); }
std::unique_ptr<Normalizer> make_normalizer_sequence(std::vector<std::unique_ptr<Normalizer>> parts) {
  return std::make_unique<Sequence>(std::move(parts));
}

}  // namespace lmkit::tok
