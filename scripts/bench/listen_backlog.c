/* LD_PRELOAD shim for benchmarks: raise every listen() backlog to
 * LISTEN_BACKLOG (default 1024). cpp-httplib 0.11.4 listens with a backlog
 * of 5, so when wrk opens 64 connections at once some handshakes overflow the
 * accept queue and wait ~1-3 s for a retransmission; that lands in p99 and
 * hides the request path. scripts/bench-proxy.sh preloads this into
 * bare_proxy and helm alike (not nginx, which asks for 511 itself). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

int listen(int fd, int backlog) {
  static int (*real_listen)(int, int);
  if (!real_listen) real_listen = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
  const char* env = getenv("LISTEN_BACKLOG");
  int wanted = env ? atoi(env) : 1024;
  return real_listen(fd, backlog < wanted ? wanted : backlog);
}
