#include "core/policy/glob.h"

namespace helm {

bool GlobMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;  // position of the last `*` seen
  size_t resume = 0;                     // text position that `*` last absorbed up to
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool GlobAny(const std::vector<std::string>& patterns, std::string_view text) {
  for (const auto& pattern : patterns) {
    if (GlobMatch(pattern, text)) return true;
  }
  return false;
}

}  // namespace helm
