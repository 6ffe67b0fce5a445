#include "core/http/client_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

namespace helm::http {
namespace {

constexpr int kMaxScannedFds = 65536;

bool SameEndpoint(const sockaddr_storage& a, const std::string& addr, int port) {
  char text[INET6_ADDRSTRLEN] = {0};
  int p = -1;
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    p = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    p = ntohs(v6->sin6_port);
  } else {
    return false;
  }
  return p == port && addr == text;
}

// Whether fd is the connected socket local_addr:local_port <-> remote_addr:remote_port.
bool IsSocket(int fd, const std::string& local_addr, int local_port, const std::string& remote_addr,
              int remote_port) {
  sockaddr_storage peer{}, self{};
  socklen_t len = sizeof peer;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return false;
  if (!SameEndpoint(peer, remote_addr, remote_port)) return false;
  len = sizeof self;
  return getsockname(fd, reinterpret_cast<sockaddr*>(&self), &len) == 0 &&
         SameEndpoint(self, local_addr, local_port);
}

int FindSocket(const std::string& local_addr, int local_port, const std::string& remote_addr,
               int remote_port) {
  rlimit lim{};
  int max_fd = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < kMaxScannedFds
                   ? static_cast<int>(lim.rlim_cur)
                   : kMaxScannedFds;
  for (int fd = 3; fd < max_fd; ++fd) {
    if (IsSocket(fd, local_addr, local_port, remote_addr, remote_port)) return fd;
  }
  return -1;
}

// A server worker thread holds one connection for its keep-alive life, so
// the socket found for the previous request on this thread is almost always
// this request's too: confirm it with two calls instead of scanning every fd.
int CachedSocket(const std::string& local_addr, int local_port, const std::string& remote_addr,
                 int remote_port) {
  struct Last {
    std::string local_addr, remote_addr;
    int local_port = -1, remote_port = -1, fd = -1;
  };
  thread_local Last last;
  if (last.fd >= 0 && last.local_port == local_port && last.remote_port == remote_port &&
      last.local_addr == local_addr && last.remote_addr == remote_addr &&
      IsSocket(last.fd, local_addr, local_port, remote_addr, remote_port)) {
    return last.fd;
  }
  last = Last{local_addr, remote_addr, local_port, remote_port,
              FindSocket(local_addr, local_port, remote_addr, remote_port)};
  return last.fd;
}

}  // namespace

std::function<bool()> MakeClientProbe(std::string local_addr, int local_port,
                                      std::string remote_addr, int remote_port) {
  auto fd = std::make_shared<int>(-2);  // -2: not looked up yet; -1: not found
  return [=] {
    if (*fd == -2) *fd = CachedSocket(local_addr, local_port, remote_addr, remote_port);
    if (*fd < 0) return true;
    pollfd p{*fd, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0) return true;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return false;
    char c;  // readable: pipelined bytes, or an orderly close (recv returns 0)
    return recv(*fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 0;
  };
}

}  // namespace helm::http
