// Usage conventions (PROTOCOLS.md "Cached tokens"). Inside: input_tokens is
// every prompt token, cache reads and writes included; each protocol's own
// convention is rebuilt on the way out so nothing is billed twice.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>

#include "core/common/json_scan.h"
#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

// Counts are held within what a receipt holds (+-2^53), so that sums of a
// few of them cannot overflow and an absurd count still leaves a receipt; a
// float's integer part is taken once it is in that range (converting one
// beyond int64_t would be undefined).
int64_t FloatCount(double d) {
  const auto max = static_cast<double>(kExactJsonInt);
  return static_cast<int64_t>(std::clamp(d, -max, max));
}

int64_t JsonInt(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return 0;
  return it->is_number_float() ? FloatCount(it->get<double>()) : ClampExactJsonInt(*it);
}

// A JSON number's text as JsonInt reads the parsed number; 0 for anything else.
int64_t TextInt(std::string_view text) {
  const char* end = text.data() + text.size();
  int64_t i = 0;
  if (auto [p, ec] = std::from_chars(text.data(), end, i); ec == std::errc() && p == end) {
    return ClampExactJsonInt(i);
  }
  double d = 0;  // beyond int64_t, or with a fraction or an exponent
  if (auto [p, ec] = std::from_chars(text.data(), end, d); ec != std::errc() || p != end) return 0;
  return FloatCount(d);
}

}  // namespace

UsageObject::UsageObject(std::string_view text) : text_(text) {
  // A name that had escapes is unescaped into a buffer that lives only during
  // its call (json_scan.h): such an object is read by scanning instead.
  auto in_text = [&](std::string_view name) {
    const std::less<const char*> before;
    return !before(name.data(), text.data()) && before(name.data(), text.data() + text.size());
  };
  text_object_ = ForEachTopLevelMember(text, [&](std::string_view name, std::string_view value) {
    if (member_count_ == kIndexed || !in_text(name)) indexed_ = false;
    if (indexed_) members_[member_count_++] = {name, value};
  });
}

namespace {

// The value text of the last member named `key` (as a parser keeps it); ""
// when there is none or `object` is not an object.
std::string_view LastMember(std::string_view object, std::string_view key) {
  std::string_view found;
  ForEachTopLevelMember(object, [&](std::string_view name, std::string_view value) {
    if (name == key) found = value;
  });
  return found;
}

}  // namespace

std::string_view UsageObject::Member(std::string_view key) const {
  if (!indexed_) return LastMember(text_, key);
  for (size_t i = member_count_; i-- > 0;) {  // the last one, as a parser keeps it
    if (members_[i].first == key) return members_[i].second;
  }
  return {};
}

int64_t UsageObject::Int(std::string_view key) const {
  if (json_ != nullptr) return JsonInt(*json_, key);
  return TextInt(Member(key));
}

int64_t UsageObject::Int(std::string_view outer, std::string_view key) const {
  if (json_ != nullptr) return IsObject(*json_, outer) ? JsonInt((*json_)[std::string(outer)], key) : 0;
  return TextInt(LastMember(Member(outer), key));
}

ir::Usage UsageFromOpenAi(const UsageObject& usage) {
  ir::Usage u;
  if (!usage.is_object()) return u;
  u.known = true;
  u.input_tokens = usage.Int("prompt_tokens");
  u.output_tokens = usage.Int("completion_tokens");
  u.cached_read_tokens = usage.Int("prompt_tokens_details", "cached_tokens");
  u.reasoning_tokens = usage.Int("completion_tokens_details", "reasoning_tokens");
  return u;
}

ir::Usage UsageFromAnthropic(const UsageObject& usage) {
  ir::Usage u;
  if (!usage.is_object()) return u;
  u.known = true;
  u.cached_read_tokens = usage.Int("cache_read_input_tokens");
  u.cache_creation_tokens = usage.Int("cache_creation_input_tokens");
  u.input_tokens = usage.Int("input_tokens") + u.cached_read_tokens + u.cache_creation_tokens;
  u.output_tokens = usage.Int("output_tokens");
  return u;
}

ir::Usage UsageFromGemini(const UsageObject& m) {
  ir::Usage u;
  if (!m.is_object()) return u;
  u.known = true;
  u.input_tokens = m.Int("promptTokenCount") + m.Int("toolUsePromptTokenCount");
  u.cached_read_tokens = m.Int("cachedContentTokenCount");
  u.reasoning_tokens = m.Int("thoughtsTokenCount");
  u.output_tokens = m.Int("candidatesTokenCount") + u.reasoning_tokens;
  return u;
}

Json UsageToOpenAi(const ir::Usage& u) {
  return Json{{"prompt_tokens", u.input_tokens},
              {"completion_tokens", u.output_tokens},
              {"total_tokens", u.input_tokens + u.output_tokens},
              {"prompt_tokens_details", {{"cached_tokens", u.cached_read_tokens}}},
              {"completion_tokens_details", {{"reasoning_tokens", u.reasoning_tokens}}}};
}

Json UsageToAnthropic(const ir::Usage& u) {
  int64_t plain = u.input_tokens - u.cached_read_tokens - u.cache_creation_tokens;
  if (plain < 0) plain = 0;
  return Json{{"input_tokens", plain},
              {"cache_creation_input_tokens", u.cache_creation_tokens},
              {"cache_read_input_tokens", u.cached_read_tokens},
              {"output_tokens", u.output_tokens}};
}

Json UsageToResponses(const ir::Usage& u) {
  return Json{{"input_tokens", u.input_tokens},
              {"input_tokens_details", {{"cached_tokens", u.cached_read_tokens}}},
              {"output_tokens", u.output_tokens},
              {"output_tokens_details", {{"reasoning_tokens", u.reasoning_tokens}}},
              {"total_tokens", u.input_tokens + u.output_tokens}};
}

Json UsageToGemini(const ir::Usage& u) {
  Json m{{"promptTokenCount", u.input_tokens},
         {"candidatesTokenCount", u.output_tokens - u.reasoning_tokens},
         {"totalTokenCount", u.input_tokens + u.output_tokens}};
  if (u.cached_read_tokens > 0) m["cachedContentTokenCount"] = u.cached_read_tokens;
  if (u.reasoning_tokens > 0) m["thoughtsTokenCount"] = u.reasoning_tokens;
  return m;
}

void MergeUsage(const ir::Usage& from, ir::Usage* into) {
  if (!from.known) return;
  into->known = true;
  if (from.input_tokens) into->input_tokens = from.input_tokens;
  if (from.output_tokens) into->output_tokens = from.output_tokens;
  if (from.cached_read_tokens) into->cached_read_tokens = from.cached_read_tokens;
  if (from.cache_creation_tokens) into->cache_creation_tokens = from.cache_creation_tokens;
  if (from.reasoning_tokens) into->reasoning_tokens = from.reasoning_tokens;
}

}  // namespace helm::protocol
