#include "core/common/metrics.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>

namespace helm {
namespace {

// The series of one kind (counters or histograms), by name, then by labels.
template <typename T>
using Family =
    std::map<std::string, std::map<std::string, std::unique_ptr<T>, std::less<>>, std::less<>>;

struct Registry {
  std::mutex mu;
  Family<Counter> counters;      // GUARDED_BY(mu)
  Family<Histogram> histograms;  // GUARDED_BY(mu)
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;  // never destroyed: series outlive static teardown
  return *registry;
}

// The series name{labels}, made by `make` if new. Looked up by view: a series
// that exists (every call on the request path after the first) costs no
// allocation.
template <typename T, typename Make>
T& FindOrAdd(std::string_view name, std::string_view labels, Family<T> Registry::*family,
             Make make) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  Family<T>& f = r.*family;
  auto series = f.find(name);
  if (series == f.end())
    series = f.emplace(std::string(name), typename Family<T>::mapped_type()).first;
  auto it = series->second.find(labels);
  if (it == series->second.end()) it = series->second.emplace(std::string(labels), make()).first;
  return *it->second;
}

// name{label="value"} from a per-thread cache keyed by the literals'
// addresses; `get` looks the series up in the registry on a miss.
template <typename T, typename Get>
T& CachedLabeled(const char* name, const char* label, std::string_view value, Get get) {
  struct Cached {
    const char* name;
    const char* label;
    std::string value;
    T* series;
  };
  thread_local std::vector<Cached> cache;  // a handful of series per thread
  for (const Cached& c : cache) {
    if (c.name == name && c.label == label && c.value == value) return *c.series;
  }
  T& series = get(std::string(label) + "=\"" + std::string(value) + "\"");
  cache.push_back(Cached{name, label, std::string(value), &series});
  return series;
}

void AppendNumber(double value, std::string* out) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);  // shortest round-trip form
  out->append(buf, ec == std::errc() ? end : buf);
}

// name{labels,extra} or name{extra} or name{labels} or name.
void AppendSeries(std::string_view name, std::string_view labels, std::string_view extra,
                  std::string* out) {
  out->append(name);
  if (labels.empty() && extra.empty()) return;
  out->push_back('{');
  out->append(labels);
  if (!labels.empty() && !extra.empty()) out->push_back(',');
  out->append(extra);
  out->push_back('}');
}

}  // namespace

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()),
      counts_(std::make_unique<std::atomic<int64_t>[]>(bounds.size() + 1)) {}

void Histogram::Observe(double value) {
  // Prometheus buckets hold the values <= their bound.
  size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

void Histogram::Render(std::string_view name, std::string_view labels, std::string* out) const {
  const std::string bucket_name = std::string(name) + "_bucket";
  int64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    std::string le = "le=\"";
    if (i < bounds_.size()) {
      AppendNumber(bounds_[i], &le);
    } else {
      le += "+Inf";
    }
    le += '"';
    AppendSeries(bucket_name, labels, le, out);
    *out += ' ' + std::to_string(cumulative) + '\n';
  }
  AppendSeries(std::string(name) + "_sum", labels, "", out);
  out->push_back(' ');
  AppendNumber(sum_.load(std::memory_order_relaxed), out);
  out->push_back('\n');
  // The +Inf bucket's count, so that a scrape never sees the two disagree.
  AppendSeries(std::string(name) + "_count", labels, "", out);
  *out += ' ' + std::to_string(cumulative) + '\n';
}

Counter& GetCounter(std::string_view name, std::string_view labels) {
  return FindOrAdd(name, labels, &Registry::counters, [] { return std::make_unique<Counter>(); });
}

Counter& GetLabeledCounter(const char* name, const char* label, std::string_view value) {
  return CachedLabeled<Counter>(name, label, value, [&](const std::string& labels) -> Counter& {
    return GetCounter(name, labels);
  });
}

Histogram& GetHistogram(std::string_view name, std::span<const double> bounds,
                        std::string_view labels) {
  return FindOrAdd(name, labels, &Registry::histograms,
                   [&] { return std::make_unique<Histogram>(bounds); });
}

Histogram& GetLabeledHistogram(const char* name, std::span<const double> bounds, const char* label,
                               std::string_view value) {
  return CachedLabeled<Histogram>(name, label, value, [&](const std::string& labels) -> Histogram& {
    return GetHistogram(name, bounds, labels);
  });
}

std::string RenderMetrics() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  std::string out;
  for (const auto& [name, by_labels] : r.counters) {
    out += "# TYPE " + name + " counter\n";
    for (const auto& [labels, counter] : by_labels) {
      AppendSeries(name, labels, "", &out);
      out += ' ' + std::to_string(counter->value()) + '\n';
    }
  }
  for (const auto& [name, by_labels] : r.histograms) {
    out += "# TYPE " + name + " histogram\n";
    for (const auto& [labels, histogram] : by_labels) histogram->Render(name, labels, &out);
  }
  return out;
}

}  // namespace helm
