// Reading a provider's rate-limit signals from a response head, so the
// breaker can skip a model until it will accept requests again instead of
// spending an attempt on a certain refusal. Pure functions; times are
// microseconds since the Unix epoch; every parser returns nullopt on anything
// malformed (a malformed header is ignored, never trusted).
//
// Signals understood (header names compared case-insensitively):
//   Retry-After: <seconds> | <IMF-fixdate>             on 429 and 503
//   x-ratelimit-remaining-requests: 0  + x-ratelimit-reset-requests: 1s | 6m0s | 20ms
//   x-ratelimit-remaining-tokens: 0    + x-ratelimit-reset-tokens: ...      (OpenAI style)
//   anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-remaining: 0
//     + ...-reset: <RFC 3339 time>                                          (Anthropic style)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace helm::route {

// Same shape as the provider module's HeaderList (lower-case names).
using Headers = std::vector<std::pair<std::string, std::string>>;

// Retry-After as an absolute time: now + seconds, or the HTTP date.
std::optional<int64_t> ParseRetryAfter(std::string_view value, int64_t now_micros);

// A reset delay: a Go-style duration ("1s", "6m0s", "1h2m3.5s", "20ms", "250us")
// or plain seconds ("7", "0.5"). Returns microseconds.
std::optional<int64_t> ParseResetDelay(std::string_view value);

// "2026-05-01T12:00:30Z", "...30.25Z", "...30+02:00".
std::optional<int64_t> ParseRfc3339Micros(std::string_view value);

// "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<int64_t> ParseHttpDateMicros(std::string_view value);

// When the response says the model will refuse until some time: the latest
// such time (absolute micros), or 0 when nothing says so.
int64_t RateLimitSkipUntil(int http_status, const Headers& headers, int64_t now_micros);

}  // namespace helm::route
