#include "core/proxy/request_rules.h"

#include <algorithm>
#include <cctype>

#include "core/common/ids.h"
#include "core/policy/facts.h"

namespace helm {
namespace {

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// An integer member within +-2^53 (json.h); 0 when absent or not an integer.
int64_t IntOr0(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer()
             ? ClampExactJsonInt(j[key])
             : 0;
}

}  // namespace

std::string CorrelationId(const HeaderList& headers) {
  if (const std::string* found = FindHeader(headers, "x-request-id")) {
    const std::string& v = *found;
    bool ok = !v.empty() && v.size() <= 128 && std::all_of(v.begin(), v.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
             c == ':';
    });
    if (ok) return v;
  }
  if (const std::string* found = FindHeader(headers, "traceparent")) {
    const std::string& v = *found;  // 00-<32 hex trace id>-<16 hex parent>-<2 hex flags>
    if (v.size() == 55 && v[2] == '-' && v[35] == '-' && v[52] == '-') {
      std::string trace = v.substr(3, 32);
      if (IsHex(trace) && trace != std::string(32, '0')) return trace;
    }
  }
  return NewId("cor_");
}

bool IsJsonContentType(std::string_view ct) {
  std::string lower;
  for (char c : ct.substr(0, ct.find(';'))) {
    if (c != ' ') lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return lower == "application/json";
}

bool ApplyObligations(std::string_view protocol, const Obligations& o, Json& body) {
  if (!o.max_output_tokens) return false;
  const int64_t cap = *o.max_output_tokens;
  // An integer at most the cap is kept. An unsigned one is compared as one:
  // read as int64_t, 2^64 - 1 would wrap to -1 and pass uncapped.
  auto within = [cap](const Json& v) {
    if (v.is_number_unsigned()) return cap >= 0 && v.get<uint64_t>() <= static_cast<uint64_t>(cap);
    return v.is_number_integer() && v.get<int64_t>() <= cap;
  };
  auto cap_field = [&within, cap](Json& obj, const char* key, bool set_when_absent) {
    if (obj.contains(key) && within(obj[key])) return false;
    if (!obj.contains(key) && !set_when_absent) return false;
    obj[key] = cap;
    return true;
  };
  if (protocol == kOpenAiChat) {
    bool changed = cap_field(body, "max_completion_tokens", false);
    return cap_field(body, "max_tokens", !body.contains("max_completion_tokens")) || changed;
  }
  if (protocol == kAnthropicMessages || protocol == kOpenAiCompletions) {
    return cap_field(body, "max_tokens", true);
  }
  if (protocol == kOpenAiResponses) return cap_field(body, "max_output_tokens", true);
  if (protocol == kGeminiGenerate) {
    // Gemini takes the config and its fields in either spelling: a limit is
    // capped where the client put it, else added to the client's config.
    bool present = false;
    bool changed = false;
    for (const char* config : {"generationConfig", "generation_config"}) {
      if (!body.contains(config) || !body[config].is_object()) continue;
      for (const char* key : {"maxOutputTokens", "max_output_tokens"}) {
        present = present || body[config].contains(key);
        changed = cap_field(body[config], key, false) || changed;
      }
    }
    if (present) return changed;
    const char* config = body.contains("generation_config") ? "generation_config" : "generationConfig";
    if (!body[config].is_object()) body[config] = Json::object();
    return cap_field(body[config], "maxOutputTokens", true);
  }
  return false;
}

std::optional<TokenUsage> ExtractUsage(std::string_view protocol, const Json& response) {
  (void)protocol;  // every OpenAI-shaped door reports usage the same way
  if (!response.is_object() || !response.contains("usage") || !response["usage"].is_object()) {
    return std::nullopt;
  }
  const Json& u = response["usage"];
  int64_t cached = 0;
  if (u.contains("prompt_tokens_details")) cached = IntOr0(u["prompt_tokens_details"], "cached_tokens");
  return TokenUsage{IntOr0(u, "prompt_tokens"), IntOr0(u, "completion_tokens"), cached};
}

}  // namespace helm
