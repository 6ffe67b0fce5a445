#include "core/policy/rule.h"

#include "core/policy/glob.h"

namespace helm {
namespace {

bool AnyToolMatches(const std::vector<std::string>& tools, const std::string& pattern) {
  for (const auto& tool : tools) {
    if (GlobMatch(pattern, tool)) return true;
  }
  return false;
}

bool ToolsAny(const std::vector<std::string>& patterns, const std::vector<std::string>& tools) {
  for (const auto& pattern : patterns) {
    if (AnyToolMatches(tools, pattern)) return true;
  }
  return false;
}

bool ToolsAll(const std::vector<std::string>& patterns, const std::vector<std::string>& tools) {
  for (const auto& pattern : patterns) {
    if (!AnyToolMatches(tools, pattern)) return false;
  }
  return true;
}

bool ContentMatches(const RegexList& patterns, const std::vector<std::string>& texts) {
  for (const auto& re : patterns) {
    for (const auto& text : texts) {
      if (RE2::PartialMatch(text, *re)) return true;
    }
  }
  return false;
}

bool HeadersMatch(const std::vector<std::pair<std::string, std::vector<std::string>>>& wanted,
                  const std::map<std::string, std::string>& headers) {
  for (const auto& [name, globs] : wanted) {
    auto it = headers.find(name);
    if (it == headers.end() || !GlobAny(globs, it->second)) return false;
  }
  return true;
}

bool NumbersHold(const Conditions& when, const RequestFacts& facts) {
  if (when.min_input_tokens && facts.input_tokens < *when.min_input_tokens) return false;
  if (when.max_input_tokens && facts.input_tokens > *when.max_input_tokens) return false;
  if (when.max_body_bytes && facts.body_bytes <= *when.max_body_bytes) return false;
  return true;
}

}  // namespace

bool ConditionsHold(const Conditions& when, const RequestFacts& facts) {
  // Cheap checks first; content regexes last.
  if (!when.agents.empty() && !GlobAny(when.agents, facts.agent)) return false;
  if (!when.models.empty() && !GlobAny(when.models, facts.model)) return false;
  if (!when.protocols.empty()) {
    bool found = false;
    for (const auto& p : when.protocols) found = found || p == facts.protocol;
    if (!found) return false;
  }
  if (when.stream && *when.stream != facts.stream) return false;
  if (when.has_images && *when.has_images != facts.has_images) return false;
  if (!NumbersHold(when, facts)) return false;
  if (!HeadersMatch(when.headers, facts.headers)) return false;
  if (!when.tools_any.empty() && !ToolsAny(when.tools_any, facts.tools)) return false;
  if (!when.tools_all.empty() && !ToolsAll(when.tools_all, facts.tools)) return false;
  if (!when.content_regex.empty() && !ContentMatches(when.content_regex, facts.texts)) {
    return false;
  }
  return true;
}

int RedactText(const RegexList& patterns, std::string& text) {
  int count = 0;
  for (const auto& re : patterns) count += RE2::GlobalReplace(&text, *re, kRedactionMarker);
  return count;
}

bool AnyMatch(const RegexList& patterns, std::string_view text) {
  for (const auto& re : patterns) {
    if (RE2::PartialMatch(text, *re)) return true;
  }
  return false;
}

RE2::Options PolicyRegexOptions() {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_encoding(RE2::Options::EncodingUTF8);
  return options;
}

}  // namespace helm
