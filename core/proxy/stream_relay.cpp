#include "core/proxy/stream_relay.h"

#include "core/proxy/client_errors.h"
#include "core/proxy/request_rules.h"

namespace helm {
namespace {

// Passthrough holds an unfinished event's bytes until it completes: at most
// the largest event the parser accepts.
constexpr size_t kMaxHeldBytes = kDefaultMaxSseEventBytes + Limits{}.max_sse_line_bytes;

}  // namespace

TokenUsage UsageOf(const ir::Usage& u) {
  return {u.input_tokens, u.output_tokens, u.cached_read_tokens};
}

StreamRelay::StreamRelay(std::string client_protocol, protocol::ProviderKind provider,
                         bool translate, const protocol::EncodeOptions& options,
                         StreamFraming framing)
    : client_protocol_(std::move(client_protocol)),
      provider_(provider),
      translate_(translate),
      decodable_(protocol::IsTranslatableProtocol(client_protocol_)) {
  if (decodable_) decoder_ = protocol::MakeStreamDecoder(provider);
  if (translate_) encoder_ = protocol::MakeStreamEncoder(client_protocol_, options);
  if (framing == StreamFraming::kJsonArray) array_.emplace();
}

StreamRelay::~StreamRelay() = default;

void StreamRelay::Observe(const ir::StreamEvent& ev) {
  using T = ir::StreamEvent::Type;
  switch (ev.type) {
    case T::kUsage:
      if (ev.usage.known) usage_ = UsageOf(ev.usage);
      break;
    case T::kError:  // the provider's own error event
      truncated_ = true;
      upstream_error_ = true;
      break;
    case T::kTextDelta:
    case T::kThinkingDelta:
    case T::kToolCallStart:
    case T::kToolCallDelta:
    case T::kFinish:
      output_started_ = true;
      break;
    case T::kStart:
    case T::kEnd:
      break;
  }
}

Status StreamRelay::Decode(std::string_view bytes, std::string* out) {
  events_.clear();
  Status parsed = parser_.Feed(bytes, &events_);
  for (const SseEvent& e : events_) {
    if (!decodable_) {  // embeddings / completions: only usage matters
      if (e.data.find("\"usage\"") == std::string::npos) continue;
      if (auto u = ExtractUsage(client_protocol_, Json::parse(e.data, nullptr, false))) usage_ = u;
      continue;
    }
    if (!decoding_) break;
    ir_events_.clear();
    Status decoded = decoder_->OnEvent({e.event, e.data}, &ir_events_);
    for (const auto& ev : ir_events_) {  // events before a refused one stay valid
      Observe(ev);
      if (encoder_) encoder_->OnEvent(ev, out);
    }
    if (!decoded.ok()) {
      truncated_ = true;
      decoding_ = false;
      // Passthrough forwards the client what the provider sent, and ends with
      // the error frame; a translated stream cannot go on.
      if (translate_) return decoded;
    }
  }
  if (!parsed.ok()) truncated_ = true;
  return parsed;
}

void StreamRelay::ForwardWholeEvents(std::string* out) {
  const size_t whole = static_cast<size_t>(parser_.bytes_complete() - forwarded_);
  out->append(held_, 0, whole);
  held_.erase(0, whole);
  forwarded_ += whole;
}

void StreamRelay::AppendErrorFrame(const std::string& message, std::string* out) {
  if (encoder_) {
    encoder_->OnError(message, out);
    return;
  }
  std::string body = ClientErrorBody(client_protocol_, 502, "UPSTREAM_STREAM_BROKEN", message);
  out->append(client_protocol_ == kAnthropicMessages ? "event: error\ndata: " : "data: ");
  out->append(body);
  out->append("\n\n");
}

std::string StreamRelay::Framed(std::string sse) {
  if (!array_) return sse;
  std::string out = array_->Frame(sse);
  if (broken_) out += array_->Close();  // Feed and Finish write nothing more after this
  return out;
}

std::string StreamRelay::Feed(std::string_view upstream_bytes) {
  std::string out;
  if (broken_) return out;
  Status s = Decode(upstream_bytes, &out);
  if (!decodable_ && !upstream_bytes.empty()) output_started_ = true;
  if (!translate_) {
    held_.append(upstream_bytes);
    ForwardWholeEvents(&out);
    // The parser bounds an event's data; its other lines only the held bytes.
    if (s.ok() && held_.size() > kMaxHeldBytes) {
      s = MakeError(ErrorCode::kTooLarge,
                    "SSE event larger than " + std::to_string(kMaxHeldBytes) + " bytes");
    }
  }
  if (!s.ok()) {
    truncated_ = true;
    broken_ = true;
    held_.clear();
    AppendErrorFrame("upstream stream broken: " + s.error().message, &out);
  }
  return Framed(std::move(out));
}

std::string StreamRelay::Finish(const std::string& fault) {
  std::string out;
  if (broken_) return out;
  broken_ = true;
  held_.clear();  // an event the upstream never completed does not reach the client
  if (!fault.empty()) truncated_ = true;
  if (decodable_) {
    ir_events_.clear();
    decoder_->Close(&ir_events_);
    for (const auto& ev : ir_events_) Observe(ev);  // Gemini's usage comes with its end
    // Gemini has no terminal marker: a stream without a finish reason was cut.
    if (provider_ == protocol::ProviderKind::kGemini ? decoder_->ended_without_finish()
                                                     : !decoder_->upstream_done()) {
      truncated_ = true;
    }
  }
  if (!truncated_) {
    if (encoder_) {
      for (const auto& ev : ir_events_) encoder_->OnEvent(ev, &out);
    }
  } else if (!upstream_error_) {  // the provider's error event has had its frame
    AppendErrorFrame(fault.empty() ? "upstream stream ended without its terminal event" : fault,
                     &out);
  }
  return Framed(std::move(out));
}

std::optional<TokenUsage> StreamRelay::usage() const {
  if (truncated_) return std::nullopt;
  return usage_;
}

}  // namespace helm
