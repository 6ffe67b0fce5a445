// Strict JSON parsing for untrusted input. Duplicate object keys are rejected
// (a parser differential between the policy and the upstream is a bypass), as
// are nesting deeper than max_depth, invalid UTF-8 and trailing garbage.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/common/result.h"

namespace helm {

using Json = nlohmann::json;

inline constexpr int kDefaultMaxJsonDepth = 64;

// Parses `text` as one JSON value. On failure the error is kInvalidArgument
// with a message fit to show a client.
Result<Json> ParseStrictJson(std::string_view text, int max_depth = kDefaultMaxJsonDepth);

// Compact serialisation that never throws: invalid UTF-8 is replaced.
std::string DumpJson(const Json& j);

// The integers every JSON reader reads back exactly (those a double holds,
// +-2^53): all a receipt holds.
inline constexpr int64_t kExactJsonInt = int64_t{1} << 53;
// `value` brought into that range: for counts that come from outside (an
// upstream's usage, a cost computed from it), where an absurd number must
// still leave a receipt and sums of a few must not overflow.
inline int64_t ClampExactJsonInt(int64_t value) {
  return value > kExactJsonInt ? kExactJsonInt : value < -kExactJsonInt ? -kExactJsonInt : value;
}
// The same for an integer JSON value (is_number_integer(): an unsigned one
// beyond int64_t included, which read as int64_t would wrap negative).
inline int64_t ClampExactJsonInt(const Json& integer) {
  if (integer.is_number_unsigned()) {
    const uint64_t u = integer.get<uint64_t>();
    return u > static_cast<uint64_t>(kExactJsonInt) ? kExactJsonInt : static_cast<int64_t>(u);
  }
  return ClampExactJsonInt(integer.get<int64_t>());
}

}  // namespace helm
