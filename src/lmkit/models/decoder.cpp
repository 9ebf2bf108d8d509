#include "lmkit/models/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "lmkit/base/error.h"

namespace lmkit {

int64_t CausalLM::logit_rows(std::span<const SequenceStep> steps) {
  int64_t rows = 0;
  for (const SequenceStep& s : steps) rows += s.all_logits ? s.n_tokens : 1;
  return rows;
}

namespace models {
namespace {

// Activations for one forward step, grown to the largest batch seen and then reused, so the
// steady-state decode loop allocates nothing.
struct Scratch {
  std::vector<float> x, xn, tmp, q, k, v, qkv, attn, gate, up;
  std::vector<std::vector<float>> attn_scores;  // one per pool thread
  std::vector<int64_t> row_pos, row_step;
  std::vector<int64_t> logit_src;  // which token rows get logits

  static void grow(std::vector<float>& buf, int64_t n) {
    if (static_cast<int64_t>(buf.size()) < n) buf.resize(static_cast<size_t>(n));
  }
};

class DecoderLM final : public CausalLM {
 public:
  DecoderLM(ModelConfig config, DecoderWeights weights)
      : cfg_(std::move(config)), w_(std::move(weights)), inv_freq_(cfg_.rope_inv_freq()) {}

  const ModelConfig& config() const override { return cfg_; }

  void forward(std::span<const SequenceStep> steps, KvCache& cache, float* logits,
               ThreadPool& pool, const HiddenCapture* capture) override;

 private:
  int64_t validate(std::span<const SequenceStep> steps, const KvCache& cache) const;
  void prepare(std::span<const SequenceStep> steps, int64_t n_rows, int64_t max_ctx, int n_threads);
  void project_qkv(const LayerWeights& L, int64_t T, ThreadPool& pool);
  void rope_and_store(int64_t layer, std::span<const SequenceStep> steps, KvCache& cache,
                      int64_t T, ThreadPool& pool);
  void attend(int64_t layer, std::span<const SequenceStep> steps, const KvCache& cache, int64_t T,
              ThreadPool& pool);

  ModelConfig cfg_;
  DecoderWeights w_;
  std::vector<float> inv_freq_;
  Scratch s_;
};

// Row-wise elementwise work split over the pool for prefill-sized batches; a decode step's
// few rows run inline because waking the workers would cost more than the work.
template <class F>
void for_row_ranges(ThreadPool& pool, int64_t rows, F&& fn) {
  if (rows < 8) {
    fn(int64_t{0}, rows);
  } else {
    pool.parallel_for(rows, fn);
  }
}

void add_bias_rows(float* y, const std::vector<float>& bias, int64_t rows, int64_t ld) {
  if (bias.empty()) return;
  for (int64_t r = 0; r < rows; ++r) kernels::add(y + r * ld, bias.data(), ld);
}

// Errors for anything a caller could get wrong; forward() itself never meets bad indices.
int64_t DecoderLM::validate(std::span<const SequenceStep> steps, const KvCache& cache) const {
  const kernels::KvBlocks kv = cache.layer(0);
  if (cache.n_layers() != cfg_.n_layers || kv.n_kv_heads != cfg_.n_kv_heads ||
      kv.head_dim != cfg_.head_dim)
    throw_error("forward: the KV cache was made for another model shape (" +
                std::to_string(cache.n_layers()) + " layers, " + std::to_string(kv.n_kv_heads) +
                " KV heads of " + std::to_string(kv.head_dim) + "; the model has " +
                std::to_string(cfg_.n_layers) + ", " + std::to_string(cfg_.n_kv_heads) + ", " +
                std::to_string(cfg_.head_dim) + ")");
  int64_t max_ctx = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const SequenceStep& s = steps[i];
    const std::string where = "forward: step " + std::to_string(i) + ": ";
    if (s.n_tokens <= 0 || !s.tokens) throw_error(where + "needs at least one token");
    if (s.start_pos < 0) throw_error(where + "start_pos is negative");
    const int64_t end = s.start_pos + s.n_tokens;
    if (end > cfg_.max_position)
      throw_error(where + "positions up to " + std::to_string(end) +
                  " exceed the model's context of " + std::to_string(cfg_.max_position));
    const int64_t need_blocks = (end + cache.block_size() - 1) / cache.block_size();
    if (!s.block_table || s.n_table_blocks < need_blocks)
      throw_error(where + "block table has " + std::to_string(s.n_table_blocks) +
                  " blocks, " + std::to_string(need_blocks) + " needed for " +
                  std::to_string(end) + " positions");
    for (int64_t b = 0; b < need_blocks; ++b)
      if (s.block_table[b] < 0 || s.block_table[b] >= cache.n_blocks())
        throw_error(where + "block id " + std::to_string(s.block_table[b]) +
                    " is outside the cache's " + std::to_string(cache.n_blocks()) + " blocks");
    for (int64_t t = 0; t < s.n_tokens; ++t)
      if (s.tokens[t] < 0 || s.tokens[t] >= cfg_.vocab_size)
        throw_error(where + "token id " + std::to_string(s.tokens[t]) +
                    " is outside the vocabulary of " + std::to_string(cfg_.vocab_size));
    max_ctx = std::max(max_ctx, end);
  }
  return max_ctx;
}

void DecoderLM::prepare(std::span<const SequenceStep> steps, int64_t T, int64_t max_ctx,
                        int n_threads) {
  const int64_t H = cfg_.hidden_size, I = cfg_.intermediate_size;
  const int64_t qd = cfg_.n_heads * cfg_.head_dim, kvd = cfg_.n_kv_heads * cfg_.head_dim;
  Scratch::grow(s_.x, T * H);
  Scratch::grow(s_.xn, T * H);
  Scratch::grow(s_.tmp, T * H);
  Scratch::grow(s_.q, T * qd);
  Scratch::grow(s_.k, T * kvd);
  Scratch::grow(s_.v, T * kvd);
  if (w_.packed_qkv) Scratch::grow(s_.qkv, T * (qd + 2 * kvd));
  Scratch::grow(s_.attn, T * qd);
  Scratch::grow(s_.gate, T * I);
  Scratch::grow(s_.up, T * I);
  if (static_cast<int>(s_.attn_scores.size()) < n_threads) s_.attn_scores.resize(static_cast<size_t>(n_threads));
  const int64_t group = cfg_.n_heads / cfg_.n_kv_heads;
  for (auto& buf : s_.attn_scores) Scratch::grow(buf, group * max_ctx);

  s_.row_pos.resize(static_cast<size_t>(T));
  s_.row_step.resize(static_cast<size_t>(T));
  s_.logit_src.clear();
  int64_t r = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const SequenceStep& s = steps[i];
    for (int64_t t = 0; t < s.n_tokens; ++t, ++r) {
      s_.row_pos[static_cast<size_t>(r)] = s.start_pos + t;
      s_.row_step[static_cast<size_t>(r)] = static_cast<int64_t>(i);
      if (s.all_logits || t == s.n_tokens - 1) s_.logit_src.push_back(r);
    }
  }
}

void DecoderLM::project_qkv(const LayerWeights& L, int64_t T, ThreadPool& pool) {
  const int64_t hd = cfg_.head_dim;
  const int64_t qd = cfg_.n_heads * hd, kvd = cfg_.n_kv_heads * hd;
  if (!w_.packed_qkv) {
    kernels::matmul(s_.xn.data(), T, L.wq, s_.q.data(), qd, pool);
    kernels::matmul(s_.xn.data(), T, L.wk, s_.k.data(), kvd, pool);
    kernels::matmul(s_.xn.data(), T, L.wv, s_.v.data(), kvd, pool);
    add_bias_rows(s_.q.data(), L.bq, T, qd);
    add_bias_rows(s_.k.data(), L.bk, T, kvd);
    add_bias_rows(s_.v.data(), L.bv, T, kvd);
    return;
  }
  // InternLM2: one matmul over the packed rows, then the per-group [q..., k, v] layout is
  // scattered into q, k, v (activations only; the weights stay as mapped).
  const int64_t total = qd + 2 * kvd;
  kernels::matmul(s_.xn.data(), T, L.wqkv, s_.qkv.data(), total, pool);
  add_bias_rows(s_.qkv.data(), L.bqkv, T, total);
  const int64_t group = cfg_.n_heads / cfg_.n_kv_heads;
  const int64_t stride = (group + 2) * hd;
  for (int64_t t = 0; t < T; ++t) {
    const float* src = s_.qkv.data() + t * total;
    for (int64_t g = 0; g < cfg_.n_kv_heads; ++g) {
      const float* grp = src + g * stride;
      std::memcpy(s_.q.data() + t * qd + g * group * hd, grp, sizeof(float) * group * hd);
      std::memcpy(s_.k.data() + t * kvd + g * hd, grp + group * hd, sizeof(float) * hd);
      std::memcpy(s_.v.data() + t * kvd + g * hd, grp + (group + 1) * hd, sizeof(float) * hd);
    }
  }
}

void DecoderLM::rope_and_store(int64_t layer, std::span<const SequenceStep> steps, KvCache& cache,
                               int64_t T, ThreadPool& pool) {
  const int64_t hd = cfg_.head_dim;
  const int64_t qd = cfg_.n_heads * hd, kvd = cfg_.n_kv_heads * hd;
  const int64_t bs = cache.block_size();
  pool.parallel_for(T, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t pos = s_.row_pos[static_cast<size_t>(r)];
      const SequenceStep& s = steps[static_cast<size_t>(s_.row_step[static_cast<size_t>(r)])];
      float* q = s_.q.data() + r * qd;
      float* k = s_.k.data() + r * kvd;
      kernels::rope(q, cfg_.n_heads, hd, cfg_.rope_dim, pos, inv_freq_.data(), cfg_.rope_style);
      kernels::rope(k, cfg_.n_kv_heads, hd, cfg_.rope_dim, pos, inv_freq_.data(), cfg_.rope_style);
      const int32_t block = s.block_table[pos / bs];
      std::memcpy(cache.k_slot(layer, block, pos % bs), k, sizeof(float) * kvd);
      std::memcpy(cache.v_slot(layer, block, pos % bs), s_.v.data() + r * kvd, sizeof(float) * kvd);
    }
  });
}

void DecoderLM::attend(int64_t layer, std::span<const SequenceStep> steps, const KvCache& cache,
                       int64_t T, ThreadPool& pool) {
  const int64_t hd = cfg_.head_dim;
  const int64_t qd = cfg_.n_heads * hd;
  const int64_t group = cfg_.n_heads / cfg_.n_kv_heads;
  const kernels::KvBlocks kv = cache.layer(layer);
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  // One work item per (token, KV head): each reads its sequence's cache up to its own
  // position, which is what makes a prefill chunk causal.
  const int64_t items = T * cfg_.n_kv_heads;
  // A single item runs inline: waking the pool costs more than it saves.
  const int n_parts = items == 1 ? 1 : pool.size();
  // Items are dealt out round-robin rather than in contiguous ranges: in a prefill, later
  // tokens attend over longer contexts, so contiguous ranges would leave one thread with most
  // of the work.
  auto work = [&](int part) {
    float* scores = s_.attn_scores[static_cast<size_t>(part)].data();
    for (int64_t it = part; it < items; it += n_parts) {
      const int64_t r = it / cfg_.n_kv_heads, h = it % cfg_.n_kv_heads;
      const SequenceStep& s = steps[static_cast<size_t>(s_.row_step[static_cast<size_t>(r)])];
      const int64_t n_ctx = s_.row_pos[static_cast<size_t>(r)] + 1;
      const int64_t off = r * qd + h * group * hd;
      kernels::attention(s_.q.data() + off, group, kv, h, s.block_table, n_ctx, scale,
                         s_.attn.data() + off, scores);
    }
  };
  if (n_parts == 1) {
    work(0);
  } else {
    pool.run(work);
  }
}

void DecoderLM::forward(std::span<const SequenceStep> steps, KvCache& cache, float* logits,
                        ThreadPool& pool, const HiddenCapture* capture) {
  if (steps.empty()) return;
  const int64_t max_ctx = validate(steps, cache);
  int64_t T = 0;
  for (const SequenceStep& s : steps) T += s.n_tokens;
  prepare(steps, T, max_ctx, pool.size());

  const int64_t H = cfg_.hidden_size, I = cfg_.intermediate_size;
  const float eps = static_cast<float>(cfg_.rms_norm_eps);
  float* x = s_.x.data();
  float* xn = s_.xn.data();
  float* tmp = s_.tmp.data();

  {
    const uint8_t* base = static_cast<const uint8_t*>(w_.embed.data);
    int64_t r = 0;
    for (const SequenceStep& s : steps)
      for (int64_t t = 0; t < s.n_tokens; ++t, ++r)
        kernels::dequantize_row(base + static_cast<size_t>(s.tokens[t]) * w_.embed.row_stride,
                                w_.embed.dtype, x + r * H, H);
  }

  for (int64_t l = 0; l < cfg_.n_layers; ++l) {
    const LayerWeights& L = w_.layers[static_cast<size_t>(l)];
    for_row_ranges(pool, T, [&](int64_t b, int64_t e) {
      kernels::rmsnorm(x + b * H, L.attn_norm.data(), xn + b * H, e - b, H, eps);
    });
    project_qkv(L, T, pool);
    rope_and_store(l, steps, cache, T, pool);
    attend(l, steps, cache, T, pool);
    kernels::matmul(s_.attn.data(), T, L.wo, tmp, H, pool);
    for_row_ranges(pool, T, [&](int64_t b, int64_t e) {
      add_bias_rows(tmp + b * H, L.bo, e - b, H);
      kernels::add(x + b * H, tmp + b * H, (e - b) * H);
      kernels::rmsnorm(x + b * H, L.ffn_norm.data(), xn + b * H, e - b, H, eps);
    });
    kernels::matmul(xn, T, L.w_gate, s_.gate.data(), I, pool);
    kernels::matmul(xn, T, L.w_up, s_.up.data(), I, pool);
    float* gate = s_.gate.data();
    const float* up = s_.up.data();
    for_row_ranges(pool, T, [&](int64_t b, int64_t e) {
      kernels::silu_mul(gate + b * I, up + b * I, gate + b * I, (e - b) * I);
    });
    kernels::matmul(gate, T, L.w_down, tmp, H, pool);
    for_row_ranges(pool, T, [&](int64_t b, int64_t e) {
      kernels::add(x + b * H, tmp + b * H, (e - b) * H);
    });

    if (capture && capture->out && capture->layer == l) capture->out->assign(x, x + T * H);
  }

  // Only the rows whose logits are wanted go through the final norm and the lm_head.
  const int64_t n_out = static_cast<int64_t>(s_.logit_src.size());
  for (int64_t i = 0; i < n_out; ++i)
    std::memcpy(xn + i * H, x + s_.logit_src[static_cast<size_t>(i)] * H, sizeof(float) * H);
  kernels::rmsnorm(xn, w_.final_norm.data(), xn, n_out, H, eps);
  kernels::matmul(xn, n_out, w_.lm_head, logits, cfg_.vocab_size, pool);
}

}  // namespace

std::unique_ptr<CausalLM> make_decoder(ModelConfig config, DecoderWeights weights) {
  return std::make_unique<DecoderLM>(std::move(config), std::move(weights));
}

}  // namespace models
}  // namespace lmkit
