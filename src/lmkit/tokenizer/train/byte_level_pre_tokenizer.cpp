// TEMPORARY: the encoder's ByteLevel pre-tokenizer (src/lmkit/tokenizer) has not landed yet;
// this Oniguruma split stands in until it does, then byte_level_pre_tokenizer() calls it so
// one piece of code serves both training and encoding.
#include <oniguruma.h>

#include <memory>
#include <mutex>
#include <string>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/train/pre_tokenizer_fn.h"

namespace lmkit::bpe_train {
namespace {

constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

regex_t* compiled_pattern() {
  static regex_t* reg = [] {
    static OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
    regex_t* r = nullptr;
    OnigErrorInfo info;
    const auto* p = reinterpret_cast<const OnigUChar*>(kGpt2Pattern);
    int rc = onig_new(&r, p, p + std::char_traits<char>::length(kGpt2Pattern), ONIG_OPTION_NONE,
                      ONIG_ENCODING_UTF8, ONIG_SYNTAX_DEFAULT, &info);
    if (rc != ONIG_NORMAL) throw_error("cannot compile the ByteLevel pre-tokenizer pattern");
    return r;
  }();
  return reg;
}

struct RegionDeleter {
  void operator()(OnigRegion* r) const { onig_region_free(r, 1); }
};

}  // namespace

PreTokenizeFn byte_level_pre_tokenizer() {
  regex_t* reg = compiled_pattern();
  return [reg](std::string_view text, std::vector<std::string_view>& words) {
    thread_local std::unique_ptr<OnigRegion, RegionDeleter> region(onig_region_new());
    const auto* begin = reinterpret_cast<const OnigUChar*>(text.data());
    const auto* end = begin + text.size();
    size_t pos = 0;
    while (pos < text.size()) {
      onig_region_clear(region.get());
      int r = onig_search(reg, begin, end, begin + pos, end, region.get(), ONIG_OPTION_NONE);
      if (r < 0) {
        if (pos < text.size()) words.push_back(text.substr(pos));  // an unmatched tail
        return;
      }
      size_t mb = static_cast<size_t>(region->beg[0]), me = static_cast<size_t>(region->end[0]);
      if (mb > pos) words.push_back(text.substr(pos, mb - pos));
      if (me == mb) {  // the pattern has no empty match, but never loop on one
        pos = mb + 1;
        continue;
      }
      words.push_back(text.substr(mb, me - mb));
      pos = me;
    }
  };
}

}  // namespace lmkit::bpe_train
