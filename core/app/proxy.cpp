// `helm proxy`: the data plane, with the boundary embedded (--policy) or
// remote (--boundary URL).
#include <iostream>
#include <thread>

#include "core/app/commands.h"
#include "core/app/startup.h"
#include "core/http/admin_server.h"
#include "core/http/proxy_server.h"
#include "core/http/remote_boundary.h"

namespace helm::app {
namespace {

// Serves the proxy until a signal stops it; returns the exit code.
int ServeProxy(const ProxyCommandOptions& o, std::unique_ptr<Upstream> upstream,
               Boundary* boundary, AdminServer* admin, LocalBoundary* local) {
  ProxyOptions proxy_options;
  proxy_options.limits = o.boundary.limits;
  ProxyService service(boundary, std::move(upstream), proxy_options);
  ProxyServer server(&service, o.boundary.limits);
  auto port = server.Bind(o.bind, o.port);
  if (!port.ok()) {
    std::cerr << "helm proxy: " << port.error().message << "\n";
    return kExitConfig;
  }
  std::cerr << "helm proxy: listening on http://" << o.bind << ":" << *port << " (upstream "
            << o.upstream << ")" << std::endl;
  std::thread admin_thread;
  if (admin != nullptr) admin_thread = std::thread([admin] { admin->Serve(); });
  SignalWatcher watcher(
      [local] {
        if (local != nullptr) ReloadAndReport(local);
      },
      [&] {
        server.Stop();
        if (admin != nullptr) admin->Stop();
      });
  server.Serve();
  if (admin != nullptr) {
    admin->Stop();
    admin_thread.join();
  }
  return kExitOk;
}

}  // namespace

int RunProxy(const ProxyCommandOptions& o) {
  BlockServerSignals();
  if (o.boundary_url.empty() == o.boundary.policy_path.empty()) {
    std::cerr << "helm proxy: give exactly one of --policy FILE (embedded boundary) or "
                 "--boundary URL (a running helm serve)\n";
    return kExitConfig;
  }
  auto upstream = MakeUpstream(o.upstream, o.upstream_options);
  if (!upstream.ok()) {
    std::cerr << "helm proxy: " << upstream.error().message << "\n";
    return kExitConfig;
  }
  if (!o.boundary_url.empty()) {
    RemoteBoundary remote(o.boundary_url, AdminToken(o.boundary.data_dir));
    std::cerr << "helm proxy: deciding through the boundary at " << o.boundary_url << "\n";
    return ServeProxy(o, std::move(upstream.value()), &remote, nullptr, nullptr);
  }
  auto local = OpenBoundaryOrReport(o.boundary);
  if (!local) return kExitConfig;
  AdminServer admin(local.get(), o.boundary.limits);
  auto admin_port = admin.Bind(o.bind, o.admin_port);
  if (!admin_port.ok()) {
    std::cerr << "helm proxy: admin API: " << admin_port.error().message << "\n";
    return kExitConfig;
  }
  std::cerr << "helm proxy: boundary admin API on http://" << o.bind << ":" << *admin_port
            << std::endl;
  return ServeProxy(o, std::move(upstream.value()), local.get(), &admin, local.get());
}

}  // namespace helm::app
