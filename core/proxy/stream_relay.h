// StreamRelay: turns the upstream's SSE bytes into the client's bytes for one
// stream; before the stream commits, it also tells where it may
// (output_started). Same-protocol streams pass through byte for byte, one
// whole SSE event at a time (decoded on the side only to learn usage and
// whether the stream ended properly); other pairs go through the provider's
// stream decoder and the client's stream encoder (core/protocol). The client's
// bytes are SSE, or that SSE re-framed as a JSON array (stream_framing.h).
//
// A stream that does not end properly ends, for the client, with its
// protocol's error frame, never with a finish helm made up: the frame starts
// on an event boundary (passthrough drops the unfinished event of a cut), and
// the outcome says truncated exactly when the client got it. Not thread-safe:
// one per stream.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/token_usage.h"
#include "core/protocol/translate.h"
#include "core/provider/sse.h"
#include "core/proxy/stream_framing.h"

namespace helm {

class StreamRelay {
 public:
  // translate: the client protocol differs from the provider's.
  StreamRelay(std::string client_protocol, protocol::ProviderKind provider, bool translate,
              const protocol::EncodeOptions& options, StreamFraming framing);
  ~StreamRelay();

  // Bytes for the client from the next upstream bytes (may be empty): the
  // events they complete. An upstream event over the SSE limits (or, when
  // translating, one that cannot be decoded) ends the client's stream with
  // the error frame at once (and a JSON array's end); later upstream bytes
  // are then ignored.
  std::string Feed(std::string_view upstream_bytes);
  // The upstream body ended; `fault` non-empty when it broke. Returns the last
  // bytes for the client: the protocol's end, or its error frame when the
  // stream is truncated, then a JSON array's end. An event left unfinished is
  // dropped.
  std::string Finish(const std::string& fault);

  // A stream that broke, carried malformed events or an error event, or ended
  // without its protocol's terminal marker is truncated: its usage is unknown
  // (I6), and the client's stream ends with an error frame.
  bool truncated() const { return truncated_; }
  // True once the upstream sent a real output event: text, thinking, a tool
  // call or a finish (for streams helm does not decode, any byte). A stream
  // commits there (DESIGN §8); a stream truncated before it failed over.
  bool output_started() const { return output_started_; }
  // When the provider reported usage and the stream was not truncated.
  std::optional<TokenUsage> usage() const;

 private:
  // Records what an IR event tells about the stream: usage, output, an error
  // event.
  void Observe(const ir::StreamEvent& ev);
  // Parses and decodes the next upstream bytes (translating: encodes the
  // events into *out). An error when the stream cannot go on.
  Status Decode(std::string_view bytes, std::string* out);
  // Passthrough: moves the upstream bytes of the events now complete from
  // held_ to *out.
  void ForwardWholeEvents(std::string* out);
  // Appends the client protocol's error frame (translating: the encoder's).
  void AppendErrorFrame(const std::string& message, std::string* out);
  // The client's bytes for the SSE bytes `sse`: as they are, or as JSON array
  // elements, with the array's end once the client's stream has ended.
  std::string Framed(std::string sse);

  std::string client_protocol_;
  protocol::ProviderKind provider_;
  bool translate_;
  bool decodable_;  // the client protocol is one of the four chat protocols
  SseParser parser_;
  std::unique_ptr<protocol::ProviderStreamDecoder> decoder_;
  std::unique_ptr<protocol::ClientStreamEncoder> encoder_;
  std::vector<SseEvent> events_;
  std::vector<ir::StreamEvent> ir_events_;
  std::optional<JsonArrayFramer> array_;  // set for StreamFraming::kJsonArray
  std::optional<TokenUsage> usage_;
  std::string held_;             // passthrough: upstream bytes of the event not yet complete
  uint64_t forwarded_ = 0;       // passthrough: upstream bytes written to the client
  bool decoding_ = true;         // false after an event the decoder refused
  bool upstream_error_ = false;  // the provider sent its error event (and the client its frame)
  bool broken_ = false;          // the stream has ended for the client: nothing more is written
  bool output_started_ = false;
  bool truncated_ = false;
};

// The IR's usage as an outcome records it.
TokenUsage UsageOf(const ir::Usage& usage);

}  // namespace helm
