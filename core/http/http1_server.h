// A small HTTP/1.1 server for the proxy's data plane (docs/http.md): a pool
// of worker threads serving requests with blocking sockets and kernel
// timeouts — one read per request head and one write per response in the
// common case. Between requests a connection waits in an epoll set and holds
// no worker; a worker that finishes a request takes the next ready
// connection without sleeping. It parses strictly (RFC 9112: Content-Length or
// chunked, never both; no obsolete line folding), bounds the head and the
// body, answers `Expect: 100-continue`, and streams responses with chunked
// transfer coding.
//
// Thread safety: Stop() may be called from any thread, before or during
// Serve(). Handlers run concurrently on the worker threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/common/result.h"
#include "core/proxy/proxy_types.h"

namespace helm::http {

struct Http1Request {
  std::string method;
  std::string path;    // percent-decoded, without the query
  std::string query;   // as received, without the '?'
  HeaderList headers;  // lower-case names, in the order received
  std::string body;    // de-chunked
  // False once the client has closed its side of the connection.
  std::function<bool()> client_alive;

  // The first value of a header (name in lower case), or nullptr.
  const std::string* Header(std::string_view name) const;
  // A query parameter, percent- and '+'-decoded; "" when absent.
  std::string QueryParam(std::string_view name) const;
};

struct Http1ServerOptions {
  size_t threads = 128;                 // requests served at once; more wait their turn
  size_t leaders = 0;                   // workers waiting in epoll_wait at most (0: one per core)
  size_t max_connections = 10000;       // open at once; beyond, the longest-idle one is closed
  size_t max_body_bytes = 4 << 20;      // 413 beyond, before any body byte is read
  int read_timeout_ms = 30000;          // idle keep-alive (closed after), and between bytes of a request
  int write_timeout_ms = 30000;         // a client that stops reading
};

class Http1Server {
 public:
  // Answers every well-formed request (routing included).
  using Handler = std::function<ProxyResponse(Http1Request&)>;
  // The body of an error the server answers itself: 400 (malformed), 413,
  // 431 (head too large), 500 (the handler threw). path may be empty.
  using ErrorResponder =
      std::function<ProxyResponse(const std::string& path, int status, std::string_view message)>;

  Http1Server(Handler handler, ErrorResponder on_error, Http1ServerOptions options);
  ~Http1Server();
  Http1Server(const Http1Server&) = delete;
  Http1Server& operator=(const Http1Server&) = delete;

  // Binds host:port (port 0 picks a free one); returns the bound port.
  Result<int> Bind(const std::string& host, int port);
  // Accepts and serves until Stop(); returns once every worker has finished
  // its connection. Requests in flight complete; idle connections are closed.
  // kUnavailable, at once, when the worker threads cannot all be started.
  Status Serve();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decodes %XX sequences (and '+' as a space when plus_is_space); a malformed
// sequence is kept as is.
std::string PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace helm::http
