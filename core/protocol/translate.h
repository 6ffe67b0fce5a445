// Protocol translation: what the proxy calls to carry a request that came in
// through one client protocol to a provider of another kind, and the answer
// back (docs/translation.md). Pure functions and small state machines over
// values: no I/O, no clock, no randomness. Ids and timestamps the client
// protocols need are passed in by the caller (EncodeOptions).
//
// Client protocols are named by the constants of core/common/protocols.h:
// kOpenAiChat, kAnthropicMessages, kOpenAiResponses, kGeminiGenerate.
//
// The flow for one translated request:
//   InspectClientRequest → policy facts (core/policy/facts.h)
//   DecodeClientRequest → (routing on the IR) → EncodeProviderRequest
//   POST ProviderPath(kind, model, stream)
//   non-stream: DecodeProviderResponse → EncodeClientResponse
//   stream:     SSE bytes → SseParser → ProviderStreamDecoder → IR events
//               → ClientStreamEncoder → SSE bytes to the client
//   upstream error: ExtractProviderError → the proxy's client error body
//
// Same-protocol pairs (SameProtocol) are forwarded verbatim by the proxy and
// never pass through here.
//
// Thread safety: functions are reentrant; a stream decoder or encoder belongs
// to one stream.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/json.h"
#include "core/common/protocols.h"
#include "core/common/result.h"
#include "core/protocol/ir.h"

namespace helm::protocol {

enum class ProviderKind { kOpenAi, kAnthropic, kGemini };

// "openai" | "anthropic" | "gemini" → kind; kInvalidArgument otherwise
// ("mock" speaks OpenAI: the caller maps it).
Result<ProviderKind> ParseProviderKind(std::string_view name);
const char* ProviderKindName(ProviderKind kind);

// True for openai.chat↔openai, anthropic.messages↔anthropic,
// gemini.generate↔gemini: the proxy forwards these byte for byte.
bool SameProtocol(std::string_view client_protocol, ProviderKind kind);

// True for the four client protocols this module can translate.
bool IsTranslatableProtocol(std::string_view client_protocol);

// ---------------------------------------------------------------------------
// Requests

// Client request JSON → IR, whatever the request asks for: kInvalidArgument
// only when the body does not have the protocol's shape (or the protocol is
// unknown). Features the IR does not model are kept for inspection — opaque
// content parts, typed (built-in) tools — and request.untranslatable says why
// the request cannot go to another protocol (empty when it can). The policy
// decides on this (core/policy/facts.h); docs/translation.md lists the cases.
// For gemini.generate the model and the stream flag live in the path, not the
// body: the caller sets request.model and request.stream afterwards.
// With Payloads::kSkip, what the policy never reads is not copied: tool
// parameter schemas stay {}, the response-format schema null, `native` empty.
enum class Payloads { kCopy, kSkip };
Result<ir::Request> InspectClientRequest(std::string_view client_protocol, const Json& body,
                                         Payloads payloads = Payloads::kCopy);

// InspectClientRequest, and kInvalidArgument (with request.untranslatable as
// the message) when the request uses a feature that cannot be translated
// (Responses `previous_response_id`, `store: true`, non-function tools, audio
// and files; see docs/translation.md).
Result<ir::Request> DecodeClientRequest(std::string_view client_protocol, const Json& body);

// IR → provider request body, with `upstream_model` as the model. Always asks
// a streaming provider for usage (the gateway bills it) whatever the client
// asked; the client encoder decides what the client sees. kInvalidArgument
// when the request cannot be expressed (request.untranslatable is set, or e.g.
// no messages for Anthropic).
Result<Json> EncodeProviderRequest(ProviderKind kind, const ir::Request& request,
                                   const std::string& upstream_model);

// Path (and query) of the provider endpoint, relative to its base URL:
// openai "/v1/chat/completions"; anthropic "/v1/messages"; gemini
// "/v1beta/models/{model}:generateContent", or
// ":streamGenerateContent?alt=sse" when streaming (model percent-encoded).
std::string ProviderPath(ProviderKind kind, std::string_view upstream_model, bool stream);

// ---------------------------------------------------------------------------
// Non-streaming responses

// Provider response JSON (a 2xx body) → IR. kUnavailable when the body is not
// a response of that provider kind (the proxy treats it as a provider fault).
Result<ir::Response> DecodeProviderResponse(ProviderKind kind, const Json& body);

struct EncodeOptions {
  std::string model;         // model name shown to the client (its own ask)
  std::string response_id;   // used when the provider gave no id; also seeds
                             // synthesized tool-call ids
  int64_t created_unix = 0;  // OpenAI `created`, Responses `created_at`
  bool include_usage = false;  // OpenAI chat stream: the final usage chunk
};

// IR → the client's response JSON (chat.completion, Anthropic message,
// Responses response object, Gemini GenerateContentResponse). Unknown
// protocols get the OpenAI shape (callers check IsTranslatableProtocol first).
Json EncodeClientResponse(std::string_view client_protocol, const ir::Response& response,
                          const EncodeOptions& options);

// ---------------------------------------------------------------------------
// Errors

struct ProviderError {
  int http_status = 502;  // the upstream's status (or 502 when it was 2xx)
  std::string type;       // provider's own type/status string, may be empty
  std::string message;    // the provider's message, or a generic one
};

// Reads an upstream error body of any of the three shapes (OpenAI {"error":
// {message,type}}, Anthropic {"type":"error","error":{type,message}}, Gemini
// {"error":{code,message,status}}); `body` may be null or anything else when
// the upstream sent no JSON.
ProviderError ExtractProviderError(ProviderKind kind, int http_status, const Json& body);

// A plain error body in the client's protocol shape for an upstream failure
// (the proxy's own errors, with helm reason codes, come from
// core/proxy/client_errors.h).
Json EncodeClientError(std::string_view client_protocol, int http_status,
                       std::string_view message);

// ---------------------------------------------------------------------------
// Streaming

// One already-parsed SSE event (core/provider/sse.h SseEvent carries these
// two fields; this module does not depend on the provider module).
struct SseFrame {
  std::string event;  // empty when the event had no name
  std::string data;
};

// Provider SSE events → IR stream events. Explicit state machine per kind.
// Contract: call OnEvent for each upstream event in order, then Close() once
// when the upstream body ends (or is cut). The events produced follow the
// order documented on ir::StreamEvent, end with exactly one kEnd, and carry
// exactly one kFinish unless an error came first; when the upstream ended
// without a finish reason, Close() synthesizes a legal one (tool_calls if any
// tool call was seen, else stop) and ended_without_finish() turns true.
class ProviderStreamDecoder {
 public:
  virtual ~ProviderStreamDecoder() = default;
  // Appends the IR events for one upstream event to *out. A malformed event
  // (bad JSON) is an error (kUnavailable): the caller stops decoding and
  // reports a truncated stream; events appended before stay valid.
  virtual Status OnEvent(const SseFrame& frame, std::vector<ir::StreamEvent>* out) = 0;
  // The upstream body ended. Appends what is still owed (finish, usage, end).
  // Idempotent.
  virtual void Close(std::vector<ir::StreamEvent>* out) = 0;
  // True once the upstream sent its own terminal marker (OpenAI [DONE],
  // Anthropic message_stop, an error event); Gemini has none.
  virtual bool upstream_done() const = 0;
  // True when Close() had to synthesize the finish reason.
  virtual bool ended_without_finish() const = 0;
};

std::unique_ptr<ProviderStreamDecoder> MakeStreamDecoder(ProviderKind kind);

// IR stream events → the client's SSE bytes. Explicit state machine per
// protocol. Contract: feed the decoder's events in order; the encoder makes
// the output legal for its protocol whatever the input (it synthesizes a
// missing start or finish, buffers tool-call fragments until id and name are
// known, never emits an orphan delta, closes every block it opened). After
// kEnd or kError nothing more is written.
class ClientStreamEncoder {
 public:
  virtual ~ClientStreamEncoder() = default;
  // Appends the bytes for one IR event to *out.
  virtual void OnEvent(const ir::StreamEvent& ev, std::string* out) = 0;
  // The stream failed after it was committed: closes what is open if the
  // protocol wants it and appends the protocol's error frame. Same as
  // OnEvent(ErrorEvent(message)).
  void OnError(std::string_view message, std::string* out) {
    OnEvent(ir::ErrorEvent(std::string(message)), out);
  }
  // True after kEnd or kError was written.
  virtual bool finished() const = 0;
};

// Unknown protocols get the OpenAI chat encoder (callers check first).
std::unique_ptr<ClientStreamEncoder> MakeStreamEncoder(std::string_view client_protocol,
                                                       const EncodeOptions& options);

}  // namespace helm::protocol
