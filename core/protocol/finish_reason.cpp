// Finish/stop reason tables (PROTOCOLS.md). Every decoder maps unknown or
// missing values to kUnknown; every encoder maps kUnknown (and kError) onto
// the protocol's legal default.
#include "core/protocol/codec.h"

namespace helm::protocol {

using ir::FinishReason;

FinishReason FinishFromOpenAi(std::string_view s) {
  if (s == "stop") return FinishReason::kStop;
  if (s == "length") return FinishReason::kLength;
  if (s == "tool_calls" || s == "function_call") return FinishReason::kToolCalls;
  if (s == "content_filter") return FinishReason::kContentFilter;
  return FinishReason::kUnknown;
}

FinishReason FinishFromAnthropic(std::string_view s) {
  if (s == "end_turn" || s == "stop_sequence" || s == "pause_turn") return FinishReason::kStop;
  if (s == "max_tokens" || s == "model_context_window_exceeded") return FinishReason::kLength;
  if (s == "tool_use") return FinishReason::kToolCalls;
  if (s == "refusal") return FinishReason::kContentFilter;
  return FinishReason::kUnknown;
}

FinishReason FinishFromGemini(std::string_view s) {
  if (s == "STOP") return FinishReason::kStop;
  if (s == "MAX_TOKENS") return FinishReason::kLength;
  if (s == "SAFETY" || s == "RECITATION" || s == "BLOCKLIST" || s == "PROHIBITED_CONTENT" ||
      s == "SPII" || s == "IMAGE_SAFETY") {
    return FinishReason::kContentFilter;
  }
  if (s == "MALFORMED_FUNCTION_CALL") return FinishReason::kError;
  return FinishReason::kUnknown;
}

std::string FinishToOpenAi(FinishReason r) {
  switch (r) {
    case FinishReason::kLength: return "length";
    case FinishReason::kToolCalls: return "tool_calls";
    case FinishReason::kContentFilter: return "content_filter";
    default: return "stop";
  }
}

std::string FinishToAnthropic(FinishReason r) {
  switch (r) {
    case FinishReason::kLength: return "max_tokens";
    case FinishReason::kToolCalls: return "tool_use";
    case FinishReason::kContentFilter: return "refusal";
    default: return "end_turn";
  }
}

std::string FinishToGemini(FinishReason r) {
  switch (r) {
    case FinishReason::kLength: return "MAX_TOKENS";
    case FinishReason::kContentFilter: return "SAFETY";
    case FinishReason::kError: return "OTHER";
    default: return "STOP";  // tool calls: STOP with functionCall parts
  }
}

std::string FinishToResponsesStatus(FinishReason r, std::string* incomplete_reason) {
  switch (r) {
    case FinishReason::kLength:
      *incomplete_reason = "max_output_tokens";
      return "incomplete";
    case FinishReason::kContentFilter:
      *incomplete_reason = "content_filter";
      return "incomplete";
    default:
      incomplete_reason->clear();
      return "completed";
  }
}

}  // namespace helm::protocol
