// RequestFacts: what the policy sees of a request, the same whichever protocol
// it came through. Pure functions.
//
// For the four translatable protocols the facts come from the translation IR
// (protocol::InspectClientRequest): the policy decides on what the request
// means, read by the one decoder that also feeds translation. Redaction
// (RewriteTexts) must rewrite the client's own JSON in place so that it can be
// forwarded byte for byte otherwise, so it is a JSON walker (body_walk.h);
// facts_differential_test.cpp keeps the two in agreement. docs/policy.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/json.h"
#include "core/common/protocols.h"
#include "core/common/result.h"

namespace helm {

namespace ir {
struct Request;
}

struct RequestFacts {
  std::string agent;
  std::string protocol;
  std::string model;
  bool stream = false;
  std::vector<std::string> tools;  // names of the tools offered
  // System, developer, user, assistant and tool-result text, tool-call
  // arguments, structured payloads as their compact JSON; empty strings are
  // not texts.
  std::vector<std::string> texts;
  bool has_images = false;
  int64_t input_tokens = 0;  // estimate: ceil(text bytes / 4)
  int64_t body_bytes = 0;
  // Lower-case names; the boundary fills in only those the policy names
  // (Policy::header_names).
  std::map<std::string, std::string> headers;
};

// Reads model, stream, tools, texts and images from a client body of the given
// protocol. kInvalidArgument when the body does not have the protocol's shape
// (e.g. `messages` not an array) or the protocol is unknown. For
// gemini.generate the model and stream flag come from the path and are passed
// in by the caller afterwards.
Result<RequestFacts> ExtractFacts(std::string_view protocol, const Json& body);

// The facts of a decoded request (moves its strings out).
RequestFacts FactsFromIr(std::string_view protocol, ir::Request request);

// Calls fn on every policy-visible text string of the body (the strings
// ExtractFacts collects), in place; returns the sum of fn's results (used by
// redaction to count replacements). For a body ExtractFacts accepted.
int RewriteTexts(std::string_view protocol, Json& body, const std::function<int(std::string&)>& fn);

}  // namespace helm
