#include "core/proxy/stream_relay.h"

#include "core/proxy/client_errors.h"
#include "core/proxy/request_rules.h"

namespace helm {

TokenUsage UsageOf(const ir::Usage& u) {
  return {u.input_tokens, u.output_tokens, u.cached_read_tokens};
}

StreamRelay::StreamRelay(std::string client_protocol, protocol::ProviderKind provider,
                         bool translate, const protocol::EncodeOptions& options)
    : client_protocol_(std::move(client_protocol)),
      provider_(provider),
      translate_(translate),
      decodable_(protocol::IsTranslatableProtocol(client_protocol_)) {
  if (decodable_) decoder_ = protocol::MakeStreamDecoder(provider);
  if (translate_) encoder_ = protocol::MakeStreamEncoder(client_protocol_, options);
}

StreamRelay::~StreamRelay() = default;

void StreamRelay::Decode(std::string_view bytes, std::string* out) {
  events_.clear();
  if (!parser_.Feed(bytes, &events_).ok()) truncated_ = true;
  for (const SseEvent& e : events_) {
    if (!decodable_) {  // embeddings / completions: only usage matters
      if (e.data.find("\"usage\"") == std::string::npos) continue;
      if (auto u = ExtractUsage(client_protocol_, Json::parse(e.data, nullptr, false))) usage_ = u;
      continue;
    }
    ir_events_.clear();
    if (!decoder_->OnEvent({e.event, e.data}, &ir_events_).ok()) truncated_ = true;
    for (const auto& ev : ir_events_) {
      if (ev.type == ir::StreamEvent::Type::kUsage && ev.usage.known) {
        usage_ = UsageOf(ev.usage);
      }
      if (encoder_) encoder_->OnEvent(ev, out);
    }
  }
}

std::string StreamRelay::Feed(std::string_view upstream_bytes) {
  std::string out;
  Decode(upstream_bytes, &out);
  return translate_ ? out : std::string(upstream_bytes);
}

std::string StreamRelay::Finish(const std::string& fault) {
  std::string out;
  if (!fault.empty()) truncated_ = true;
  if (decodable_) {
    ir_events_.clear();
    decoder_->Close(&ir_events_);
    // Gemini has no terminal marker: a stream without a finish reason was cut.
    if (provider_ == protocol::ProviderKind::kGemini ? decoder_->ended_without_finish()
                                                      : !decoder_->upstream_done()) {
      truncated_ = true;
    }
    if (encoder_ && fault.empty()) {
      for (const auto& ev : ir_events_) encoder_->OnEvent(ev, &out);
    }
  }
  if (!fault.empty()) {
    if (encoder_) {
      encoder_->OnError(fault, &out);
    } else {
      std::string body = ClientErrorBody(client_protocol_, 502, "UPSTREAM_STREAM_BROKEN", fault);
      out += (client_protocol_ == kAnthropicMessages ? "event: error\ndata: " : "data: ") + body +
             "\n\n";
    }
  }
  return out;
}

std::optional<TokenUsage> StreamRelay::usage() const {
  if (truncated_) return std::nullopt;
  return usage_;
}

}  // namespace helm
