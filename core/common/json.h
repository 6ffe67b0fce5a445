// Strict JSON parsing for untrusted input. Duplicate object keys are rejected
// (a parser differential between the policy and the upstream is a bypass), as
// are nesting deeper than max_depth, invalid UTF-8 and trailing garbage.
#pragma once

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

}  // namespace helm
