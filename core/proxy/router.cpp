#include "core/proxy/router.h"

#include <cstdint>

#include "core/common/ids.h"

namespace helm {
namespace {

// The one-provider configuration behind `--upstream URL`: every standard lane
// is the same passthrough model, so classification still reports its lane.
route::Config ShorthandConfig(const std::string& url) {
  route::Config c;
  c.source = "--upstream " + url;
  route::ProviderSpec p;
  p.id = "upstream";
  p.kind = url.rfind("mock://", 0) == 0 ? route::ProviderKind::kMock : route::ProviderKind::kOpenAI;
  p.base_url = url;
  route::ModelSpec m;
  m.id = "default";
  m.context_window = int64_t{1} << 40;
  m.caps = {true, true, true, true};
  p.models.push_back(m);
  c.providers.push_back(p);
  for (const char* name : {"economy", "balanced", "premium", "coding", "json", "vision", "tool_use"}) {
    route::Lane lane;
    lane.name = name;
    lane.tier = route::ParseTier(name).value_or(route::Tier::kNone);
    lane.members.push_back({"upstream", "default"});
    c.lanes[name] = lane;
  }
  return c;
}

}  // namespace

Result<std::shared_ptr<const RouterState>> Router::Build(route::Config config, bool passthrough,
                                                         const UpstreamOptions* override_options) {
  auto state = std::make_shared<RouterState>();
  state->passthrough_model = passthrough;
  for (const route::ProviderSpec& p : config.providers) {
    UpstreamOptions options;
    if (override_options != nullptr) {
      options = *override_options;
    } else {
      options.connect_timeout_ms = p.timeouts.connect_timeout_ms;
      options.first_byte_timeout_ms = p.timeouts.first_byte_timeout_ms;
      options.idle_timeout_ms = p.timeouts.idle_timeout_ms;
    }
    auto upstream = MakeUpstream(p.base_url, options);
    if (!upstream.ok()) {
      return MakeError(ErrorCode::kConfig, "provider " + p.id + ": " + upstream.error().message);
    }
    state->upstreams[p.id] = std::move(upstream.value());
  }
  state->config = std::make_shared<const route::Config>(std::move(config));
  return std::shared_ptr<const RouterState>(std::move(state));
}

Result<std::unique_ptr<Router>> Router::FromConfigFile(const std::string& path) {
  auto config = route::LoadConfigFile(path, route::ProcessEnv());
  if (!config.ok()) return config.error();
  route::BreakerSettings breaker = config->breaker;
  auto state = Build(std::move(config.value()), false, nullptr);
  if (!state.ok()) return state.error();
  std::unique_ptr<Router> r(new Router);
  r->path_ = path;
  r->breakers_ = std::make_unique<route::BreakerRegistry>(breaker, SystemClock());
  r->state_ = std::move(state.value());
  return r;
}

Result<std::unique_ptr<Router>> Router::FromUpstreamUrl(const std::string& url,
                                                        const UpstreamOptions& options) {
  route::Config config = ShorthandConfig(url);
  // One provider and no fallback: opening its circuit, or skipping it after a
  // 429, would only turn its answers into 502s, so the shorthand never does.
  route::BreakerSettings breaker = config.breaker;
  breaker.failure_threshold = INT64_MAX;
  breaker.max_skip_ms = 0;
  auto state = Build(std::move(config), true, &options);
  if (!state.ok()) return state.error();
  std::unique_ptr<Router> r(new Router);
  r->breakers_ = std::make_unique<route::BreakerRegistry>(breaker, SystemClock());
  r->state_ = std::move(state.value());
  return r;
}

std::shared_ptr<const RouterState> Router::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

Status Router::Reload() {
  if (path_.empty()) return Status::Ok();  // the shorthand has nothing to reload
  auto config = route::LoadConfigFile(path_, route::ProcessEnv());
  if (!config.ok()) return config.error();
  route::BreakerSettings breaker = config->breaker;
  auto state = Build(std::move(config.value()), false, nullptr);
  if (!state.ok()) return state.error();
  breakers_->Apply(breaker);
  std::lock_guard<std::mutex> lock(mu_);
  state_ = std::move(state.value());
  return Status::Ok();
}

}  // namespace helm
