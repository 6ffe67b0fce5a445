// The HTTP(S) Upstream (http_upstream.cpp): helm's own HTTP/1.1 client.
//
// Contract beyond upstream.h:
// - Connections are pooled per upstream (keep-alive, at most
//   max_idle_connections idle); each Send uses one connection alone. A failed
//   request's connection is closed, never reused. Requests are never retried.
// - With a gate (upstream.h), a request of at most 16 KB on an idle plain
//   connection is written by the thread that opens the gate; otherwise Send
//   waits for it, and only then connects if it must.
// - first_byte_timeout runs from the start of Send to the whole response head;
//   idle_timeout from the head or the latest body bytes to the next ones.
//   Neither is a total timer: a stream may last as long as bytes keep coming.
// - on_data receives the body without transfer or content encoding;
//   on_head's headers have lower-case names and no hop-by-hop headers
//   (connection, keep-alive, transfer-encoding, te, trailer, upgrade,
//   proxy-*). "Accept-Encoding: identity" is sent unless the request has its
//   own; content codings are not decoded.
// - A request whose path or header values could split the request head
//   (CR, LF, NUL, spaces or controls in the path) is refused with kBroken
//   before anything is sent.
// - Fault mapping: connect/TLS errors -> kConnect; no head in time ->
//   kFirstByteTimeout; body stalled -> kIdleTimeout; a callback returned
//   false -> kCancelled; anything else (closed mid-body, write error) -> kBroken.
#pragma once

#include <memory>
#include <string>

#include "core/common/result.h"
#include "core/provider/upstream.h"

namespace helm {

// `url` is "http://host[:port][/base]" or "https://host[:port][/base]". The
// base path, if any, is prefixed to every request path. kConfig when the URL
// cannot be parsed, or for https when TLS support is missing.
Result<std::unique_ptr<Upstream>> MakeHttpUpstream(const std::string& url,
                                                   const UpstreamOptions& options);

}  // namespace helm
