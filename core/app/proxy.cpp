// `helm proxy`: the data plane, with the boundary embedded (--policy) or
// remote (--boundary URL).
#include <iostream>
#include <thread>

#include "core/app/commands.h"
#include "core/app/startup.h"
#include "core/http/admin_server.h"
#include "core/http/proxy_server.h"
#include "core/http/remote_boundary.h"
#include "core/proxy/router.h"

namespace helm::app {
namespace {

// Serves the proxy until a signal stops it; returns the exit code.
int ServeProxy(const ProxyCommandOptions& o, Router* router, Boundary* boundary,
               AdminServer* admin, LocalBoundary* local) {
  ProxyOptions proxy_options;
  proxy_options.limits = o.boundary.limits;
  ProxyService service(boundary, router, proxy_options);
  ProxyServer server(&service, o.boundary.limits);
  auto port = server.Bind(o.bind, o.port);
  if (!port.ok()) {
    std::cerr << "helm proxy: " << port.error().message << "\n";
    return kExitConfig;
  }
  std::cerr << "helm proxy: listening on http://" << o.bind << ":" << *port << " ("
            << (o.config_path.empty() ? "upstream " + o.upstream : "config " + o.config_path)
            << ")" << std::endl;
  std::thread admin_thread;
  if (admin != nullptr) admin_thread = std::thread([admin] { admin->Serve(); });
  SignalWatcher watcher(
      [local, router] {
        if (local != nullptr) ReloadAndReport(local);
        Status st = router->Reload();
        if (!st.ok()) {
          std::cerr << "helm: config reload rejected, keeping the running config: "
                    << st.error().message << "\n";
        } else if (!router->config_path().empty()) {
          std::cerr << "helm: config reloaded\n";
        }
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
  if (o.upstream.empty() == o.config_path.empty()) {
    std::cerr << "helm proxy: give exactly one of --upstream URL or --config helm.toml\n";
    return kExitConfig;
  }
  auto router = o.config_path.empty() ? Router::FromUpstreamUrl(o.upstream, o.upstream_options)
                                      : Router::FromConfigFile(o.config_path);
  if (!router.ok()) {
    std::cerr << "helm proxy: " << router.error().message << "\n";
    return kExitConfig;
  }
  for (const std::string& w : (*router)->state()->config->warnings) {
    std::cerr << "helm proxy: warning: " << w << "\n";
  }
  if (!o.boundary_url.empty()) {
    RemoteBoundary remote(o.boundary_url, AdminToken(o.boundary.data_dir));
    std::cerr << "helm proxy: deciding through the boundary at " << o.boundary_url << "\n";
    return ServeProxy(o, router->get(), &remote, nullptr, nullptr);
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
  return ServeProxy(o, router->get(), local.get(), &admin, local.get());
}

}  // namespace helm::app

namespace helm::app {

int RunConfigCheck(const std::string& file, Format format) {
  auto config = route::LoadConfigFile(file, route::ProcessEnv());
  if (!config.ok()) {
    std::cerr << config.error().message << "\n";
    return kExitConfig;
  }
  Json lanes = Json::object();
  for (const auto& [name, lane] : config->lanes) {
    Json members = Json::array();
    for (const auto& m : lane.members) members.push_back(m.Key());
    lanes[name] = members;
  }
  if (format == Format::kJson) {
    std::cout << DumpJson({{"ok", true}, {"providers", config->providers.size()},
                           {"skipped_providers", config->skipped_providers},
                           {"lanes", lanes}, {"warnings", config->warnings}})
              << "\n";
    return kExitOk;
  }
  for (const std::string& w : config->warnings) std::cout << "warning: " << w << "\n";
  std::cout << file << ": OK (" << config->providers.size() << " providers, "
            << config->lanes.size() << " lanes)\n";
  for (const auto& [name, members] : lanes.items()) {
    std::cout << "  lane " << name << ": " << members.dump() << "\n";
  }
  return kExitOk;
}

}  // namespace helm::app
