#include "core/route/rate_limit.h"

#include <doctest/doctest.h>

namespace helm::route {
namespace {

constexpr int64_t kS = 1000000;

TEST_CASE("rate limit: reset delays") {
  CHECK(*ParseResetDelay("1s") == kS);
  CHECK(*ParseResetDelay("6m0s") == 360 * kS);
  CHECK(*ParseResetDelay("1h2m3.5s") == 3723 * kS + kS / 2);
  CHECK(*ParseResetDelay("20ms") == 20000);
  CHECK(*ParseResetDelay("250us") == 250);
  CHECK(*ParseResetDelay("7") == 7 * kS);
  CHECK(*ParseResetDelay("0.5") == kS / 2);
  CHECK(*ParseResetDelay(" 2s ") == 2 * kS);
  for (const char* bad : {"", "s", "1x", "1s2", "-1s", "abc", "1.2.3s", "99999999999999s"}) {
    CHECK_FALSE_MESSAGE(ParseResetDelay(bad).has_value(), bad);
  }
}

TEST_CASE("rate limit: RFC 3339 and HTTP dates") {
  const int64_t t = 1746100830LL * kS;  // 2025-05-01T12:00:30Z
  CHECK(*ParseRfc3339Micros("2025-05-01T12:00:30Z") == t);
  CHECK(*ParseRfc3339Micros("2025-05-01T12:00:30.25Z") == t + kS / 4);
  CHECK(*ParseRfc3339Micros("2025-05-01T14:00:30+02:00") == t);
  CHECK(*ParseRfc3339Micros("2025-05-01T11:00:30-01:00") == t);
  for (const char* bad : {"", "2025-05-01", "2025-13-01T00:00:00Z", "2025-05-01T12:00:30",
                          "2025-05-01T12:00:30+0200", "2025-05-01T12:00:30Zjunk"}) {
    CHECK_FALSE_MESSAGE(ParseRfc3339Micros(bad).has_value(), bad);
  }
  CHECK(*ParseHttpDateMicros("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777LL * kS);
  CHECK_FALSE(ParseHttpDateMicros("Sun, 06 Foo 1994 08:49:37 GMT").has_value());
  CHECK_FALSE(ParseHttpDateMicros("Sunday, 06-Nov-94 08:49:37 GMT").has_value());
}

TEST_CASE("rate limit: Retry-After seconds or date") {
  CHECK(*ParseRetryAfter("120", 5) == 5 + 120 * kS);
  CHECK(*ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 0) == 784111777LL * kS);
  CHECK_FALSE(ParseRetryAfter("-1", 0).has_value());
  CHECK_FALSE(ParseRetryAfter("soon", 0).has_value());
}

TEST_CASE("rate limit: skip-until from headers") {
  const int64_t now = 1746100800LL * kS;  // 2025-05-01T12:00:00Z
  CHECK(RateLimitSkipUntil(429, {{"retry-after", "10"}}, now) == now + 10 * kS);
  CHECK(RateLimitSkipUntil(200, {{"retry-after", "10"}}, now) == 0);  // only on 429/503
  CHECK(RateLimitSkipUntil(200,
                           {{"x-ratelimit-remaining-tokens", "0"},
                            {"x-ratelimit-reset-tokens", "1m"},
                            {"x-ratelimit-remaining-requests", "0"},
                            {"x-ratelimit-reset-requests", "2s"}},
                           now) == now + 60 * kS);
  CHECK(RateLimitSkipUntil(
            200, {{"x-ratelimit-remaining-requests", "5"}, {"x-ratelimit-reset-requests", "2s"}},
            now) == 0);
  CHECK(RateLimitSkipUntil(200, {{"x-ratelimit-remaining-requests", "0"}}, now) == 0);
  CHECK(RateLimitSkipUntil(200,
                           {{"anthropic-ratelimit-requests-remaining", "0"},
                            {"anthropic-ratelimit-requests-reset", "2025-05-01T12:00:30Z"}},
                           now) == now + 30 * kS);
  // A reset in the past is no signal; a malformed one is ignored.
  CHECK(RateLimitSkipUntil(200,
                           {{"anthropic-ratelimit-tokens-remaining", "0"},
                            {"anthropic-ratelimit-tokens-reset", "2025-05-01T11:00:00Z"}},
                           now) == 0);
  CHECK(RateLimitSkipUntil(429, {{"Retry-After", "later"}}, now) == 0);
}

}  // namespace
}  // namespace helm::route
