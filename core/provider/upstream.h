// Upstream: one way to send a request to an LLM provider and stream the answer
// back. Implementations: HTTP(S) with a keep-alive connection pool per
// upstream (http_upstream.cpp, over http1_wire.h)
// and the built-in deterministic mock (mock_upstream.cpp, `mock://`).
//
// Thread safety: Send may be called from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/dispatch_gate.h"
#include "core/common/header_list.h"
#include "core/common/result.h"

namespace helm {

// Lets another thread end a Send that waits on its upstream (the client
// left): Cancel shuts down the socket the Send reads, at once or as soon as
// it has one, instead of leaving the read to its timeout.
class SendCancel {
 public:
  void Cancel();
  // For an upstream: the socket the Send reads from now on; -1 before that
  // socket is pooled or closed.
  void Attach(int fd);

 private:
  std::mutex mu_;
  int fd_ = -1;
  bool cancelled_ = false;
};

struct UpstreamRequest {
  std::string method = "POST";
  std::string path;    // e.g. "/v1/chat/completions", query included
  HeaderList headers;  // extra headers (auth, content type); never raw client-controlled values
  std::string body;
  std::shared_ptr<SendCancel> cancel;  // optional; HTTP upstreams honour it in Send
};

struct UpstreamHead {
  int status = 0;
  HeaderList headers;  // lower-case names
};

// Why Send ended without a complete response.
enum class UpstreamFault {
  kNone,
  kConnect,           // could not connect (refused, DNS, TLS)
  kFirstByteTimeout,  // no response head within first_byte_timeout
  kIdleTimeout,       // the body stalled longer than idle_timeout
  kBroken,            // the connection closed or failed mid-body
  kCancelled,         // on_head or on_data returned false (client went away)
  kNotSent,           // the gate opened with a failure: not a byte was sent
};
const char* UpstreamFaultName(UpstreamFault f);

struct UpstreamResult {
  UpstreamFault fault = UpstreamFault::kNone;
  std::string detail;
  int64_t first_byte_us = 0;  // time to the response head
};

struct UpstreamOptions {
  int64_t connect_timeout_ms = 5000;
  int64_t first_byte_timeout_ms = 60000;
  int64_t idle_timeout_ms = 60000;
  size_t max_idle_connections = 64;
};

// Called once with the answer's status and headers; the callee may move
// them out. Returning false cancels the request.
using HeadCallback = std::function<bool(UpstreamHead&)>;

// A request sent without waiting for its answer (Upstream::Start).
struct StartedSend {
  int fd = -1;              // readable once the answer begins, or the request failed
  int64_t deadline_ns = 0;  // steady clock: the first-byte timeout
  // Reads the answer as Send would have; deadline_passed: fd was not
  // readable by deadline_ns. Called once.
  std::function<UpstreamResult(bool deadline_passed,
                               const HeadCallback& on_head,
                               const std::function<bool(std::string_view)>& on_data)>
      finish;
};

class Upstream {
 public:
  virtual ~Upstream() = default;
  // Sends the request. on_head is called once with the status and headers
  // (before any on_data); on_data with each body chunk as it arrives. Either
  // returning false cancels the request (fault kCancelled). The request is
  // taken by value: a caller done with it moves it in, and a large body is
  // not copied on its way to the socket.
  //
  // `gate` (null: none) holds the request back until it opens (I1): no byte
  // of it is sent before, and none at all when it opens with a failure
  // (kNotSent). An implementation may hand its first write to the gate, so
  // that the thread opening it sends the request (http_upstream.h).
  virtual UpstreamResult Send(UpstreamRequest request, DispatchGate* gate,
                              const HeadCallback& on_head,
                              const std::function<bool(std::string_view)>& on_data) = 0;
  // Like Send, but returns once the request is on its way (handed to
  // `gate`), for a caller that waits for StartedSend::fd itself. Null when
  // this upstream cannot start this request so (request untouched): the
  // caller uses Send.
  virtual std::unique_ptr<StartedSend> Start(UpstreamRequest& request, DispatchGate* gate) {
    (void)request;
    (void)gate;
    return nullptr;
  }
  virtual const std::string& url() const = 0;
};

// For implementations: waits for `gate` (null: none to wait for). False when
// it opened with a failure, with `result` set to kNotSent: send nothing.
bool PassGate(DispatchGate* gate, UpstreamResult* result);

// "http://host:port[/base]", "https://...", or "mock://" (any suffix is
// ignored). kConfig on anything else.
Result<std::unique_ptr<Upstream>> MakeUpstream(const std::string& url,
                                               const UpstreamOptions& options);

}  // namespace helm
