// helm.toml loading: the only translation unit of core/route that includes
// toml++. Fail-closed: the first problem is reported as "FILE:LINE: key:
// problem" (kConfig). The keys are documented in docs/routing.md.
#include "core/route/config.h"

#include <toml++/toml.h>

#include "core/common/toml_util.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace helm::route {
namespace {

inline constexpr int64_t kMaxTimeoutMs = 3600 * 1000;
inline constexpr int64_t kMaxTokens = int64_t{1} << 40;
inline constexpr int64_t kMaxPrice = int64_t{1} << 40;  // micro-dollars per million tokens
inline constexpr int64_t kMaxPort = 65535;

std::optional<ProviderKind> ParseKind(std::string_view s) {
  if (s == "openai") return ProviderKind::kOpenAI;
  if (s == "anthropic") return ProviderKind::kAnthropic;
  if (s == "gemini") return ProviderKind::kGemini;
  if (s == "mock") return ProviderKind::kMock;
  return std::nullopt;
}

// Ids of providers, models and lanes: letters, digits and "._-:" (models may
// also contain '/', as vendor ids like "meta/llama-3" do; providers and lanes may not).
bool ValidId(std::string_view s, bool allow_slash) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == ':' || (allow_slash && c == '/');
    if (!ok) return false;
  }
  return true;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Literal (non-'*') characters: the more, the more specific an alias.
size_t Specificity(const std::string& glob) {
  return glob.size() - static_cast<size_t>(std::count(glob.begin(), glob.end(), '*'));
}

struct Declared {
  ProviderSpec spec;
  bool usable = true;
};

class Loader : public TomlLoaderBase {
 public:
  Loader(std::string_view file, const EnvLookup& env) : TomlLoaderBase(file), env_(env) {}

  Result<Config> Load(const toml::table& root);

 private:
  Error Missing(const toml::node& table, const std::string& key) const {
    return Fail(table, key, "required key is missing");
  }

  Result<const toml::table*> Table(const toml::node& n, const std::string& key) const {
    if (!n.is_table()) return WrongType(n, key, "a table");
    return n.as_table();
  }

  Status Providers(const toml::node& n);
  Result<Declared> Provider(const toml::node& n, const std::string& path);
  Status ProviderField(std::string_view name, const toml::node& v, const std::string& key,
                       Declared& d);
  Status Models(const toml::node& n, const std::string& path, ProviderSpec& p);
  Result<ModelSpec> Model(const toml::node& n, const std::string& path);
  Status ModelField(std::string_view name, const toml::node& v, const std::string& key,
                    ModelSpec& m, bool& cached_given);
  Status Lanes(const toml::node& n, uint32_t root_line);
  Result<Lane> ParseLane(const std::string& name, const toml::table& t, const std::string& path);
  Result<bool> Member(const toml::node& n, const std::string& key, Lane& lane,
                      std::set<std::string>& seen, std::vector<std::string>& skipped);
  Status Classifier(const toml::node& n);
  Status ClassifierRuleTable(const toml::node& n, const std::string& key,
                             ClassifierRuleConfig& rule);
  Status Aliases(const toml::node& n);
  Status Breaker(const toml::node& n);
  Status Ledger(const toml::node& n);
  Status Server(const toml::node& n);

  const EnvLookup& env_;
  std::vector<Declared> declared_;
  Config config_;
};

// ---- providers -------------------------------------------------------------

Status Loader::Providers(const toml::node& n) {
  const toml::array* arr = n.as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    return WrongType(n, "providers", "an array of tables ([[providers]])");
  }
  std::set<std::string> ids;
  for (size_t i = 0; i < arr->size(); ++i) {
    std::string path = "providers[" + std::to_string(i) + "]";
    auto d = Provider((*arr)[i], path);
    if (!d.ok()) return d.error();
    if (!ids.insert(d->spec.id).second) {
      return Fail(*(*arr)[i].as_table()->get("id"), path + ".id",
                  "duplicate provider id \"" + d->spec.id + "\"");
    }
    declared_.push_back(std::move(d).value());
  }
  return Status::Ok();
}

Status Loader::ProviderField(std::string_view name, const toml::node& v, const std::string& key,
                             Declared& d) {
  ProviderSpec& p = d.spec;
  if (name == "id") {
    auto s = String(v, key);
    if (!s.ok()) return s.error();
    if (!ValidId(*s, false))
      return Fail(v, key, "invalid id \"" + *s + "\" (letters, digits, ._-:)");
    p.id = std::move(s).value();
  } else if (name == "kind") {
    auto s = String(v, key);
    if (!s.ok()) return s.error();
    auto kind = ParseKind(*s);
    if (!kind) {
      return Fail(v, key, "unknown provider kind \"" + *s + "\" (openai, anthropic, gemini, mock)");
    }
    p.kind = *kind;
  } else if (name == "base_url" || name == "api_key_env") {
    auto s = String(v, key);
    if (!s.ok()) return s.error();
    (name == "base_url" ? p.base_url : p.api_key_env) = std::move(s).value();
  } else {  // the three timeouts
    auto ms = Int(v, key, 1, kMaxTimeoutMs);
    if (!ms.ok()) return ms.error();
    if (name == "connect_timeout_ms") p.timeouts.connect_timeout_ms = *ms;
    if (name == "first_byte_timeout_ms") p.timeouts.first_byte_timeout_ms = *ms;
    if (name == "idle_timeout_ms") p.timeouts.idle_timeout_ms = *ms;
  }
  return Status::Ok();
}

Result<Declared> Loader::Provider(const toml::node& n, const std::string& path) {
  const toml::table& t = *n.as_table();
  auto keys = CheckKeys(t, path,
                        {"id", "kind", "base_url", "api_key_env", "connect_timeout_ms",
                         "first_byte_timeout_ms", "idle_timeout_ms", "models"});
  if (!keys.ok()) return keys.error();
  if (!t.contains("id")) return Missing(n, path + ".id");
  if (!t.contains("kind")) return Missing(n, path + ".kind");
  Declared d;
  for (auto&& [k, v] : t) {
    if (k.str() == "models") continue;
    auto st = ProviderField(k.str(), v, path + "." + std::string(k.str()), d);
    if (!st.ok()) return st.error();
  }
  ProviderSpec& p = d.spec;
  bool mock = p.kind == ProviderKind::kMock;
  if (p.base_url.empty()) {
    if (!mock) return Missing(n, path + ".base_url");
    p.base_url = "mock://";
  }
  bool http = StartsWith(p.base_url, "http://") || StartsWith(p.base_url, "https://");
  if (mock ? !StartsWith(p.base_url, "mock://") : !http) {
    return Fail(*t.get("base_url"), path + ".base_url",
                mock ? "kind mock takes a mock:// URL" : "must start with http:// or https://");
  }
  if (!mock && p.api_key_env.empty()) return Missing(n, path + ".api_key_env");
  if (!t.contains("models")) return Missing(n, path + ".models");
  auto models = Models(*t.get("models"), path + ".models", p);
  if (!models.ok()) return models.error();
  if (!p.api_key_env.empty()) {
    std::optional<std::string> value = env_(p.api_key_env);
    if (value && !value->empty()) {
      p.api_key = std::move(*value);
    } else if (!mock) {
      d.usable = false;
      config_.warnings.push_back("provider \"" + p.id + "\" skipped: environment variable " +
                                 p.api_key_env + " is " + (value ? "empty" : "not set"));
    }
  }
  return d;
}

Status Loader::Models(const toml::node& n, const std::string& path, ProviderSpec& p) {
  const toml::array* arr = n.as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    return WrongType(n, path, "an array of tables ([[providers.models]])");
  }
  if (arr->empty()) return Fail(n, path, "must not be empty");
  for (size_t i = 0; i < arr->size(); ++i) {
    std::string at = path + "[" + std::to_string(i) + "]";
    auto m = Model((*arr)[i], at);
    if (!m.ok()) return m.error();
    if (p.FindModel(m->id) != nullptr) {
      return Fail(*(*arr)[i].as_table()->get("id"), at + ".id",
                  "duplicate model id \"" + m->id + "\"");
    }
    p.models.push_back(std::move(m).value());
  }
  return Status::Ok();
}

Status Loader::ModelField(std::string_view name, const toml::node& v, const std::string& key,
                          ModelSpec& m, bool& cached_given) {
  if (name == "id" || name == "upstream_id") {
    auto s = String(v, key);
    if (!s.ok()) return s.error();
    if (name == "id" && !ValidId(*s, true)) {
      return Fail(v, key, "invalid id \"" + *s + "\" (letters, digits, ._-:/)");
    }
    (name == "id" ? m.id : m.upstream_id) = std::move(s).value();
  } else if (name == "context_window") {
    auto i = Int(v, key, 1, kMaxTokens);
    if (!i.ok()) return i.error();
    m.context_window = *i;
  } else if (name == "tools" || name == "vision" || name == "json" || name == "stream") {
    auto b = Bool(v, key);
    if (!b.ok()) return b.error();
    bool& slot = name == "tools"    ? m.caps.tools
                 : name == "vision" ? m.caps.vision
                 : name == "json"   ? m.caps.json
                                    : m.caps.stream;
    slot = *b;
  } else {  // prices
    auto i = Int(v, key, 0, kMaxPrice);
    if (!i.ok()) return i.error();
    if (name == "input_per_mtok_micros") m.prices.input_per_mtok_micros = *i;
    if (name == "output_per_mtok_micros") m.prices.output_per_mtok_micros = *i;
    if (name == "cached_per_mtok_micros") {
      m.prices.cached_per_mtok_micros = *i;
      cached_given = true;
    }
  }
  return Status::Ok();
}

Result<ModelSpec> Loader::Model(const toml::node& n, const std::string& path) {
  const toml::table& t = *n.as_table();
  auto keys =
      CheckKeys(t, path,
                {"id", "upstream_id", "context_window", "tools", "vision", "json", "stream",
                 "input_per_mtok_micros", "output_per_mtok_micros", "cached_per_mtok_micros"});
  if (!keys.ok()) return keys.error();
  if (!t.contains("id")) return Missing(n, path + ".id");
  if (!t.contains("context_window")) return Missing(n, path + ".context_window");
  ModelSpec m;
  bool cached_given = false;
  for (auto&& [k, v] : t) {
    auto st = ModelField(k.str(), v, path + "." + std::string(k.str()), m, cached_given);
    if (!st.ok()) return st.error();
  }
  if (m.upstream_id.empty()) m.upstream_id = m.id;
  if (!cached_given) m.prices.cached_per_mtok_micros = m.prices.input_per_mtok_micros;
  return m;
}

// ---- lanes -----------------------------------------------------------------

// Adds one "PROVIDER/MODEL" member. Returns false (and records the provider)
// when the member belongs to a skipped provider.
Result<bool> Loader::Member(const toml::node& n, const std::string& key, Lane& lane,
                            std::set<std::string>& seen, std::vector<std::string>& skipped) {
  auto s = String(n, key);
  if (!s.ok()) return s.error();
  size_t slash = s->find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == s->size()) {
    return Fail(n, key, "\"" + *s + "\" is not PROVIDER_ID/MODEL_ID");
  }
  std::string provider = s->substr(0, slash), model = s->substr(slash + 1);
  auto it = std::find_if(declared_.begin(), declared_.end(),
                         [&](const Declared& d) { return d.spec.id == provider; });
  if (it == declared_.end()) return Fail(n, key, "unknown provider \"" + provider + "\"");
  if (it->spec.FindModel(model) == nullptr) {
    return Fail(n, key, "provider \"" + provider + "\" has no model \"" + model + "\"");
  }
  if (!seen.insert(*s).second) return Fail(n, key, "duplicate member \"" + *s + "\"");
  if (!it->usable) {
    skipped.push_back(provider);
    return false;
  }
  lane.members.push_back(LaneMember{provider, model});
  return true;
}

Result<Lane> Loader::ParseLane(const std::string& name, const toml::table& t,
                               const std::string& path) {
  auto keys = CheckKeys(t, path, {"primary", "fallback", "tier"});
  if (!keys.ok()) return keys.error();
  Lane lane;
  lane.name = name;
  auto fixed = ParseTier(name);
  if (fixed) lane.tier = *fixed;
  if (const toml::node* tier = t.get("tier")) {
    auto s = String(*tier, path + ".tier");
    if (!s.ok()) return s.error();
    auto parsed = ParseTier(*s);
    if (!parsed) return Fail(*tier, path + ".tier", "must be economy, balanced or premium");
    if (fixed && *parsed != *fixed)
      return Fail(*tier, path + ".tier", "is fixed to \"" + name + "\"");
    lane.tier = *parsed;
  }
  const toml::node* primary = t.get("primary");
  if (primary == nullptr) return Missing(t, path + ".primary");
  std::set<std::string> seen;
  std::vector<std::string> skipped;
  auto added = Member(*primary, path + ".primary", lane, seen, skipped);
  if (!added.ok()) return added.error();
  if (const toml::node* fallback = t.get("fallback")) {
    const toml::array* arr = fallback->as_array();
    if (arr == nullptr) return WrongType(*fallback, path + ".fallback", "an array of strings");
    for (size_t i = 0; i < arr->size(); ++i) {
      auto ok =
          Member((*arr)[i], path + ".fallback[" + std::to_string(i) + "]", lane, seen, skipped);
      if (!ok.ok()) return ok.error();
    }
  }
  if (lane.members.empty()) {
    std::string names;
    for (const auto& p : skipped) names += (names.empty() ? "" : ", ") + p;
    return Fail(t, path,
                "no usable model: every member belongs to a skipped provider (" + names + ")");
  }
  return lane;
}

Status Loader::Lanes(const toml::node& n, uint32_t root_line) {
  auto t = Table(n, "lanes");
  if (!t.ok()) return t.error();
  for (auto&& [k, v] : **t) {
    std::string name(k.str()), path = "lanes." + name;
    if (!ValidId(name, false) || name == "auto" || name == "pinned") {
      return Fail(
          k.source().begin.line, path,
          "invalid lane name (letters, digits, ._-:; \"auto\" and \"pinned\" are reserved)");
    }
    auto lt = Table(v, path);
    if (!lt.ok()) return lt.error();
    auto lane = ParseLane(name, **lt, path);
    if (!lane.ok()) return lane.error();
    config_.lanes.emplace(name, std::move(lane).value());
  }
  if (config_.lanes.count("balanced") == 0) {
    return Fail(n.source().begin.line ? n.source().begin.line : root_line, "lanes.balanced",
                "the balanced lane is required");
  }
  return Status::Ok();
}

// ---- classifier, aliases, small sections -----------------------------------

Status Loader::ClassifierRuleTable(const toml::node& n, const std::string& key,
                                   ClassifierRuleConfig& rule) {
  auto t = Table(n, key);
  if (!t.ok()) return t.error();
  auto keys = CheckKeys(**t, key, {"enabled", "lane"});
  if (!keys.ok()) return keys.error();
  if (const toml::node* e = (*t)->get("enabled")) {
    auto b = Bool(*e, key + ".enabled");
    if (!b.ok()) return b.error();
    rule.enabled = *b;
  }
  if (const toml::node* l = (*t)->get("lane")) {
    auto s = String(*l, key + ".lane");
    if (!s.ok()) return s.error();
    // A lane named explicitly must exist (a typo must not silently disable a
    // rule); a default lane that is not configured only makes the rule skip.
    if (config_.lanes.count(*s) == 0) return Fail(*l, key + ".lane", "unknown lane \"" + *s + "\"");
    rule.lane = std::move(s).value();
  }
  return Status::Ok();
}

Status Loader::Classifier(const toml::node& n) {
  auto t = Table(n, "classifier");
  if (!t.ok()) return t.error();
  auto keys = CheckKeys(**t, "classifier",
                        {"long_input_tokens", "tools", "images", "json", "code", "long_input"});
  if (!keys.ok()) return keys.error();
  for (auto&& [k, v] : **t) {
    std::string key = "classifier." + std::string(k.str());
    if (k.str() == "long_input_tokens") {
      auto i = Int(v, key, 1, kMaxTokens);
      if (!i.ok()) return i.error();
      config_.classifier.long_input_tokens = *i;
      continue;
    }
    for (size_t r = 0; r < kClassifierRuleCount; ++r) {
      if (k.str() != ClassifierRuleName(static_cast<ClassifierRule>(r))) continue;
      auto st = ClassifierRuleTable(v, key, config_.classifier.rules[r]);
      if (!st.ok()) return st;
    }
  }
  return Status::Ok();
}

Status Loader::Aliases(const toml::node& n) {
  auto t = Table(n, "aliases");
  if (!t.ok()) return t.error();
  for (auto&& [k, v] : **t) {
    std::string key = "aliases.\"" + std::string(k.str()) + "\"";
    if (k.str().empty()) return Fail(k.source().begin.line, key, "empty pattern");
    auto lane = String(v, key);
    if (!lane.ok()) return lane.error();
    if (config_.lanes.count(*lane) == 0) return Fail(v, key, "unknown lane \"" + *lane + "\"");
    config_.aliases.push_back(Alias{std::string(k.str()), std::move(lane).value()});
  }
  std::stable_sort(config_.aliases.begin(), config_.aliases.end(),
                   [](const Alias& a, const Alias& b) {
                     size_t sa = Specificity(a.pattern), sb = Specificity(b.pattern);
                     return sa != sb ? sa > sb : a.pattern < b.pattern;
                   });
  return Status::Ok();
}

Status Loader::Breaker(const toml::node& n) {
  auto t = Table(n, "breaker");
  if (!t.ok()) return t.error();
  auto keys = CheckKeys(**t, "breaker", {"failure_threshold", "cool_down_ms", "max_skip_ms"});
  if (!keys.ok()) return keys.error();
  for (auto&& [k, v] : **t) {
    std::string key = "breaker." + std::string(k.str());
    bool threshold = k.str() == "failure_threshold";
    auto i = Int(v, key, 1, threshold ? 1000 : kMaxTimeoutMs);
    if (!i.ok()) return i.error();
    (threshold                   ? config_.breaker.failure_threshold
     : k.str() == "cool_down_ms" ? config_.breaker.cool_down_ms
                                 : config_.breaker.max_skip_ms) = *i;
  }
  return Status::Ok();
}

Status Loader::Ledger(const toml::node& n) {
  auto t = Table(n, "ledger");
  if (!t.ok()) return t.error();
  auto keys = CheckKeys(**t, "ledger", {"sync", "checkpoint_every", "checkpoint_seconds"});
  if (!keys.ok()) return keys.error();
  for (auto&& [k, v] : **t) {
    std::string key = "ledger." + std::string(k.str());
    if (k.str() == "sync") {
      auto s = String(v, key);
      if (!s.ok()) return s.error();
      if (*s != "always" && *s != "none") return Fail(v, key, "must be \"always\" or \"none\"");
      config_.ledger.sync = *s == "always";
      continue;
    }
    auto i = Int(v, key, 0, int64_t{1} << 31);
    if (!i.ok()) return i.error();
    (k.str() == "checkpoint_every" ? config_.ledger.checkpoint_every
                                   : config_.ledger.checkpoint_seconds) = *i;
  }
  return Status::Ok();
}

Status Loader::Server(const toml::node& n) {
  auto t = Table(n, "server");
  if (!t.ok()) return t.error();
  auto keys = CheckKeys(**t, "server",
                        {"bind", "port", "admin_port", "max_body_bytes", "threads", "max_streams"});
  if (!keys.ok()) return keys.error();
  for (auto&& [k, v] : **t) {
    std::string key = "server." + std::string(k.str());
    if (k.str() == "bind") {
      auto s = String(v, key);
      if (!s.ok()) return s.error();
      config_.server.bind = std::move(s).value();
    } else if (k.str() == "max_body_bytes") {
      auto i = Int(v, key, 1, int64_t{1} << 32);
      if (!i.ok()) return i.error();
      config_.server.max_body_bytes = *i;
    } else if (k.str() == "threads" || k.str() == "max_streams") {
      auto i = Int(v, key, 1, kMaxServerThreads);
      if (!i.ok()) return i.error();
      (k.str() == "threads" ? config_.server.threads : config_.server.max_streams) = *i;
    } else {
      auto i = Int(v, key, 0, kMaxPort);
      if (!i.ok()) return i.error();
      (k.str() == "port" ? config_.server.port : config_.server.admin_port) = *i;
    }
  }
  if (Status st = CheckWorkerLimits(config_.server.threads, config_.server.max_streams); !st.ok()) {
    return Fail(**t, "server", st.error().message);
  }
  return Status::Ok();
}

Result<Config> Loader::Load(const toml::table& root) {
  auto keys = CheckKeys(
      root, "", {"providers", "lanes", "classifier", "aliases", "breaker", "ledger", "server"});
  if (!keys.ok()) return keys.error();
  config_.source = file_;
  const toml::node* providers = root.get("providers");
  if (providers == nullptr) return Fail(1, "providers", "at least one [[providers]] is required");
  if (auto st = Providers(*providers); !st.ok()) return st.error();
  for (auto& d : declared_) {
    if (d.usable) config_.providers.push_back(d.spec);
    if (!d.usable) config_.skipped_providers.push_back(d.spec.id);
  }
  const toml::node* lanes = root.get("lanes");
  if (lanes == nullptr) return Fail(1, "lanes.balanced", "the balanced lane is required");
  if (auto st = Lanes(*lanes, 1); !st.ok()) return st.error();
  using Section = Status (Loader::*)(const toml::node&);
  const std::pair<const char*, Section> sections[] = {{"classifier", &Loader::Classifier},
                                                      {"aliases", &Loader::Aliases},
                                                      {"breaker", &Loader::Breaker},
                                                      {"ledger", &Loader::Ledger},
                                                      {"server", &Loader::Server}};
  for (const auto& [name, parse] : sections) {
    if (const toml::node* n = root.get(name)) {
      if (auto st = (this->*parse)(*n); !st.ok()) return st.error();
    }
  }
  return std::move(config_);
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());  // NOLINT: read once at startup
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<Config> LoadConfigString(std::string_view toml_text, std::string_view source_name,
                                const EnvLookup& env) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return MakeError(ErrorCode::kConfig, std::string(source_name) + ":" +
                                             std::to_string(e.source().begin.line) +
                                             ": syntax: " + std::string(e.description()));
  }
  Loader loader(source_name, env);
  return loader.Load(root);
}

Result<Config> LoadConfigFile(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kConfig, path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return LoadConfigString(text.str(), path, env);
}

}  // namespace helm::route
