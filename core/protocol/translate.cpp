// translate.h: dispatch from protocol names and provider kinds to the
// per-protocol translators (codec.h).
#include "core/protocol/translate.h"

#include <cctype>

#include "core/protocol/codec.h"

namespace helm::protocol {

Result<ProviderKind> ParseProviderKind(std::string_view name) {
  if (name == "openai") return ProviderKind::kOpenAi;
  if (name == "anthropic") return ProviderKind::kAnthropic;
  if (name == "gemini") return ProviderKind::kGemini;
  return BadRequest("unknown provider kind '" + std::string(name) + "'");
}

const char* ProviderKindName(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kOpenAi: return "openai";
    case ProviderKind::kAnthropic: return "anthropic";
    case ProviderKind::kGemini: return "gemini";
  }
  return "openai";
}

bool SameProtocol(std::string_view client_protocol, ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kOpenAi: return client_protocol == kOpenAiChat;
    case ProviderKind::kAnthropic: return client_protocol == kAnthropicMessages;
    case ProviderKind::kGemini: return client_protocol == kGeminiGenerate;
  }
  return false;
}

bool IsTranslatableProtocol(std::string_view p) {
  return p == kOpenAiChat || p == kAnthropicMessages || p == kOpenAiResponses ||
         p == kGeminiGenerate;
}

Result<ir::Request> InspectClientRequest(std::string_view client_protocol, const Json& body,
                                         Payloads payloads) {
  auto decode = [&]() -> Result<ir::Request> {
    if (client_protocol == kOpenAiChat) return DecodeOpenAiChatRequest(body, payloads);
    if (client_protocol == kAnthropicMessages) return DecodeAnthropicRequest(body, payloads);
    if (client_protocol == kOpenAiResponses) return DecodeResponsesRequest(body, payloads);
    if (client_protocol == kGeminiGenerate) return DecodeGeminiRequest(body, payloads);
    return BadRequest("protocol '" + std::string(client_protocol) + "' cannot be translated");
  };
  Result<ir::Request> req = decode();
  if (req.ok() && req->untranslatable.empty()) req->untranslatable = StructuralUntranslatable(*req);
  return req;
}

Result<ir::Request> DecodeClientRequest(std::string_view client_protocol, const Json& body) {
  Result<ir::Request> req = InspectClientRequest(client_protocol, body);
  if (req.ok() && !req->untranslatable.empty()) return BadRequest(req->untranslatable);
  return req;
}

Result<Json> EncodeProviderRequest(ProviderKind kind, const ir::Request& request,
                                   const std::string& upstream_model) {
  if (!request.untranslatable.empty()) return BadRequest(request.untranslatable);
  switch (kind) {
    case ProviderKind::kOpenAi:
      // Every provider refuses an empty conversation; say so before calling one.
      if (request.messages.empty()) return BadRequest("the request has no messages");
      return EncodeOpenAiChatRequest(request, upstream_model);
    case ProviderKind::kAnthropic: return EncodeAnthropicRequest(request, upstream_model);
    case ProviderKind::kGemini: return EncodeGeminiRequest(request);
  }
  return BadRequest("unknown provider kind");
}

namespace {

std::string PercentEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string ProviderPath(ProviderKind kind, std::string_view upstream_model, bool stream) {
  switch (kind) {
    case ProviderKind::kOpenAi: return "/v1/chat/completions";
    case ProviderKind::kAnthropic: return "/v1/messages";
    case ProviderKind::kGemini: {
      if (upstream_model.substr(0, 7) == "models/") upstream_model.remove_prefix(7);
      std::string path = "/v1beta/models/" + PercentEncode(upstream_model);
      return path + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    }
  }
  return "/v1/chat/completions";
}

Result<ir::Response> DecodeProviderResponse(ProviderKind kind, const Json& body) {
  if (!body.is_object()) return BadUpstream("response body is not a JSON object");
  // The response decoders read members with nlohmann's typed accessors: an
  // answer of an unexpected shape is an unreadable answer, never an exception.
  try {
    switch (kind) {
      case ProviderKind::kOpenAi: return DecodeOpenAiChatResponse(body);
      case ProviderKind::kAnthropic: return DecodeAnthropicResponse(body);
      case ProviderKind::kGemini: return DecodeGeminiResponse(body);
    }
  } catch (const Json::exception& e) {
    return BadUpstream(std::string("unreadable response: ") + e.what());
  }
  return BadUpstream("unknown provider kind");
}

Json EncodeClientResponse(std::string_view client_protocol, const ir::Response& response,
                          const EncodeOptions& options) {
  if (client_protocol == kAnthropicMessages) return EncodeAnthropicResponse(response, options);
  if (client_protocol == kOpenAiResponses) return EncodeResponsesResponse(response, options);
  if (client_protocol == kGeminiGenerate) return EncodeGeminiResponse(response, options);
  return EncodeOpenAiChatResponse(response, options);
}

namespace {

// As for whole responses: an upstream event of an unexpected shape ends the
// stream as malformed (the caller reports it truncated), never as an
// exception on the thread that reads the upstream.
class GuardedStreamDecoder final : public ProviderStreamDecoder {
 public:
  explicit GuardedStreamDecoder(std::unique_ptr<ProviderStreamDecoder> inner)
      : inner_(std::move(inner)) {}
  Status OnEvent(const SseFrame& frame, std::vector<ir::StreamEvent>* out) override {
    try {
      return inner_->OnEvent(frame, out);
    } catch (const Json::exception& e) {
      return BadUpstream(std::string("malformed event: ") + e.what());
    }
  }
  void Close(std::vector<ir::StreamEvent>* out) override { inner_->Close(out); }
  bool upstream_done() const override { return inner_->upstream_done(); }
  bool ended_without_finish() const override { return inner_->ended_without_finish(); }

 private:
  std::unique_ptr<ProviderStreamDecoder> inner_;
};

std::unique_ptr<ProviderStreamDecoder> MakeUnguardedStreamDecoder(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kOpenAi: return MakeOpenAiChatStreamDecoder();
    case ProviderKind::kAnthropic: return MakeAnthropicStreamDecoder();
    case ProviderKind::kGemini: return MakeGeminiStreamDecoder();
  }
  return MakeOpenAiChatStreamDecoder();
}

}  // namespace

std::unique_ptr<ProviderStreamDecoder> MakeStreamDecoder(ProviderKind kind) {
  return std::make_unique<GuardedStreamDecoder>(MakeUnguardedStreamDecoder(kind));
}

std::unique_ptr<ClientStreamEncoder> MakeStreamEncoder(std::string_view client_protocol,
                                                       const EncodeOptions& options) {
  if (client_protocol == kAnthropicMessages) return MakeAnthropicStreamEncoder(options);
  if (client_protocol == kOpenAiResponses) return MakeResponsesStreamEncoder(options);
  if (client_protocol == kGeminiGenerate) return MakeGeminiStreamEncoder(options);
  return MakeOpenAiChatStreamEncoder(options);
}

}  // namespace helm::protocol
