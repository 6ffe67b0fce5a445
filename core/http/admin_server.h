// The boundary's HTTP API (DESIGN §7): evaluate, seal, receipts (list, get,
// SSE tail), checkpoint, approvals, keys, policy reload, health, version,
// metrics. Served by `helm serve` and, on --admin-port, by an embedded
// `helm proxy`. Every route but /healthz requires the admin token.
// Thread-safe; Stop() may be called from any thread (e.g. a signal watcher).
#pragma once

#include <memory>
#include <string>

#include "core/boundary/local_boundary.h"

namespace helm {

class AdminServer {
 public:
  AdminServer(LocalBoundary* boundary, const Limits& limits);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds host:port (0 = any free port); returns the port or an error.
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop(). Blocks.
  void Serve();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace helm
