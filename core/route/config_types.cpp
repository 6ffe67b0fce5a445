// The small lookups and names of config.h (no toml++ here).
#include "core/route/config.h"

namespace helm::route {

const char* ProviderKindName(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kOpenAI:
      return "openai";
    case ProviderKind::kAnthropic:
      return "anthropic";
    case ProviderKind::kGemini:
      return "gemini";
    case ProviderKind::kMock:
      return "mock";
  }
  return "mock";
}

const char* TierName(Tier tier) {
  switch (tier) {
    case Tier::kEconomy:
      return "economy";
    case Tier::kBalanced:
      return "balanced";
    case Tier::kPremium:
      return "premium";
    case Tier::kNone:
      break;
  }
  return "";
}

std::optional<Tier> ParseTier(std::string_view s) {
  if (s == "economy") return Tier::kEconomy;
  if (s == "balanced") return Tier::kBalanced;
  if (s == "premium") return Tier::kPremium;
  return std::nullopt;
}

const char* ClassifierRuleName(ClassifierRule rule) {
  switch (rule) {
    case ClassifierRule::kTools:
      return "tools";
    case ClassifierRule::kImages:
      return "images";
    case ClassifierRule::kJson:
      return "json";
    case ClassifierRule::kCode:
      return "code";
    case ClassifierRule::kLongInput:
      return "long_input";
  }
  return "";
}

const ModelSpec* ProviderSpec::FindModel(std::string_view model_id) const {
  for (const auto& m : models) {
    if (m.id == model_id) return &m;
  }
  return nullptr;
}

const ProviderSpec* Config::FindProvider(std::string_view id) const {
  for (const auto& p : providers) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const Lane* Config::FindLane(std::string_view name) const {
  auto it = lanes.find(std::string(name));
  return it == lanes.end() ? nullptr : &it->second;
}

}  // namespace helm::route
