#include "core/route/selection.h"

#include <algorithm>

namespace helm::route {
namespace {

inline constexpr char kAuto[] = "auto";

Candidate MakeCandidate(const ProviderSpec& p, const ModelSpec& m) {
  Candidate c;
  c.provider_id = p.id;
  c.model_id = m.id;
  c.upstream_model = m.upstream_id;
  c.kind = p.kind;
  c.base_url = p.base_url;
  c.key = p.id + "/" + m.id;
  c.provider = &p;
  c.model = &m;
  return c;
}

// The usable model a "PROVIDER/MODEL" string names, or nullopt.
std::optional<Candidate> FindPinned(const Config& config, std::string_view model) {
  size_t slash = model.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const ProviderSpec* p = config.FindProvider(model.substr(0, slash));
  if (p == nullptr) return std::nullopt;
  const ModelSpec* m = p->FindModel(model.substr(slash + 1));
  if (m == nullptr) return std::nullopt;
  return MakeCandidate(*p, *m);
}

std::vector<Candidate> LaneCandidates(const Config& config, const Lane& lane) {
  std::vector<Candidate> out;
  for (const LaneMember& member : lane.members) {
    const ProviderSpec* p = config.FindProvider(member.provider_id);
    const ModelSpec* m = p == nullptr ? nullptr : p->FindModel(member.model_id);
    if (m != nullptr) out.push_back(MakeCandidate(*p, *m));  // always true for a loaded Config
  }
  return out;
}

// Step 1: the lane (or pinned model) from what the client asked for.
struct Selected {
  std::string lane;
  std::string classified_by;
  std::optional<Candidate> pinned;
};

Selected SelectFromModel(const Config& config, const RouteFacts& facts, bool pin_allowed) {
  const std::string& model = facts.model;
  if (!model.empty() && model != kAuto) {
    if (config.FindLane(model) != nullptr) return {model, "lane", std::nullopt};
    if (auto pinned = FindPinned(config, model)) {
      if (pin_allowed) return {kPinnedLane, "pinned", std::move(pinned)};
    } else if (const Alias* alias = MatchAlias(config, model)) {
      return {alias->lane, "alias", std::nullopt};
    }
  }
  Classification c = Classify(facts, config);
  return {c.lane, c.classified_by, std::nullopt};
}

Tier LaneTier(const Config& config, std::string_view name) {
  if (const Lane* lane = config.FindLane(name)) return lane->tier;
  return ParseTier(name).value_or(Tier::kNone);
}

// The lane a cap lowers to: the cap lane itself, else the highest configured
// standard lane at or below the cap's tier. Empty when there is none.
std::string CapTarget(const Config& config, std::string_view cap) {
  if (config.FindLane(cap) != nullptr) return std::string(cap);
  Tier tier = LaneTier(config, cap);
  for (int t = static_cast<int>(tier); t >= static_cast<int>(Tier::kEconomy); --t) {
    const char* name = TierName(static_cast<Tier>(t));
    if (config.FindLane(name) != nullptr) return name;
  }
  return "";
}

// Whether a lane of tier `lane` must be lowered under a cap of tier `cap`.
bool AboveCap(Tier lane, Tier cap) {
  if (lane == Tier::kNone) return cap == Tier::kEconomy;
  return static_cast<int>(lane) > static_cast<int>(cap);
}

// Step 2. Updates lane and adjustment; an error when an obligation cannot be met.
Status ApplyObligations(const Config& config, const LaneObligations& ob, std::string& lane,
                        LaneAdjustment& adjusted) {
  if (!ob.lane_pin.empty()) {
    if (config.FindLane(ob.lane_pin) == nullptr) {
      return MakeError(ErrorCode::kUnavailable,
                       "lane_pin \"" + ob.lane_pin + "\": no such lane is configured");
    }
    if (lane != ob.lane_pin) adjusted = LaneAdjustment::kPin;
    lane = ob.lane_pin;
  }
  if (!ob.lane_cap.empty()) {
    std::string target = CapTarget(config, ob.lane_cap);
    Tier cap = LaneTier(config, ob.lane_cap);
    if (target.empty() || cap == Tier::kNone) {
      return MakeError(ErrorCode::kUnavailable,
                       "lane_cap \"" + ob.lane_cap + "\": no configured lane at or below it");
    }
    if (lane != target && AboveCap(LaneTier(config, lane), cap)) {
      lane = target;
      adjusted = LaneAdjustment::kCap;
    }
  }
  return Status::Ok();
}

bool NamesCandidate(const Candidate& c, std::string_view model) {
  return c.model_id == model || c.upstream_model == model || c.key == model;
}

// Step 3.
bool ClientModelFirst(std::vector<Candidate>& chain, std::string_view model) {
  if (model.empty() || model == kAuto) return false;
  auto it = std::find_if(chain.begin(), chain.end(),
                         [&](const Candidate& c) { return NamesCandidate(c, model); });
  if (it == chain.end()) return false;
  std::rotate(chain.begin(), it, it + 1);
  return true;
}

}  // namespace

const char* LaneAdjustmentName(LaneAdjustment a) {
  switch (a) {
    case LaneAdjustment::kPin:
      return "pin";
    case LaneAdjustment::kCap:
      return "cap";
    case LaneAdjustment::kNone:
      break;
  }
  return "none";
}

bool RouteGlobMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const Alias* MatchAlias(const Config& config, std::string_view model) {
  for (const Alias& alias : config.aliases) {
    if (RouteGlobMatch(alias.pattern, model)) return &alias;
  }
  return nullptr;
}

Status ValidateObligations(const Config& config, const LaneObligations& obligations) {
  std::string lane = "balanced";
  LaneAdjustment ignored = LaneAdjustment::kNone;
  Status st = ApplyObligations(config, obligations, lane, ignored);
  if (!st.ok()) return MakeError(ErrorCode::kConfig, st.error().message);
  return Status::Ok();
}

Result<RoutePlan> SelectRoute(const Config& config, const RouteFacts& facts,
                              const LaneObligations& obligations, bool may_pin) {
  bool obliged = !obligations.lane_pin.empty() || !obligations.lane_cap.empty();
  Selected sel = SelectFromModel(config, facts, may_pin && !obliged);
  RoutePlan plan;
  plan.classified_by = std::move(sel.classified_by);
  plan.selected_lane = sel.lane;
  if (sel.pinned) {
    plan.lane = std::move(sel.lane);
    plan.candidates.push_back(std::move(*sel.pinned));
    return plan;
  }
  plan.lane = std::move(sel.lane);
  Status st = ApplyObligations(config, obligations, plan.lane, plan.lane_adjusted_by);
  if (!st.ok()) return st.error();
  const Lane* lane = config.FindLane(plan.lane);
  if (lane == nullptr) {  // "balanced" is required, so only a hand-built Config gets here
    return MakeError(ErrorCode::kUnavailable, "lane \"" + plan.lane + "\" is not configured");
  }
  plan.candidates = LaneCandidates(config, *lane);
  plan.client_model_first = ClientModelFirst(plan.candidates, facts.model);
  if (plan.candidates.empty()) {
    return MakeError(ErrorCode::kUnavailable, "lane \"" + plan.lane + "\" has no model");
  }
  return plan;
}

}  // namespace helm::route
