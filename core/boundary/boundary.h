// The Boundary decides and records. One interface, two implementations:
// LocalBoundary (in-process: policy + ledger + approvals, local_boundary.h)
// and RemoteBoundary (HTTP client of `helm serve`, in core/http). The proxy
// only ever sees this interface.
//
// Contract (I1, I2): Evaluate returns only after the decision receipt is
// durable — or, for a caller that sets defer_durability, with a gate
// (Decision::durable) that opens once it is; any failure to decide or record
// is an error (or a gate opened with it), never an ALLOW. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/boundary/api_keys.h"
#include "core/common/dispatch_gate.h"
#include "core/common/header_list.h"
#include "core/common/json.h"
#include "core/common/token_usage.h"
#include "core/policy/policy.h"

namespace helm {

struct EvaluateInput {
  Principal principal;
  std::string protocol;        // kOpenAiChat, ...
  std::string endpoint;        // the client path, e.g. "/v1/chat/completions"
  Json body;                   // the parsed client body (object)
  std::string request_hash;    // "sha256:<hex>" of the body bytes as received
  int64_t body_bytes = 0;
  std::optional<std::string> path_model;  // Gemini: the model comes from the path
  std::optional<bool> path_stream;        // Gemini: streaming comes from the method
  std::string approval_id;     // X-Helm-Approval
  std::string correlation_id;
  HeaderList headers;  // lower-case names, in the order received, for `when.headers`
  std::string invalid_reason;  // non-empty: the request is malformed → DENY REQUEST_INVALID
  // Non-empty: the proxy's gate refused the request (a key limit,
  // core/proxy/key_gate.h) → DENY with this reason code, the policy not asked.
  std::string gate_reason;
  // The caller dispatches only through Decision::durable and answers only
  // once it is open: an in-process boundary may then return an ALLOW while
  // its receipt is being written, so that the caller prepares the dispatch
  // meanwhile (docs/architecture.md, "Dispatch on commit").
  bool defer_durability = false;
};

struct Decision {
  std::string decision_id;
  std::string receipt_id;
  Verdict verdict = Verdict::kDeny;
  std::string reason_code;
  std::string detail;             // DENY REQUEST_INVALID: what is wrong with the request
  std::string rule_id;
  Obligations obligations;
  std::string approval_id;        // ESCALATE: the new pending approval; ALLOW: the one consumed
  int redactions = 0;
  std::optional<Json> rewritten_body;  // set when obligations changed the body to dispatch
  // An in-process boundary's ALLOW: the facts the policy decided on, so the
  // caller can route on them without decoding the body again. Never on the
  // wire: null from a remote boundary.
  std::shared_ptr<const RequestFacts> facts;
  // With defer_durability, when the receipt was not yet durable on return:
  // opens once it is (ok) or cannot be (the request must be refused, 503
  // LEDGER_UNAVAILABLE, and nothing sealed). Null: durable already.
  std::shared_ptr<DispatchGate> durable;

  Json ToJson() const;            // the /api/v1/evaluate response
  static Result<Decision> FromJson(const Json& j);
};

struct Outcome {
  std::string decision_id;
  std::string decision_receipt_id;  // becomes `parent`
  Principal principal;
  std::string correlation_id;
  std::string status;               // completed | upstream_error | client_disconnected | truncated | rejected
  int http_status = 0;
  std::string route = "{}";          // the route object as RFC 8785 text
  std::optional<TokenUsage> usage;  // absent when unknown
  int64_t cost_micros = 0;
  std::string output_hash;          // "sha256:<hex>"
  int64_t latency_us = 0;
  // In-process only, never on the wire: the caller has this boundary's own
  // Decision for decision_receipt_id, durable (the proxy seals only then),
  // so the boundary need not look the parent up.
  bool parent_durable = false;

  Json ToJson() const;              // the /api/v1/seal request
  static Result<Outcome> FromJson(const Json& j);
};

// The reason codes of the proxy's gate (EvaluateInput::gate_reason):
// RATE_LIMITED, TOKEN_LIMIT, BUDGET_EXCEEDED, CONCURRENCY_LIMIT, LANE_NOT_ALLOWED.
bool IsGateReason(std::string_view code);

class Boundary {
 public:
  virtual ~Boundary() = default;
  // The principal of an API key secret; kUnauthenticated when unknown or
  // revoked, kUnavailable when the key store cannot be asked.
  virtual Result<Principal> Authenticate(std::string_view secret) = 0;
  // kUnavailable: the ledger (or the remote boundary) cannot record → refuse, 503.
  virtual Result<Decision> Evaluate(const EvaluateInput& input) = 0;
  // Appends the outcome receipt; returns its receipt id.
  virtual Result<std::string> Seal(const Outcome& outcome) = 0;
  // Seals without the caller waiting: the proxy's path, once the answer is
  // complete. A failure is counted (helm_seal_failures_total), never
  // reported; every outcome handed over is sealed before the boundary is
  // destroyed.
  virtual void SealDetached(Outcome outcome) = 0;
};

}  // namespace helm
