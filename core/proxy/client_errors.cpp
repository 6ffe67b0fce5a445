#include "core/proxy/client_errors.h"

#include "core/policy/facts.h"

namespace helm {
namespace {

const char* OpenAiType(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 503: return "service_unavailable";
    default: return status < 500 ? "invalid_request_error" : "api_error";
  }
}

const char* AnthropicType(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 503: case 529: return "overloaded_error";
    default: return status < 500 ? "invalid_request_error" : "api_error";
  }
}

const char* GoogleStatus(int status) {
  switch (status) {
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 429: return "RESOURCE_EXHAUSTED";
    case 503: return "UNAVAILABLE";
    default: return status < 500 ? "INVALID_ARGUMENT" : "INTERNAL";
  }
}

}  // namespace

std::string ClientErrorBody(std::string_view protocol, int http_status, std::string_view reason_code,
                            std::string_view message, const Json& helm) {
  std::string text = std::string(reason_code) + ": " + std::string(message);
  Json error;
  if (protocol == kAnthropicMessages) {
    error = {{"type", "error"}, {"error", {{"type", AnthropicType(http_status)}, {"message", text}}}};
    if (!helm.is_null()) error["error"]["helm"] = helm;
  } else if (protocol == kGeminiGenerate) {
    error = {{"error",
              {{"code", http_status}, {"message", text}, {"status", GoogleStatus(http_status)}}}};
    if (!helm.is_null()) error["error"]["helm"] = helm;
  } else {
    error = {{"error",
              {{"message", text}, {"type", OpenAiType(http_status)}, {"param", nullptr},
               {"code", reason_code}}}};
    if (!helm.is_null()) error["error"]["helm"] = helm;
  }
  return DumpJson(error);
}

}  // namespace helm
