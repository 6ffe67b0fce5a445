// RequestFacts: what the policy sees of a request, extracted from the client's
// body the same way whichever protocol it came through. Pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/json.h"

namespace helm {

// Protocol names as they appear in policies and receipts.
inline constexpr char kOpenAiChat[] = "openai.chat";
inline constexpr char kAnthropicMessages[] = "anthropic.messages";
inline constexpr char kOpenAiResponses[] = "openai.responses";
inline constexpr char kGeminiGenerate[] = "gemini.generate";
inline constexpr char kOpenAiEmbeddings[] = "openai.embeddings";
inline constexpr char kOpenAiCompletions[] = "openai.completions";

struct RequestFacts {
  std::string agent;
  std::string protocol;
  std::string model;
  bool stream = false;
  std::vector<std::string> tools;   // names of the tools offered
  std::vector<std::string> texts;   // system, developer, user and tool-result text
  bool has_images = false;
  int64_t input_tokens = 0;         // estimate: ceil(text bytes / 4)
  int64_t body_bytes = 0;
  std::map<std::string, std::string> headers;  // lower-case names
};

// Reads model, stream, tools, texts and images from a client body of the given
// protocol. kInvalidArgument when the body does not have the protocol's shape
// (e.g. `messages` not an array). For gemini.generate the model and stream
// flag come from the path and are passed in by the caller afterwards.
Result<RequestFacts> ExtractFacts(std::string_view protocol, const Json& body);

// Calls fn on every policy-visible text string of the body (the same strings
// ExtractFacts collects), in place; returns the sum of fn's results (used by
// redaction to count replacements).
int RewriteTexts(std::string_view protocol, Json& body, const std::function<int(std::string&)>& fn);

}  // namespace helm
