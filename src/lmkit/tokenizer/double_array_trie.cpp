#include "lmkit/tokenizer/double_array_trie.h"

#include <algorithm>

namespace lmkit::tok {

namespace {

// Finds free slots quickly: next_free[i] leads to the first free slot >= i (union-find with
// path halving), so a base search skips runs of occupied slots in near-constant time.
struct SlotAllocator {
  std::vector<int32_t>& check;
  std::vector<uint32_t> next_free;

  void grow(size_t size) {
    size_t old = check.size();
    if (size <= old) return;
    check.resize(size, -1);
    next_free.resize(size);
    for (size_t i = old; i < size; ++i) next_free[i] = static_cast<uint32_t>(i);
  }
  uint32_t first_free_from(uint32_t i) {
    grow(static_cast<size_t>(i) + 1);
    while (next_free[i] != i) {
      uint32_t up = next_free[i];
      grow(static_cast<size_t>(up) + 1);
      next_free[i] = next_free[up];
      i = up;
    }
    return i;
  }
  void occupy(uint32_t i, int32_t parent) {
    grow(static_cast<size_t>(i) + 2);
    check[i] = parent;
    next_free[i] = i + 1;
  }
  bool is_free(uint32_t i) const { return i >= check.size() || check[i] == -1; }
};

}  // namespace

DoubleArrayTrie::DoubleArrayTrie(std::vector<std::pair<std::string, int32_t>> keys) {
  std::stable_sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // Keep the last value of duplicate keys; drop empty keys.
  std::vector<std::pair<std::string, int32_t>> unique;
  unique.reserve(keys.size());
  for (auto& k : keys) {
    if (k.first.empty()) continue;
    if (!unique.empty() && unique.back().first == k.first) {
      unique.back().second = k.second;
    } else {
      unique.push_back(std::move(k));
    }
  }
  SlotAllocator slots{check_, {}};
  slots.grow(256);
  slots.occupy(0, -2);  // the root
  base_.assign(check_.size(), 0);
  value_.assign(check_.size(), -1);

  struct Work {
    uint32_t state, lo, hi, depth;
  };
  std::vector<Work> work{{0, 0, static_cast<uint32_t>(unique.size()), 0}};
  std::vector<std::pair<uint32_t, std::pair<uint32_t, uint32_t>>> children;  // label, key range
  uint32_t search_from = 1;
  while (!work.empty()) {
    Work w = work.back();
    work.pop_back();
    uint32_t lo = w.lo;
    if (lo < w.hi && unique[lo].first.size() == w.depth) {
      value_[w.state] = unique[lo].second;
      ++lo;
    }
    children.clear();
    for (uint32_t i = lo; i < w.hi;) {
      unsigned char label = static_cast<unsigned char>(unique[i].first[w.depth]);
      uint32_t j = i + 1;
      while (j < w.hi && static_cast<unsigned char>(unique[j].first[w.depth]) == label) ++j;
      children.push_back({label, {i, j}});
      i = j;
    }
    if (children.empty()) continue;
    // The smallest base placing every child label on a free slot.
    uint32_t first_label = children.front().first;
    uint32_t base = 0;
    for (uint32_t t = slots.first_free_from(std::max(search_from, first_label));; t = slots.first_free_from(t + 1)) {
      base = t - first_label;
      bool fits = true;
      for (const auto& c : children)
        if (!slots.is_free(base + c.first)) {
          fits = false;
          break;
        }
      if (fits) break;
    }
    search_from = slots.first_free_from(search_from);
    base_[w.state] = base;
    for (const auto& c : children) slots.occupy(base + c.first, static_cast<int32_t>(w.state));
    if (base_.size() < check_.size()) {
      base_.resize(check_.size(), 0);
      value_.resize(check_.size(), -1);
    }
    for (const auto& c : children) work.push_back({base + c.first, c.second.first, c.second.second, w.depth + 1});
  }
  // Trim unused slots at the end.
  size_t used = check_.size();
  while (used > 1 && check_[used - 1] == -1) --used;
  check_.resize(used);
  base_.resize(used);
  value_.resize(used);
  check_.shrink_to_fit();
  base_.shrink_to_fit();
  value_.shrink_to_fit();
}

int32_t DoubleArrayTrie::find(std::string_view key) const {
  if (key.empty() || base_.empty()) return -1;
  uint32_t state = 0;
  for (char ch : key) {
    uint32_t next = base_[state] + static_cast<unsigned char>(ch);
    if (next >= check_.size() || check_[next] != static_cast<int32_t>(state)) return -1;
    state = next;
  }
  return value_[state];
}

}  // namespace lmkit::tok
