// The proxy's view of one client request and its response, independent of the
// HTTP library (the adapter in core/http/proxy_server.cpp fills and sends them).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/provider/upstream.h"
#include "core/proxy/stream_framing.h"

namespace helm {

struct ProxyRequest {
  std::string protocol;  // kOpenAiChat, kOpenAiEmbeddings, ...
  std::string endpoint;  // the route, e.g. "/v1/chat/completions"
  std::string upstream_path;  // path to call upstream (same-protocol forwarding)
  std::string body;      // bytes as received (moved to the flight's dispatch text once decided)
  std::string content_type;
  std::string credential;  // the API key, from whichever header carried it
  HeaderList headers;    // lower-case names, in the order received
  std::optional<std::string> path_model;  // Gemini
  std::optional<bool> path_stream;        // Gemini
  StreamFraming stream_framing = StreamFraming::kSse;  // Gemini: a JSON array unless alt=sse
  // False once the client is known to have gone (before any response byte);
  // empty when the transport cannot tell.
  std::function<bool()> client_alive;
  // Whether the transport takes a parked response (ProxyResponse::park).
  bool can_park = false;
};

// Where a streaming response goes; implemented by the HTTP adapter.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // false when the client has gone away.
  virtual bool Write(std::string_view bytes) = 0;
  // false when the client connection is known to be closed.
  virtual bool Alive() = 0;
};

struct ProxyResponse;

// A response that is not ready: the handler gives its thread back while it
// waits for fd to become readable (an upstream's answer), and the transport
// calls resume on one of its threads once fd is readable, or with timed_out
// once deadline_ns (steady clock) has passed. resume's response is sent as
// if the handler had returned it (or parks again).
struct Park {
  int fd = -1;
  int64_t deadline_ns = 0;
  std::function<ProxyResponse(bool timed_out)> resume;
};

struct ProxyResponse {
  int status = 200;
  HeaderList headers;
  // More header fields as whole "Name: value\r\n" lines, checked when added
  // (AppendHeaderLine): helm's own X-Helm-* headers, one buffer for all.
  std::string head_lines;
  std::string content_type;  // empty: application/json (no allocation per response)
  std::string body;
  // Set for a streaming response: called once, after the status and headers
  // are sent, on the connection's thread; it writes the body and seals.
  std::function<void(ResponseWriter&)> stream;
  // When set, the HTTP adapter calls it exactly once, after the response has
  // been written or has failed to be: the proxy seals a buffered response's
  // outcome here, off the response's latency.
  std::function<void()> after_send;
  // Set instead of the fields above when the response comes later (only for
  // a request that can_park).
  std::shared_ptr<Park> park;
};

// Appends "name: value\r\n" to *lines; a value with a line break is left
// out, as the HTTP server leaves out such a field of `headers`.
void AppendHeaderLine(std::string* lines, std::string_view name, std::string_view value);

}  // namespace helm
