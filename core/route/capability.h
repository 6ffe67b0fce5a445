// Capability filter: drops the candidates of a RoutePlan that cannot serve the
// request, each with an explicit skip reason for the receipt's attempts list.
// Checks, in this order (the first failing check names the reason):
//   "no_tools"          the request declares tools, the model has tools = false
//   "no_vision"         the request carries images, the model has vision = false
//   "no_json"           JSON output requested, the model has json = false
//   "context_too_small" input_tokens + max_output_tokens > context_window
//   "no_streaming"      the request streams, the model has stream = false
// An empty `usable` list means no candidate has the needed capability: the
// proxy answers 422 and lists the skips in the outcome receipt.
//
// Thread safety: a pure function over values.
#pragma once

#include <string>
#include <vector>

#include "core/route/classifier.h"
#include "core/route/selection.h"

namespace helm::route {

enum class SkipReason { kNoTools, kNoVision, kNoJson, kContextTooSmall, kNoStreaming };
const char* SkipReasonName(SkipReason reason);

struct Skipped {
  Candidate candidate;
  SkipReason reason;
};

struct Filtered {
  std::vector<Candidate> usable;  // in the plan's order
  std::vector<Skipped> skipped;   // in the plan's order
};

// Why `model` cannot serve a request with these facts, or nullopt when it can.
std::optional<SkipReason> CheckCapabilities(const ModelSpec& model, const RouteFacts& facts);

Filtered FilterCandidates(std::vector<Candidate> candidates, const RouteFacts& facts);

}  // namespace helm::route
