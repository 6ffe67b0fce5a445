// Verdict names and obligation serialisation (declared in policy.h).
#include "core/policy/policy.h"

namespace helm {

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kAllow:
      return "ALLOW";
    case Verdict::kDeny:
      return "DENY";
    case Verdict::kEscalate:
      return "ESCALATE";
  }
  return "DENY";
}

std::optional<Verdict> ParseVerdict(std::string_view name) {
  if (name == "ALLOW") return Verdict::kAllow;
  if (name == "DENY") return Verdict::kDeny;
  if (name == "ESCALATE") return Verdict::kEscalate;
  return std::nullopt;
}

Json Obligations::ToJson() const {
  Json out = Json::object();
  if (!lane_cap.empty()) out["lane_cap"] = lane_cap;
  if (!lane_pin.empty()) out["lane_pin"] = lane_pin;
  if (max_output_tokens) out["max_output_tokens"] = *max_output_tokens;
  if (hold_seconds > 0) out["hold_seconds"] = hold_seconds;
  if (has_redaction) out["redact"] = true;
  return out;
}

}  // namespace helm
