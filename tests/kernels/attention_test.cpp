// Paged attention on every ISA against kernels::ref::attention: head_dim 64/128 (and an odd
// 72), contexts spanning several blocks reached through a shuffled block table, GQA groups
// 1..8. The error bound is derived per output from the reference data (see tolerance()).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernel_test_util.h"

namespace lmkit::kernels::testing {
namespace {

struct PagedCache {
  std::vector<float> k, v;
  std::vector<int32_t> block_table;
  KvBlocks kv;
};

// A pool of `n_blocks` blocks holding random K/V; the sequence's blocks are a shuffled subset,
// so logical order and physical order differ.
PagedCache make_cache(int64_t n_ctx, int64_t block_size, int64_t n_kv_heads, int64_t head_dim,
                      uint32_t seed) {
  PagedCache c;
  const int64_t used = (n_ctx + block_size - 1) / block_size;
  const int64_t n_blocks = used + 3;
  const size_t floats = static_cast<size_t>(n_blocks * block_size * n_kv_heads * head_dim);
  c.k = random_floats(floats, seed, -1.0f, 1.0f);
  c.v = random_floats(floats, seed + 1, -2.0f, 2.0f);
  std::vector<int32_t> all(static_cast<size_t>(n_blocks));
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), std::mt19937(seed + 2));
  c.block_table.assign(all.begin(), all.begin() + used);
  c.kv = {c.k.data(), c.v.data(), block_size, n_kv_heads, head_dim};
  return c;
}

// Scores: an f32 dot of head_dim terms (error <= head_dim u sum|q k|, times scale) plus the
// scale's rounding; a probability then carries twice the worst score error (its own and the
// max's) plus softmax's own (16 + |s - max|) u. The weighted sum of V is an f32 chain of
// n_ctx fused multiply-adds (n_ctx u of sum p |v|). So for output i:
//   tol = sum_t p_t |v_t,i| * (2 E_s + (16 + |s_t - max| + n_ctx) u)
std::vector<double> tolerance(const float* q, int64_t group, const PagedCache& c, int64_t kv_head,
                              int64_t n_ctx, float scale) {
  const KvBlocks& kv = c.kv;
  const int64_t d = kv.head_dim;
  auto row = [&](const std::vector<float>& pool, int64_t t) {
    const int64_t slot = c.block_table[t / kv.block_size] * kv.block_size + t % kv.block_size;
    return pool.data() + (slot * kv.n_kv_heads + kv_head) * d;
  };
  std::vector<double> tol(static_cast<size_t>(group * d), 0.0);
  for (int64_t g = 0; g < group; ++g) {
    std::vector<double> s(n_ctx);
    double err_s = 0, max = -INFINITY;
    for (int64_t t = 0; t < n_ctx; ++t) {
      double dot = 0, abs_dot = 0;
      for (int64_t i = 0; i < d; ++i) {
        dot += static_cast<double>(q[g * d + i]) * row(c.k, t)[i];
        abs_dot += std::fabs(static_cast<double>(q[g * d + i]) * row(c.k, t)[i]);
      }
      s[t] = dot * scale;
      err_s = std::max(err_s, (d * abs_dot * scale + std::fabs(s[t])) * kU);
      max = std::max(max, s[t]);
    }
    double sum = 0;
    for (int64_t t = 0; t < n_ctx; ++t) sum += std::exp(s[t] - max);
    for (int64_t t = 0; t < n_ctx; ++t) {
      const double p = std::exp(s[t] - max) / sum;
      const double rel = 2 * err_s + (16 + (max - s[t]) + n_ctx) * kU;
      for (int64_t i = 0; i < d; ++i) tol[g * d + i] += p * std::fabs(row(c.v, t)[i]) * rel;
    }
  }
  return tol;
}

TEST(Attention, EveryPathMatchesTheReference) {
  struct Case {
    int64_t head_dim, block_size, n_ctx, group;
  };
  const std::vector<Case> cases = {{64, 16, 1, 1},   {64, 16, 17, 2},  {128, 16, 50, 4},
                                   {128, 32, 130, 8}, {64, 8, 77, 7},   {128, 16, 300, 1},
                                   {72, 16, 33, 3},   {64, 16, 1000, 5}, {128, 64, 5, 6}};
  for (Isa isa : all_isas()) {
    IsaGuard guard(isa);
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(isa_name(isa)) + " head_dim=" + std::to_string(c.head_dim) +
                   " block=" + std::to_string(c.block_size) + " n_ctx=" + std::to_string(c.n_ctx) +
                   " group=" + std::to_string(c.group));
      const int64_t n_kv_heads = 3, kv_head = 1;
      PagedCache cache = make_cache(c.n_ctx, c.block_size, n_kv_heads, c.head_dim, 21);
      // Larger queries make some softmaxes peaked, others flat.
      const std::vector<float> q = random_floats(c.group * c.head_dim, 22, -4.0f, 4.0f);
      const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_dim)));
      std::vector<float> got(c.group * c.head_dim + 1, -7.0f), want(c.group * c.head_dim);
      std::vector<float> scratch(c.group * c.n_ctx), ref_scratch(c.group * c.n_ctx);
      attention(q.data(), c.group, cache.kv, kv_head, cache.block_table.data(), c.n_ctx, scale,
                got.data(), scratch.data());
      ref::attention(q.data(), c.group, cache.kv, kv_head, cache.block_table.data(), c.n_ctx,
                     scale, want.data(), ref_scratch.data());
      const std::vector<double> tol = tolerance(q.data(), c.group, cache, kv_head, c.n_ctx, scale);
      for (int64_t i = 0; i < c.group * c.head_dim; ++i)
        ASSERT_NEAR(got[i], want[i], tol[i] + 1e-30) << "g=" << i / c.head_dim << " i=" << i % c.head_dim;
      ASSERT_EQ(got[c.group * c.head_dim], -7.0f);

      // Where the blocks sit in the pool must not matter: copy them to a contiguous layout
      // and expect the same bits.
      PagedCache flat = cache;
      const int64_t block_floats = c.block_size * n_kv_heads * c.head_dim;
      for (size_t b = 0; b < cache.block_table.size(); ++b) {
        std::copy_n(cache.k.begin() + cache.block_table[b] * block_floats, block_floats,
                    flat.k.begin() + static_cast<int64_t>(b) * block_floats);
        std::copy_n(cache.v.begin() + cache.block_table[b] * block_floats, block_floats,
                    flat.v.begin() + static_cast<int64_t>(b) * block_floats);
        flat.block_table[b] = static_cast<int32_t>(b);
      }
      flat.kv.k = flat.k.data();
      flat.kv.v = flat.v.data();
      std::vector<float> again(c.group * c.head_dim);
      attention(q.data(), c.group, flat.kv, kv_head, flat.block_table.data(), c.n_ctx, scale,
                again.data(), scratch.data());
      for (int64_t i = 0; i < c.group * c.head_dim; ++i) ASSERT_EQ(again[i], got[i]) << i;
    }
  }
}

// A query head's output must not depend on the size of its group (the model's GQA ratio
// and a head alone must agree bit for bit).
TEST(Attention, HeadResultDoesNotDependOnGroupSize) {
  for (Isa isa : all_isas()) {
    IsaGuard guard(isa);
    SCOPED_TRACE(isa_name(isa));
    const int64_t d = 128, n_ctx = 45, group = 8;
    PagedCache cache = make_cache(n_ctx, 16, 2, d, 31);
    const std::vector<float> q = random_floats(group * d, 32, -3.0f, 3.0f);
    std::vector<float> out(group * d), scratch(group * n_ctx);
    attention(q.data(), group, cache.kv, 0, cache.block_table.data(), n_ctx, 0.088f, out.data(),
              scratch.data());
    for (int64_t g : {0, 3, 7}) {
      std::vector<float> one(d);
      attention(q.data() + g * d, 1, cache.kv, 0, cache.block_table.data(), n_ctx, 0.088f,
                one.data(), scratch.data());
      for (int64_t i = 0; i < d; ++i) ASSERT_EQ(one[i], out[g * d + i]) << "g=" << g << " i=" << i;
    }
  }
}

}  // namespace
}  // namespace lmkit::kernels::testing
