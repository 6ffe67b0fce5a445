// HttpUpstream against in-test servers on loopback ports chosen by the kernel:
// an httplib::Server for well-behaved answers, and a raw socket server for
// the misbehaviour httplib will not produce (never answering, stalling).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/provider/upstream.h"

namespace helm {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

int64_t MsSince(SteadyClock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - t).count();
}

// An httplib::Server on 127.0.0.1:<free port>, listening on its own thread.
class TestServer {
 public:
  TestServer() {
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(1000);
  }
  ~TestServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Server& server() { return server_; }
  // Call after registering handlers.
  std::string Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(milliseconds(1));
    return "http://127.0.0.1:" + std::to_string(port_);
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

// A listening socket on 127.0.0.1:<free port>. With `respond` empty it never
// accepts (the kernel completes the handshake, nobody answers); otherwise it
// accepts one connection, reads the request, writes `respond`, then stays
// silent until destroyed (or closes the connection, with close_after).
class RawServer {
 public:
  // After its answer the server keeps the connection open, closes its
  // sending side, or resets the connection.
  enum class After { kStayOpen, kClose, kReset };
  explicit RawServer(std::string respond, After after = After::kStayOpen)
      : respond_(std::move(respond)), after_(after) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (!respond_.empty()) thread_ = std::thread([this] { Serve(); });
  }
  ~RawServer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Refuses new connections from now on; the one accepted stays as it is.
  void StopListening() {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  void Serve() {
    int conn = ::accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    char buf[4096];
    (void)::recv(conn, buf, sizeof(buf), 0);
    (void)::send(conn, respond_.data(), respond_.size(), MSG_NOSIGNAL);
    if (after_ == After::kClose) ::shutdown(conn, SHUT_WR);
    if (after_ == After::kReset) {
      linger reset{1, 0};  // close() sends RST
      ::setsockopt(conn, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      ::close(conn);
      return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    ::close(conn);
  }

  std::string respond_;
  After after_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

struct Captured {
  UpstreamResult result;
  UpstreamHead head;
  std::vector<std::string> chunks;
  std::string body() const {
    std::string b;
    for (const auto& c : chunks) b += c;
    return b;
  }
  // Callbacks that record the head and the body's chunks here.
  std::function<bool(const UpstreamHead&)> OnHead() {
    return [this](const UpstreamHead& h) {
      head = h;
      return true;
    };
  }
  std::function<bool(std::string_view)> OnData() {
    return [this](std::string_view d) {
      chunks.emplace_back(d);
      return true;
    };
  }
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : head.headers) {
      if (k == name) return v;
    }
    return "";
  }
};

UpstreamRequest ChatRequest() {
  UpstreamRequest req;
  req.path = "/v1/chat/completions";
  req.headers = {{"Authorization", "Bearer sk-test"}};
  req.body = R"({"model":"m","messages":[]})";
  return req;
}

Captured Call(Upstream& up, const UpstreamRequest& req = ChatRequest(),
              DispatchGate* gate = nullptr) {
  Captured c;
  c.result = up.Send(req, gate, c.OnHead(), c.OnData());
  return c;
}

std::unique_ptr<Upstream> Make(const std::string& url, UpstreamOptions options = {}) {
  auto up = MakeUpstream(url, options);
  REQUIRE_MESSAGE(up.ok(), url);
  return std::move(up).value();
}

int FreePort() {
  RawServer s("");
  return std::stoi(s.url().substr(s.url().rfind(':') + 1));
}

TEST_CASE("http upstream: JSON answer, base path, headers both ways") {
  TestServer ts;
  std::mutex mu;  // the server's thread writes what it saw, this one reads it
  std::string seen_auth, seen_encoding, seen_body;
  ts.server().Post("/base/v1/chat/completions",
                   [&](const httplib::Request& req, httplib::Response& res) {
                     std::lock_guard<std::mutex> lock(mu);
                     seen_auth = req.get_header_value("Authorization");
                     seen_encoding = req.get_header_value("Accept-Encoding");
                     seen_body = req.body;
                     res.set_header("X-Upstream", "yes");
                     res.set_content(R"({"ok":true})", "application/json");
                   });
  std::string url = ts.Start();
  auto up = Make(url + "/base/");
  Captured c = Call(*up);
  CHECK(c.result.fault == UpstreamFault::kNone);
  CHECK(c.head.status == 200);
  CHECK(c.header("content-type") == "application/json");
  CHECK(c.header("x-upstream") == "yes");
  CHECK(c.header("connection").empty());  // hop-by-hop headers are dropped
  CHECK(c.body() == R"({"ok":true})");
  std::lock_guard<std::mutex> lock(mu);
  CHECK(seen_auth == "Bearer sk-test");
  CHECK(seen_encoding == "identity");
  CHECK(seen_body == ChatRequest().body);
  CHECK(c.result.first_byte_us > 0);
  CHECK(up->url() == url + "/base/");
}

TEST_CASE("http upstream: an error status is delivered, not a fault") {
  TestServer ts;
  ts.server().Post("/v1/chat/completions", [](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_header("Retry-After", "3");
    res.set_content(R"({"error":{"message":"busy"}})", "application/json");
  });
  auto up = Make(ts.Start());
  Captured c = Call(*up);
  CHECK(c.result.fault == UpstreamFault::kNone);
  CHECK(c.head.status == 503);
  CHECK(c.header("retry-after") == "3");
  CHECK(c.body() == R"({"error":{"message":"busy"}})");
}

// A chunked SSE answer: `count` events, `gap_ms` apart.
void StreamingHandler(httplib::Server& server, int count, int gap_ms,
                      std::atomic<int64_t>* finished_ns) {
  server.Post("/v1/chat/completions", [=](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [=](size_t, httplib::DataSink& sink) {
      for (int i = 0; i < count; ++i) {
        std::string frame = "data: {\"i\":" + std::to_string(i) + "}\n\n";
        if (!sink.write(frame.data(), frame.size())) return false;
        std::this_thread::sleep_for(milliseconds(gap_ms));
      }
      if (finished_ns) finished_ns->store(SteadyClock::now().time_since_epoch().count());
      sink.done();
      return true;
    });
  });
}

TEST_CASE("http upstream: a stream is delivered as it arrives") {
  TestServer ts;
  std::atomic<int64_t> finished_ns{0};
  StreamingHandler(ts.server(), 5, 80, &finished_ns);
  auto up = Make(ts.Start());
  int64_t first_chunk_ns = 0;
  std::string body;
  int calls = 0;
  UpstreamResult r = up->Send(
      ChatRequest(), nullptr, [](const UpstreamHead& h) { return h.status == 200; },
      [&](std::string_view d) {
        if (calls++ == 0) first_chunk_ns = SteadyClock::now().time_since_epoch().count();
        body.append(d);
        return true;
      });
  CHECK(r.fault == UpstreamFault::kNone);
  CHECK(calls > 1);
  REQUIRE(finished_ns.load() != 0);
  CHECK(first_chunk_ns < finished_ns.load());
  CHECK(body.find("data: {\"i\":4}\n\n") != std::string::npos);
}

TEST_CASE("http upstream: connection refused is kConnect") {
  auto up = Make("http://127.0.0.1:" + std::to_string(FreePort()));
  Captured c = Call(*up);
  CHECK(c.result.fault == UpstreamFault::kConnect);
  CHECK(c.head.status == 0);
}

TEST_CASE("http upstream: no whole head within the first-byte timeout is kFirstByteTimeout") {
  RawServer silent("");
  RawServer partial("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n");
  std::string url = silent.url();
  UpstreamOptions o;
  o.first_byte_timeout_ms = 300;
  o.idle_timeout_ms = 300;
  SUBCASE("equal timeouts") {}
  SUBCASE("first byte shorter than idle") {
    o.first_byte_timeout_ms = 200;
    o.idle_timeout_ms = 10000;
  }
  SUBCASE("a head that comes in pieces") { url = partial.url(); }
  auto up = Make(url, o);
  auto start = SteadyClock::now();
  Captured c = Call(*up);
  CHECK(c.result.fault == UpstreamFault::kFirstByteTimeout);
  CHECK(c.head.status == 0);
  CHECK(MsSince(start) >= o.first_byte_timeout_ms - 10);
  CHECK(MsSince(start) < 3000);
}

const char kHeadThenStall[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    "9\r\ndata: x\n\n\r\n";

TEST_CASE("http upstream: a head then silence is kIdleTimeout") {
  RawServer stall(kHeadThenStall);
  UpstreamOptions o;
  SUBCASE("equal timeouts") {
    o.first_byte_timeout_ms = 300;
    o.idle_timeout_ms = 300;
  }
  SUBCASE("idle shorter than first byte") {
    o.first_byte_timeout_ms = 10000;
    o.idle_timeout_ms = 200;
  }
  auto up = Make(stall.url(), o);
  auto start = SteadyClock::now();
  Captured c = Call(*up);
  CHECK(c.result.fault == UpstreamFault::kIdleTimeout);
  CHECK(c.head.status == 200);
  CHECK(c.body() == "data: x\n\n");
  CHECK(MsSince(start) < 3000);
}

TEST_CASE("http upstream: interim 1xx answers are skipped") {
  RawServer server(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok");
  auto up = Make(server.url());
  Captured c = Call(*up);
  CHECK(c.result.fault == UpstreamFault::kNone);
  CHECK(c.head.status == 200);
  CHECK(c.header("x-a") == "b");
  CHECK(c.body() == "ok");
}

TEST_CASE("http upstream: a body without length or chunks ends with the connection") {
  RawServer server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end",
                   RawServer::After::kClose);
  auto up = Make(server.url());
  Captured c = Call(*up);
  CHECK(c.result.fault == UpstreamFault::kNone);
  CHECK(c.body() == "until the end");
  CHECK(c.header("connection").empty());  // hop-by-hop
}

TEST_CASE("http upstream: such a body cut by a reset is kBroken, not a shorter answer") {
  RawServer server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"id\":\"cut", RawServer::After::kReset);
  auto up = Make(server.url());
  CHECK(Call(*up).result.fault == UpstreamFault::kBroken);
}

TEST_CASE("http upstream: a malformed answer is kBroken") {
  for (const char* answer : {"NOT HTTP\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    CAPTURE(answer);
    RawServer server(answer, RawServer::After::kClose);
    auto up = Make(server.url());
    CHECK(Call(*up).result.fault == UpstreamFault::kBroken);
  }
}

TEST_CASE("http upstream: a stream cut mid-body is kBroken") {
  TestServer ts;
  ts.server().Post("/v1/chat/completions", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/event-stream", [](size_t, httplib::DataSink& sink) {
      std::string frame = "data: {}\n\n";
      sink.write(frame.data(), frame.size());
      return false;  // abort: the server closes without the last chunk
    });
  });
  UpstreamOptions o;
  o.first_byte_timeout_ms = 5000;
  o.idle_timeout_ms = 5000;
  auto up = Make(ts.Start(), o);
  auto start = SteadyClock::now();
  Captured c = Call(*up);
  CHECK(c.result.fault == UpstreamFault::kBroken);
  CHECK(MsSince(start) < 2000);
}

TEST_CASE("http upstream: returning false from on_data is kCancelled") {
  TestServer ts;
  StreamingHandler(ts.server(), 10, 30, nullptr);
  auto up = Make(ts.Start());
  int calls = 0;
  UpstreamResult r = up->Send(
      ChatRequest(), nullptr, [](const UpstreamHead&) { return true; },
      [&](std::string_view) { return ++calls < 1; });
  CHECK(r.fault == UpstreamFault::kCancelled);
  CHECK(calls == 1);
  // The upstream is still usable afterwards (the cancelled client was dropped).
  Captured c = Call(*up);
  CHECK(c.result.fault == UpstreamFault::kNone);
}

TEST_CASE("http upstream: returning false from on_head is kCancelled") {
  TestServer ts;
  StreamingHandler(ts.server(), 2, 1, nullptr);
  auto up = Make(ts.Start());
  bool data_called = false;
  UpstreamResult r = up->Send(
      ChatRequest(), nullptr, [](const UpstreamHead&) { return false; },
      [&](std::string_view) { return data_called = true; });
  CHECK(r.fault == UpstreamFault::kCancelled);
  CHECK_FALSE(data_called);
}

TEST_CASE("http upstream: sequential requests reuse one keep-alive connection") {
  TestServer ts;
  std::mutex mu;
  std::set<int> client_ports;
  ts.server().Post("/v1/chat/completions",
                   [&](const httplib::Request& req, httplib::Response& res) {
                     {
                       std::lock_guard<std::mutex> lock(mu);
                       client_ports.insert(req.remote_port);
                     }
                     res.set_content("{}", "application/json");
                   });
  auto up = Make(ts.Start());
  for (int i = 0; i < 20; ++i) {
    Captured c = Call(*up);
    REQUIRE(c.result.fault == UpstreamFault::kNone);
  }
  std::lock_guard<std::mutex> lock(mu);
  CHECK(client_ports.size() == 1);
}

// Regression: only the last Connection field line counted, so "close" then
// "keep-alive" put a connection the server was about to close in the pool.
TEST_CASE("http upstream: a connection any Connection field closes is not reused") {
  RawServer server(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
      "Connection: keep-alive\r\n\r\n{}");
  UpstreamOptions options;
  options.first_byte_timeout_ms = 2000;
  auto up = Make(server.url(), options);
  Captured first = Call(*up);
  REQUIRE(first.result.fault == UpstreamFault::kNone);
  CHECK(first.body() == "{}");
  // The answered connection is still open; reused, it would never answer.
  server.StopListening();
  CHECK(Call(*up).result.fault == UpstreamFault::kConnect);
}

// Regression: an HTTP/1.0 answer with Transfer-Encoding was decoded as
// chunked, and its connection pooled, though a peer in between may frame it
// otherwise (RFC 9112 §6.1: faulty framing, close after it).
TEST_CASE("http upstream: an HTTP/1.0 answer with Transfer-Encoding is kBroken, not reused") {
  RawServer server(
      "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
      "2\r\n{}\r\n0\r\n\r\n");
  UpstreamOptions options;
  options.first_byte_timeout_ms = 2000;
  auto up = Make(server.url(), options);
  Captured first = Call(*up);
  CHECK(first.result.fault == UpstreamFault::kBroken);
  CHECK(first.result.detail == "malformed response framing");
  CHECK(first.chunks.empty());
  // Pooled, the connection would never answer again.
  server.StopListening();
  CHECK(Call(*up).result.fault == UpstreamFault::kConnect);
}

TEST_CASE("http upstream: concurrent requests use at most one connection each") {
  TestServer ts;
  std::mutex mu;
  std::set<int> client_ports;
  ts.server().Post("/v1/chat/completions",
                   [&](const httplib::Request& req, httplib::Response& res) {
                     {
                       std::lock_guard<std::mutex> lock(mu);
                       client_ports.insert(req.remote_port);
                     }
                     std::this_thread::sleep_for(milliseconds(5));
                     res.set_content("{}", "application/json");
                   });
  auto up = Make(ts.Start());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (Call(*up).result.fault != UpstreamFault::kNone) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures.load() == 0);
  std::lock_guard<std::mutex> lock(mu);
  CHECK(client_ports.size() <= 4);
  CHECK(client_ports.size() >= 1);
}

// A server that records when each request arrived and from which port.
struct RecordingServer {
  TestServer ts;
  std::mutex mu;
  std::vector<std::pair<SteadyClock::time_point, int>> seen;  // arrival, client port
  std::string url;

  RecordingServer() {
    ts.server().Post("/v1/chat/completions",
                     [this](const httplib::Request& req, httplib::Response& res) {
                       {
                         std::lock_guard<std::mutex> lock(mu);
                         seen.emplace_back(SteadyClock::now(), req.remote_port);
                       }
                       res.set_content(R"({"ok":true})", "application/json");
                     });
    url = ts.Start();
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return seen.size();
  }
  std::pair<SteadyClock::time_point, int> at(size_t i) {
    std::lock_guard<std::mutex> lock(mu);
    return seen.at(i);
  }
};

// Call with a gate that another thread opens with `status` after `delay`;
// *opened (when given) is the time it did.
Captured CallGated(Upstream& up, const UpstreamRequest& req, const Status& status,
                   milliseconds delay, SteadyClock::time_point* opened = nullptr) {
  DispatchGate gate;
  std::thread opener([&] {
    std::this_thread::sleep_for(delay);
    if (opened != nullptr) *opened = SteadyClock::now();
    gate.Open(status);
  });
  Captured c = Call(up, req, &gate);
  opener.join();
  return c;
}

TEST_CASE("http upstream: a gated request leaves only once its gate opens") {
  RecordingServer rs;
  auto up = Make(rs.url);
  REQUIRE(Call(*up).result.fault == UpstreamFault::kNone);  // an idle connection in the pool

  SUBCASE("small, on the idle connection: written by the opening thread") {
    SteadyClock::time_point opened;
    Captured c = CallGated(*up, ChatRequest(), Status::Ok(), milliseconds(150), &opened);
    CHECK(c.result.fault == UpstreamFault::kNone);
    CHECK(c.body() == R"({"ok":true})");
    REQUIRE(rs.count() == 2);
    CHECK(rs.at(1).first >= opened);
    CHECK(rs.at(1).second == rs.at(0).second);  // the pooled connection
  }
  SUBCASE("larger than a hand-off: waits for the gate, then writes") {
    UpstreamRequest big = ChatRequest();
    big.body = R"({"model":"m","messages":[],"pad":")" + std::string(20000, 'x') + "\"}";
    SteadyClock::time_point opened;
    Captured c = CallGated(*up, big, Status::Ok(), milliseconds(150), &opened);
    CHECK(c.result.fault == UpstreamFault::kNone);
    REQUIRE(rs.count() == 2);
    CHECK(rs.at(1).first >= opened);
  }
  SUBCASE("an open gate sends at once") {
    DispatchGate gate;
    gate.Open(Status::Ok());
    CHECK(Call(*up, ChatRequest(), &gate).result.fault == UpstreamFault::kNone);
    CHECK(rs.count() == 2);
  }
}

TEST_CASE("http upstream: a gate that opens with a failure sends nothing") {
  RecordingServer rs;
  auto up = Make(rs.url);
  const Status failed = MakeError(ErrorCode::kUnavailable, "ledger write: disk full");
  size_t answered = 0;  // requests the server saw before the gated one

  SUBCASE("no idle connection: none is opened") {
    Captured c = CallGated(*up, ChatRequest(), failed, milliseconds(50));
    CHECK(c.result.fault == UpstreamFault::kNotSent);
    CHECK(c.result.detail.find("disk full") != std::string::npos);
  }
  SUBCASE("handed off on an idle connection: the connection is shut, not reused") {
    REQUIRE(Call(*up).result.fault == UpstreamFault::kNone);
    answered = 1;
    Captured c = CallGated(*up, ChatRequest(), failed, milliseconds(50));
    CHECK(c.result.fault == UpstreamFault::kNotSent);
    CHECK(c.head.status == 0);
  }
  std::this_thread::sleep_for(milliseconds(50));  // anything sent would have arrived
  CHECK(rs.count() == answered);
  CHECK(Call(*up).result.fault == UpstreamFault::kNone);  // the upstream is still usable
  CHECK(rs.count() == answered + 1);
}

// Waits up to 2 s for fd to become readable.
bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 2000) == 1;
}

TEST_CASE("http upstream: a started request is answered once its socket is readable") {
  RecordingServer rs;
  auto up = Make(rs.url);
  DispatchGate gate;
  UpstreamRequest req = ChatRequest();
  // No idle connection yet: not started, the request left as it was.
  CHECK(up->Start(req, &gate) == nullptr);
  CHECK(req.body == ChatRequest().body);
  REQUIRE(Call(*up).result.fault == UpstreamFault::kNone);  // now one is pooled
  CHECK(up->Start(req, nullptr) == nullptr);  // no gate: Send's business
  std::unique_ptr<StartedSend> started = up->Start(req, &gate);
  REQUIRE(started != nullptr);
  CHECK(started->deadline_ns > 0);
  std::this_thread::sleep_for(milliseconds(50));
  CHECK(rs.count() == 1);  // held back by the gate
  gate.Open(Status::Ok());
  REQUIRE(Readable(started->fd));
  Captured c;
  c.result = started->finish(false, c.OnHead(), c.OnData());
  CHECK(c.result.fault == UpstreamFault::kNone);
  CHECK(c.head.status == 200);
  CHECK(c.body() == R"({"ok":true})");
  CHECK(rs.count() == 2);
  CHECK(Call(*up).result.fault == UpstreamFault::kNone);  // the connection went back to the pool
  CHECK(rs.at(2).second == rs.at(0).second);
}

TEST_CASE("http upstream: a started request whose gate fails wakes its reader, sends nothing") {
  RecordingServer rs;
  auto up = Make(rs.url);
  REQUIRE(Call(*up).result.fault == UpstreamFault::kNone);
  DispatchGate gate;
  UpstreamRequest req = ChatRequest();
  std::unique_ptr<StartedSend> started = up->Start(req, &gate);
  REQUIRE(started != nullptr);
  gate.Open(MakeError(ErrorCode::kUnavailable, "ledger write: disk full"));
  REQUIRE(Readable(started->fd));
  UpstreamResult r = started->finish(
      false, [](const UpstreamHead&) { return true; }, [](std::string_view) { return true; });
  CHECK(r.fault == UpstreamFault::kNotSent);
  CHECK(r.detail.find("disk full") != std::string::npos);
  std::this_thread::sleep_for(milliseconds(50));
  CHECK(rs.count() == 1);
}

TEST_CASE("http upstream: a started request past its caller's deadline is kFirstByteTimeout") {
  TestServer ts;
  std::atomic<int> calls{0};
  ts.server().Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) {
    if (calls++ == 1) std::this_thread::sleep_for(milliseconds(300));  // the started one
    res.set_content("{}", "application/json");
  });
  auto up = Make(ts.Start());
  REQUIRE(Call(*up).result.fault == UpstreamFault::kNone);
  DispatchGate gate;
  gate.Open(Status::Ok());
  UpstreamRequest req = ChatRequest();
  std::unique_ptr<StartedSend> started = up->Start(req, &gate);
  REQUIRE(started != nullptr);
  ::shutdown(started->fd, SHUT_RDWR);  // what the server's sweep does at the deadline
  UpstreamResult r = started->finish(
      true, [](const UpstreamHead&) { return true; }, [](std::string_view) { return true; });
  CHECK(r.fault == UpstreamFault::kFirstByteTimeout);
}

TEST_CASE("http upstream: bad URLs and request values are refused") {
  CHECK(MakeUpstream("http://", {}).error().code == ErrorCode::kConfig);
  CHECK(MakeUpstream("http://user:pw@host", {}).error().code == ErrorCode::kConfig);
  CHECK(MakeUpstream("http://host/p?q=1", {}).error().code == ErrorCode::kConfig);
  CHECK(MakeUpstream("https://api.openai.com/v1", {}).ok());  // TLS is built in

  TestServer ts;
  bool reached = false;
  ts.server().Post(".*", [&](const httplib::Request&, httplib::Response&) { reached = true; });
  auto up = Make(ts.Start());
  UpstreamRequest injected = ChatRequest();
  injected.headers.emplace_back("X-Test", "a\r\nAuthorization: Bearer stolen");
  CHECK(Call(*up, injected).result.fault == UpstreamFault::kBroken);
  UpstreamRequest bad_path = ChatRequest();
  bad_path.path = "/v1/chat completions";
  CHECK(Call(*up, bad_path).result.fault == UpstreamFault::kBroken);
  CHECK_FALSE(reached);
}

}  // namespace
}  // namespace helm
