// Server metrics in the Prometheus text exposition format (version 0.0.4): counters the
// routes bump, latency histograms, and the scheduler's gauges sampled when /metrics is read.
// Thread-safe: handler threads and the scheduler thread record concurrently.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "lmkit/engine/scheduler.h"

namespace lmkit::server {

// A cumulative histogram with fixed upper bounds (seconds), as Prometheus expects.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  // "# TYPE name histogram" and the _bucket/_sum/_count lines.
  void write(std::string& out, const std::string& name, const std::string& help) const;

 private:
  mutable std::mutex mutex_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative (made cumulative on write)
  uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  Metrics();
  // One finished HTTP request on a route (the path pattern, not the raw path) with its status.
  void count_request(const std::string& route, int status);
  void observe_time_to_first_token(double seconds) { ttft_.observe(seconds); }
  void observe_inter_token(double seconds) { inter_token_.observe(seconds); }

  std::string render(const engine::SchedulerStats& stats) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  Histogram ttft_;
  Histogram inter_token_;
};

}  // namespace lmkit::server
