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

TEST_CASE("a histogram renders cumulative buckets, its sum and its count") {
  constexpr double kBounds[] = {0.25, 1, 4};
  Histogram& h = GetLabeledHistogram("test_duration_seconds", kBounds, "status", "completed");
  CHECK(&h == &GetHistogram("test_duration_seconds", kBounds, R"(status="completed")"));
  h.Observe(0.125);
  h.Observe(0.25);  // a value on a bound counts in that bound's bucket
  h.Observe(2);
  std::thread other([&] {
    GetLabeledHistogram("test_duration_seconds", kBounds, "status", "completed").Observe(8);
  });
  other.join();
  GetHistogram("test_plain_seconds", kBounds).Observe(1);

  const std::string text = RenderMetrics();
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  CHECK(has("# TYPE test_duration_seconds histogram"));
  CHECK(has(R"(test_duration_seconds_bucket{status="completed",le="0.25"} 2)"));
  CHECK(has(R"(test_duration_seconds_bucket{status="completed",le="1"} 2)"));
  CHECK(has(R"(test_duration_seconds_bucket{status="completed",le="4"} 3)"));
  CHECK(has(R"(test_duration_seconds_bucket{status="completed",le="+Inf"} 4)"));
  CHECK(has(R"(test_duration_seconds_sum{status="completed"} 10.375)"));
  CHECK(has(R"(test_duration_seconds_count{status="completed"} 4)"));
  CHECK(has(R"(test_plain_seconds_bucket{le="1"} 1)"));
  CHECK(has(R"(test_plain_seconds_bucket{le="0.25"} 0)"));
  CHECK(has("test_plain_seconds_count 1"));
}

}  // namespace
}  // namespace helm
