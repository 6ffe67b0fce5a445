#include "core/common/json_scan.h"

#include <cstddef>

#include "core/common/json.h"

namespace helm {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Index just past the string that starts at text[i] == '"', or npos.
size_t SkipString(std::string_view text, size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Index just past the value that starts at text[i] (after whitespace), or npos.
size_t SkipValue(std::string_view text, size_t i) {
  int depth = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      i = SkipString(text, i);
      if (i == std::string_view::npos) return i;
      if (depth == 0) return i;
      --i;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return i;  // the enclosing object ends: a scalar ran up to it
      if (--depth == 0) return i + 1;
    } else if (depth == 0 && (c == ',' || IsSpace(c))) {
      return i;  // the end of a scalar
    }
  }
  return depth == 0 ? i : std::string_view::npos;
}

size_t SkipSpace(std::string_view text, size_t i) {
  while (i < text.size() && IsSpace(text[i])) ++i;
  return i;
}

}  // namespace

std::optional<std::string_view> TopLevelMember(std::string_view text, std::string_view name) {
  constexpr size_t npos = std::string_view::npos;
  std::optional<std::string_view> found;
  size_t i = SkipSpace(text, 0);
  if (i >= text.size() || text[i] != '{') return std::nullopt;
  i = SkipSpace(text, i + 1);
  if (i < text.size() && text[i] == '}') return std::nullopt;
  while (i < text.size() && text[i] == '"') {
    const size_t key_end = SkipString(text, i);
    if (key_end == npos) return std::nullopt;
    const std::string_view key = text.substr(i + 1, key_end - i - 2);
    const bool match = key.find('\\') == std::string_view::npos
                           ? key == name
                           : Json::parse(text.substr(i, key_end - i), nullptr, false) == name;
    i = SkipSpace(text, key_end);
    if (i >= text.size() || text[i] != ':') return std::nullopt;
    const size_t value_start = SkipSpace(text, i + 1);
    const size_t value_end = SkipValue(text, value_start);
    if (value_end == npos || value_end == value_start) return std::nullopt;
    if (match) found = text.substr(value_start, value_end - value_start);
    i = SkipSpace(text, value_end);
    if (i >= text.size()) return std::nullopt;
    if (text[i] == '}') return found;
    if (text[i] != ',') return std::nullopt;
    i = SkipSpace(text, i + 1);
  }
  return std::nullopt;
}

}  // namespace helm
