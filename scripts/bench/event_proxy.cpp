// A measuring stick for an event-driven data plane (docs/performance.md,
// "What an event-driven data plane saves"): bare_proxy's work per request —
// read a POST, make NSIGN Ed25519 signatures over its body, forward it over a
// keep-alive upstream connection, answer with the upstream's body — done by
// one epoll loop per thread on non-blocking sockets instead of a blocking
// thread per connection. The difference between the two, in CPU and kernel
// time per request, is what the thread switches of the blocking shape cost.
//
// usage: event_proxy NSIGN LISTEN_PORT UPSTREAM_PORT [THREADS]
// Minimal HTTP/1.1: Content-Length bodies only, one request in flight per
// connection (what wrk and the benchmark send). Not a server for anything else.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

unsigned char g_sk[crypto_sign_SECRETKEYBYTES];
int g_nsign = 2;
int g_upstream_port = 18080;

struct Conn;
struct Side {  // what an epoll event points at: one socket of a connection pair
  Conn* conn;
  bool upstream;
};

struct Conn {
  int client = -1;
  int upstream = -1;
  Side client_side{this, false};
  Side upstream_side{this, true};
  std::string in;   // bytes read from the client, not yet a whole request
  std::string up;   // bytes read from the upstream, not yet a whole response
};

void SetNoDelay(int fd) {
  int yes = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
}

// The length of a whole message at the front of buf (head + Content-Length
// body), or 0 while it is incomplete. body_at receives the body's offset.
size_t WholeMessage(const std::string& buf, size_t* body_at) {
  size_t end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  size_t length = 0;
  std::string_view head(buf.data(), end);
  for (size_t at = head.find("\r\n"); at != std::string_view::npos;
       at = head.find("\r\n", at + 2)) {
    std::string_view line = head.substr(at + 2, head.find("\r\n", at + 2) - at - 2);
    if (line.size() > 15 && strncasecmp(line.data(), "content-length:", 15) == 0) {
      length = std::strtoul(std::string(line.substr(15)).c_str(), nullptr, 10);
    }
  }
  *body_at = end + 4;
  return buf.size() >= end + 4 + length ? end + 4 + length : 0;
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      continue;  // loopback buffers hold these messages; a full one only spins briefly
    } else {
      return false;
    }
  }
  return true;
}

// Closes both sockets; the Conn is freed after the current batch of events,
// which may still name it.
void Close(Conn* c, std::vector<Conn*>* closed) {
  if (c->upstream >= 0) close(c->upstream);
  close(c->client);
  c->client = -1;
  closed->push_back(c);
}

// Reads what is there; false when the peer closed or failed.
bool ReadInto(int fd, std::string* buf) {
  char chunk[16384];
  for (;;) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      buf->append(chunk, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof chunk) return true;
    } else if (n == 0) {
      return false;
    } else {
      return errno == EAGAIN || errno == EINTR;
    }
  }
}

bool ConnectUpstream(int ep, Conn* c) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(g_upstream_port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return false;
  }
  SetNoDelay(fd);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  c->upstream = fd;
  epoll_event ev{EPOLLIN, {.ptr = &c->upstream_side}};
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool OnClient(int ep, Conn* c) {
  if (!ReadInto(c->client, &c->in)) return false;
  size_t body_at = 0;
  size_t whole = WholeMessage(c->in, &body_at);
  if (whole == 0) return true;
  std::string_view body(c->in.data() + body_at, whole - body_at);
  unsigned char sig[crypto_sign_BYTES];
  for (int i = 0; i < g_nsign; ++i) {
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(body.data()),
                         body.size(), g_sk);
  }
  if (c->upstream < 0 && !ConnectUpstream(ep, c)) return false;
  std::string out = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Content-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n";
  out.append(body);
  c->in.erase(0, whole);
  return SendAll(c->upstream, out);
}

bool OnUpstream(Conn* c) {
  if (!ReadInto(c->upstream, &c->up)) return false;
  size_t body_at = 0;
  size_t whole = WholeMessage(c->up, &body_at);
  if (whole == 0) return true;
  std::string out = "HTTP/1.1 " + c->up.substr(9, 3) +
                    " OK\r\nContent-Type: application/json\r\nX-Helm-Status: ALLOW\r\n"
                    "Content-Length: " + std::to_string(whole - body_at) + "\r\n\r\n";
  out.append(c->up, body_at, whole - body_at);
  c->up.erase(0, whole);
  return SendAll(c->client, out);
}

void Loop(int port) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int yes = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listener, 1024) != 0) {
    std::perror("event_proxy: listen");
    std::exit(1);
  }
  int ep = epoll_create1(0);
  epoll_event lev{EPOLLIN, {.ptr = nullptr}};
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &lev);
  std::vector<epoll_event> events(256);
  std::vector<Conn*> closed;
  for (;;) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    for (int i = 0; i < n; ++i) {
      auto* side = static_cast<Side*>(events[i].data.ptr);
      if (side == nullptr) {
        for (int fd; (fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
          SetNoDelay(fd);
          auto* c = new Conn;
          c->client = fd;
          epoll_event ev{EPOLLIN, {.ptr = &c->client_side}};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      Conn* c = side->conn;
      if (c->client < 0) continue;
      if (!(side->upstream ? OnUpstream(c) : OnClient(ep, c))) Close(c, &closed);
    }
    for (Conn* c : closed) delete c;
    closed.clear();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  g_nsign = argc > 1 ? std::atoi(argv[1]) : 2;
  int port = argc > 2 ? std::atoi(argv[2]) : 19090;
  g_upstream_port = argc > 3 ? std::atoi(argv[3]) : 18080;
  int threads = argc > 4 ? std::atoi(argv[4]) : 2;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_keypair(pk, g_sk);
  std::vector<std::thread> loops;
  for (int i = 0; i < threads; ++i) loops.emplace_back(Loop, port);
  for (auto& t : loops) t.join();
}
