// helm.toml: providers, lanes, classifier, aliases, breaker, ledger and server
// settings, loaded fail-closed. Every problem (syntax, unknown key, wrong type,
// unknown provider kind, a lane member naming an unknown provider or model, a
// missing `balanced` lane, duplicate ids, a lane left with no usable model) is
// a kConfig Error "FILE:LINE: key: problem" and the process refuses to start.
// The reference for every key is docs/routing.md.
//
// Credentials are named by environment variable only (`api_key_env`); the
// value is resolved once, at load, through an injectable EnvLookup. A provider
// whose variable is unset or empty is skipped with a warning (Config::warnings)
// and its lane members are dropped; a lane left empty by that is an error.
//
// A Config is an immutable value once loaded: share it (shared_ptr<const
// Config>) across threads freely. Nothing here does I/O except LoadConfigFile.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/limits.h"
#include "core/common/result.h"

namespace helm::route {

enum class ProviderKind { kOpenAI, kAnthropic, kGemini, kMock };
const char* ProviderKindName(ProviderKind kind);  // "openai", "anthropic", "gemini", "mock"

// What a model can do. `stream` defaults to true, the rest to false.
struct Capabilities {
  bool tools = false;
  bool vision = false;
  bool json = false;
  bool stream = true;
};

// Prices in micro-dollars per million tokens (integers: costs are exact).
// cached_per_mtok_micros defaults to input_per_mtok_micros when not given.
struct Prices {
  int64_t input_per_mtok_micros = 0;
  int64_t output_per_mtok_micros = 0;
  int64_t cached_per_mtok_micros = 0;
};

struct ModelSpec {
  std::string id;              // helm's name, unique within its provider
  std::string upstream_id;     // the name sent to the provider (defaults to id)
  int64_t context_window = 0;  // tokens, input + output; required, > 0
  Capabilities caps;
  Prices prices;
};

struct ProviderTimeouts {
  int64_t connect_timeout_ms = 5000;
  int64_t first_byte_timeout_ms = 60000;
  int64_t idle_timeout_ms = 60000;
};

struct ProviderSpec {
  std::string id;  // unique; no '/'
  ProviderKind kind = ProviderKind::kMock;
  std::string base_url;     // "mock://" by default for kind mock
  std::string api_key_env;  // the variable's NAME; empty for mock
  std::string api_key;      // resolved at load; never logged, never in a receipt
  ProviderTimeouts timeouts;
  std::vector<ModelSpec> models;

  const ModelSpec* FindModel(std::string_view model_id) const;
};

// One lane member, "PROVIDER_ID/MODEL_ID".
struct LaneMember {
  std::string provider_id;
  std::string model_id;
  std::string Key() const { return provider_id + "/" + model_id; }
};

// The cost tiers lane_cap compares: economy < balanced < premium.
enum class Tier { kNone, kEconomy, kBalanced, kPremium };
const char* TierName(Tier tier);                  // "", "economy", "balanced", "premium"
std::optional<Tier> ParseTier(std::string_view);  // the three names only

struct Lane {
  std::string name;
  // economy/balanced/premium lanes have their own name's tier; any other lane
  // has the tier given by `tier = "..."`, or kNone (untiered).
  Tier tier = Tier::kNone;
  std::vector<LaneMember> members;  // primary first, then fallback; usable providers only
};

// The classifier's rules, in evaluation order (see classifier.h).
enum class ClassifierRule { kTools, kImages, kJson, kCode, kLongInput };
inline constexpr size_t kClassifierRuleCount = 5;
const char* ClassifierRuleName(
    ClassifierRule rule);  // "tools", "images", "json", "code", "long_input"

struct ClassifierRuleConfig {
  bool enabled = true;
  std::string lane;  // the lane this rule sends to
};

struct ClassifierConfig {
  // Indexed by ClassifierRule. Defaults: tools → tool_use, images → vision,
  // json → json, code → coding, long_input → premium; all enabled.
  std::array<ClassifierRuleConfig, kClassifierRuleCount> rules{
      {{true, "tool_use"}, {true, "vision"}, {true, "json"}, {true, "coding"}, {true, "premium"}}};
  int64_t long_input_tokens = 32000;  // long_input fires at input_tokens >= this

  const ClassifierRuleConfig& rule(ClassifierRule r) const { return rules[static_cast<size_t>(r)]; }
};

// `[aliases]` "glob" = "lane". Globs use `*` only. Kept most specific first
// (more literal characters first; ties by pattern text), and the first match wins.
struct Alias {
  std::string pattern;
  std::string lane;
};

struct BreakerSettings {
  int64_t failure_threshold = 5;     // consecutive faults that open the circuit
  int64_t cool_down_ms = 30000;      // OPEN → HALF_OPEN after this long
  int64_t max_skip_ms = 10 * 60000;  // cap on a Retry-After / rate-limit-reset skip
};

// Parsed and exposed for the ledger's owner to apply (see core/ledger/ledger.h).
struct LedgerSettings {
  bool sync = true;  // "always" (true) | "none"
  int64_t checkpoint_every = 1000;
  int64_t checkpoint_seconds = 60;
};

// Parsed and exposed for the proxy to apply; command-line flags override.
struct ServerSettings {
  std::string bind = "127.0.0.1";
  int64_t port = 9090;
  int64_t admin_port = 7714;
  int64_t max_body_bytes = 4 << 20;
  int64_t threads = static_cast<int64_t>(Limits{}.server_threads);
  int64_t max_streams = static_cast<int64_t>(Limits{}.max_concurrent_streams);
};

struct Config {
  std::string source;                   // file name as given to the loader
  std::vector<ProviderSpec> providers;  // usable providers only, in file order
  std::vector<std::string> skipped_providers;
  std::map<std::string, Lane> lanes;
  ClassifierConfig classifier;
  std::vector<Alias> aliases;
  BreakerSettings breaker;
  LedgerSettings ledger;
  ServerSettings server;
  std::vector<std::string> warnings;  // e.g. a provider skipped for an unset variable

  const ProviderSpec* FindProvider(std::string_view id) const;
  const Lane* FindLane(std::string_view name) const;
};

// Returns the value of an environment variable, or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnv();  // getenv

Result<Config> LoadConfigString(std::string_view toml, std::string_view source_name,
                                const EnvLookup& env);
Result<Config> LoadConfigFile(const std::string& path, const EnvLookup& env);

}  // namespace helm::route
