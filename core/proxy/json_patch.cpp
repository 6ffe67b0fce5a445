#include "core/proxy/json_patch.h"

#include "core/common/json.h"

namespace helm {
namespace {

// Index just past the JSON string starting at text[i] == '"'.
size_t SkipString(std::string_view text, size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return text.size();
}

// Index just past the JSON value starting at text[i] (no leading whitespace).
size_t SkipValue(std::string_view text, size_t i) {
  if (i >= text.size()) return i;
  if (text[i] == '"') return SkipString(text, i);
  if (text[i] == '{' || text[i] == '[') {
    int depth = 0;
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (c == '"') {
        i = SkipString(text, i) - 1;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return i;
  }
  while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']' &&
         text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') {
    ++i;
  }
  return i;
}

size_t SkipSpace(std::string_view text, size_t i) {
  while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' ||
                             text[i] == '\t')) {
    ++i;
  }
  return i;
}

}  // namespace

std::optional<std::string> ReplaceTopLevelString(std::string_view text, std::string_view key,
                                                 std::string_view value) {
  size_t i = SkipSpace(text, 0);
  if (i >= text.size() || text[i] != '{') return std::nullopt;
  i = SkipSpace(text, i + 1);
  while (i < text.size() && text[i] == '"') {
    size_t key_end = SkipString(text, i);
    Json parsed_key = Json::parse(text.substr(i, key_end - i), nullptr, false);
    size_t colon = SkipSpace(text, key_end);
    if (colon >= text.size() || text[colon] != ':') return std::nullopt;
    size_t value_start = SkipSpace(text, colon + 1);
    size_t value_end = SkipValue(text, value_start);
    if (parsed_key.is_string() && parsed_key.get<std::string>() == key) {
      std::string out(text.substr(0, value_start));
      out += DumpJson(Json(std::string(value)));
      out += text.substr(value_end);
      return out;
    }
    i = SkipSpace(text, value_end);
    if (i < text.size() && text[i] == ',') i = SkipSpace(text, i + 1);
  }
  return std::nullopt;
}

}  // namespace helm
