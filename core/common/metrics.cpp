#include "core/common/metrics.h"

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace helm {
namespace {

struct Registry {
  using ByLabels = std::map<std::string, std::unique_ptr<Counter>, std::less<>>;
  std::mutex mu;
  std::map<std::string, ByLabels, std::less<>> series;  // GUARDED_BY(mu)
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;  // never destroyed: counters outlive static teardown
  return *registry;
}

}  // namespace

Counter& GetCounter(std::string_view name, std::string_view labels) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  // Looked up by view: a counter that exists (every call on the request
  // path after the first) costs no allocation.
  auto series = r.series.find(name);
  if (series == r.series.end()) {
    series = r.series.emplace(std::string(name), Registry::ByLabels()).first;
  }
  auto counter = series->second.find(labels);
  if (counter == series->second.end()) {
    counter = series->second.emplace(std::string(labels), std::make_unique<Counter>()).first;
  }
  return *counter->second;
}

Counter& GetLabeledCounter(const char* name, const char* label, std::string_view value) {
  struct Cached {
    const char* name;
    const char* label;
    std::string value;
    Counter* counter;
  };
  thread_local std::vector<Cached> cache;  // a handful of series per thread
  for (const Cached& c : cache) {
    if (c.name == name && c.label == label && c.value == value) return *c.counter;
  }
  std::string labels = std::string(label) + "=\"" + std::string(value) + "\"";
  Counter& counter = GetCounter(name, labels);
  cache.push_back(Cached{name, label, std::string(value), &counter});
  return counter;
}

std::string RenderMetrics() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::string out;
  for (const auto& [name, by_labels] : r.series) {
    out += "# TYPE " + name + " counter\n";
    for (const auto& [labels, counter] : by_labels) {
      out += name;
      if (!labels.empty()) out += "{" + labels + "}";
      out += " " + std::to_string(counter->value()) + "\n";
    }
  }
  return out;
}

}  // namespace helm
