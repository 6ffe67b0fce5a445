#include "core/common/metrics.h"

#include <doctest/doctest.h>

#include <thread>

namespace helm {
namespace {

TEST_CASE("a labeled counter is the registry's series, in every thread") {
  Counter& a = GetLabeledCounter("test_labeled_total", "status", "completed");
  CHECK(&a == &GetCounter("test_labeled_total", R"(status="completed")"));
  CHECK(&a == &GetLabeledCounter("test_labeled_total", "status", "completed"));  // cached
  CHECK(&a != &GetLabeledCounter("test_labeled_total", "status", "rejected"));
  const int64_t before = a.value();
  std::thread other([] { GetLabeledCounter("test_labeled_total", "status", "completed").Add(2); });
  other.join();
  a.Add();
  CHECK(a.value() == before + 3);
  CHECK(RenderMetrics().find("test_labeled_total{status=\"completed\"} " +
                             std::to_string(before + 3) + "\n") != std::string::npos);
}

}  // namespace
}  // namespace helm
