// Upstream error bodies → ProviderError, and plain client error bodies
// (PROTOCOLS.md error shapes).
#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

const char* AnthropicErrorType(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 529: return "overloaded_error";
    default: return "api_error";
  }
}

const char* OpenAiErrorType(int status) {
  switch (status) {
    case 400: case 404: case 413: case 422: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 429: return "rate_limit_error";
    default: return "server_error";
  }
}

const char* GeminiStatus(int status) {
  switch (status) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 429: return "RESOURCE_EXHAUSTED";
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return "INTERNAL";
  }
}

}  // namespace

ProviderError ExtractProviderError(ProviderKind /*kind*/, int http_status, const Json& body) {
  // The three shapes are told apart by their members, whatever the kind
  // claims: OpenAI-compatible servers sometimes answer in another shape.
  ProviderError e;
  e.http_status = http_status >= 400 ? http_status : 502;
  if (IsObject(body, "error")) {
    const Json& err = body["error"];
    e.message = GetString(err, "message");
    e.type = GetString(err, "type");
    if (e.type.empty()) e.type = GetString(err, "status");
    if (e.type.empty()) e.type = GetString(err, "code");
  } else if (body.is_object()) {
    e.message = GetString(body, "message");
  }
  if (e.message.empty()) e.message = "upstream returned HTTP " + std::to_string(http_status);
  return e;
}

Json EncodeClientError(std::string_view client_protocol, int http_status,
                       std::string_view message) {
  std::string msg(message);
  if (client_protocol == kAnthropicMessages) {
    return {{"type", "error"}, {"error", {{"type", AnthropicErrorType(http_status)}, {"message", msg}}}};
  }
  if (client_protocol == kGeminiGenerate) {
    return {{"error", {{"code", http_status}, {"message", msg}, {"status", GeminiStatus(http_status)}}}};
  }
  return {{"error",
           {{"message", msg}, {"type", OpenAiErrorType(http_status)}, {"param", nullptr}, {"code", nullptr}}}};
}

}  // namespace helm::protocol
