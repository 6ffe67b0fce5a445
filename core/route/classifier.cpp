#include "core/route/classifier.h"

#include <cctype>

namespace helm::route {
namespace {

inline constexpr char kDefaultLane[] = "balanced";
inline constexpr char kDefaultRule[] = "default";

// Markers that may appear anywhere in a line.
constexpr std::string_view kAnywhere[] = {
    "```",
    "Traceback (most recent call last)",
    "Exception in thread \"",
};

// Markers that must start a line (after leading blanks): JVM frames and Go panics.
constexpr std::string_view kLineStart[] = {"at java.", "at javax.", "at kotlin.",
                                           "panic: ", "goroutine "};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool StartsLineMarker(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  line.remove_prefix(i);
  for (auto marker : kLineStart) {
    if (line.substr(0, marker.size()) != marker) continue;
    if (marker != "goroutine ") return true;
    // "goroutine 1 [running]:"
    size_t j = marker.size();
    if (j >= line.size() || !IsDigit(line[j])) continue;
    while (j < line.size() && IsDigit(line[j])) ++j;
    if (line.substr(j, 2) == " [") return true;
  }
  return false;
}

bool HasRustError(std::string_view text) {
  for (size_t at = text.find("error[E"); at != std::string_view::npos;
       at = text.find("error[E", at + 1)) {
    size_t d = at + 7;
    if (d < text.size() && IsDigit(text[d])) return true;
  }
  return false;
}

}  // namespace

namespace {
bool Fires(ClassifierRule rule, const RouteFacts& facts, const ClassifierConfig& classifier) {
  switch (rule) {
    case ClassifierRule::kTools:
      return RuleTools(facts);
    case ClassifierRule::kImages:
      return RuleImages(facts);
    case ClassifierRule::kJson:
      return RuleJson(facts);
    case ClassifierRule::kCode:
      return RuleCode(facts);
    case ClassifierRule::kLongInput:
      return RuleLongInput(facts, classifier.long_input_tokens);
  }
  return false;
}
}  // namespace

bool RuleTools(const RouteFacts& facts) { return facts.has_tools; }
bool RuleImages(const RouteFacts& facts) { return facts.has_images; }
bool RuleJson(const RouteFacts& facts) { return facts.json_output; }

bool RuleCode(const RouteFacts& facts) {
  for (auto text : facts.texts) {
    if (LooksLikeCode(text)) return true;
  }
  return false;
}

bool RuleLongInput(const RouteFacts& facts, int64_t long_input_tokens) {
  return facts.input_tokens >= long_input_tokens;
}

bool LooksLikeCode(std::string_view text) {
  for (auto marker : kAnywhere) {
    if (text.find(marker) != std::string_view::npos) return true;
  }
  if (HasRustError(text)) return true;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (StartsLineMarker(text.substr(start, end - start))) return true;
    start = end + 1;
  }
  return false;
}

Classification Classify(const RouteFacts& facts, const ClassifierConfig& classifier,
                        const LaneExists& lane_exists) {
  for (size_t r = 0; r < kClassifierRuleCount; ++r) {
    const ClassifierRuleConfig& rule = classifier.rules[r];
    if (!rule.enabled || !lane_exists(rule.lane)) continue;
    // Evaluated lazily, in order: the text scan runs only when it can decide.
    if (Fires(static_cast<ClassifierRule>(r), facts, classifier)) {
      return {rule.lane, ClassifierRuleName(static_cast<ClassifierRule>(r))};
    }
  }
  return {kDefaultLane, kDefaultRule};
}

Classification Classify(const RouteFacts& facts, const Config& config) {
  return Classify(facts, config.classifier,
                  [&](std::string_view lane) { return config.FindLane(lane) != nullptr; });
}

}  // namespace helm::route
