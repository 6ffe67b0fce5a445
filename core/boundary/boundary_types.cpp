#include "core/boundary/boundary.h"

#include "core/receipt/canonical_object.h"

namespace helm {

bool IsGateReason(std::string_view code) {
  return code == "RATE_LIMITED" || code == "TOKEN_LIMIT" || code == "BUDGET_EXCEEDED" ||
         code == "CONCURRENCY_LIMIT" || code == "LANE_NOT_ALLOWED";
}
namespace {

Json ObligationsOrEmpty(const Obligations& o) {
  Json j = o.ToJson();
  return j.is_null() ? Json::object() : j;
}

}  // namespace

Json Decision::ToJson() const {
  Json j{{"decision_id", decision_id}, {"receipt_id", receipt_id},
         {"verdict", VerdictName(verdict)}, {"reason_code", reason_code},
         {"rule_id", rule_id},          {"obligations", ObligationsOrEmpty(obligations)},
         {"redactions", redactions}};
  if (!approval_id.empty()) j["approval_id"] = approval_id;
  if (!detail.empty()) j["detail"] = detail;
  if (rewritten_body) j["body"] = *rewritten_body;
  return j;
}

Result<Decision> Decision::FromJson(const Json& j) {
  if (!j.is_object() || !j.contains("verdict") || !j["verdict"].is_string()) {
    return MakeError(ErrorCode::kUnavailable, "boundary answered without a verdict");
  }
  auto verdict = ParseVerdict(j["verdict"].get<std::string>());
  if (!verdict) return MakeError(ErrorCode::kUnavailable, "boundary answered an unknown verdict");
  Decision d;
  d.verdict = *verdict;
  d.decision_id = j.value("decision_id", "");
  d.receipt_id = j.value("receipt_id", "");
  d.reason_code = j.value("reason_code", "");
  d.rule_id = j.value("rule_id", "");
  d.approval_id = j.value("approval_id", "");
  d.detail = j.value("detail", "");
  d.redactions = j.value("redactions", 0);
  if (d.receipt_id.empty()) {
    return MakeError(ErrorCode::kUnavailable, "boundary answered without a receipt id");
  }
  const Json& o = j.value("obligations", Json::object());
  d.obligations.lane_cap = o.value("lane_cap", "");
  d.obligations.lane_pin = o.value("lane_pin", "");
  if (o.contains("max_output_tokens") && o["max_output_tokens"].is_number_integer()) {
    d.obligations.max_output_tokens = o["max_output_tokens"].get<int64_t>();
  }
  d.obligations.hold_seconds = o.value("hold_seconds", int64_t{0});
  if (j.contains("body")) d.rewritten_body = j["body"];
  return d;
}

Json Outcome::ToJson() const {
  Json j{{"decision_id", decision_id},
         {"parent", decision_receipt_id},
         {"principal", {{"agent", principal.agent}, {"api_key_id", principal.api_key_id}}},
         {"correlation_id", correlation_id},
         {"status", status},
         {"http_status", http_status},
         {"route", Json::parse(route)},
         {"cost_micros", cost_micros},
         {"output_hash", output_hash},
         {"latency_us", latency_us}};
  if (usage) {
    j["usage"] = {{"input", usage->input_tokens},
                  {"output", usage->output_tokens},
                  {"cached", usage->cached_tokens}};
  }
  return j;
}

Result<Outcome> Outcome::FromJson(const Json& j) {
  auto bad = [](const char* what) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("seal: ") + what);
  };
  if (!j.is_object()) return bad("body must be a JSON object");
  for (const char* key : {"decision_id", "parent", "status"}) {
    if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty()) {
      return bad((std::string(key) + " must be a non-empty string").c_str());
    }
  }
  static const char* const kStatuses[] = {"completed", "upstream_error", "client_disconnected",
                                          "truncated", "rejected", "error"};
  bool known = false;
  for (const char* s : kStatuses) known = known || j["status"] == s;
  if (!known) return bad("status is not a known outcome status");
  Outcome o;
  o.decision_id = j["decision_id"];
  o.decision_receipt_id = j["parent"];
  o.status = j["status"];
  const Json& p = j.value("principal", Json::object());
  if (!p.is_object()) return bad("principal must be an object");
  o.principal.agent = p.value("agent", "");
  o.principal.api_key_id = p.value("api_key_id", "");
  o.correlation_id = j.value("correlation_id", "");
  if (j.contains("http_status") && !j["http_status"].is_number_integer()) {
    return bad("http_status must be an integer");
  }
  o.http_status = j.value("http_status", 0);
  const Json route = j.value("route", Json::object());
  o.route.clear();
  if (!route.is_object() || !AppendCanonicalJson(route, &o.route).ok()) {
    return bad("route must be an object without floating-point numbers");
  }
  if (j.contains("usage")) {
    const Json& u = j["usage"];
    const auto count = [&u](const char* key) {
      return u.contains(key) && u[key].is_number_integer();
    };
    if (!u.is_object() || !count("input") || !count("output") || !count("cached")) {
      return bad("usage must be an object with integer input, output and cached");
    }
    o.usage = TokenUsage{u["input"].get<int64_t>(), u["output"].get<int64_t>(),
                         u["cached"].get<int64_t>()};
  }
  o.cost_micros = j.value("cost_micros", int64_t{0});
  o.output_hash = j.value("output_hash", "");
  o.latency_us = j.value("latency_us", int64_t{0});
  return o;
}

}  // namespace helm
