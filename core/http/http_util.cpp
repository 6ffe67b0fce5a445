#include "core/http/http_util.h"

namespace helm::http {
namespace {

constexpr int kListenBacklog = 1024;

}  // namespace

void ConfigureServer(httplib::Server& server, const Limits& limits) {
  size_t threads = limits.server_threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(1000000);
  server.set_keep_alive_timeout(30);
  server.set_read_timeout(30, 0);
  server.set_write_timeout(30, 0);
  server.set_payload_max_length(limits.max_body_bytes);
}

void SendJson(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(DumpJson(body), "application/json");
}

void SendAdminError(httplib::Response& res, int status, std::string_view code,
                    std::string_view message) {
  SendJson(res, status, {{"error", {{"code", code}, {"message", message}}}});
}

int Bind(httplib::Server& server, const std::string& host, int port) {
  // cpp-httplib listens with a backlog of 5, which overflows when many clients
  // connect at once (their SYNs are retried after a second or more). Capture
  // the listening socket and listen again with a real backlog.
  auto listener = std::make_shared<int>(-1);
  server.set_socket_options([listener](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    *listener = sock;
  });
  int bound = port == 0 ? server.bind_to_any_port(host)
                        : (server.bind_to_port(host, port) ? port : -1);
  if (bound >= 0 && *listener >= 0) ::listen(*listener, kListenBacklog);
  return bound;
}

}  // namespace helm::http
