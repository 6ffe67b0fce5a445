// `helm proxy`: the data plane, with the boundary embedded (--policy) or
// remote (--boundary URL).
#include <algorithm>
#include <iostream>
#include <thread>

#include "core/app/commands.h"
#include "core/app/startup.h"
#include "core/http/admin_server.h"
#include "core/http/proxy_server.h"
#include "core/http/remote_boundary.h"
#include "core/proxy/router.h"
#include "core/route/selection.h"

namespace helm::app {
namespace {

// Every lane a policy rule pins or caps to must exist in the routing config.
Status CheckPolicyLanes(const Policy& policy, const route::Config& config) {
  for (const Obligations& o : policy.rule_obligations()) {
    Status st = route::ValidateObligations(config, {o.lane_pin, o.lane_cap});
    if (!st.ok()) {
      return MakeError(ErrorCode::kConfig, "policy " + policy.id() + ": " + st.error().message);
    }
  }
  return Status::Ok();
}

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
        if (local == nullptr) return;
        if (Status lanes = CheckPolicyLanes(*local->policy(), *router->state()->config);
            !lanes.ok()) {
          std::cerr << "helm: warning: " << lanes.error().message
                    << " (requests matching that rule get 503 EMPTY_LANE)\n";
        }
      },
      [&] {
        server.Stop();
        if (admin != nullptr) admin->Stop();
      });
  Status served = server.Serve();
  if (admin != nullptr) {
    admin->Stop();
    admin_thread.join();
  }
  if (!served.ok()) {
    std::cerr << "helm proxy: " << served.error().message
              << " (lower --server-threads, or raise the process's thread and memory limits)\n";
    return kExitConfig;
  }
  return kExitOk;
}

// helm.toml's [server] and [ledger] settings, where no flag overrides them.
ProxyCommandOptions WithConfigSettings(ProxyCommandOptions o, const route::Config& c) {
  auto given = [&o](const char* flag) { return o.explicit_flags.count(flag) > 0; };
  if (!given("--bind")) o.bind = c.server.bind;
  if (!given("--port")) o.port = static_cast<int>(c.server.port);
  if (!given("--admin-port")) o.admin_port = static_cast<int>(c.server.admin_port);
  if (!given("--max-body-bytes")) {
    o.boundary.limits.max_body_bytes = static_cast<size_t>(c.server.max_body_bytes);
  }
  if (!given("--server-threads")) {
    o.boundary.limits.server_threads = static_cast<size_t>(c.server.threads);
  }
  if (!given("--max-streams")) {
    o.boundary.limits.max_concurrent_streams = static_cast<size_t>(c.server.max_streams);
  }
  if (!given("--sync")) o.boundary.ledger.sync = c.ledger.sync;
  if (!given("--checkpoint-every")) {
    o.boundary.ledger.checkpoint_every = static_cast<uint64_t>(c.ledger.checkpoint_every);
  }
  if (!given("--checkpoint-seconds")) {
    o.boundary.ledger.checkpoint_interval_seconds = c.ledger.checkpoint_seconds;
  }
  return o;
}

}  // namespace

int RunProxy(const ProxyCommandOptions& options) {
  BlockServerSignals();
  if (options.boundary_url.empty() == options.boundary.policy_path.empty()) {
    std::cerr << "helm proxy: give exactly one of --policy FILE (embedded boundary) or "
                 "--boundary URL (a running helm serve)\n";
    return kExitConfig;
  }
  if (options.upstream.empty() == options.config_path.empty()) {
    std::cerr << "helm proxy: give exactly one of --upstream URL or --config helm.toml\n";
    return kExitConfig;
  }
  auto router = options.config_path.empty()
                    ? Router::FromUpstreamUrl(options.upstream, options.upstream_options)
                    : Router::FromConfigFile(options.config_path);
  if (!router.ok()) {
    std::cerr << "helm proxy: " << router.error().message << "\n";
    return kExitConfig;
  }
  for (const std::string& w : (*router)->state()->config->warnings) {
    std::cerr << "helm proxy: warning: " << w << "\n";
  }
  const ProxyCommandOptions o = options.config_path.empty()
                                    ? options
                                    : WithConfigSettings(options, *(*router)->state()->config);
  RaiseDescriptorLimit("helm proxy", kDescriptorsBesideClients + o.boundary.limits.max_connections);
  if (Status st = CheckWorkerLimits(static_cast<int64_t>(o.boundary.limits.server_threads),
                                    static_cast<int64_t>(o.boundary.limits.max_concurrent_streams));
      !st.ok()) {
    std::cerr << "helm proxy: " << st.error().message << "\n";
    return kExitConfig;
  }
  if (!o.boundary_url.empty()) {
    RemoteBoundary remote(o.boundary_url, AdminToken(o.boundary.data_dir), o.boundary.limits);
    std::cerr << "helm proxy: deciding through the boundary at " << o.boundary_url << "\n";
    return ServeProxy(o, router->get(), &remote, nullptr, nullptr);
  }
  auto local = OpenBoundaryOrReport(o.boundary);
  if (!local) return kExitConfig;
  if (Status st = CheckPolicyLanes(*local->policy(), *(*router)->state()->config); !st.ok()) {
    std::cerr << "helm proxy: refusing to start: " << st.error().message << "\n";
    return kExitConfig;
  }
  // The admin API's requests are few (receipts, approvals, tails): it never
  // needs more workers than the default, however many the proxy has.
  Limits admin_limits = o.boundary.limits;
  admin_limits.server_threads = std::min(admin_limits.server_threads, Limits{}.server_threads);
  AdminServer admin(local.get(), admin_limits);
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
