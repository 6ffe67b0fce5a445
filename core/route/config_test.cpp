#include "core/route/config.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "core/route/route_test_util.h"

namespace helm::route {
namespace {

using testing::AllKeys;
using testing::kBaseConfig;
using testing::LoadError;
using testing::MapEnv;
using testing::MustLoad;

// Eight lines; tests append or substitute and name the line they expect.
const std::string kMinimal =
    "[[providers]]\n"         // 1
    "id = \"mk\"\n"           // 2
    "kind = \"mock\"\n"       // 3
    "[[providers.models]]\n"  // 4
    "id = \"m\"\n"            // 5
    "context_window = 100\n"  // 6
    "[lanes.balanced]\n"      // 7
    "primary = \"mk/m\"\n";   // 8

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

TEST_CASE("config: the base fixture loads with defaults filled in") {
  Config c = MustLoad(kBaseConfig);
  REQUIRE(c.providers.size() == 3);
  CHECK(c.warnings.empty());
  const ProviderSpec* oa = c.FindProvider("oa");
  REQUIRE(oa != nullptr);
  CHECK(oa->kind == ProviderKind::kOpenAI);
  CHECK(oa->api_key == "sk-oa");
  CHECK(oa->timeouts.connect_timeout_ms == 5000);
  const ModelSpec* small = oa->FindModel("small");
  REQUIRE(small != nullptr);
  CHECK(small->upstream_id == "gpt-small-2025");
  CHECK(small->caps.tools);
  CHECK_FALSE(small->caps.vision);
  CHECK(small->caps.stream);                              // default true
  CHECK(small->prices.cached_per_mtok_micros == 150000);  // defaults to the input price
  CHECK(oa->FindModel("big")->upstream_id == "big");      // defaults to id
  const ProviderSpec* mk = c.FindProvider("mk");
  CHECK(mk->base_url == "mock://");
  CHECK(mk->api_key.empty());
  CHECK(c.lanes.size() == 7);
  const Lane* balanced = c.FindLane("balanced");
  REQUIRE(balanced != nullptr);
  REQUIRE(balanced->members.size() == 3);
  CHECK(balanced->members[0].Key() == "oa/big");
  CHECK(balanced->members[2].Key() == "mk/echo");
  CHECK(balanced->tier == Tier::kBalanced);
  CHECK(c.FindLane("coding")->tier == Tier::kNone);
  // Aliases: most specific first.
  REQUIRE(c.aliases.size() == 3);
  CHECK(c.aliases[0].pattern == "claude-opus-*");
  CHECK(c.aliases[1].pattern == "gpt-5-mini*");
  CHECK(c.aliases[2].pattern == "gpt-5*");
  CHECK(c.server.port == 9090);
  CHECK(c.server.threads == static_cast<int64_t>(Limits{}.server_threads));
  CHECK(c.server.max_streams == static_cast<int64_t>(Limits{}.max_concurrent_streams));
  CHECK(c.ledger.sync);
  CHECK(c.breaker.failure_threshold == 5);
}

TEST_CASE("config: the minimal config loads") {
  Config c = MustLoad(kMinimal, MapEnv({}));
  CHECK(c.providers.size() == 1);
  CHECK(c.lanes.size() == 1);
}

TEST_CASE("config: every section and optional key is parsed") {
  Config c = MustLoad(kMinimal + R"(
[lanes.cheap-code]
primary = "mk/m"
tier = "economy"

[classifier]
long_input_tokens = 5000
code = { enabled = false }
tools = { lane = "cheap-code" }

[breaker]
failure_threshold = 3
cool_down_ms = 1000
max_skip_ms = 60000

[ledger]
sync = "none"
checkpoint_every = 10
checkpoint_seconds = 5

[server]
bind = "0.0.0.0"
port = 8080
admin_port = 8081
max_body_bytes = 1024
threads = 512
max_streams = 400
)",
                      MapEnv({}));
  CHECK(c.FindLane("cheap-code")->tier == Tier::kEconomy);
  CHECK(c.classifier.long_input_tokens == 5000);
  CHECK_FALSE(c.classifier.rule(ClassifierRule::kCode).enabled);
  CHECK(c.classifier.rule(ClassifierRule::kCode).lane == "coding");
  CHECK(c.classifier.rule(ClassifierRule::kTools).lane == "cheap-code");
  CHECK(c.breaker.failure_threshold == 3);
  CHECK(c.breaker.cool_down_ms == 1000);
  CHECK(c.breaker.max_skip_ms == 60000);
  CHECK_FALSE(c.ledger.sync);
  CHECK(c.ledger.checkpoint_every == 10);
  CHECK(c.ledger.checkpoint_seconds == 5);
  CHECK(c.server.bind == "0.0.0.0");
  CHECK(c.server.port == 8080);
  CHECK(c.server.admin_port == 8081);
  CHECK(c.server.max_body_bytes == 1024);
  CHECK(c.server.threads == 512);
  CHECK(c.server.max_streams == 400);
}

TEST_CASE("config: provider timeouts and prices") {
  Config c =
      MustLoad(Replace(kMinimal, "context_window = 100\n",
                       "context_window = 100\ninput_per_mtok_micros = 3000000\n"
                       "output_per_mtok_micros = 15000000\ncached_per_mtok_micros = 300000\n") +
                   "",
               MapEnv({}));
  const ModelSpec* m = c.providers[0].FindModel("m");
  CHECK(m->prices.input_per_mtok_micros == 3000000);
  CHECK(m->prices.output_per_mtok_micros == 15000000);
  CHECK(m->prices.cached_per_mtok_micros == 300000);
  Config t = MustLoad(Replace(kMinimal, "kind = \"mock\"\n",
                              "kind = \"mock\"\nconnect_timeout_ms = 100\n"
                              "first_byte_timeout_ms = 200\nidle_timeout_ms = 300\n"),
                      MapEnv({}));
  CHECK(t.providers[0].timeouts.connect_timeout_ms == 100);
  CHECK(t.providers[0].timeouts.first_byte_timeout_ms == 200);
  CHECK(t.providers[0].timeouts.idle_timeout_ms == 300);
}

TEST_CASE("config: invalid configs are refused with FILE:LINE: key: problem") {
  CHECK(LoadError("bogus = 1\n" + kMinimal) == "helm.toml:1: bogus: unknown key");
  CHECK(LoadError(Replace(kMinimal, "kind = \"mock\"\n", "kind = \"mock\"\ncolour = \"red\"\n")) ==
        "helm.toml:4: providers[0].colour: unknown key");
  CHECK(LoadError(Replace(kMinimal, "context_window = 100", "context_window = \"big\"")) ==
        "helm.toml:6: providers[0].models[0].context_window: expected an integer, got a string");
  CHECK(LoadError(Replace(kMinimal, "context_window = 100", "context_window = 0")) ==
        "helm.toml:6: providers[0].models[0].context_window: must be between 1 and 1099511627776");
  CHECK(LoadError(Replace(kMinimal, "\"mock\"", "\"azure\"")) ==
        "helm.toml:3: providers[0].kind: unknown provider kind \"azure\" "
        "(openai, anthropic, gemini, mock)");
  CHECK(LoadError(Replace(kMinimal, "\"mk/m\"", "\"zz/m\"")) ==
        "helm.toml:8: lanes.balanced.primary: unknown provider \"zz\"");
  CHECK(LoadError(Replace(kMinimal, "\"mk/m\"", "\"mk/nope\"")) ==
        "helm.toml:8: lanes.balanced.primary: provider \"mk\" has no model \"nope\"");
  CHECK(LoadError(Replace(kMinimal, "\"mk/m\"", "\"mk\"")) ==
        "helm.toml:8: lanes.balanced.primary: \"mk\" is not PROVIDER_ID/MODEL_ID");
  CHECK(LoadError(kMinimal + "fallback = [\"mk/m\"]\n") ==
        "helm.toml:9: lanes.balanced.fallback[0]: duplicate member \"mk/m\"");
  CHECK(LoadError(kMinimal + "fallback = [1]\n") ==
        "helm.toml:9: lanes.balanced.fallback[0]: expected a string, got an integer");
  CHECK(LoadError(Replace(kMinimal, "[lanes.balanced]", "[lanes.economy]")) ==
        "helm.toml:7: lanes.balanced: the balanced lane is required");
  CHECK(LoadError(Replace(kMinimal, "[lanes.balanced]\nprimary = \"mk/m\"\n", "")) ==
        "helm.toml:1: lanes.balanced: the balanced lane is required");
  CHECK(LoadError(Replace(kMinimal, "primary", "first")) ==
        "helm.toml:8: lanes.balanced.first: unknown key");
  CHECK(LoadError(kMinimal + "[lanes.auto]\nprimary = \"mk/m\"\n") ==
        "helm.toml:9: lanes.auto: invalid lane name (letters, digits, ._-:; \"auto\" and "
        "\"pinned\" are reserved)");
  CHECK(LoadError(kMinimal + "tier = \"premium\"\n") ==
        "helm.toml:9: lanes.balanced.tier: is fixed to \"balanced\"");
  CHECK(LoadError(kMinimal + "[aliases]\n\"gpt-*\" = \"premium\"\n") ==
        "helm.toml:10: aliases.\"gpt-*\": unknown lane \"premium\"");
  CHECK(LoadError(kMinimal + "[classifier]\ntools = { lane = \"tool_use\" }\n") ==
        "helm.toml:10: classifier.tools.lane: unknown lane \"tool_use\"");
  CHECK(LoadError(kMinimal + "[classifier]\nsmart = true\n") ==
        "helm.toml:10: classifier.smart: unknown key");
  CHECK(LoadError(kMinimal + "[ledger]\nsync = \"sometimes\"\n") ==
        "helm.toml:10: ledger.sync: must be \"always\" or \"none\"");
  CHECK(LoadError(kMinimal + "[server]\nport = 70000\n") ==
        "helm.toml:10: server.port: must be between 0 and 65535");
  CHECK(LoadError(kMinimal + "[server]\nport = \"80\"\n") ==
        "helm.toml:10: server.port: expected an integer, got a string");
  // Streams hold their worker: they may never hold every one.
  CHECK(LoadError(kMinimal + "[server]\nthreads = 64\nmax_streams = 64\n") ==
        "helm.toml:9: server: max streams must be at least 1 and below the server threads (64), "
        "so that short requests still find a worker; got 64");
  CHECK(LoadError(kMinimal + "[server]\nthreads = 90\n") ==
        "helm.toml:9: server: max streams must be at least 1 and below the server threads (90), "
        "so that short requests still find a worker; got 96");
  CHECK(LoadError(kMinimal + "[server]\nthreads = 1\nmax_streams = 1\n") ==
        "helm.toml:9: server: server threads must be between 2 and 8192, got 1");
  CHECK(LoadError(kMinimal + "[server]\nmax_streams = 0\n") ==
        "helm.toml:10: server.max_streams: must be between 1 and 8192");
  CHECK(LoadError("providers = 1\n") ==
        "helm.toml:1: providers: expected an array of tables ([[providers]]), got an integer");
  CHECK(LoadError("[lanes.balanced]\nprimary = \"mk/m\"\n") ==
        "helm.toml:1: providers: at least one [[providers]] is required");
  CHECK(LoadError("[[providers]\n").rfind("helm.toml:1: syntax: ", 0) == 0);
}

TEST_CASE("config: provider fields are required and checked") {
  CHECK(LoadError(Replace(kMinimal, "kind = \"mock\"\n", "")) ==
        "helm.toml:1: providers[0].kind: required key is missing");
  CHECK(LoadError(Replace(kMinimal, "id = \"mk\"\n", "")) ==
        "helm.toml:1: providers[0].id: required key is missing");
  CHECK(LoadError(Replace(kMinimal, "\"mock\"", "\"openai\"")) ==
        "helm.toml:1: providers[0].base_url: required key is missing");
  CHECK(LoadError(Replace(kMinimal, "\"mock\"", "\"openai\"\nbase_url = \"https://x\"")) ==
        "helm.toml:1: providers[0].api_key_env: required key is missing");
  CHECK(LoadError(Replace(kMinimal, "\"mock\"", "\"openai\"\nbase_url = \"ftp://x\"")) ==
        "helm.toml:4: providers[0].base_url: must start with http:// or https://");
  CHECK(LoadError(Replace(kMinimal, "\"mock\"", "\"mock\"\nbase_url = \"https://x\"")) ==
        "helm.toml:4: providers[0].base_url: kind mock takes a mock:// URL");
  CHECK(LoadError(Replace(kMinimal, "id = \"mk\"", "id = \"m/k\"")) ==
        "helm.toml:2: providers[0].id: invalid id \"m/k\" (letters, digits, ._-:)");
  CHECK(LoadError(Replace(kMinimal, "context_window = 100\n", "")) ==
        "helm.toml:4: providers[0].models[0].context_window: required key is missing");
  CHECK(LoadError(
            Replace(kMinimal, "context_window = 100\n", "context_window = 100\nstream = 1\n")) ==
        "helm.toml:7: providers[0].models[0].stream: expected a boolean, got an integer");
  CHECK(LoadError(Replace(kMinimal, "[lanes.balanced]",
                          "[[providers.models]]\nid = \"m\"\n"
                          "context_window = 5\n[lanes.balanced]")) ==
        "helm.toml:8: providers[0].models[1].id: duplicate model id \"m\"");
  std::string two =
      "[[providers]]\nid = \"mk\"\nkind = \"mock\"\n[[providers.models]]\n"
      "id = \"m\"\ncontext_window = 100\n";
  CHECK(LoadError(two + kMinimal) == "helm.toml:8: providers[1].id: duplicate provider id \"mk\"");
}

TEST_CASE("config: a provider whose key variable is unset is skipped with a warning") {
  Config c = MustLoad(kBaseConfig, MapEnv({{"OA_KEY", "sk-oa"}}));
  CHECK(c.FindProvider("an") == nullptr);
  REQUIRE(c.skipped_providers == std::vector<std::string>{"an"});
  REQUIRE(c.warnings.size() == 1);
  CHECK(c.warnings[0] == "provider \"an\" skipped: environment variable AN_KEY is not set");
  // Its members are dropped from every lane.
  const Lane* balanced = c.FindLane("balanced");
  REQUIRE(balanced->members.size() == 2);
  CHECK(balanced->members[0].Key() == "oa/big");
  CHECK(balanced->members[1].Key() == "mk/echo");
  CHECK(c.FindLane("premium")->members.size() == 1);
}

TEST_CASE("config: an empty variable counts as unset") {
  auto c =
      LoadConfigString(kBaseConfig, "helm.toml", MapEnv({{"OA_KEY", ""}, {"AN_KEY", "sk-an"}}));
  // json has only oa/small: the lane is left with no usable model.
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == ErrorCode::kConfig);
  CHECK(c.error().message ==
        "helm.toml:62: lanes.json: no usable model: every member belongs to a skipped "
        "provider (oa)");
}

TEST_CASE("config: a lane whose every member is skipped refuses startup") {
  std::string text = kMinimal + R"(
[[providers]]
id = "oa"
kind = "openai"
base_url = "https://api.example"
api_key_env = "OA_KEY"
[[providers.models]]
id = "x"
context_window = 10
[lanes.premium]
primary = "oa/x"
)";
  CHECK(LoadError(text, MapEnv({})) ==
        "helm.toml:18: lanes.premium: no usable model: every member belongs to a skipped "
        "provider (oa)");
  CHECK(MustLoad(text, MapEnv({{"OA_KEY", "k"}})).FindLane("premium") != nullptr);
}

TEST_CASE("config: a mock provider needs no key variable") {
  Config c =
      MustLoad(Replace(kMinimal, "kind = \"mock\"\n", "kind = \"mock\"\napi_key_env = \"NOPE\"\n"),
               MapEnv({}));
  CHECK(c.providers.size() == 1);
  CHECK(c.warnings.empty());
}

TEST_CASE("config: the shipped examples/helm.toml loads") {
  std::string path = std::string(HELM_SOURCE_DIR) + "/examples/helm.toml";
  std::ifstream in(path);
  REQUIRE(in.good());
  auto all = MapEnv({{"OPENAI_API_KEY", "a"}, {"ANTHROPIC_API_KEY", "b"}, {"GEMINI_API_KEY", "c"}});
  auto c = LoadConfigFile(path, all);
  INFO((c.ok() ? "" : c.error().message));
  REQUIRE(c.ok());
  CHECK(c->warnings.empty());
  for (const char* lane :
       {"economy", "balanced", "premium", "coding", "json", "vision", "tool_use"}) {
    CHECK_MESSAGE(c->FindLane(lane) != nullptr, lane);
  }
  // With no keys at all, only the mock provider remains; the example still starts.
  auto mock_only = LoadConfigFile(path, MapEnv({}));
  INFO((mock_only.ok() ? "" : mock_only.error().message));
  CHECK(mock_only.ok());
}

TEST_CASE("config: a missing file is a config error") {
  auto c = LoadConfigFile("/nonexistent/helm.toml", MapEnv({}));
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == ErrorCode::kConfig);
  CHECK(c.error().message == "/nonexistent/helm.toml: cannot open");
}

}  // namespace
}  // namespace helm::route
