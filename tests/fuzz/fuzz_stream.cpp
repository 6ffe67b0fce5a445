// An upstream's SSE bytes through the stream path of a translated request:
// SseParser → ProviderStreamDecoder → ClientStreamEncoder, as the proxy
// runs it (a parse or decode error ends the client's stream with the
// protocol's error frame). Checks that
//   - the parser gives the same events and status whether the bytes come
//     whole or in pieces;
//   - the client's stream always ends (finished()), and every event it
//     writes is a JSON object (or OpenAI's [DONE]).
// Input: one byte that picks the provider kind and the client protocol, one
// for the piece size, then the upstream's bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/json.h"
#include "core/common/protocols.h"
#include "core/protocol/translate.h"
#include "core/provider/sse.h"

namespace {

using helm::protocol::ProviderKind;

constexpr ProviderKind kKinds[] = {ProviderKind::kOpenAi, ProviderKind::kAnthropic,
                                   ProviderKind::kGemini};
constexpr const char* kClients[] = {helm::kOpenAiChat, helm::kAnthropicMessages,
                                    helm::kOpenAiResponses, helm::kGeminiGenerate};

[[noreturn]] void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "%s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

helm::Status ParseInPieces(std::string_view bytes, size_t step, std::vector<helm::SseEvent>* out) {
  helm::SseParser parser;
  for (size_t at = 0; at < bytes.size(); at += step) {
    helm::Status fed = parser.Feed(bytes.substr(at, step), out);
    if (!fed.ok()) return fed;
  }
  return helm::Status::Ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const ProviderKind kind = kKinds[data[0] % 3];
  const char* client = kClients[(data[0] / 3) % 4];
  const size_t step = 1 + data[1] % 64;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);

  std::vector<helm::SseEvent> whole, pieces;
  helm::Status whole_status = helm::SseParser().Feed(bytes, &whole);
  helm::Status pieces_status = ParseInPieces(bytes, step, &pieces);
  if (whole_status.ok() != pieces_status.ok() || whole != pieces) {
    Fail("the SSE parser depends on how the bytes are split", bytes);
  }

  helm::protocol::EncodeOptions options;
  options.model = "model";
  options.response_id = "resp_fuzz";
  options.created_unix = 1;
  options.include_usage = true;
  auto decoder = helm::protocol::MakeStreamDecoder(kind);
  auto encoder = helm::protocol::MakeStreamEncoder(client, options);
  std::vector<helm::ir::StreamEvent> events;
  std::string out;
  bool broken = !whole_status.ok();
  for (const helm::SseEvent& e : whole) {
    events.clear();
    helm::Status decoded = decoder->OnEvent({e.event, e.data}, &events);
    for (const auto& ev : events) encoder->OnEvent(ev, &out);
    if (!decoded.ok()) {
      broken = true;
      break;
    }
  }
  if (broken) {
    encoder->OnError("upstream stream broken", &out);
  } else {
    events.clear();
    decoder->Close(&events);
    for (const auto& ev : events) encoder->OnEvent(ev, &out);
  }
  if (!encoder->finished()) Fail("the client's stream did not end", client);

  std::vector<helm::SseEvent> written;
  if (!helm::SseParser().Feed(out, &written).ok()) Fail("the client's stream is not SSE", out);
  for (const helm::SseEvent& e : written) {
    if (e.data == "[DONE]") continue;
    auto json = helm::ParseStrictJson(e.data);
    if (!json.ok() || !json->is_object()) Fail("an event written is not a JSON object", e.data);
  }
  return 0;
}
