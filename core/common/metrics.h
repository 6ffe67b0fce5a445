// Process-wide counters rendered as Prometheus text. Counter increments are
// lock-free; registering a new series takes a mutex once. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace helm {

class Counter {
 public:
  void Add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Returns the counter for name{labels}; labels is preformatted, e.g.
// R"(verdict="ALLOW")" or empty. The reference stays valid for the process.
Counter& GetCounter(std::string_view name, std::string_view labels = "");

// The counter for name{label="value"}, for series on the request path: each
// thread looks a series up in the registry once, then finds it in its own
// cache without a lock or an allocation. `name` and `label` must be string
// literals (their addresses are the cache key).
Counter& GetLabeledCounter(const char* name, const char* label, std::string_view value);

// A Prometheus histogram over fixed upper bounds (ascending). Observe is
// lock-free: a search over the bounds and two relaxed atomic adds.
class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds);
  void Observe(double value);
  // name_bucket (cumulative, le="+Inf" last), name_sum and name_count lines;
  // labels preformatted, e.g. R"(status="completed")", or empty.
  void Render(std::string_view name, std::string_view labels, std::string* out) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<int64_t>[]> counts_;  // per bound, then +Inf; not cumulative
  std::atomic<double> sum_{0};
};

// Upper bounds in seconds for the request path, from half a millisecond up to
// the two minutes a long completion may take.
inline constexpr double kRequestSecondsBounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                   0.025,  0.05,  0.1,    0.25,  0.5,
                                                   1,      2.5,   5,      10,    30,
                                                   60,     120};
// Upper bounds in seconds for ledger writes (an fsync takes 0.1-10 ms).
inline constexpr double kWriteSecondsBounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                 0.005,  0.01,    0.025,  0.05,  0.1,
                                                 0.25,   0.5,     1};

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Returns the histogram for name{labels}, created with `bounds` on first use
// (later calls' bounds are ignored). The reference stays valid for the process.
Histogram& GetHistogram(std::string_view name, std::span<const double> bounds,
                        std::string_view labels = "");

// The histogram for name{label="value"}, cached per thread like
// GetLabeledCounter (`name` and `label` must be string literals).
Histogram& GetLabeledHistogram(const char* name, std::span<const double> bounds, const char* label,
                               std::string_view value);

// Every counter and histogram as Prometheus exposition text (name_total and
// _seconds style names are the caller's).
std::string RenderMetrics();

}  // namespace helm
