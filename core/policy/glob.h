// Glob matching for policy conditions: `*` matches any run of characters
// (including none); every other character matches itself, case-sensitively.
// Iterative (one backtrack point, no recursion): O(pattern x text) at worst.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace helm {

bool GlobMatch(std::string_view pattern, std::string_view text);

// True when any pattern matches text.
bool GlobAny(const std::vector<std::string>& patterns, std::string_view text);

}  // namespace helm
