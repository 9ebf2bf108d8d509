// Truncation and padding, with Hugging Face's length arithmetic. Overflowing windows (the
// parts cut off, with `stride` tokens of overlap) are not kept: Encoding has no place for them.
#include <algorithm>

#include "lmkit/base/error.h"
#include "lmkit/tokenizer/pipeline.h"

namespace lmkit::tok {
namespace {

template <class T>
void keep_range(std::vector<T>& v, size_t begin, size_t end) {
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(end), v.end());
  v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(begin));
}

}  // namespace

void keep_tokens(Encoding& e, size_t begin, size_t end) {
  keep_range(e.ids, begin, end);
  keep_range(e.tokens, begin, end);
  keep_range(e.offsets, begin, end);
  keep_range(e.special_tokens_mask, begin, end);
  keep_range(e.type_ids, begin, end);
  keep_range(e.attention_mask, begin, end);
  keep_range(e.sequence_ids, begin, end);
}

namespace {

void truncate(Encoding& e, size_t max_len, const TruncationParams& p) {
  size_t n = e.ids.size();
  if (max_len >= n) return;
  // Hugging Face asserts this (its overflowing windows would not advance).
  if (max_len > 0 && p.stride >= max_len)
    throw_error("truncation: stride " + std::to_string(p.stride) + " must be less than the " +
                std::to_string(max_len) + " tokens a sequence is truncated to");
  size_t begin = p.left ? n - max_len : 0;
  keep_tokens(e, begin, begin + max_len);
}

}  // namespace

void keep_first_splits_within(Encoding& e, const std::vector<SplitEnd>& splits, size_t max_tokens, bool from_end) {
  auto start_of = [&](size_t i) { return i == 0 ? size_t{0} : splits[i - 1].end; };
  if (!from_end) {
    for (size_t i = 0; i < splits.size(); ++i) {
      if (!splits[i].added && splits[i].end >= max_tokens) return keep_tokens(e, 0, splits[i].end);
    }
    return;
  }
  size_t n = e.ids.size();
  for (size_t i = splits.size(); i-- > 0;) {
    if (!splits[i].added && n - start_of(i) >= max_tokens) return keep_tokens(e, start_of(i), n);
  }
}

void truncate_encodings(Encoding& a, std::optional<Encoding>& b, const TruncationParams& p) {
  if (p.max_length == 0) {
    truncate(a, 0, p);
    if (b) truncate(*b, 0, p);
    return;
  }
  size_t total = a.ids.size() + (b ? b->ids.size() : 0);
  if (total <= p.max_length) return;
  size_t to_remove = total - p.max_length;
  if (p.strategy == TruncationStrategy::LongestFirst) {
    if (!b) return truncate(a, total - to_remove, p);
    // The shorter sequence keeps all it can; if both are long, the budget is split in half
    // (the longer one gets the odd token).
    size_t n1 = a.ids.size(), n2 = b->ids.size();
    bool swapped = n1 > n2;
    if (swapped) std::swap(n1, n2);
    n2 = n1 > p.max_length ? n1 : std::max(n1, p.max_length - n1);
    if (n1 + n2 > p.max_length) {
      n1 = p.max_length / 2;
      n2 = n1 + p.max_length % 2;
    }
    if (swapped) std::swap(n1, n2);
    truncate(a, n1, p);
    truncate(*b, n2, p);
    return;
  }
  Encoding* target = &a;
  if (p.strategy == TruncationStrategy::OnlySecond) {
    if (!b) throw_error("truncation: strategy OnlySecond needs a second sequence, but only one was given");
    target = &*b;
  }
  size_t len = target->ids.size();
  if (len <= to_remove)
    throw_error("truncation: the sequence to truncate has " + std::to_string(len) + " tokens, too few to remove the " +
                std::to_string(to_remove) + " needed to respect max_length " + std::to_string(p.max_length));
  truncate(*target, len - to_remove, p);
}

void pad_encoding(Encoding& e, const PaddingParams& p) {
  size_t target = p.fixed_length ? *p.fixed_length : e.ids.size();
  if (p.pad_to_multiple_of > 0 && target % p.pad_to_multiple_of != 0)
    target += p.pad_to_multiple_of - target % p.pad_to_multiple_of;
  if (e.ids.size() >= target) return;
  size_t n = target - e.ids.size();
  auto pad = [&](auto& v, auto value) {
    using V = typename std::decay_t<decltype(v)>::value_type;
    v.insert(p.left ? v.begin() : v.end(), n, static_cast<V>(value));
  };
  pad(e.ids, p.pad_id);
  pad(e.type_ids, p.pad_type_id);
  pad(e.special_tokens_mask, 1);
  pad(e.attention_mask, 0);
  pad(e.sequence_ids, -1);
  e.tokens.insert(p.left ? e.tokens.begin() : e.tokens.end(), n, p.pad_token);
  e.offsets.insert(p.left ? e.offsets.begin() : e.offsets.end(), n, std::pair<uint32_t, uint32_t>(0, 0));
}

}  // namespace lmkit::tok
