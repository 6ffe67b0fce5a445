// The proxy's HTTP listener (DESIGN §7 "Proxy"): maps routes to protocols,
// converts requests for ProxyService and sends its responses, streaming
// included. Thread-safe; Stop() may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "core/proxy/proxy_service.h"

namespace helm {

class ProxyServer {
 public:
  ProxyServer(ProxyService* service, const Limits& limits);
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  Result<int> Bind(const std::string& host, int port);
  Status Serve();  // blocks until Stop(); see Http1Server::Serve
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace helm
