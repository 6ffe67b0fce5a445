// Cost of one request in micro-dollars, from its usage and the model's prices
// (config.h Prices, micro-dollars per million tokens). Integer math only: no
// floating point reaches a receipt or a budget.
//
// Usage follows the IR's (OpenAI) convention: input_tokens counts every
// prompt token, cached ones included; cached_tokens is the part of it served
// from the provider's cache. Cached tokens are billed at the cached price and
// not again at the input price:
//
//   cost = ceil(((input - cached) * input_price + cached * cached_price
//                + output * output_price) / 1'000'000)
//
// Rounded up once over the whole sum, so a budget is never under-charged by
// rounding. Negative counts are treated as 0, cached is clamped to input.
// Thread safety: pure functions.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/common/token_usage.h"
#include "core/route/config.h"

namespace helm::route {

inline int64_t CostMicros(const TokenUsage& usage, const Prices& prices) {
  using Wide = __int128;
  const int64_t input = std::max<int64_t>(usage.input_tokens, 0);
  const int64_t cached = std::clamp<int64_t>(usage.cached_tokens, 0, input);
  const int64_t output = std::max<int64_t>(usage.output_tokens, 0);
  const Wide numerator = Wide{input - cached} * prices.input_per_mtok_micros +
                         Wide{cached} * prices.cached_per_mtok_micros +
                         Wide{output} * prices.output_per_mtok_micros;
  const Wide cost = (numerator + 999999) / 1000000;
  const Wide max = std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(cost > max ? max : cost);
}

}  // namespace helm::route
