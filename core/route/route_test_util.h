// Shared fixtures for the route tests: a small helm.toml, an env lookup over a
// map and a fake clock.
#pragma once

#include <atomic>
#include <map>
#include <stdexcept>
#include <string>

#include "core/common/ids.h"
#include "core/route/config.h"

namespace helm::route::testing {

// Providers: oa (openai, OA_KEY), an (anthropic, AN_KEY), mk (mock).
inline constexpr char kBaseConfig[] = R"(
[[providers]]
id = "oa"
kind = "openai"
base_url = "https://api.openai.example/v1"
api_key_env = "OA_KEY"

[[providers.models]]
id = "small"
upstream_id = "gpt-small-2025"
context_window = 1000
tools = true
json = true
input_per_mtok_micros = 150000
output_per_mtok_micros = 600000

[[providers.models]]
id = "big"
context_window = 200000
tools = true
vision = true
json = true

[[providers]]
id = "an"
kind = "anthropic"
base_url = "https://api.anthropic.example"
api_key_env = "AN_KEY"

[[providers.models]]
id = "opus"
upstream_id = "claude-opus-4"
context_window = 200000
tools = true
vision = true

[[providers]]
id = "mk"
kind = "mock"

[[providers.models]]
id = "echo"
context_window = 8000
stream = false

[lanes.economy]
primary = "oa/small"
fallback = ["mk/echo"]

[lanes.balanced]
primary = "oa/big"
fallback = ["an/opus", "mk/echo"]

[lanes.premium]
primary = "an/opus"
fallback = ["oa/big"]

[lanes.coding]
primary = "an/opus"
fallback = ["oa/big"]

[lanes.json]
primary = "oa/small"

[lanes.vision]
primary = "oa/big"

[lanes.tool_use]
primary = "oa/big"

[aliases]
"claude-opus-*" = "premium"
"gpt-5*" = "balanced"
"gpt-5-mini*" = "economy"
)";

inline EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

inline EnvLookup AllKeys() { return MapEnv({{"OA_KEY", "sk-oa"}, {"AN_KEY", "sk-an"}}); }

inline Config MustLoad(const std::string& text, const EnvLookup& env = AllKeys()) {
  auto c = LoadConfigString(text, "helm.toml", env);
  if (!c.ok()) throw std::runtime_error(c.error().message);
  return std::move(c).value();
}

// The error message of a config that must fail to load.
inline std::string LoadError(const std::string& text, const EnvLookup& env = AllKeys()) {
  auto c = LoadConfigString(text, "helm.toml", env);
  return c.ok() ? std::string("<loaded>") : c.error().message;
}

class FakeClock : public Clock {
 public:
  int64_t NowMicros() const override { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }
  void AdvanceMs(int64_t ms) { now_ += ms * 1000; }
  void Set(int64_t micros) { now_ = micros; }

 private:
  std::atomic<int64_t> now_{1'700'000'000'000'000};
};

}  // namespace helm::route::testing
