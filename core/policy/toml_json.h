// Internal to core/policy: TOML text → JSON, for TOML decision-vector files.
// Lives in policy.cpp, the one translation unit that includes toml++.
#pragma once

#include <string_view>

#include "core/common/json.h"

namespace helm {

// Tables become objects, arrays arrays, dates and times their TOML text.
// A syntax error is kConfig "SOURCE:LINE: syntax: description".
Result<Json> TomlToJson(std::string_view toml_text, std::string_view source_name);

}  // namespace helm
