// Surgical edits of a JSON text that keep every other byte as it was, so that
// same-protocol traffic is forwarded byte for byte with only the model patched.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace helm {

// Replaces the value of the top-level member `key` of the JSON object `text`
// with the JSON string `value` (escaped here). nullopt when `text` is not an
// object or has no such member. `text` must be valid JSON (parsed before).
std::optional<std::string> ReplaceTopLevelString(std::string_view text, std::string_view key,
                                                 std::string_view value);

}  // namespace helm
