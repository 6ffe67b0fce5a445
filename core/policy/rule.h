// Internal to core/policy: one validated rule and its pure match function.
// A Rule is built by the loader (policy.cpp) and immutable afterwards; its
// compiled RE2 objects are thread-safe for concurrent matching.
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/policy/facts.h"
#include "core/policy/policy.h"

namespace helm {

inline constexpr char kRedactionMarker[] = "[REDACTED]";

using RegexList = std::vector<std::unique_ptr<RE2>>;

// Conditions of a rule. An empty list or an unset optional is "not given";
// the loader rejects empty lists, so "given" and "non-empty" coincide.
struct Conditions {
  std::vector<std::string> agents;     // globs over facts.agent
  std::vector<std::string> models;     // globs over facts.model
  std::vector<std::string> protocols;  // exact protocol names
  std::vector<std::string> tools_any;  // some offered tool matches some glob
  std::vector<std::string> tools_all;  // every glob matches some offered tool
  RegexList content_regex;             // some pattern matches some text
  std::optional<bool> stream;
  std::optional<bool> has_images;
  std::optional<int64_t> min_input_tokens;  // input_tokens >= value
  std::optional<int64_t> max_input_tokens;  // input_tokens <= value
  std::optional<int64_t> max_body_bytes;    // holds when body_bytes > value
  // Lower-case header name → globs; the header must be present and match one.
  std::vector<std::pair<std::string, std::vector<std::string>>> headers;
};

struct Rule {
  std::string id;
  Verdict verdict = Verdict::kDeny;
  std::string reason;
  Conditions when;
  Obligations then;
  RegexList redact_regex;  // then.redact_regex, ALLOW rules only
};

// True when every given condition of `when` holds for facts.
bool ConditionsHold(const Conditions& when, const RequestFacts& facts);

// Replaces every match of every pattern in text with kRedactionMarker;
// returns the number of replacements.
int RedactText(const RegexList& patterns, std::string& text);
// True when some pattern matches somewhere in text.
bool AnyMatch(const RegexList& patterns, std::string_view text);

// RE2 options shared by every policy pattern (UTF-8, errors not logged).
RE2::Options PolicyRegexOptions();

}  // namespace helm
