// Model selection: from what the client asked for, the classifier and the
// policy's lane obligations, to an ordered candidate chain (a RoutePlan). Pure
// logic over a loaded Config; the proxy then filters the chain by capability
// (capability.h) and walks it through the circuit breakers (breaker.h).
//
// Algorithm (docs/routing.md, "Selecting a lane"):
//  1. The client's `model`:
//     - "auto" or ""                         → classify        (classified_by: rule or "default")
//     - a configured lane name               → that lane       (classified_by: "lane")
//     - "PROVIDER/MODEL" of a usable model   → that model alone, lane "pinned",
//       classified_by "pinned" — only when the principal may pin and the
//       policy set no lane obligation; otherwise it is classified as "auto"
//     - matches an [aliases] glob            → the alias's lane (classified_by: "alias")
//     - anything else                        → classify
//  2. Policy obligations, after classification, recorded in lane_adjusted_by:
//     - lane_pin: the request goes to that lane ("pin").
//     - lane_cap: tiers order economy < balanced < premium. A tiered lane above
//       the cap's tier is lowered to the cap lane ("cap"). An untiered lane
//       (coding, json, vision, tool_use, operator lanes without `tier`) is left
//       alone unless the cap is economy-tier, where it is lowered too: an
//       economy cap means "cheapest only". When the cap lane itself is not
//       configured, the highest configured standard lane at or below the cap's
//       tier is used. Pin first, then cap.
//  3. A model named by the client that sits in the final lane's chain (by
//     model id, upstream_id or "PROVIDER/MODEL") is moved to the front.
//
// Errors (the request is refused, never routed elsewhere): a lane_pin naming
// an unconfigured lane, or a lane_cap that resolves to no configured lane →
// kUnavailable ("empty lane", 503). ValidateObligations checks policy lane
// names against a Config ahead of time (use it at startup and on reload).
//
// Thread safety: pure functions. A RoutePlan points into the Config it was
// made from (Candidate::provider / ::model): keep that Config alive
// (shared_ptr<const Config>) for as long as the plan is used.
#pragma once

#include <string>
#include <vector>

#include "core/common/result.h"
#include "core/route/classifier.h"
#include "core/route/config.h"

namespace helm::route {

inline constexpr char kPinnedLane[] = "pinned";

struct Candidate {
  std::string provider_id;
  std::string model_id;
  std::string upstream_model;  // the name to send upstream
  ProviderKind kind = ProviderKind::kMock;
  std::string base_url;
  std::string key;  // "provider_id/model_id": the BreakerRegistry key and receipt name
  const ProviderSpec* provider = nullptr;  // timeouts, api_key (never put it in a receipt)
  const ModelSpec* model = nullptr;        // capabilities, context window, prices
};

enum class LaneAdjustment { kNone, kPin, kCap };
const char* LaneAdjustmentName(LaneAdjustment a);  // "none", "pin", "cap"

// The policy's routing obligations on ALLOW; empty = not set.
struct LaneObligations {
  std::string lane_pin;
  std::string lane_cap;
};

struct RoutePlan {
  std::string lane;           // the lane the candidates come from (kPinnedLane for a pin)
  std::string classified_by;  // a classifier rule, "default", "lane", "alias" or "pinned"
  std::string selected_lane;  // the lane before obligations were applied
  LaneAdjustment lane_adjusted_by = LaneAdjustment::kNone;
  bool client_model_first = false;    // step 3 moved the client's model to the front
  std::vector<Candidate> candidates;  // in the order to try them
};

Result<RoutePlan> SelectRoute(const Config& config, const RouteFacts& facts,
                              const LaneObligations& obligations, bool may_pin);

// kConfig when lane_pin is set and not a configured lane, or lane_cap is set
// and resolves to no configured lane.
Status ValidateObligations(const Config& config, const LaneObligations& obligations);

// `*` matches any run of characters; everything else matches itself.
bool RouteGlobMatch(std::string_view pattern, std::string_view text);

// The first (most specific) alias matching model, or nullptr.
const Alias* MatchAlias(const Config& config, std::string_view model);

}  // namespace helm::route
