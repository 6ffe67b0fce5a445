#include "core/protocol/codec.h"
namespace helm::protocol {
Result<ir::Request> DecodeGeminiRequest(const Json&) { return BadRequest("todo"); }
Result<Json> EncodeGeminiRequest(const ir::Request&) { return BadRequest("todo"); }
Result<ir::Response> DecodeGeminiResponse(const Json&) { return BadRequest("todo"); }
Json EncodeGeminiResponse(const ir::Response&, const EncodeOptions&) { return {}; }
std::unique_ptr<ProviderStreamDecoder> MakeGeminiStreamDecoder() { return MakeOpenAiChatStreamDecoder(); }
std::unique_ptr<ClientStreamEncoder> MakeGeminiStreamEncoder(const EncodeOptions& o) { return MakeOpenAiChatStreamEncoder(o); }
}
