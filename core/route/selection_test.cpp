#include "core/route/selection.h"

#include <doctest/doctest.h>

#include "core/route/capability.h"
#include "core/route/route_test_util.h"

namespace helm::route {
namespace {

using testing::kBaseConfig;
using testing::MustLoad;

const Config& Base() {
  static const Config c = MustLoad(kBaseConfig);
  return c;
}

RouteFacts Model(const std::string& model) {
  RouteFacts f;
  f.model = model;
  return f;
}

RoutePlan Plan(const RouteFacts& f, const LaneObligations& ob = {}, bool may_pin = true) {
  auto plan = SelectRoute(Base(), f, ob, may_pin);
  INFO((plan.ok() ? "" : plan.error().message));
  REQUIRE(plan.ok());
  return std::move(plan).value();
}

std::vector<std::string> Keys(const std::vector<Candidate>& cs) {
  std::vector<std::string> out;
  for (const auto& c : cs) out.push_back(c.key);
  return out;
}

TEST_CASE("selection: auto and unknown models are classified") {
  RoutePlan p = Plan(Model("auto"));
  CHECK(p.lane == "balanced");
  CHECK(p.classified_by == "default");
  CHECK(p.lane_adjusted_by == LaneAdjustment::kNone);
  CHECK(Keys(p.candidates) == std::vector<std::string>{"oa/big", "an/opus", "mk/echo"});
  CHECK(p.candidates[0].upstream_model == "big");
  CHECK(p.candidates[0].kind == ProviderKind::kOpenAI);
  CHECK(p.candidates[0].base_url == "https://api.openai.example/v1");
  CHECK(p.candidates[0].provider->api_key == "sk-oa");
  CHECK(p.candidates[0].model->context_window == 200000);
  RouteFacts tools = Model("some-unknown-model");
  tools.has_tools = true;
  RoutePlan t = Plan(tools);
  CHECK(t.lane == "tool_use");
  CHECK(t.classified_by == "tools");
  CHECK(Plan(Model("")).classified_by == "default");
}

TEST_CASE("selection: a lane name selects the lane") {
  RoutePlan p = Plan(Model("premium"));
  CHECK(p.lane == "premium");
  CHECK(p.classified_by == "lane");
  CHECK(Keys(p.candidates) == std::vector<std::string>{"an/opus", "oa/big"});
  CHECK_FALSE(p.client_model_first);
}

TEST_CASE("selection: aliases map vendor ids to lanes, most specific first") {
  RoutePlan opus = Plan(Model("claude-opus-4-20250514"));
  CHECK(opus.lane == "premium");
  CHECK(opus.classified_by == "alias");
  CHECK(Plan(Model("gpt-5")).lane == "balanced");
  CHECK(Plan(Model("gpt-5-mini-2025")).lane == "economy");
  RoutePlan none = Plan(Model("claude-haiku"));
  CHECK(none.classified_by == "default");
  CHECK(MatchAlias(Base(), "gpt-4o") == nullptr);
}

TEST_CASE("selection: the client's model in the chain is tried first") {
  // "claude-opus-4" is an/opus's upstream id; the alias picks premium, where it already leads.
  RoutePlan p = Plan(Model("claude-opus-4"));
  CHECK(p.lane == "premium");
  CHECK(p.client_model_first);
  CHECK(p.candidates[0].key == "an/opus");
  // By model id in a classified lane: "big" is unknown as a lane/alias → classified
  // balanced, and oa/big already leads; "echo" moves mk/echo to the front.
  RoutePlan echo = Plan(Model("echo"));
  CHECK(echo.lane == "balanced");
  CHECK(echo.client_model_first);
  CHECK(Keys(echo.candidates) == std::vector<std::string>{"mk/echo", "oa/big", "an/opus"});
}

TEST_CASE("selection: PROVIDER/MODEL pins when the principal may pin") {
  RoutePlan p = Plan(Model("an/opus"));
  CHECK(p.lane == kPinnedLane);
  CHECK(p.classified_by == "pinned");
  CHECK(Keys(p.candidates) == std::vector<std::string>{"an/opus"});
  // Not allowed to pin: classified as auto; the model still leads if the lane has it.
  RoutePlan q = Plan(Model("an/opus"), {}, false);
  CHECK(q.lane == "balanced");
  CHECK(q.classified_by == "default");
  CHECK(Keys(q.candidates) == std::vector<std::string>{"an/opus", "oa/big", "mk/echo"});
  CHECK(q.client_model_first);
  // An unknown pin is an unknown model.
  CHECK(Plan(Model("an/nope")).classified_by == "default");
}

TEST_CASE("selection: lane_pin forces the lane and is recorded") {
  RouteFacts f = Model("auto");
  f.has_tools = true;
  RoutePlan p = Plan(f, {"coding", ""});
  CHECK(p.lane == "coding");
  CHECK(p.selected_lane == "tool_use");
  CHECK(p.classified_by == "tools");
  CHECK(p.lane_adjusted_by == LaneAdjustment::kPin);
  CHECK(std::string(LaneAdjustmentName(p.lane_adjusted_by)) == "pin");
  // Already in the pinned lane: nothing adjusted.
  CHECK(Plan(Model("coding"), {"coding", ""}).lane_adjusted_by == LaneAdjustment::kNone);
  // A lane_pin overrides a client pin.
  RoutePlan q = Plan(Model("an/opus"), {"economy", ""});
  CHECK(q.lane == "economy");
  CHECK(q.lane_adjusted_by == LaneAdjustment::kPin);
  // An unconfigured pinned lane refuses the request.
  auto bad = SelectRoute(Base(), Model("auto"), {"gold", ""}, true);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kUnavailable);
  CHECK(bad.error().message == "lane_pin \"gold\": no such lane is configured");
}

TEST_CASE("selection: lane_cap lowers tiered lanes above the cap") {
  struct Row {
    const char* model;
    const char* cap;
    const char* lane;
    LaneAdjustment adjusted;
  };
  const Row rows[] = {
      {"premium", "balanced", "balanced", LaneAdjustment::kCap},
      {"premium", "economy", "economy", LaneAdjustment::kCap},
      {"premium", "premium", "premium", LaneAdjustment::kNone},
      {"balanced", "balanced", "balanced", LaneAdjustment::kNone},
      {"balanced", "premium", "balanced", LaneAdjustment::kNone},
      {"economy", "balanced", "economy", LaneAdjustment::kNone},
      {"balanced", "economy", "economy", LaneAdjustment::kCap},
      // Untiered lanes stay unless the cap is economy.
      {"coding", "balanced", "coding", LaneAdjustment::kNone},
      {"vision", "premium", "vision", LaneAdjustment::kNone},
      {"coding", "economy", "economy", LaneAdjustment::kCap},
      {"tool_use", "economy", "economy", LaneAdjustment::kCap},
  };
  for (const Row& row : rows) {
    RoutePlan p = Plan(Model(row.model), {"", row.cap});
    CHECK_MESSAGE(p.lane == row.lane, row.model, " cap ", row.cap);
    CHECK_MESSAGE(p.lane_adjusted_by == row.adjusted, row.model, " cap ", row.cap);
    CHECK(p.selected_lane == row.model);
  }
}

TEST_CASE("selection: lane_cap drops a client pin and caps the classified lane") {
  RouteFacts f = Model("an/opus");
  f.input_tokens = 50000;  // long input → premium
  RoutePlan p = Plan(f, {"", "balanced"});
  CHECK(p.classified_by == "long_input");
  CHECK(p.selected_lane == "premium");
  CHECK(p.lane == "balanced");
  CHECK(p.lane_adjusted_by == LaneAdjustment::kCap);
  CHECK(p.candidates[0].key == "an/opus");  // still in the capped lane: tried first
}

TEST_CASE("selection: lane_cap with the cap lane not configured") {
  Config c = MustLoad(R"(
[[providers]]
id = "mk"
kind = "mock"
[[providers.models]]
id = "m"
context_window = 100
[lanes.balanced]
primary = "mk/m"
[lanes.premium]
primary = "mk/m"
[lanes.gold]
primary = "mk/m"
tier = "premium"
)");
  // premium capped at economy, no economy lane: refuse, never route above the cap.
  auto none = SelectRoute(c, Model("premium"), {"", "economy"}, true);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().code == ErrorCode::kUnavailable);
  CHECK(none.error().message == "lane_cap \"economy\": no configured lane at or below it");
  CHECK_FALSE(ValidateObligations(c, {"", "economy"}).ok());
  // An operator lane with a tier is capped like the standard lanes.
  auto gold = SelectRoute(c, Model("gold"), {"", "balanced"}, true);
  REQUIRE(gold.ok());
  CHECK(gold->lane == "balanced");
  // A cap naming an untiered, unknown lane cannot be applied.
  auto odd = SelectRoute(c, Model("auto"), {"", "whatever"}, true);
  REQUIRE_FALSE(odd.ok());
  CHECK(ValidateObligations(c, {"", "balanced"}).ok());
  CHECK(ValidateObligations(c, {"gold", "premium"}).ok());
  auto v = ValidateObligations(c, {"silver", ""});
  REQUIRE_FALSE(v.ok());
  CHECK(v.error().code == ErrorCode::kConfig);
}

TEST_CASE("selection: pin then cap") {
  RoutePlan p = Plan(Model("auto"), {"premium", "balanced"});
  CHECK(p.lane == "balanced");
  CHECK(p.lane_adjusted_by == LaneAdjustment::kCap);
}

TEST_CASE("selection: glob matching") {
  CHECK(RouteGlobMatch("*", ""));
  CHECK(RouteGlobMatch("gpt-5*", "gpt-5"));
  CHECK(RouteGlobMatch("gpt-5*", "gpt-5-mini"));
  CHECK_FALSE(RouteGlobMatch("gpt-5*", "gpt-4o"));
  CHECK(RouteGlobMatch("claude-*-4*", "claude-opus-4-1"));
  CHECK_FALSE(RouteGlobMatch("claude-*-4", "claude-opus-4-1"));
  CHECK(RouteGlobMatch("a*b*c", "aXbYbc"));
  CHECK_FALSE(RouteGlobMatch("GPT-5*", "gpt-5"));
}

// ---- capability filter ----

TEST_CASE("capability: each skip reason") {
  const std::vector<Candidate> chain =
      Plan(Model("balanced")).candidates;  // oa/big, an/opus, mk/echo
  struct Row {
    const char* name;
    RouteFacts facts;
    std::vector<std::string> usable;
    std::vector<std::pair<std::string, std::string>> skipped;
  };
  RouteFacts tools, images, json, stream, ctx, fits;
  tools.has_tools = true;
  images.has_images = true;
  json.json_output = true;
  stream.stream = true;
  ctx.input_tokens = 7000;
  ctx.max_output_tokens = 1001;  // 8001 > 8000 (mk/echo)
  fits.input_tokens = 7000;
  fits.max_output_tokens = 1000;  // exactly 8000
  const Row rows[] = {
      {"tools", tools, {"oa/big", "an/opus"}, {{"mk/echo", "no_tools"}}},
      {"images", images, {"oa/big", "an/opus"}, {{"mk/echo", "no_vision"}}},
      {"json", json, {"oa/big"}, {{"an/opus", "no_json"}, {"mk/echo", "no_json"}}},
      {"stream", stream, {"oa/big", "an/opus"}, {{"mk/echo", "no_streaming"}}},
      {"ctx", ctx, {"oa/big", "an/opus"}, {{"mk/echo", "context_too_small"}}},
      {"fits", fits, {"oa/big", "an/opus", "mk/echo"}, {}},
  };
  for (const Row& row : rows) {
    Filtered f = FilterCandidates(chain, row.facts);
    CHECK_MESSAGE(Keys(f.usable) == row.usable, row.name);
    std::vector<std::pair<std::string, std::string>> skipped;
    for (const auto& s : f.skipped) skipped.emplace_back(s.candidate.key, SkipReasonName(s.reason));
    CHECK_MESSAGE(skipped == row.skipped, row.name);
  }
}

TEST_CASE("capability: the first failing check names the reason, no overflow") {
  const ModelSpec& echo = *Base().FindProvider("mk")->FindModel("echo");
  RouteFacts f;
  f.has_tools = f.has_images = f.json_output = f.stream = true;
  f.input_tokens = 1 << 20;
  CHECK(*CheckCapabilities(echo, f) == SkipReason::kNoTools);
  RouteFacts huge;
  huge.max_output_tokens = INT64_MAX;
  huge.input_tokens = 10;
  CHECK(*CheckCapabilities(echo, huge) == SkipReason::kContextTooSmall);
  CHECK_FALSE(CheckCapabilities(echo, RouteFacts{}).has_value());
}

}  // namespace
}  // namespace helm::route

namespace helm::route {
namespace {

TEST_CASE("selection: the shipped example routes a vendor id to its own model first") {
  auto c = LoadConfigFile(
      std::string(HELM_SOURCE_DIR) + "/examples/helm.toml",
      testing::MapEnv(
          {{"OPENAI_API_KEY", "a"}, {"ANTHROPIC_API_KEY", "b"}, {"GEMINI_API_KEY", "c"}}));
  REQUIRE(c.ok());
  RouteFacts f;
  f.model = "claude-sonnet-4-20250514";
  auto plan = SelectRoute(*c, f, {}, false);
  REQUIRE(plan.ok());
  CHECK(plan->lane == "balanced");
  CHECK(plan->classified_by == "alias");
  CHECK(plan->candidates[0].key == "anthropic/sonnet");
  CHECK(plan->candidates[0].upstream_model == "claude-sonnet-4-20250514");
  CHECK(plan->client_model_first);
  // bulk is economy-tier: a balanced cap leaves it, a premium request is lowered.
  f.model = "bulk";
  CHECK(SelectRoute(*c, f, {"", "balanced"}, false)->lane == "bulk");
  f.model = "o3-pro";
  CHECK(SelectRoute(*c, f, {"", "balanced"}, false)->lane == "balanced");
}

}  // namespace
}  // namespace helm::route
