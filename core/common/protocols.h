// The client protocol names, as they appear in policies, receipts and the
// translation API. Plain constants: core/protocol translates the first four,
// the last two are OpenAI passthrough doors.
#pragma once

namespace helm {

inline constexpr char kOpenAiChat[] = "openai.chat";
inline constexpr char kAnthropicMessages[] = "anthropic.messages";
inline constexpr char kOpenAiResponses[] = "openai.responses";
inline constexpr char kGeminiGenerate[] = "gemini.generate";
inline constexpr char kOpenAiEmbeddings[] = "openai.embeddings";
inline constexpr char kOpenAiCompletions[] = "openai.completions";

}  // namespace helm
