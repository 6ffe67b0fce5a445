// Tokens of one answer: what an outcome receipt's `usage` records and what
// its cost is computed from. Follows the IR's (OpenAI) convention:
// input_tokens counts every prompt token, cached ones included;
// cached_tokens is the part of it served from the provider's cache.
#pragma once

#include <cstdint>

namespace helm {

struct TokenUsage {
  int64_t input_tokens = 0;   // all prompt tokens, cached included
  int64_t output_tokens = 0;  // completion tokens (reasoning included)
  int64_t cached_tokens = 0;  // the cached part of input_tokens
  bool operator==(const TokenUsage&) const = default;
};

}  // namespace helm
