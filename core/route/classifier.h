// The deterministic request classifier: picks a lane from a few facts about
// the request (RouteFacts). Each rule is a pure function, evaluated in a fixed
// order; the first rule that fires AND is enabled AND whose lane is configured
// decides. Nothing fires → the `balanced` lane, classified_by "default": this
// is classification fallback, reported separately from execution fallback
// (a failed provider → next candidate, see breaker.h).
//
//   order  rule        fires when                                     default lane
//   1      tools       the request declares tools                     tool_use
//   2      images      any message carries an image part              vision
//   3      json        JSON output requested (json_object/json_schema) json
//   4      code        a text has a code fence or a stack trace       coding
//   5      long_input  input_tokens >= classifier.long_input_tokens   premium
//
// Thread safety: pure functions over values. RouteFacts holds string_views:
// the texts must outlive the call (they point into the request's IR).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/route/config.h"

namespace helm::route {

// What routing needs to know about one request; built by the proxy from the IR.
struct RouteFacts {
  std::string model;         // as the client sent it ("auto", a lane, an alias, "P/M", ...)
  bool has_tools = false;    // tools / functions / function_declarations declared
  bool has_images = false;   // an image content part anywhere in the input
  bool json_output = false;  // response_format json_object|json_schema, Gemini
                             // response_mime_type application/json, and equivalents
  std::vector<std::string_view> texts;  // system, user and tool-result text
  int64_t input_tokens = 0;             // estimate (see EstimateTokens)
  int64_t max_output_tokens = 0;        // requested by the client or policy; 0 = not given
  bool stream = false;
};

// The token estimate helm uses wherever no tokenizer is at hand: one token
// per 4 bytes, rounded up. Deterministic and tokenizer-independent.
inline int64_t EstimateTokens(size_t bytes) { return static_cast<int64_t>((bytes + 3) / 4); }

// ---- the rules (each a pure predicate) ----
bool RuleTools(const RouteFacts& facts);
bool RuleImages(const RouteFacts& facts);
bool RuleJson(const RouteFacts& facts);
bool RuleCode(const RouteFacts& facts);  // LooksLikeCode over each text
bool RuleLongInput(const RouteFacts& facts, int64_t long_input_tokens);

// True when text contains a Markdown code fence (```) or a stack trace:
// "Traceback (most recent call last)" (Python), a line starting "at java." /
// "at javax." / "at kotlin." (JVM frames), "Exception in thread \"" (JVM),
// a line starting "panic: " or "goroutine N [" (Go), "error[E" + digit (Rust).
bool LooksLikeCode(std::string_view text);

struct Classification {
  std::string lane;
  std::string classified_by;  // a ClassifierRuleName, or "default"
};

// Whether a lane is configured.
using LaneExists = std::function<bool(std::string_view lane)>;

// Applies the rules in order. Undecided → {"balanced", "default"}.
Classification Classify(const RouteFacts& facts, const ClassifierConfig& classifier,
                        const LaneExists& lane_exists);
Classification Classify(const RouteFacts& facts, const Config& config);

}  // namespace helm::route
