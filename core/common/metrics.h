// Process-wide counters rendered as Prometheus text. Counter increments are
// lock-free; registering a new series takes a mutex once. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

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

// All counters as Prometheus exposition text (name_total style names are the caller's).
std::string RenderMetrics();

}  // namespace helm
