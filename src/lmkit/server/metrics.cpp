#include "lmkit/server/metrics.h"

#include <fmt/format.h>

namespace lmkit::server {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  std::lock_guard lock(mutex_);
  ++counts_[i];
  ++count_;
  sum_ += value;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& help) const {
  std::lock_guard lock(mutex_);
  out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, count_);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_, name, count_);
}

namespace {

// Latencies from a millisecond to a minute: CPU inference on small and large models.
std::vector<double> latency_bounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

void scalar(std::string& out, const char* name, const char* type, const char* help,
            double value) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}

}  // namespace

Metrics::Metrics() : ttft_(latency_bounds()), inter_token_(latency_bounds()) {}

void Metrics::count_request(const std::string& route, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
}

std::string Metrics::render(const engine::SchedulerStats& s) const {
  std::string out;
  out += "# HELP lmkit_http_requests_total HTTP requests answered, by route and status.\n"
         "# TYPE lmkit_http_requests_total counter\n";
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, n] : requests_)
      out += fmt::format("lmkit_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                         key.first, key.second, n);
  }
  scalar(out, "lmkit_requests_submitted_total", "counter",
         "Generation requests (choices) accepted by the scheduler.",
         static_cast<double>(s.requests_submitted));
  scalar(out, "lmkit_requests_finished_total", "counter",
         "Generation requests finished, including cancelled and timed out.",
         static_cast<double>(s.requests_finished));
  scalar(out, "lmkit_requests_rejected_total", "counter",
         "Generation requests refused because the waiting queue was full (429).",
         static_cast<double>(s.requests_rejected));
  scalar(out, "lmkit_prompt_tokens_total", "counter", "Prompt tokens of finished requests.",
         static_cast<double>(s.prompt_tokens));
  scalar(out, "lmkit_cached_prompt_tokens_total", "counter",
         "Prompt tokens served from the prefix cache.",
         static_cast<double>(s.cached_prompt_tokens));
  scalar(out, "lmkit_generation_tokens_total", "counter", "Tokens generated.",
         static_cast<double>(s.completion_tokens));
  scalar(out, "lmkit_preemptions_total", "counter",
         "Running sequences preempted for lack of KV blocks (recomputed later).",
         static_cast<double>(s.preemptions));
  scalar(out, "lmkit_engine_steps_total", "counter", "Forward passes run by the scheduler.",
         static_cast<double>(s.steps));
  scalar(out, "lmkit_queue_length", "gauge", "Requests waiting to run.",
         static_cast<double>(s.waiting));
  scalar(out, "lmkit_running_batch", "gauge", "Sequences in the running batch.",
         static_cast<double>(s.running));
  scalar(out, "lmkit_kv_blocks_total", "gauge", "KV cache blocks.",
         static_cast<double>(s.kv_blocks_total));
  scalar(out, "lmkit_kv_blocks_used", "gauge",
         "KV cache blocks held by running sequences (not free, not only cached).",
         static_cast<double>(s.kv_blocks_total - s.kv_blocks_free - s.kv_blocks_cached));
  scalar(out, "lmkit_kv_blocks_cached", "gauge",
         "KV cache blocks held only by the prefix cache (reusable, evictable).",
         static_cast<double>(s.kv_blocks_cached));
  const double hit_rate = s.prompt_tokens > 0 ? static_cast<double>(s.cached_prompt_tokens) /
                                                    static_cast<double>(s.prompt_tokens)
                                              : 0.0;
  scalar(out, "lmkit_prefix_cache_hit_rate", "gauge",
         "Share of prompt tokens served from the prefix cache, over finished requests.",
         hit_rate);
  ttft_.write(out, "lmkit_time_to_first_token_seconds",
              "Time from submission to the first generated token.");
  inter_token_.write(out, "lmkit_inter_token_latency_seconds",
                     "Time between successive generated tokens of a request.");
  return out;
}

}  // namespace lmkit::server
