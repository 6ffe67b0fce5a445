// Router: the routing configuration in force (providers, lanes, classifier,
// aliases), one Upstream per provider, and the circuit breakers. A reload
// builds a whole new state and swaps it atomically; requests in flight keep
// the state they started with. Breakers survive reloads (keyed by
// "provider/model"), with the reloaded [breaker] settings. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/provider/upstream.h"
#include "core/route/breaker.h"
#include "core/route/config.h"

namespace helm {

struct RouterState {
  std::shared_ptr<const route::Config> config;
  std::map<std::string, std::shared_ptr<Upstream>> upstreams;  // by provider id
  bool passthrough_model = false;  // --upstream shorthand: send the client's model as is
};

class Router {
 public:
  // `helm proxy --config FILE`.
  static Result<std::unique_ptr<Router>> FromConfigFile(const std::string& path);
  // `helm proxy --upstream URL`: one provider ("upstream", OpenAI-compatible
  // or mock) serving every lane with the client's own model name.
  static Result<std::unique_ptr<Router>> FromUpstreamUrl(const std::string& url,
                                                         const UpstreamOptions& options);

  std::shared_ptr<const RouterState> state() const;
  route::BreakerRegistry& breakers() { return *breakers_; }
  // Reloads the config file; an invalid file keeps the running state.
  Status Reload();
  const std::string& config_path() const { return path_; }

 private:
  Router() = default;
  static Result<std::shared_ptr<const RouterState>> Build(route::Config config, bool passthrough,
                                                          const UpstreamOptions* override_options);

  std::string path_;
  std::unique_ptr<route::BreakerRegistry> breakers_;
  mutable std::mutex mu_;
  std::shared_ptr<const RouterState> state_;  // GUARDED_BY(mu_)
};

}  // namespace helm
