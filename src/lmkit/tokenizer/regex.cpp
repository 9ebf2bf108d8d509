#include "lmkit/tokenizer/regex.h"

#include <oniguruma.h>

#include <mutex>

#include "lmkit/base/error.h"

namespace lmkit {

struct Regex::Impl {
  regex_t* reg = nullptr;
};

namespace {

void init_oniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    static OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

struct RegionDeleter {
  void operator()(OnigRegion* r) const { onig_region_free(r, 1); }
};

}  // namespace

Regex::Regex(const std::string& pattern) : impl_(std::make_unique<Impl>()) {
  init_oniguruma();
  OnigErrorInfo info;
  const auto* p = reinterpret_cast<const OnigUChar*>(pattern.data());
  int rc = onig_new(&impl_->reg, p, p + pattern.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8,
                    ONIG_SYNTAX_DEFAULT, &info);
  if (rc != ONIG_NORMAL) {
    OnigUChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(message, rc, &info);
    throw_error("invalid regex '" + pattern + "': " + reinterpret_cast<char*>(message));
  }
}

Regex::~Regex() {
  if (impl_ && impl_->reg) onig_free(impl_->reg);
}

void Regex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  thread_local std::unique_ptr<OnigRegion, RegionDeleter> region(onig_region_new());
  const auto* begin = reinterpret_cast<const OnigUChar*>(text.data());
  const auto* end = begin + text.size();
  size_t pos = 0;
  while (pos <= text.size()) {
    onig_region_clear(region.get());
    int r = onig_search(impl_->reg, begin, end, begin + pos, end, region.get(), ONIG_OPTION_NONE);
    if (r < 0) return;
    auto mb = static_cast<size_t>(region->beg[0]);
    auto me = static_cast<size_t>(region->end[0]);
    if (me == mb) {  // empty match: step over one character
      if (mb >= text.size()) return;
      pos = mb + 1;
      while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
      continue;
    }
    out.emplace_back(mb, me);
    pos = me;
  }
}

}  // namespace lmkit
