#include "core/common/json_scan.h"

#include <cstddef>
#include <cstring>

#include "core/common/json.h"

namespace helm {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Index just past the string that starts at text[i] == '"', or npos. A quote
// ends the string unless an odd run of backslashes precedes it (memchr finds
// the candidates: answers are mostly long strings).
size_t SkipString(std::string_view text, size_t i) {
  for (size_t from = i + 1; from < text.size();) {
    const void* hit = std::memchr(text.data() + from, '"', text.size() - from);
    if (hit == nullptr) break;
    const size_t quote = static_cast<size_t>(static_cast<const char*>(hit) - text.data());
    size_t run = quote;
    while (run > i + 1 && text[run - 1] == '\\') --run;
    if ((quote - run) % 2 == 0) return quote + 1;
    from = quote + 1;
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

bool ForEachTopLevelMember(std::string_view text,
                           const std::function<void(std::string_view, std::string_view)>& fn) {
  constexpr size_t npos = std::string_view::npos;
  size_t i = SkipSpace(text, 0);
  if (i >= text.size() || text[i] != '{') return false;
  i = SkipSpace(text, i + 1);
  if (i < text.size() && text[i] == '}') return true;
  std::string unescaped;
  while (i < text.size() && text[i] == '"') {
    const size_t key_end = SkipString(text, i);
    if (key_end == npos) return false;
    std::string_view key = text.substr(i + 1, key_end - i - 2);
    if (key.find('\\') != std::string_view::npos) {
      const Json parsed = Json::parse(text.substr(i, key_end - i), nullptr, false);
      if (!parsed.is_string()) return false;
      unescaped = parsed.get<std::string>();
      key = unescaped;
    }
    i = SkipSpace(text, key_end);
    if (i >= text.size() || text[i] != ':') return false;
    const size_t value_start = SkipSpace(text, i + 1);
    const size_t value_end = SkipValue(text, value_start);
    if (value_end == npos || value_end == value_start) return false;
    fn(key, text.substr(value_start, value_end - value_start));
    i = SkipSpace(text, value_end);
    if (i >= text.size()) return false;
    if (text[i] == '}') return true;
    if (text[i] != ',') return false;
    i = SkipSpace(text, i + 1);
  }
  return false;
}

std::optional<std::string_view> TopLevelMember(std::string_view text, std::string_view name) {
  std::optional<std::string_view> found;
  const bool complete = ForEachTopLevelMember(text, [&](std::string_view key, std::string_view value) {
    if (key == name) found = value;
  });
  return complete ? found : std::nullopt;
}

}  // namespace helm
