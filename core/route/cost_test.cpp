#include "core/route/cost.h"

#include <doctest/doctest.h>

namespace helm::route {
namespace {

// $3 / $15 / $0.30 per million tokens.
const Prices kPrices{3000000, 15000000, 300000};

TEST_CASE("cost: input and output at their prices") {
  CHECK(CostMicros({1000000, 0, 0}, kPrices) == 3000000);
  CHECK(CostMicros({0, 1000000, 0}, kPrices) == 15000000);
  CHECK(CostMicros({1000, 500, 0}, kPrices) == 3000 + 7500);
  CHECK(CostMicros({}, kPrices) == 0);
}

TEST_CASE("cost: cached tokens billed once, at the cached price") {
  // 1000 input of which 800 cached: 200 * 3 + 800 * 0.3 = 600 + 240 micro-dollars.
  CHECK(CostMicros({1000, 0, 800}, kPrices) == 840);
  // All cached.
  CHECK(CostMicros({1000, 0, 1000}, kPrices) == 300);
  // cached > input is clamped to input (never a negative uncached count).
  CHECK(CostMicros({1000, 0, 5000}, kPrices) == 300);
}

TEST_CASE("cost: rounded up once over the sum") {
  CHECK(CostMicros({1, 0, 0}, kPrices) == 3);
  CHECK(CostMicros({1, 0, 0}, Prices{1, 1, 1}) == 1);       // 1e-6 micro-dollars → 1
  CHECK(CostMicros({999999, 0, 0}, Prices{1, 0, 0}) == 1);  // 0.999999 → 1
  CHECK(CostMicros({1000000, 0, 0}, Prices{1, 0, 0}) == 1);
  CHECK(CostMicros({1000001, 0, 0}, Prices{1, 0, 0}) == 2);
  CHECK(CostMicros({1, 1, 1}, Prices{0, 0, 0}) == 0);
}

TEST_CASE("cost: negative counts are zero, huge counts do not overflow") {
  CHECK(CostMicros({-5, -5, -5}, kPrices) == 0);
  const int64_t big = int64_t{1} << 40;
  CHECK(CostMicros({big, big, 0}, Prices{big, big, big}) ==
        static_cast<int64_t>(((__int128)big * big * 2 + 999999) / 1000000));
  CHECK(CostMicros({INT64_MAX, INT64_MAX, 0}, Prices{INT64_MAX, INT64_MAX, 0}) == INT64_MAX);
}

}  // namespace
}  // namespace helm::route
