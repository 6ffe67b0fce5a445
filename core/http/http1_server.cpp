#include "core/http/http1_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/crypto/crypto.h"
#include "core/provider/http1_wire.h"

namespace helm::http {
namespace {

constexpr int kListenBacklog = 1024;
// A connection at least this idle may be closed to make room for a new one
// at max_connections (a younger one may have a request racing the close).
constexpr int64_t kMinIdleToEvictNs = 100'000'000;
// A body waiting for its bytes grows by at most this much per read: memory
// follows what a client has sent, not the Content-Length it announced.
constexpr size_t kBodyStep = 64 * 1024;
// sweep_fd's data in the epoll set: no Conn* or tagged Parked* is 2.
constexpr uint64_t kSweepTag = 2;

// ThreadSanitizer models a hand-off through epoll only when a descriptor is
// added to the set, not when it is re-armed (EPOLL_CTL_MOD), though the
// epoll lock orders both. These tell it that whatever a worker wrote to a
// connection or parked response before re-arming it is seen by the worker
// that takes it next. Nothing in other builds.
#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
void HandOff(void* object) { __tsan_release(object); }
void TakeOver(void* object) { __tsan_acquire(object); }
#else
void HandOff(void*) {}
void TakeOver(void*) {}
#endif

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const char* Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status < 400 ? "OK" : "Error";
  }
}

bool SendAll(int fd, std::string_view a, std::string_view b = {}) {
  iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
  return http1::SendAll(fd, iov, b.empty() ? 1 : 2);
}

// False once the peer has closed (or reset) the connection; pipelined bytes
// waiting to be read mean it is still there.
bool PeerOpen(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return true;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return false;
  char c;
  return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 0;
}

// A streamed response body, one write per piece: a chunk each, or for an
// HTTP/1.0 client, which knows no chunks, the bytes as they are (the close
// ends the body).
class StreamWriter final : public ResponseWriter {
 public:
  StreamWriter(int fd, bool chunked) : fd_(fd), chunked_(chunked) {}
  bool Write(std::string_view bytes) override {
    if (!ok_) return false;
    if (bytes.empty()) return true;  // an empty chunk would end the body
    if (!chunked_) {
      ok_ = SendAll(fd_, bytes);
      return ok_;
    }
    char size[24];
    auto [end, ec] = std::to_chars(size, size + sizeof size - 2, bytes.size(), 16);
    *end++ = '\r';
    *end++ = '\n';
    iovec iov[3] = {{size, static_cast<size_t>(end - size)},
                    {const_cast<char*>(bytes.data()), bytes.size()},
                    {const_cast<char*>("\r\n"), 2}};
    ok_ = http1::SendAll(fd_, iov, 3);
    return ok_;
  }
  bool Alive() override { return ok_ && PeerOpen(fd_); }
  bool ok() const { return ok_; }

 private:
  int fd_;
  bool chunked_;
  bool ok_ = true;
};

}  // namespace

const std::string* Http1Request::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

std::string Http1Request::QueryParam(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    size_t eq = pair.find('=');
    if (PercentDecode(pair.substr(0, eq), true) == name) {
      return eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return "";
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  if (s.find_first_of(plus_is_space ? "%+" : "%") == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      if (Result<std::string> byte = crypto::HexDecode(s.substr(i + 1, 2)); byte.ok()) {
        out += *byte;
        i += 2;
        continue;
      }
    }
    out.push_back(s[i] == '+' && plus_is_space ? ' ' : s[i]);
  }
  return out;
}

struct Http1Server::Impl {
  Handler handler;
  ErrorResponder on_error;
  Http1ServerOptions options;
  int listen_fd = -1;
  int epoll_fd = -1;  // idle connections, armed one-shot, wake_fd and sweep_fd
  int wake_fd = -1;   // an eventfd, readable once the workers are to exit
  // A timerfd (steady clock), readable once a sweep brought forward by
  // SweepBy is due: a leader already asleep in epoll_wait computed its
  // timeout from the sweep time before.
  int sweep_fd = -1;
  std::atomic<bool> stopping{false};

  // How a request is answered, once read.
  struct Reply {
    std::string path;  // for an error response
    bool keep_alive = true;
    bool head_only = false;  // HEAD: no body
    bool http10 = false;     // a stream goes out unframed, ended by the close
  };

  // A request whose head is parsed and whose body is still arriving: it
  // waits with its connection in the epoll set, not in a worker.
  struct Pending {
    Http1Request req;  // the body so far in req.body
    size_t length = 0;  // Content-Length
    bool keep_alive = true;
    bool http10 = false;
    // A chunked body instead: decoded as its bytes arrive.
    std::optional<http1::ChunkedDecoder> chunked;
    http1::ChunkedDecoder::Status chunked_status = http1::ChunkedDecoder::Status::kMore;
  };

  // One client connection and what was read from it. Either armed in the
  // epoll set, waiting for (the rest of) its next request (idle), or served
  // by exactly one worker. Closed when destroyed.
  struct Conn {
    explicit Conn(int socket);
    ~Conn() { close(fd); }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    const int fd;
    http1::BufferedReader reader;
    std::optional<Pending> pending;
    std::atomic<bool> idle{true};           // in the epoll set
    std::atomic<int64_t> idle_since_ns{0};  // the wait's start, or a body's last bytes
  };

  // Every open connection.
  std::mutex conns_mu;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns;
  std::atomic<int64_t> next_sweep_ns{0};

  // A response the handler parked (ProxyResponse::park): its connection
  // waits, without a worker, for the park's socket to become readable; the
  // worker that sees it resumes the handler and answers.
  struct Parked {
    Conn* conn;
    std::shared_ptr<Park> park;
    Reply reply;
    // Guarded by parked_mu: the sweep shuts the socket down once the
    // deadline has passed, unless a worker has taken it up (its socket may
    // be back in a pool by then).
    bool timed_out = false;
    bool resumed = false;
  };
  std::mutex parked_mu;
  std::condition_variable parked_cv;  // Serve waits until none is left
  std::unordered_set<Parked*> parked;  // guarded by parked_mu
  std::atomic<int> busy{0};  // workers serving a connection or resuming a response

  // What a worker takes from the epoll set (both null: the workers are to exit).
  struct Ready {
    Conn* conn = nullptr;
    Parked* parked = nullptr;
  };
  // What becomes of a connection once a request on it is answered. kArmed:
  // it is back in the epoll set already, and may be another worker's.
  enum class Next { kArm, kClose, kParked, kArmed };

  // Leaders and followers: at most max_leaders workers wait in epoll_wait
  // (the leaders), the others that have nothing to do wait to lead. A worker
  // that finishes a request first takes a connection that is ready already,
  // so under load requests pass from worker to worker without a sleep, and a
  // new request wakes a leader only when none of the workers is about to
  // look. The last leader to leave hands its place to a follower, so that
  // one always waits for new requests: to the one that arrived last, so
  // that the workers in use are as few as the load needs and their caches
  // stay warm, while the others sleep until requests block many at once.
  struct Follower {
    std::condition_variable cv;
    bool leads = false;  // guarded by lead_mu: handed a leader's place
  };
  std::mutex lead_mu;
  std::vector<Follower*> followers;  // guarded by lead_mu; the last arrived last
  int leaders = 0;  // guarded by lead_mu; a follower handed a place counts
  int max_leaders = 1;
  bool workers_done = false;  // guarded by lead_mu

  void Worker();
  // The next connection with bytes (or a hang-up) to read, or parked
  // response to resume.
  Ready NextReady();
  Ready Taken(const epoll_event& ev);
  // Reads what has arrived of conn's next request without waiting: its
  // head, or the body of its pending request.
  enum class Arrival { kReady, kPartial, kClosed };
  Arrival Gather(Conn& conn);
  // Serves requests on conn while they come.
  Next ServeConnection(Conn& conn);
  // Sends response (or parks it) for the request just read on conn.
  Next Respond(Conn& conn, ProxyResponse& response, const Reply& reply);
  void ParkResponse(Conn& conn, std::shared_ptr<Park> park, const Reply& reply);
  void Resume(Parked* parked);
  // Arms, closes or leaves conn as next says.
  void Settle(Conn& conn, Next next);
  // The request whose head is next in conn's buffer, into p; false when the
  // connection is to be closed (answered if the request was malformed).
  bool StartRequest(Conn& conn, Pending& p);
  // Whether p's body is all here (a chunked one: decoded from what conn's
  // buffer holds, or found malformed or too large).
  bool BodyHere(Conn& conn, Pending& p);
  // Answers with on_error's response and closes: false, for the caller to return.
  bool Refuse(int fd, const std::string& path, int status, std::string_view message);
  // Back in the epoll set; restart_clock: a new wait begins (after a
  // response, or for a body), not the rest of a head.
  void Arm(Conn& conn, bool restart_clock);
  void Close(Conn& conn);
  // Shuts down connections whose wait in the epoll set has lasted longer
  // than the read timeout (from its start for a head, from the last bytes
  // for a body); their hang-up reaches a worker, which closes them.
  void SweepIdle();
  // Wakes the parked responses whose deadline has passed; returns the
  // earliest deadline left (INT64_MAX: none).
  int64_t SweepParked(int64_t now);
  // The next sweep comes no later than deadline_ns.
  void SweepBy(int64_t deadline_ns);
  // Accepts connections into the epoll set until Stop(), then waits for the
  // requests in flight (parked ones included).
  void AcceptUntilStopped();
  // At max_connections: closes the connection idle the longest (if one has
  // been idle long enough) to make room for a new one; false when none can go.
  bool MakeRoom();
  int SweepIntervalMs() const { return std::clamp(options.read_timeout_ms / 10, 10, 1000); }
};

namespace {

struct Head {
  std::string method;
  std::string target;
  bool http10 = false;
  HeaderList headers;
};

// Why the request's Host field is refused, or null when it is fine: RFC 9112
// §3.2 asks for exactly one, which only HTTP/1.0 may leave out, holding a
// valid value.
const char* HostFieldProblem(const Head& head) {
  const std::string* host = nullptr;
  for (const auto& [name, value] : head.headers) {
    if (name != "host") continue;
    if (host != nullptr) return "a request needs exactly one Host field";
    host = &value;
  }
  if (host == nullptr) return head.http10 ? nullptr : "a request needs exactly one Host field";
  return http1::IsHostValue(*host) ? nullptr : "the Host field is not host[:port]";
}

bool ParseHead(std::string_view head, Head& out) {
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return false;
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!http1::IsToken(method) || target.empty() || target[0] != '/') return false;
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  if (version == "HTTP/1.0") {
    out.http10 = true;
  } else if (version != "HTTP/1.1") {
    return false;
  }
  out.method.assign(method);
  out.target.assign(target);
  return http1::ParseFields(eol == std::string_view::npos ? "" : head.substr(eol + 2),
                           out.headers);
}

// Writes a whole response; false when the connection must close. A stream to
// an HTTP/1.0 client has neither a length nor chunks: the close ends it.
bool WriteResponse(int fd, ProxyResponse& r, bool head_only, bool close, bool http10) {
  const bool chunked = !http10;
  if (r.stream && !chunked) close = true;
  std::string head;
  head.reserve(256 + 64 * r.headers.size() + r.head_lines.size());
  head.append("HTTP/1.1 ").append(std::to_string(r.status)).append(" ");
  head.append(Reason(r.status)).append("\r\n");
  for (const auto& [name, value] : r.headers) {
    if (http1::IsToken(name)) AppendHeaderLine(&head, name, value);
  }
  head.append(r.head_lines);
  AppendHeaderLine(&head, "Content-Type",
                   r.content_type.empty() ? std::string_view("application/json") : r.content_type);
  if (close) AppendHeaderLine(&head, "Connection", "close");
  if (!r.stream) {
    AppendHeaderLine(&head, "Content-Length", std::to_string(r.body.size()));
    head.append("\r\n");
    return SendAll(fd, head, head_only ? std::string_view() : r.body) && !close;
  }
  if (chunked) AppendHeaderLine(&head, "Transfer-Encoding", "chunked");
  head.append("\r\n");
  if (!SendAll(fd, head)) return false;
  StreamWriter writer(fd, chunked);
  try {
    r.stream(writer);
  } catch (const std::exception&) {
    return false;  // the body is cut short: closing the connection tells the client
  }
  return writer.ok() && chunked && SendAll(fd, "0\r\n\r\n") && !close;
}

}  // namespace

Http1Server::Impl::Conn::Conn(int socket)
    : fd(socket), reader([socket](char* buf, size_t n) {
        ssize_t got;
        do {
          got = recv(socket, buf, n, 0);
        } while (got < 0 && errno == EINTR);
        return got;  // <= 0: closed, reset, or the read timeout passed
      }) {}

bool Http1Server::Impl::Refuse(int fd, const std::string& path, int status,
                               std::string_view message) {
  ProxyResponse r = on_error(path, status, message);
  WriteResponse(fd, r, false, true, false);
  return false;
}

bool Http1Server::Impl::StartRequest(Conn& conn, Pending& p) {
  const int fd = conn.fd;
  http1::BufferedReader& reader = conn.reader;
  std::string_view head_text;
  http1::BufferedReader::HeadStatus status = reader.Head(head_text);
  if (status == http1::BufferedReader::HeadStatus::kClosed) return false;
  if (status == http1::BufferedReader::HeadStatus::kTooLarge) {
    return Refuse(fd, "", 431, "request head too large");
  }
  Head head;
  http1::Framing framing;
  if (!ParseHead(head_text, head)) return Refuse(fd, "", 400, "malformed request");
  Http1Request& req = p.req;
  size_t query = head.target.find('?');
  req.path = PercentDecode(std::string_view(head.target).substr(0, query), false);
  if (query != std::string::npos) req.query = head.target.substr(query + 1);
  if (const char* problem = HostFieldProblem(head)) return Refuse(fd, req.path, 400, problem);
  if (!http1::ParseFraming(head.headers, head.http10, framing)) {
    return Refuse(fd, req.path, 400, "malformed request framing");
  }
  if (framing.length > options.max_body_bytes) {
    return Refuse(fd, req.path, 413, "request body too large");
  }
  req.method = std::move(head.method);
  req.headers = std::move(head.headers);
  p.http10 = head.http10;
  p.keep_alive = http1::KeepAlive(req.headers, head.http10);
  const std::string* expect = req.Header("expect");
  if (expect && http1::EqualsNoCase(*expect, "100-continue") && !reader.Buffered() &&
      (framing.chunked || framing.length > 0) && !head.http10 &&
      !SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n")) {
    return false;
  }
  if (framing.chunked) {
    p.chunked.emplace();
    return true;
  }
  p.length = framing.length;
  req.body.reserve(std::min(p.length, kBodyStep));
  reader.Take(std::min(p.length, reader.Available()), req.body);  // what is here: no read
  return true;
}

bool Http1Server::Impl::BodyHere(Conn& conn, Pending& p) {
  if (!p.chunked) return p.req.body.size() >= p.length;
  std::string& body = p.req.body;
  const size_t max = options.max_body_bytes;
  http1::ChunkedDecoder& decoder = *p.chunked;
  size_t used = 0;
  p.chunked_status = decoder.Feed(conn.reader.Peek(), &used, [&](std::string_view piece) {
    if (decoder.chunk_left() > max - body.size()) return false;  // refused at its first piece
    body.append(piece);
    return true;
  });
  conn.reader.Consume(used);
  return p.chunked_status != http1::ChunkedDecoder::Status::kMore;
}

Http1Server::Impl::Next Http1Server::Impl::ServeConnection(Conn& conn) {
  const int fd = conn.fd;
  do {
    if (stopping.load()) return Next::kClose;
    Pending p;
    if (conn.pending) {  // its body has arrived (Gather)
      p = std::move(*conn.pending);
      conn.pending.reset();
    } else if (!StartRequest(conn, p)) {
      return Next::kClose;
    } else if (!BodyHere(conn, p)) {
      conn.pending = std::move(p);  // the body waits in the epoll set
      return Next::kArm;
    }
    if (p.chunked_status == http1::ChunkedDecoder::Status::kStopped) {
      Refuse(fd, p.req.path, 413, "request body too large");
      return Next::kClose;
    }
    if (p.chunked_status == http1::ChunkedDecoder::Status::kBroken) {
      Refuse(fd, p.req.path, 400, "malformed chunked body");
      return Next::kClose;
    }
    Http1Request& req = p.req;
    req.client_alive = [fd] { return PeerOpen(fd); };
    const Reply reply{req.path, p.keep_alive, req.method == "HEAD", p.http10};
    ProxyResponse response;
    try {
      response = handler(req);
    } catch (const std::exception& e) {
      response = on_error(reply.path, 500, e.what());
    }
    if (Next next = Respond(conn, response, reply); next != Next::kArm) {
      return next;
    }
  } while (conn.reader.HeadBuffered());  // pipelined: the next request is here already
  return Next::kArm;
}

Http1Server::Impl::Next Http1Server::Impl::Respond(Conn& conn, ProxyResponse& response,
                                                   const Reply& reply) {
  if (response.park) {
    ParkResponse(conn, std::move(response.park), reply);
    return Next::kParked;
  }
  bool open = WriteResponse(conn.fd, response, reply.head_only,
                            !reply.keep_alive || stopping.load(), reply.http10);
  Next next = open ? Next::kArm : Next::kClose;
  if (!response.after_send) return next;
  // The client's next request need not wait for what follows the answer
  // (the proxy seals its outcome): unless it is pipelined here already, the
  // connection goes back to the set first, and from then on is not touched.
  if (next == Next::kArm && !conn.reader.HeadBuffered()) {
    Arm(conn, true);
    next = Next::kArmed;
  }
  response.after_send();
  return next;
}

void Http1Server::Impl::ParkResponse(Conn& conn, std::shared_ptr<Park> park, const Reply& reply) {
  auto* p = new Parked{&conn, std::move(park), reply};  // Resume frees it
  {
    std::lock_guard<std::mutex> lock(parked_mu);
    parked.insert(p);
  }
  SweepBy(p->park->deadline_ns);
  // Last: from here on another worker may resume it.
  const int fd = p->park->fd;
  epoll_event ev{EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, {.u64 = reinterpret_cast<uintptr_t>(p) | 1}};
  HandOff(p);
  // A pooled upstream connection stays in the set between its requests
  // (disarmed), so re-arming it is the common case.
  if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev) == 0) return;
  if (errno == ENOENT && epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0) return;
  Resume(p);  // cannot wait in the set: the resumed handler waits in this worker
}

void Http1Server::Impl::Resume(Parked* raw) {
  std::unique_ptr<Parked> p(raw);
  bool timed_out;
  {
    std::lock_guard<std::mutex> lock(parked_mu);
    p->resumed = true;
    timed_out = p->timed_out;
  }
  ProxyResponse response;
  try {
    response = p->park->resume(timed_out);
  } catch (const std::exception& e) {
    response = on_error(p->reply.path, 500, e.what());
  }
  Conn& conn = *p->conn;
  Next next = Respond(conn, response, p->reply);
  if (next == Next::kArm && conn.reader.HeadBuffered()) next = ServeConnection(conn);
  Settle(conn, next);
  {
    std::lock_guard<std::mutex> lock(parked_mu);
    parked.erase(raw);
  }
  parked_cv.notify_all();
}

void Http1Server::Impl::Settle(Conn& conn, Next next) {
  if (next == Next::kArm) {
    Arm(conn, true);
  } else if (next == Next::kClose) {
    Close(conn);
  }
}

Http1Server::Impl::Arrival Http1Server::Impl::Gather(Conn& conn) {
  const int fd = conn.fd;
  auto outcome = [](ssize_t got) {
    if (got == 0) return Arrival::kClosed;
    return errno == EAGAIN || errno == EWOULDBLOCK ? Arrival::kPartial : Arrival::kClosed;
  };
  auto read_now = [fd](char* buf, size_t n) { return recv(fd, buf, n, MSG_DONTWAIT); };
  if (conn.pending && conn.pending->chunked) {  // through the buffer, decoded as it comes
    while (!BodyHere(conn, *conn.pending)) {
      ssize_t got = conn.reader.ReadAvailable(read_now);
      if (got > 0) {
        conn.idle_since_ns.store(NowNs());  // a body that progresses keeps its time
      } else if (got == 0 || errno != EINTR) {
        return outcome(got);
      }
    }
    return Arrival::kReady;
  }
  if (conn.pending) {  // the body: straight into the request, no buffer between
    std::string& body = conn.pending->req.body;
    const size_t length = conn.pending->length;
    while (body.size() < length) {
      const size_t at = body.size();
      const size_t want = std::min(length - at, kBodyStep);
      body.resize(at + want);
      ssize_t got = recv(fd, body.data() + at, want, MSG_DONTWAIT);
      body.resize(at + static_cast<size_t>(std::max<ssize_t>(got, 0)));
      if (got > 0) {
        conn.idle_since_ns.store(NowNs());  // a body that progresses keeps its time
      } else if (got == 0 || errno != EINTR) {
        return outcome(got);
      }
    }
    return Arrival::kReady;
  }
  while (!conn.reader.HeadBuffered()) {
    ssize_t got = conn.reader.ReadAvailable(read_now);
    if (got == 0 || (got < 0 && errno != EINTR)) return outcome(got);
  }
  return Arrival::kReady;
}

void Http1Server::Impl::Arm(Conn& conn, bool restart_clock) {
  if (restart_clock) conn.idle_since_ns.store(NowNs());
  conn.idle.store(true);
  const int fd = conn.fd;  // the last use of conn: another worker may take it
  epoll_event ev{EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, {.ptr = &conn}};
  HandOff(&conn);
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
}

void Http1Server::Impl::Close(Conn& conn) {
  std::unique_ptr<Conn> owned;
  std::lock_guard<std::mutex> lock(conns_mu);
  auto it = conns.find(&conn);
  owned = std::move(it->second);
  conns.erase(it);
}

Http1Server::Impl::Ready Http1Server::Impl::Taken(const epoll_event& ev) {
  if (ev.data.u64 & 1) {
    auto* resumed = reinterpret_cast<Parked*>(ev.data.u64 & ~uint64_t{1});
    TakeOver(resumed);
    return {nullptr, resumed};
  }
  auto* conn = static_cast<Conn*>(ev.data.ptr);
  if (conn == nullptr) return {};  // wake_fd: the workers are to exit
  TakeOver(conn);
  conn->idle.store(false);
  return {conn, nullptr};
}

void Http1Server::Impl::SweepBy(int64_t deadline_ns) {
  int64_t next = next_sweep_ns.load();
  while (deadline_ns < next) {
    if (next_sweep_ns.compare_exchange_weak(next, deadline_ns)) {
      itimerspec at{};
      at.it_value.tv_sec = deadline_ns / 1'000'000'000;
      at.it_value.tv_nsec = deadline_ns % 1'000'000'000;
      timerfd_settime(sweep_fd, TFD_TIMER_ABSTIME, &at, nullptr);
      return;
    }
  }
}

Http1Server::Impl::Ready Http1Server::Impl::NextReady() {
  for (;;) {
    int64_t now = NowNs();
    if (now >= next_sweep_ns.load(std::memory_order_relaxed)) {
      next_sweep_ns.store(now + SweepIntervalMs() * int64_t{1'000'000});
      SweepIdle();
      SweepBy(SweepParked(now));
    }
    epoll_event ev;
    int n = epoll_wait(epoll_fd, &ev, 1, 0);
    if (n == 1 && ev.data.u64 == kSweepTag) continue;  // due now: the top of the loop sweeps
    if (n == 1) return Taken(ev);
    {
      std::unique_lock<std::mutex> lock(lead_mu);
      if (workers_done) return {};
      if (leaders < max_leaders) {
        ++leaders;
      } else {
        Follower self;
        followers.push_back(&self);
        self.cv.wait(lock, [&] { return self.leads || workers_done; });
        if (!self.leads) return {};  // Serve took it off the stack
      }
    }
    const int64_t until_sweep_ms = (next_sweep_ns.load() - NowNs()) / 1'000'000 + 1;
    n = epoll_wait(epoll_fd, &ev, 1,
                   static_cast<int>(std::clamp<int64_t>(until_sweep_ms, 0, SweepIntervalMs())));
    {
      std::lock_guard<std::mutex> lock(lead_mu);
      if (leaders > 1 || followers.empty()) {
        --leaders;
      } else {  // the last leader: its place goes to a follower while this worker serves
        Follower* next = followers.back();
        followers.pop_back();
        next->leads = true;
        next->cv.notify_one();  // under the lock: the cv lives on next's stack
      }
    }
    if (n == 1 && ev.data.u64 != kSweepTag) return Taken(ev);
  }
}

int64_t Http1Server::Impl::SweepParked(int64_t now) {
  int64_t earliest = std::numeric_limits<int64_t>::max();
  std::lock_guard<std::mutex> lock(parked_mu);
  for (Parked* p : parked) {
    if (p->timed_out || p->resumed) continue;
    if (p->park->deadline_ns <= now) {
      p->timed_out = true;
      shutdown(p->park->fd, SHUT_RDWR);  // readable: a worker resumes it
    } else {
      earliest = std::min(earliest, p->park->deadline_ns);
    }
  }
  return earliest;
}

void Http1Server::Impl::SweepIdle() {
  const int64_t oldest = NowNs() - options.read_timeout_ms * int64_t{1'000'000};
  std::lock_guard<std::mutex> lock(conns_mu);
  for (const auto& [c, owned] : conns) {
    if (c->idle.load() && c->idle_since_ns.load() < oldest) shutdown(c->fd, SHUT_RDWR);
  }
}

bool Http1Server::Impl::MakeRoom() {
  const int64_t youngest = NowNs() - kMinIdleToEvictNs;
  std::lock_guard<std::mutex> lock(conns_mu);
  if (conns.size() < options.max_connections) return true;
  Conn* oldest = nullptr;
  for (const auto& [c, owned] : conns) {
    if (c->idle.load() && c->idle_since_ns.load() < youngest &&
        (oldest == nullptr || c->idle_since_ns.load() < oldest->idle_since_ns.load())) {
      oldest = c;
    }
  }
  if (oldest == nullptr) return false;
  // Its worker closes it when the hang-up arrives; not chosen twice meanwhile.
  oldest->idle_since_ns.store(std::numeric_limits<int64_t>::max());
  shutdown(oldest->fd, SHUT_RDWR);
  return true;
}

void Http1Server::Impl::Worker() {
  // A worker is spent on a request only once it is here, head and body
  // (Content-Length or chunked): a slow client holds a descriptor and a
  // buffer, no worker. Its head must be whole within the read timeout of the wait's
  // start; its body may take longer while it keeps coming.
  for (;;) {
    Ready ready = NextReady();
    if (ready.parked == nullptr && ready.conn == nullptr) return;
    busy.fetch_add(1);
    if (ready.parked != nullptr) {
      Resume(ready.parked);
    } else {
      Conn& conn = *ready.conn;
      switch (Gather(conn)) {
        case Arrival::kClosed:
          Close(conn);
          break;
        case Arrival::kPartial:
          Arm(conn, false);
          break;
        case Arrival::kReady:
          Settle(conn, ServeConnection(conn));
          break;
      }
    }
    busy.fetch_sub(1);
  }
}

Http1Server::Http1Server(Handler handler, ErrorResponder on_error, Http1ServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->on_error = std::move(on_error);
  impl_->options = options;
}

Http1Server::~Http1Server() {
  Stop();
  if (impl_->listen_fd >= 0) close(impl_->listen_fd);
}

Result<int> Http1Server::Bind(const std::string& host, int port) {
  auto fail = [&](const std::string& why) {
    return MakeError(ErrorCode::kConfig,
                     "cannot listen on " + host + ":" + std::to_string(port) + ": " + why);
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    return fail(gai_strerror(rc));
  }
  std::string why = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, kListenBacklog) == 0) {
      impl_->listen_fd = fd;
      break;
    }
    why = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  if (impl_->listen_fd < 0) return fail(why);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&bound), &len);
  return bound.ss_family == AF_INET6
             ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
             : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

void Http1Server::Impl::AcceptUntilStopped() {
  const timeval read_timeout{options.read_timeout_ms / 1000,
                             options.read_timeout_ms % 1000 * 1000};
  const timeval write_timeout{options.write_timeout_ms / 1000,
                              options.write_timeout_ms % 1000 * 1000};
  while (!stopping.load() && listen_fd >= 0) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // out of descriptors
        continue;
      }
      break;  // the listener was shut down by Stop()
    }
    if (!MakeRoom()) {  // every connection is busy or just served
      close(fd);
      continue;
    }
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &read_timeout, sizeof read_timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &write_timeout, sizeof write_timeout);
    auto conn = std::make_unique<Conn>(fd);
    Conn* c = conn.get();
    c->idle_since_ns.store(NowNs());
    {
      std::lock_guard<std::mutex> lock(conns_mu);
      conns.emplace(c, std::move(conn));
    }
    epoll_event ev{EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, {.ptr = c}};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }
  {  // parked responses are requests in flight: they are answered first,
     // and a handler still running may park one
    std::unique_lock<std::mutex> lock(parked_mu);
    while (!parked.empty() || busy.load() > 0) {
      parked_cv.wait_for(lock, std::chrono::milliseconds(10));
    }
  }
}

Status Http1Server::Serve() {
  Impl& s = *impl_;
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  s.max_leaders = static_cast<int>(s.options.leaders > 0 ? s.options.leaders : cores);
  s.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  s.wake_fd = eventfd(0, EFD_CLOEXEC);
  epoll_event wake{EPOLLIN, {.ptr = nullptr}};
  epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.wake_fd, &wake);
  s.sweep_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  epoll_event sweep{EPOLLIN | EPOLLET, {.u64 = kSweepTag}};
  epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.sweep_fd, &sweep);
  std::vector<std::thread> workers;
  workers.reserve(s.options.threads);
  Status started = Status::Ok();
  for (size_t i = 0; i < s.options.threads && started.ok(); ++i) {
    try {
      workers.emplace_back([&s] {
        pthread_setname_np(pthread_self(), "helm-http");
        s.Worker();
      });
    } catch (const std::system_error& e) {  // out of threads or memory for their stacks
      started = MakeError(ErrorCode::kUnavailable,
                          "cannot start worker thread " + std::to_string(i + 1) + " of " +
                              std::to_string(s.options.threads) + ": " + e.what());
    }
  }
  if (started.ok()) s.AcceptUntilStopped();
  {
    std::lock_guard<std::mutex> lock(s.lead_mu);
    s.workers_done = true;
    for (Impl::Follower* f : s.followers) f->cv.notify_one();
    s.followers.clear();
  }
  uint64_t one = 1;
  (void)!write(s.wake_fd, &one, sizeof one);
  for (std::thread& t : workers) t.join();
  {  // idle connections Stop shut down, not yet seen by a worker; Stop may
     // still be going through them
    std::lock_guard<std::mutex> lock(s.conns_mu);
    s.conns.clear();
  }
  close(s.epoll_fd);
  close(s.wake_fd);
  close(s.sweep_fd);
  return started;
}

void Http1Server::Stop() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  if (s.listen_fd >= 0) shutdown(s.listen_fd, SHUT_RDWR);  // wakes accept()
  std::lock_guard<std::mutex> lock(s.conns_mu);
  for (const auto& [c, owned] : s.conns) {
    if (c->idle.load()) shutdown(c->fd, SHUT_RD);
  }
}

}  // namespace helm::http
