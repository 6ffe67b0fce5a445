// HTTP(S) upstream: helm's own HTTP/1.1 client (the message syntax is in
// http1_wire.h), over plain sockets or OpenSSL.
//
// Connections: a LIFO pool of idle keep-alive connections per upstream. Send
// takes one (or opens one when the pool is empty), uses it for exactly one
// request, and gives it back when the response was complete and the server
// keeps the connection open, if fewer than max_idle_connections are idle. A
// pooled connection the server has closed (or sent stray bytes on) is
// dropped before reuse; one closing at the very moment it is reused still
// shows up as a kBroken fault (requests are never retried here: a POST to an
// LLM is not idempotent).
//
// The gate (upstream.h): a small request (head and body together at most
// kHandOffBytes) on an idle plain connection is handed to the gate, and the
// thread that opens it writes the bytes without blocking (MSG_DONTWAIT: an
// idle keep-alive connection's send buffer is empty) while this thread
// already waits for the answer. A write that does not complete, and a gate
// that opens with a failure, shut the connection down, which ends that wait.
// Anything else — TLS (an SSL_write cannot run beside this thread's
// SSL_read), a larger request, no idle connection (nothing is connected
// before the gate opens) — waits for the gate and then writes as usual.
//
// Timeouts are the sockets' own receive timeouts: first_byte_timeout while
// the head is awaited (re-armed with what remains of it when the head comes
// in pieces), idle_timeout for every body read. The connect timeout bounds
// the TCP connect and the TLS handshake. No watchdog thread.
//
// TLS: the system's trust store, SNI, and host name verification.
//
// Bodies: the request asks for "Accept-Encoding: identity" unless the caller
// set one; helm does not decode content codings, so an upstream that
// compresses anyway is passed on as received, content-encoding included.
// Hop-by-hop headers (connection, transfer-encoding, ...) are never passed
// to on_head.
#include "core/provider/http_upstream.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <vector>

#include "core/provider/http1_wire.h"

namespace helm {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

constexpr int64_t kNsPerMs = 1000000;

struct ParsedUrl {
  bool tls = false;
  std::string authority;  // host[:port], for the Host header
  std::string host;       // without brackets, for DNS, SNI and verification
  std::string port;
  std::string base_path;  // "" or "/base" (no trailing slash)
};

Result<ParsedUrl> ParseUrl(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kConfig, "invalid upstream URL \"" + url + "\": " + why);
  };
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return bad("no scheme");
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return bad("scheme must be http or https");
  std::string rest = url.substr(scheme_end + 3);
  size_t path_start = rest.find('/');
  std::string authority = rest.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "" : rest.substr(path_start);
  if (authority.empty()) return bad("no host");
  for (char c : authority + path) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("control character");
  }
  if (authority.find('@') != std::string::npos) return bad("credentials in the URL");
  if (size_t colon = authority.rfind(':');
      colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    std::string port = authority.substr(colon + 1);
    bool digits = !port.empty() && port.size() <= 5 &&
                  port.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoi(port) < 1 || std::stoi(port) > 65535) return bad("invalid port");
  }
  if (path.find_first_of("?#") != std::string::npos) return bad("query or fragment");
  while (!path.empty() && path.back() == '/') path.pop_back();
  ParsedUrl out{scheme == "https", authority, authority, "", path};
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    out.host = authority.substr(0, colon);
    out.port = authority.substr(colon + 1);
  }
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  return out;
}

bool IsHopByHop(const std::string& lower) {
  return lower == "connection" || lower == "keep-alive" || lower == "transfer-encoding" ||
         lower == "te" || lower == "trailer" || lower == "upgrade" ||
         lower == "proxy-authenticate" || lower == "proxy-connection";
}

bool IsValidPath(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  return std::none_of(path.begin(), path.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

void SetReceiveTimeout(int fd, int64_t ms) {
  ms = std::max<int64_t>(ms, 1);
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

void SetSendTimeout(int fd, int64_t ms) {
  ms = std::max<int64_t>(ms, 1);
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A TCP connection to "host:port" within timeout_ms; -1 when none.
int ConnectTcp(const ParsedUrl& url, int64_t timeout_ms, std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found); rc != 0) {
    why = std::string("resolve ") + url.host + ": " + gai_strerror(rc);
    return -1;
  }
  const int64_t deadline = NowNs() + timeout_ms * kNsPerMs;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int wait_ms = static_cast<int>(std::max<int64_t>((deadline - NowNs()) / kNsPerMs, 0));
      int err = 0;
      socklen_t len = sizeof err;
      rc = poll(&p, 1, wait_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0
               ? err
               : ETIMEDOUT;
      errno = rc;
    }
    if (rc != 0) {
      why = std::string("connect: ") + std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd >= 0) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  }
  return fd;
}

// One connection to the upstream, plain or TLS. Not thread-safe: one Send
// at a time.
class Connection {
 public:
  Connection(int fd, SSL* ssl)
      : fd_(fd), ssl_(ssl), reader_([this](char* buf, size_t n) { return Read(buf, n); }) {}
  ~Connection() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    close(fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  http1::BufferedReader& reader() { return reader_; }
  bool timed_out() const { return timed_out_; }
  // The last read failed (a reset, a TLS error or a timeout), rather than
  // ending at the peer's orderly close.
  bool read_failed() const { return read_failed_; }
  int fd() const { return fd_; }
  bool tls() const { return ssl_ != nullptr; }

  // The head phase: reads wait at most timeout_ms from start_ns in total.
  void AwaitHead(int64_t start_ns, int64_t timeout_ms) {
    head_deadline_ns_ = start_ns + timeout_ms * kNsPerMs;
    head_reads_ = 0;
    Arm(timeout_ms);
  }
  // The body phase: each read waits at most idle_ms.
  void AwaitBody(int64_t idle_ms) {
    head_deadline_ns_ = 0;
    Arm(idle_ms);
  }

  bool Write(std::string_view head, std::string_view body) {
    if (ssl_ == nullptr) {
      iovec iov[2] = {{const_cast<char*>(head.data()), head.size()},
                      {const_cast<char*>(body.data()), body.size()}};
      return http1::SendAll(fd_, iov, body.empty() ? 1 : 2);
    }
    for (std::string_view part : {head, body}) {
      while (!part.empty()) {
        int n = SSL_write(ssl_, part.data(),
                          static_cast<int>(std::min<size_t>(part.size(), 1 << 30)));
        if (n <= 0) return false;
        part.remove_prefix(static_cast<size_t>(n));
      }
    }
    return true;
  }

  // Whether an idle pooled connection can carry another request: the server
  // has not closed it and sent nothing unasked.
  bool Reusable() {
    if (reader_.Buffered() || (ssl_ != nullptr && SSL_pending(ssl_) > 0)) return false;
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, 0) == 0;
  }

 private:
  void Arm(int64_t ms) {
    ms = std::max<int64_t>(ms, 1);
    if (ms == armed_ms_) return;
    SetReceiveTimeout(fd_, ms);
    armed_ms_ = ms;
  }

  ssize_t Read(char* buf, size_t n) {
    if (head_deadline_ns_ != 0 && head_reads_++ > 0) {
      int64_t left_ms = (head_deadline_ns_ - NowNs()) / kNsPerMs;
      if (left_ms <= 0) {
        timed_out_ = read_failed_ = true;
        return -1;
      }
      Arm(left_ms);
    }
    ssize_t got;
    if (ssl_ == nullptr) {
      do {
        got = recv(fd_, buf, n, 0);
      } while (got < 0 && errno == EINTR);
      timed_out_ = got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      read_failed_ = got < 0;
      return got;
    }
    got = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(n, 1 << 30)));
    if (got > 0) return got;
    int err = SSL_get_error(ssl_, static_cast<int>(got));
    timed_out_ = err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE ||
                 (err == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK));
    read_failed_ = err != SSL_ERROR_ZERO_RETURN;
    return read_failed_ ? -1 : 0;
  }

  int fd_;
  SSL* ssl_;
  http1::BufferedReader reader_;
  int64_t armed_ms_ = -1;
  int64_t head_deadline_ns_ = 0;
  int head_reads_ = 0;
  bool timed_out_ = false;
  bool read_failed_ = false;
};

constexpr size_t kHandOffBytes = 16 * 1024;

// A request's write handed to its gate. Until the gate has settled, the
// opening thread may use the socket and the bytes: the destructor (and
// Fault) wait for that, so declare it after the connection and the bytes.
class HandedOffWrite {
 public:
  HandedOffWrite() = default;
  HandedOffWrite(const HandedOffWrite&) = delete;
  HandedOffWrite& operator=(const HandedOffWrite&) = delete;
  ~HandedOffWrite() {
    if (gate_ != nullptr) (void)gate_->Wait();
  }

  void Arm(DispatchGate* gate, int fd, std::string_view head, std::string_view body) {
    gate_ = gate;
    fd_ = fd;
    iov_[0] = {const_cast<char*>(head.data()), head.size()};
    iov_[1] = {const_cast<char*>(body.data()), body.size()};
    gate_->Then([this](const Status& status) {
      if (status.ok()) written_ = WriteNow();
      if (!written_) shutdown(fd_, SHUT_RDWR);  // wakes the reading thread
    });
  }
  // Why the request did not get an answer, if its write is the reason:
  // kNotSent (the gate failed), kBroken (the write did not complete), else
  // kNone. Waits for the gate.
  UpstreamFault Fault(std::string* detail) {
    if (gate_ == nullptr) return UpstreamFault::kNone;
    UpstreamResult held;
    if (!PassGate(gate_, &held)) {
      *detail = std::move(held.detail);
      return held.fault;
    }
    if (written_) return UpstreamFault::kNone;
    *detail = "request write failed";
    return UpstreamFault::kBroken;
  }

 private:
  bool WriteNow() {
    msghdr msg{};
    msg.msg_iov = iov_;
    msg.msg_iovlen = iov_[1].iov_len == 0 ? 1 : 2;
    const size_t want = iov_[0].iov_len + iov_[1].iov_len;
    ssize_t n;
    do {
      n = sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n >= 0 && static_cast<size_t>(n) == want;
  }

  DispatchGate* gate_ = nullptr;
  int fd_ = -1;
  iovec iov_[2] = {};
  bool written_ = false;  // set by the opening thread, read after the gate settled
};

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtx = std::unique_ptr<SSL_CTX, SslCtxDeleter>;

SslCtx NewClientTlsContext() {
  SslCtx ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return ctx;
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) ctx.reset();
  return ctx;
}

// A response's status line and fields.
bool ParseResponseHead(std::string_view head, int& status, bool& http10, HeaderList& fields) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ') return false;
  http10 = line[7] == '0';
  status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    status = status * 10 + (line[i] - '0');
  }
  fields.clear();
  return (line.size() == 12 || line[12] == ' ') &&
         http1::ParseFields(eol == std::string_view::npos ? "" : head.substr(eol + 2), fields);
}

class HttpUpstream final : public Upstream {
 public:
  HttpUpstream(std::string url, ParsedUrl parsed, const UpstreamOptions& options, SslCtx tls)
      : url_(std::move(url)), parsed_(std::move(parsed)), options_(options), tls_(std::move(tls)) {}

  UpstreamResult Send(UpstreamRequest request, DispatchGate* gate,
                      const HeadCallback& on_head,
                      const std::function<bool(std::string_view)>& on_data) override;
  std::unique_ptr<StartedSend> Start(UpstreamRequest& request, DispatchGate* gate) override;

  const std::string& url() const override { return url_; }

 private:
  // One request on its way: what its answer is read with. The hand-off and
  // the bytes it writes stay alive until the answer is read.
  struct Exchange {
    std::string method;
    std::string head;
    std::string body;
    int64_t start_ns = 0;
    std::unique_ptr<Connection> conn;
    HandedOffWrite handed_off;  // after conn and the bytes: destroyed first
    SendCancel* cancel = nullptr;  // attached to conn's socket while it is read
    ~Exchange() { Detach(); }      // before conn closes
    void Detach() {
      if (cancel != nullptr) cancel->Attach(-1);
      cancel = nullptr;
    }
  };
  // The request's head (request line and fields), or a fault in result.
  bool BuildHead(const UpstreamRequest& request, std::string& head, UpstreamResult& result) const;
  // Reads the answer to the request on x.conn; deadline_passed: a caller's
  // wait for the first byte timed out.
  UpstreamResult ReadAnswer(Exchange& x, bool deadline_passed,
                            const HeadCallback& on_head,
                            const std::function<bool(std::string_view)>& on_data);
  // An idle connection the server has kept open; null when there is none.
  std::unique_ptr<Connection> TakeIdle();
  std::unique_ptr<Connection> Open(std::string& why) const;
  void Return(std::unique_ptr<Connection> conn);

  const std::string url_;
  const ParsedUrl parsed_;
  const UpstreamOptions options_;
  const SslCtx tls_;  // https only

  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

std::unique_ptr<Connection> HttpUpstream::Open(std::string& why) const {
  int fd = ConnectTcp(parsed_, options_.connect_timeout_ms, why);
  if (fd < 0) return nullptr;
  SetSendTimeout(fd, std::max<int64_t>(options_.connect_timeout_ms, 5000));
  if (!tls_) return std::make_unique<Connection>(fd, nullptr);
  SetReceiveTimeout(fd, options_.connect_timeout_ms);
  SSL* ssl = SSL_new(tls_.get());
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1 ||
      SSL_set_tlsext_host_name(ssl, parsed_.host.c_str()) != 1 ||
      SSL_set1_host(ssl, parsed_.host.c_str()) != 1 || SSL_connect(ssl) != 1) {
    unsigned long err = ERR_get_error();
    why = "TLS handshake with " + parsed_.host + " failed";
    if (err != 0) why += std::string(": ") + ERR_reason_error_string(err);
    ERR_clear_error();
    if (ssl != nullptr) SSL_free(ssl);
    close(fd);
    return nullptr;
  }
  return std::make_unique<Connection>(fd, ssl);
}

std::unique_ptr<Connection> HttpUpstream::TakeIdle() {
  for (;;) {
    std::unique_ptr<Connection> conn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.empty()) return nullptr;
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
    if (conn->Reusable()) return conn;
  }
}

void HttpUpstream::Return(std::unique_ptr<Connection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
  // Otherwise the connection is closed here.
}

bool HttpUpstream::BuildHead(const UpstreamRequest& request, std::string& head,
                             UpstreamResult& result) const {
  auto fail = [&result](std::string detail) {
    result.fault = UpstreamFault::kBroken;
    result.detail = std::move(detail);
    return false;
  };
  std::string path = parsed_.base_path + request.path;
  if (!IsValidPath(path)) return fail("invalid request path");
  head.reserve(256 + path.size() + 64 * request.headers.size());
  head.append(request.method).append(" ").append(path).append(" HTTP/1.1\r\nHost: ");
  head.append(parsed_.authority).append("\r\n");
  bool has_encoding = false, has_type = false;
  for (const auto& [name, value] : request.headers) {
    if (!http1::IsToken(name) || http1::HasHeaderBreak(value)) {
      return fail("invalid request header");
    }
    if (http1::EqualsNoCase(name, "content-length") ||
        http1::EqualsNoCase(name, "transfer-encoding") || http1::EqualsNoCase(name, "host")) {
      continue;  // framing and routing are this client's
    }
    has_encoding = has_encoding || http1::EqualsNoCase(name, "accept-encoding");
    has_type = has_type || http1::EqualsNoCase(name, "content-type");
    head.append(name).append(": ").append(value).append("\r\n");
  }
  if (!has_encoding) head.append("Accept-Encoding: identity\r\n");
  if (!request.body.empty() && !has_type) head.append("Content-Type: application/json\r\n");
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    head.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
  }
  head.append("User-Agent: helm/" HELM_VERSION "\r\n\r\n");
  return true;
}

UpstreamResult HttpUpstream::Send(UpstreamRequest request, DispatchGate* gate,
                                  const HeadCallback& on_head,
                                  const std::function<bool(std::string_view)>& on_data) {
  UpstreamResult result;
  Exchange x;
  if (!BuildHead(request, x.head, result)) return result;
  x.method = std::move(request.method);
  x.start_ns = NowNs();
  x.conn = TakeIdle();
  if (gate != nullptr && x.conn && !x.conn->tls() &&
      x.head.size() + request.body.size() <= kHandOffBytes) {
    x.body = std::move(request.body);
    x.conn->AwaitHead(x.start_ns, options_.first_byte_timeout_ms);
    x.handed_off.Arm(gate, x.conn->fd(), x.head, x.body);
  } else {
    if (!PassGate(gate, &result)) {
      if (x.conn) Return(std::move(x.conn));
      return result;
    }
    std::string why;
    if (!x.conn) x.conn = Open(why);
    if (!x.conn) {
      result.fault = UpstreamFault::kConnect;
      result.detail = std::move(why);
      return result;
    }
    x.conn->AwaitHead(x.start_ns, options_.first_byte_timeout_ms);
    if (!x.conn->Write(x.head, request.body)) {
      result.fault = UpstreamFault::kBroken;
      result.detail = "request write failed";
      return result;
    }
  }
  if (request.cancel) {
    x.cancel = request.cancel.get();
    x.cancel->Attach(x.conn->fd());
  }
  return ReadAnswer(x, false, on_head, on_data);
}

std::unique_ptr<StartedSend> HttpUpstream::Start(UpstreamRequest& request, DispatchGate* gate) {
  // Cheap refusals first: Send then does the work once.
  if (gate == nullptr || tls_ || request.body.size() > kHandOffBytes) return nullptr;
  auto x = std::make_shared<Exchange>();
  x->conn = TakeIdle();
  if (!x->conn) return nullptr;
  UpstreamResult unused;  // a refused head: Send reports it
  if (!BuildHead(request, x->head, unused) ||
      x->head.size() + request.body.size() > kHandOffBytes) {
    Return(std::move(x->conn));
    return nullptr;
  }
  x->method = std::move(request.method);
  x->body = std::move(request.body);
  x->start_ns = NowNs();
  x->conn->AwaitHead(x->start_ns, options_.first_byte_timeout_ms);
  x->handed_off.Arm(gate, x->conn->fd(), x->head, x->body);
  auto started = std::make_unique<StartedSend>();
  started->fd = x->conn->fd();
  started->deadline_ns = x->start_ns + options_.first_byte_timeout_ms * kNsPerMs;
  started->finish = [this, x](bool deadline_passed, const auto& on_head, const auto& on_data) {
    return ReadAnswer(*x, deadline_passed, on_head, on_data);
  };
  return started;
}

UpstreamResult HttpUpstream::ReadAnswer(Exchange& x, bool deadline_passed,
                                        const HeadCallback& on_head,
                                        const std::function<bool(std::string_view)>& on_data) {
  UpstreamResult result;
  auto fail = [&result](UpstreamFault fault, std::string detail) {
    result.fault = fault;
    result.detail = std::move(detail);
    return result;
  };
  Connection* conn = x.conn.get();
  http1::BufferedReader& reader = conn->reader();
  int status = 0;
  bool http10 = false;
  UpstreamHead out;
  do {  // 1xx interim responses are skipped
    std::string_view head_text;
    auto got = reader.Head(head_text);
    if (got != http1::BufferedReader::HeadStatus::kOk) {
      std::string detail;
      if (UpstreamFault f = x.handed_off.Fault(&detail); f != UpstreamFault::kNone) {
        return fail(f, std::move(detail));
      }
      if (conn->timed_out() || deadline_passed) {
        return fail(UpstreamFault::kFirstByteTimeout, "no response head");
      }
      return fail(UpstreamFault::kBroken, got == http1::BufferedReader::HeadStatus::kTooLarge
                                              ? "response head too large"
                                              : "connection closed before the response head");
    }
    if (!ParseResponseHead(head_text, status, http10, out.headers)) {
      return fail(UpstreamFault::kBroken, "malformed response head");
    }
  } while (status >= 100 && status < 200);
  result.first_byte_us = (NowNs() - x.start_ns) / 1000;

  http1::Framing framing;
  // A fault: the connection closes with x, unread bytes and all, and is never pooled.
  if (!http1::ParseFraming(out.headers, http10, framing)) {
    return fail(UpstreamFault::kBroken, "malformed response framing");
  }
  bool keep_alive = http1::KeepAlive(out.headers, http10);
  out.status = status;
  std::erase_if(out.headers, [](const auto& h) { return IsHopByHop(h.first); });
  if (!on_head(out)) return fail(UpstreamFault::kCancelled, "cancelled by the caller");

  conn->AwaitBody(options_.idle_timeout_ms);
  bool no_body = x.method == "HEAD" || status == 204 || status == 304;
  http1::BodyStatus body = http1::BodyStatus::kOk;
  if (no_body) {
  } else if (framing.chunked) {
    body = http1::ReadChunked(reader, on_data);
  } else if (framing.has_length) {
    body = http1::ReadLength(reader, framing.length, on_data);
  } else {
    keep_alive = false;
    body = http1::ReadToClose(reader, on_data);
    // Only an orderly close ends such a body: a reset or a stall cuts it.
    if (body == http1::BodyStatus::kOk && conn->read_failed()) body = http1::BodyStatus::kBroken;
  }
  if (body == http1::BodyStatus::kStopped) {
    return fail(UpstreamFault::kCancelled, "cancelled by the caller");
  }
  if (body == http1::BodyStatus::kBroken) {
    return conn->timed_out()
               ? fail(UpstreamFault::kIdleTimeout, "the body stalled")
               : fail(UpstreamFault::kBroken, "the body ended early or was malformed");
  }
  std::string detail;  // an answer came, so the write went; the gate must still settle
  if (keep_alive && x.handed_off.Fault(&detail) == UpstreamFault::kNone) {
    x.Detach();  // a cancel from now on must not reach the pooled socket
    Return(std::move(x.conn));
  }
  return result;
}

}  // namespace

Result<std::unique_ptr<Upstream>> MakeHttpUpstream(const std::string& url,
                                                   const UpstreamOptions& options) {
  Result<ParsedUrl> parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.error();
  SslCtx tls;
  if (parsed->tls) {
    tls = NewClientTlsContext();
    if (!tls) return MakeError(ErrorCode::kConfig, "no TLS support for upstream " + url);
  }
  return std::unique_ptr<Upstream>(
      std::make_unique<HttpUpstream>(url, std::move(parsed).value(), options, std::move(tls)));
}

}  // namespace helm
