#include "core/common/metrics.h"

#include <map>
#include <memory>
#include <mutex>

namespace helm {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, std::map<std::string, std::unique_ptr<Counter>>> series;  // GUARDED_BY(mu)
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;  // never destroyed: counters outlive static teardown
  return *registry;
}

}  // namespace

Counter& GetCounter(std::string_view name, std::string_view labels) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto& slot = r.series[std::string(name)][std::string(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
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
