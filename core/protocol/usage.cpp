// Usage conventions (PROTOCOLS.md "Cached tokens"). Inside: input_tokens is
// every prompt token, cache reads and writes included; each protocol's own
// convention is rebuilt on the way out so nothing is billed twice.
#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

int64_t Int(const Json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return 0;
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  if (it->is_number_unsigned()) return static_cast<int64_t>(it->get<uint64_t>());
  return it->get<int64_t>();
}

int64_t Int(const Json& obj, const char* outer, const char* key) {
  if (!IsObject(obj, outer)) return 0;
  return Int(obj[outer], key);
}

}  // namespace

ir::Usage UsageFromOpenAi(const Json& usage) {
  ir::Usage u;
  if (!usage.is_object()) return u;
  u.known = true;
  u.input_tokens = Int(usage, "prompt_tokens");
  u.output_tokens = Int(usage, "completion_tokens");
  u.cached_read_tokens = Int(usage, "prompt_tokens_details", "cached_tokens");
  u.reasoning_tokens = Int(usage, "completion_tokens_details", "reasoning_tokens");
  return u;
}

ir::Usage UsageFromAnthropic(const Json& usage) {
  ir::Usage u;
  if (!usage.is_object()) return u;
  u.known = true;
  u.cached_read_tokens = Int(usage, "cache_read_input_tokens");
  u.cache_creation_tokens = Int(usage, "cache_creation_input_tokens");
  u.input_tokens = Int(usage, "input_tokens") + u.cached_read_tokens + u.cache_creation_tokens;
  u.output_tokens = Int(usage, "output_tokens");
  return u;
}

ir::Usage UsageFromGemini(const Json& m) {
  ir::Usage u;
  if (!m.is_object()) return u;
  u.known = true;
  u.input_tokens = Int(m, "promptTokenCount") + Int(m, "toolUsePromptTokenCount");
  u.cached_read_tokens = Int(m, "cachedContentTokenCount");
  u.reasoning_tokens = Int(m, "thoughtsTokenCount");
  u.output_tokens = Int(m, "candidatesTokenCount") + u.reasoning_tokens;
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
