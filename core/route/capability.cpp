#include "core/route/capability.h"

#include <algorithm>

namespace helm::route {

const char* SkipReasonName(SkipReason reason) {
  switch (reason) {
    case SkipReason::kNoTools:
      return "no_tools";
    case SkipReason::kNoVision:
      return "no_vision";
    case SkipReason::kNoJson:
      return "no_json";
    case SkipReason::kContextTooSmall:
      return "context_too_small";
    case SkipReason::kNoStreaming:
      return "no_streaming";
  }
  return "";
}

std::optional<SkipReason> CheckCapabilities(const ModelSpec& model, const RouteFacts& facts) {
  if (facts.has_tools && !model.caps.tools) return SkipReason::kNoTools;
  if (facts.has_images && !model.caps.vision) return SkipReason::kNoVision;
  if (facts.json_output && !model.caps.json) return SkipReason::kNoJson;
  // Written so that a client's absurd max_tokens cannot overflow the sum.
  int64_t in = std::max<int64_t>(facts.input_tokens, 0);
  int64_t out = std::max<int64_t>(facts.max_output_tokens, 0);
  if (in > model.context_window || out > model.context_window - in) {
    return SkipReason::kContextTooSmall;
  }
  if (facts.stream && !model.caps.stream) return SkipReason::kNoStreaming;
  return std::nullopt;
}

Filtered FilterCandidates(std::vector<Candidate> candidates, const RouteFacts& facts) {
  Filtered out;
  out.usable.reserve(candidates.size());
  for (Candidate& c : candidates) {
    std::optional<SkipReason> reason =
        c.model == nullptr ? std::nullopt : CheckCapabilities(*c.model, facts);
    if (reason) {
      out.skipped.push_back(Skipped{std::move(c), *reason});
    } else {
      out.usable.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace helm::route
