// StreamRelay: turns the upstream's SSE bytes into the client's SSE bytes for
// one committed stream. Same-protocol streams pass through byte for byte
// (decoded on the side only to learn usage and whether the stream ended
// properly); other pairs go through the provider's stream decoder and the
// client's stream encoder (core/protocol). Not thread-safe: one per stream.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/token_usage.h"
#include "core/provider/sse.h"
#include "core/protocol/translate.h"

namespace helm {

class StreamRelay {
 public:
  // translate: the client protocol differs from the provider's.
  StreamRelay(std::string client_protocol, protocol::ProviderKind provider, bool translate,
              const protocol::EncodeOptions& options);
  ~StreamRelay();

  // Bytes for the client from the next upstream bytes (may be empty).
  std::string Feed(std::string_view upstream_bytes);
  // The upstream body ended; `fault` non-empty when it broke. Returns the last
  // bytes for the client (a protocol-correct error frame on a fault).
  std::string Finish(const std::string& fault);

  // A stream that broke, carried malformed events, or ended without its
  // protocol's terminal marker is truncated: its usage is unknown (I6).
  bool truncated() const { return truncated_; }
  // When the provider reported usage and the stream was not truncated.
  std::optional<TokenUsage> usage() const;

 private:
  void Decode(std::string_view bytes, std::string* out);

  std::string client_protocol_;
  protocol::ProviderKind provider_;
  bool translate_;
  bool decodable_;  // the client protocol is one of the four chat protocols
  SseParser parser_;
  std::unique_ptr<protocol::ProviderStreamDecoder> decoder_;
  std::unique_ptr<protocol::ClientStreamEncoder> encoder_;
  std::vector<SseEvent> events_;
  std::vector<ir::StreamEvent> ir_events_;
  std::optional<TokenUsage> usage_;
  bool truncated_ = false;
};

// The IR's usage as an outcome records it.
TokenUsage UsageOf(const ir::Usage& usage);

}  // namespace helm
