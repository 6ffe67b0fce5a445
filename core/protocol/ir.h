// The translation IR (DESIGN §9, docs/translation.md): one request, response
// and stream-event shape in the middle of every protocol pair. It is shaped
// like OpenAI Chat Completions plus typed content parts, so the OpenAI
// decoders are nearly the identity and the others map onto it.
//
// Plain value types, no behaviour beyond small helpers; copy freely. Strings
// are UTF-8 and never indexed by character: deltas are opaque byte strings
// that concatenate.
//
// Conventions that every decoder establishes and every encoder relies on:
//  - Usage.input_tokens is ALL prompt tokens, cached reads and cache writes
//    included (the OpenAI and Gemini convention). Anthropic's input_tokens
//    (which excludes both) is rebuilt on the way out. No token is counted twice.
//  - ToolCall.arguments is the JSON text of the arguments object, as produced
//    by the model (it may be invalid JSON when the model produced that).
//  - `native` holds the fields of the decoded protocol that have no IR
//    meaning. It is re-emitted only by the encoder of the same protocol
//    (native_protocol), never to another one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/json.h"

namespace helm::ir {

enum class PartKind {
  kText,              // text
  kImage,             // image_url, or mime_type + data (base64); neither when
                      // the client named a file id (untranslatable)
  kThinking,          // text = the reasoning, signature = the provider's signature
  kRedactedThinking,  // data = the opaque encrypted block (Anthropic only)
  kOpaque,            // content the IR does not model (audio, files, documents,
                      // unknown types): data = the protocol's type name, text =
                      // its client-visible text if any, mime_type if it has one.
                      // Only ever in an untranslatable request.
};

struct ContentPart {
  PartKind kind = PartKind::kText;
  std::string text;       // kText, kThinking, kOpaque
  std::string image_url;  // kImage by reference (http(s) or provider file URI)
  std::string mime_type;  // kImage inline, kOpaque
  std::string data;       // kImage inline: base64; kRedactedThinking: opaque data;
                          // kOpaque: the type name
  std::string detail;     // kImage: OpenAI "detail" (low/high/auto), empty if absent
  std::string signature;  // kThinking

  static ContentPart Text(std::string t) {
    ContentPart p;
    p.text = std::move(t);
    return p;
  }
  bool operator==(const ContentPart&) const = default;
};

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text of the arguments object
  bool operator==(const ToolCall&) const = default;
};

enum class Role { kSystem, kDeveloper, kUser, kAssistant, kTool };

struct Message {
  Role role = Role::kUser;
  std::vector<ContentPart> content;
  std::vector<ToolCall> tool_calls;  // kAssistant only
  std::string tool_call_id;          // kTool: the call this answers
  std::string name;                  // kTool: the function name (may be empty)
  bool is_error = false;             // kTool: the tool reported failure
  bool operator==(const Message&) const = default;
};

struct Tool {
  std::string name;
  // Empty for a function tool. Otherwise the protocol's type of a built-in or
  // server tool ("web_search", "custom", "googleSearch", …): the request is
  // then untranslatable.
  std::string type;
  std::string description;
  Json parameters = Json::object();  // JSON Schema of the arguments object
  std::optional<bool> strict;
  bool operator==(const Tool&) const = default;
};

enum class ToolChoiceKind { kUnset, kAuto, kNone, kRequired, kNamed };

struct ToolChoice {
  ToolChoiceKind kind = ToolChoiceKind::kUnset;
  std::string name;  // kNamed
  bool operator==(const ToolChoice&) const = default;
};

enum class ResponseFormatKind { kText, kJsonObject, kJsonSchema };

struct ResponseFormat {
  ResponseFormatKind kind = ResponseFormatKind::kText;
  std::string name;           // kJsonSchema
  Json schema = nullptr;      // kJsonSchema
  std::optional<bool> strict;
  bool operator==(const ResponseFormat&) const = default;
};

struct Request {
  std::string model;
  std::vector<Message> messages;  // system/developer messages stay in order
  std::vector<Tool> tools;
  ToolChoice tool_choice;
  std::optional<bool> parallel_tool_calls;
  ResponseFormat response_format;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;
  std::optional<int64_t> max_output_tokens;
  std::optional<int64_t> seed;
  std::optional<double> presence_penalty;
  std::optional<double> frequency_penalty;
  std::vector<std::string> stop;
  bool stream = false;
  bool include_usage = false;  // the client asked for usage in the stream
  std::string native_protocol;        // protocol `native` came from
  Json native = Json::object();       // fields with no IR meaning
  // Why this request cannot be carried to another protocol; empty when it can
  // (set by InspectClientRequest, core/protocol/translate.h).
  std::string untranslatable;
  bool operator==(const Request&) const = default;
};

enum class FinishReason { kStop, kLength, kToolCalls, kContentFilter, kError, kUnknown };

struct Usage {
  int64_t input_tokens = 0;           // all prompt tokens, cached included
  int64_t output_tokens = 0;          // all generated tokens, reasoning included
  int64_t cached_read_tokens = 0;     // part of input_tokens read from cache
  int64_t cache_creation_tokens = 0;  // part of input_tokens written to cache
  int64_t reasoning_tokens = 0;       // part of output_tokens
  bool known = false;                 // the provider reported usage at all
  bool operator==(const Usage&) const = default;
};

struct Response {
  std::string id;     // provider's id, empty when it gave none
  std::string model;  // model the provider reports
  std::vector<ContentPart> content;
  std::vector<ToolCall> tool_calls;
  FinishReason finish_reason = FinishReason::kUnknown;
  std::string stop_sequence;  // the matched stop sequence, when the provider tells
  Usage usage;
  std::string native_protocol;
  Json native = Json::object();
  bool operator==(const Response&) const = default;
};

// One event of a streamed answer, provider-independent. The order a provider
// decoder produces: start, then any of text_delta / thinking_delta /
// tool_call_start / tool_call_delta, then finish, usage (when known), end; or
// error at any point (nothing follows an error but end).
//
// Tool calls are keyed by `index`, which is only an identity (it may be
// non-sequential). Decoders emit tool_call_start once, when both id and name
// are known, before the deltas of that index; encoders nevertheless accept
// deltas before the start and buffer them.
struct StreamEvent {
  enum class Type {
    kStart,          // id, model
    kTextDelta,      // text
    kThinkingDelta,  // text and/or signature
    kToolCallStart,  // index, id, name
    kToolCallDelta,  // index, text = arguments fragment
    kFinish,         // finish_reason
    kUsage,          // usage
    kError,          // text = message
    kEnd,
  };
  Type type = Type::kEnd;
  std::string id;
  std::string model;
  std::string name;
  std::string text;
  std::string signature;
  int64_t index = 0;
  FinishReason finish_reason = FinishReason::kUnknown;
  Usage usage;
  bool operator==(const StreamEvent&) const = default;
};

// Small constructors, so that tables of events read well.
StreamEvent StartEvent(std::string id, std::string model);
StreamEvent TextDelta(std::string text);
StreamEvent ThinkingDelta(std::string text, std::string signature = "");
StreamEvent ToolCallStart(int64_t index, std::string id, std::string name);
StreamEvent ToolCallDelta(int64_t index, std::string fragment);
StreamEvent FinishEvent(FinishReason reason);
StreamEvent UsageEvent(const Usage& usage);
StreamEvent ErrorEvent(std::string message);
StreamEvent EndEvent();

// Folds a stream into the Response it stands for (text and thinking
// concatenated, tool calls in order of first appearance). Used for receipts
// and to check that stream and non-stream agree.
class StreamAccumulator {
 public:
  void Add(const StreamEvent& ev);
  const Response& response() const { return response_; }
  bool saw_finish() const { return saw_finish_; }
  bool saw_error() const { return saw_error_; }

 private:
  Response response_;
  std::vector<int64_t> tool_indexes_;
  bool saw_finish_ = false;
  bool saw_error_ = false;
};

const char* FinishReasonName(FinishReason r);  // "stop", "length", ... for logs and tests

}  // namespace helm::ir
