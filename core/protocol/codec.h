// The per-protocol translators behind translate.h, one file per protocol and
// direction, and the small helpers they share (finish-reason tables, usage
// conventions, JSON accessors). Internal to core/protocol: the proxy uses
// translate.h.
#pragma once

#include <array>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/json.h"
#include "core/common/result.h"
#include "core/protocol/ir.h"
#include "core/protocol/translate.h"

namespace helm::protocol {

// ---- client requests → IR (openai_chat_decode.cpp, anthropic_decode.cpp,
// responses_decode.cpp, gemini_decode.cpp). These are InspectClientRequest:
// kInvalidArgument only for a body without the protocol's shape; what the IR
// does not model is kept (kOpaque parts, typed tools) or noted in
// request.untranslatable.
Result<ir::Request> DecodeOpenAiChatRequest(const Json& body, Payloads payloads);
Result<ir::Request> DecodeAnthropicRequest(const Json& body, Payloads payloads);
Result<ir::Request> DecodeResponsesRequest(const Json& body, Payloads payloads);
Result<ir::Request> DecodeGeminiRequest(const Json& body, Payloads payloads);

// ---- strict reads of client requests (decode_util.cpp). A member of the
// wrong type is kInvalidArgument, never read as empty: the policy must not see
// less of a request than the provider would.
// The member, or a null Json when absent. Never copies.
const Json& Field(const Json& obj, std::string_view key);
// The member under either spelling (Gemini accepts camelCase and snake_case):
// nullptr when neither is set (absent or null), kInvalidArgument when both
// are. `snake` may be nullptr (one spelling only).
Result<const Json*> EitherField(const Json& obj, const char* camel, const char* snake);
// *out = the string member; absent or null leaves *out as it is;
// kInvalidArgument ("'key' must be a string") otherwise.
Status ReadString(const Json& obj, std::string_view key, std::string* out);
// `model` (a string) and `stream` (a boolean), both optional.
Status ReadModelAndStream(const Json& body, ir::Request* req);
// *to = from, unless payloads is kSkip (schemas and native fields).
void CopyPayload(const Json& from, Json* to, Payloads payloads);
// A kOpaque part of `type`; its text is the part's `text` member when that is
// a string (a part type helm does not know still shows its text).
ir::ContentPart OpaquePart(std::string type, const Json& part);
// Why the IR cannot be carried to another protocol, from its structure
// (opaque parts, typed tools, images by file id); "" when it can.
std::string StructuralUntranslatable(const ir::Request& req);

// ---- IR → provider requests (*_encode.cpp)
Result<Json> EncodeOpenAiChatRequest(const ir::Request& req, const std::string& model);
Result<Json> EncodeAnthropicRequest(const ir::Request& req, const std::string& model);
Result<Json> EncodeGeminiRequest(const ir::Request& req);

// ---- provider responses → IR (*_decode.cpp)
Result<ir::Response> DecodeOpenAiChatResponse(const Json& body);
Result<ir::Response> DecodeAnthropicResponse(const Json& body);
Result<ir::Response> DecodeGeminiResponse(const Json& body);

// ---- IR → client responses (*_encode.cpp)
Json EncodeOpenAiChatResponse(const ir::Response& resp, const EncodeOptions& opt);
Json EncodeAnthropicResponse(const ir::Response& resp, const EncodeOptions& opt);
Json EncodeResponsesResponse(const ir::Response& resp, const EncodeOptions& opt);
Json EncodeGeminiResponse(const ir::Response& resp, const EncodeOptions& opt);

// ---- Responses object pieces shared by the non-stream and stream encoders
// (responses_encode.cpp). Item ids are derived from the response id.
Json ResponsesMessageItem(const std::string& item_id, const std::string& text, bool done);
Json ResponsesFunctionCallItem(const std::string& item_id, const ir::ToolCall& call, bool done);
std::string ResponsesItemId(const char* prefix, const std::string& response_id, size_t n);
// status: in_progress | completed | incomplete | failed. usage: null while
// in progress.
Json ResponsesObject(const std::string& id, const EncodeOptions& opt, const std::string& model,
                     const std::string& status, const std::string& incomplete_reason,
                     Json output, const ir::Usage* usage);

// ---- Gemini pieces (gemini_encode.cpp)
// A copy of a JSON Schema without what Gemini's schema dialect rejects
// ($schema, additionalProperties, $id, unsupported string formats), recursively.
Json SanitizeGeminiSchema(const Json& schema);
Json GeminiCandidate(Json parts, const std::string& finish_reason);

// ---- streams (*_stream_decode.cpp, *_stream_encode.cpp)
std::unique_ptr<ProviderStreamDecoder> MakeOpenAiChatStreamDecoder();
std::unique_ptr<ProviderStreamDecoder> MakeAnthropicStreamDecoder();
std::unique_ptr<ProviderStreamDecoder> MakeGeminiStreamDecoder();
std::unique_ptr<ClientStreamEncoder> MakeOpenAiChatStreamEncoder(const EncodeOptions& opt);
std::unique_ptr<ClientStreamEncoder> MakeAnthropicStreamEncoder(const EncodeOptions& opt);
std::unique_ptr<ClientStreamEncoder> MakeResponsesStreamEncoder(const EncodeOptions& opt);
std::unique_ptr<ClientStreamEncoder> MakeGeminiStreamEncoder(const EncodeOptions& opt);

// ---- finish reasons (finish_reason.cpp). Decoding never fails: unknown or
// missing values map to kUnknown (or kToolCalls when tool calls are present
// and the provider said "stop"); encoding always yields a legal value.
ir::FinishReason FinishFromOpenAi(std::string_view s);
ir::FinishReason FinishFromAnthropic(std::string_view s);
ir::FinishReason FinishFromGemini(std::string_view s);
std::string FinishToOpenAi(ir::FinishReason r);     // stop|length|tool_calls|content_filter
std::string FinishToAnthropic(ir::FinishReason r);  // end_turn|max_tokens|tool_use|refusal
std::string FinishToGemini(ir::FinishReason r);     // STOP|MAX_TOKENS|SAFETY|OTHER
// Responses: "completed" or "incomplete"; *reason is set for incomplete.
std::string FinishToResponsesStatus(ir::FinishReason r, std::string* incomplete_reason);

// ---- usage conventions (usage.cpp)
// A provider's usage object, parsed or as raw JSON text (the usage member of
// an answer forwarded verbatim, read without building a tree). Absent or
// non-integer members read as 0.
class UsageObject {
 public:
  UsageObject(const Json& parsed) : json_(&parsed) {}  // NOLINT: implicit by design
  explicit UsageObject(std::string_view text);
  bool is_object() const { return json_ != nullptr ? json_->is_object() : text_object_; }
  int64_t Int(std::string_view key) const;
  int64_t Int(std::string_view outer, std::string_view key) const;

 private:
  std::string_view Member(std::string_view key) const;  // text form: the last one named key

  const Json* json_ = nullptr;
  std::string_view text_;
  bool text_object_ = false;
  // The text form's members, found in one pass when none of their names had
  // escapes and there are at most kIndexed; otherwise each read scans text_.
  static constexpr size_t kIndexed = 16;
  std::array<std::pair<std::string_view, std::string_view>, kIndexed> members_{};
  size_t member_count_ = 0;
  bool indexed_ = true;
};
ir::Usage UsageFromOpenAi(const UsageObject& usage);     // prompt_tokens includes cached
ir::Usage UsageFromAnthropic(const UsageObject& usage);  // input_tokens excludes cache
ir::Usage UsageFromGemini(const UsageObject& usage_metadata);
Json UsageToOpenAi(const ir::Usage& u);
Json UsageToAnthropic(const ir::Usage& u);
Json UsageToResponses(const ir::Usage& u);
Json UsageToGemini(const ir::Usage& u);
// Fills fields of *into that `from` knows (later Anthropic usage updates).
void MergeUsage(const ir::Usage& from, ir::Usage* into);

// ---- helpers (codec_util.cpp)
std::string GetString(const Json& obj, std::string_view key);  // "" unless a string
bool IsObject(const Json& j, std::string_view key);
bool IsArray(const Json& j, std::string_view key);
// Typed optional reads: nullopt when absent or null; kInvalidArgument
// (with the key in the message) when present with the wrong type.
Result<std::optional<double>> OptDouble(const Json& obj, std::string_view key);
Result<std::optional<int64_t>> OptInt(const Json& obj, std::string_view key);
// Copies every member of `body` whose key is not in `known` into *native.
// Same, into *dst; the first type error is kept in *err and later reads
// still run (so a decoder checks *err once).
void ReadOpt(const Json& obj, std::string_view key, std::optional<double>* dst, Status* err);
void ReadOpt(const Json& obj, std::string_view key, std::optional<int64_t>* dst, Status* err);
void CollectNative(const Json& body, std::initializer_list<std::string_view> known, Json* native);
// Text of a content that is a string or an array of text-typed blocks.
std::string JoinedText(const Json& content);
// `data:image/png;base64,AAA` → mime + data; false when not a base64 data URL.
bool ParseDataUrl(std::string_view url, std::string* mime, std::string* data);
std::string MakeDataUrl(const ir::ContentPart& image);
// Concatenated text parts of the content.
std::string PartsText(const std::vector<ir::ContentPart>& parts);
// A tool-call id safe for every protocol ([A-Za-z0-9_-]), from a seed and n.
std::string SynthesizeToolCallId(std::string_view seed, size_t n);
// Arguments JSON text → object; {} when empty, invalid or not an object.
Json ArgumentsObject(const std::string& arguments);
// Copies native fields back when the request came from `protocol`.
void EmitNative(const ir::Request& req, std::string_view protocol, Json* out);
// The SSE bytes of one event: "event: NAME\n" (when named) "data: JSON\n\n".
void AppendSse(std::string* out, std::string_view event, const Json& data);
Error BadRequest(std::string message);
Error BadUpstream(std::string message);

}  // namespace helm::protocol
