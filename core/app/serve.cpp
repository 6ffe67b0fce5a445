// `helm serve`: the boundary server.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "core/app/commands.h"
#include "core/app/startup.h"
#include "core/http/admin_server.h"

namespace helm::app {

int RunServe(const ServeOptions& o) {
  BlockServerSignals();  // before any thread starts, so only the watcher sees them
  RaiseDescriptorLimit("helm serve", kDescriptorsBesideClients + o.boundary.limits.server_threads);
  auto boundary = OpenBoundaryOrReport(o.boundary);
  if (!boundary) return kExitConfig;
  AdminServer server(boundary.get(), o.boundary.limits);
  auto port = server.Bind(o.bind, o.port);
  if (!port.ok()) {
    std::cerr << "helm serve: " << port.error().message << "\n";
    return kExitConfig;
  }
  std::cerr << "helm serve: boundary listening on http://" << o.bind << ":" << *port << std::endl;
  SignalWatcher watcher([&] { ReloadAndReport(boundary.get()); }, [&server] { server.Stop(); });
  server.Serve();
  return kExitOk;
}

}  // namespace helm::app
