// Internal to the proxy: the state of one request in flight, and the helpers
// the buffered and streaming halves of ProxyService share.
#pragma once

#include <optional>
#include <string>

#include "core/boundary/boundary.h"
#include "core/protocol/translate.h"
#include "core/proxy/proxy_service.h"
#include "core/proxy/router.h"
#include "core/route/breaker.h"
#include "core/route/selection.h"

namespace helm {

struct ProxyService::Flight {
  ProxyRequest req;
  int64_t start_us = 0;
  std::string correlation_id;
  Principal principal;
  Decision decision;
  Json body;                 // the client's body, parsed (moved to dispatch_json by Route)
  std::string client_model;  // as the client asked (path model for Gemini)
  bool stream = false;
  std::string dispatch_text;  // the body to forward: raw bytes, or rewritten by an obligation
  Json dispatch_json;         // its parsed form
  std::optional<ir::Request> ir;  // decoded on first translation
  std::shared_ptr<const RouterState> router;
  route::RoutePlan plan;  // its candidates are moved out when filtered (Route)
  std::vector<route::Candidate> candidates;  // a buffered request's, in the order tried
  // The attempts so far, each an RFC 8785 object, comma-separated
  // (RecordAttempt): the route's `attempts` array without its brackets.
  std::string attempts;
  int attempt_count = 0;
  int sent_count = 0;     // attempts that were not skipped
  std::string served_by;  // "provider/model" of the candidate that answered
  int fallbacks = 0;      // candidates tried before it
  std::string helm_headers;  // X-Helm-* for the client, as header lines
  // The last candidate that refused with 429: returned as is (Retry-After
  // included) when every candidate failed, so clients can back off.
  std::optional<ProxyResponse> rate_limited;
  std::string output_hash;
  std::optional<TokenUsage> usage;
  int64_t cost_micros = 0;
  std::optional<Outcome> outcome;  // recorded by Seal, not yet handed to the boundary
  bool outcome_sealed = false;     // handed to the boundary (SealOutcome)
  // The gate's hold on the key's limits (a concurrency slot): released with the flight.
  KeyGate::Pass gate_pass;
};

// One attempt at one candidate: the request to send and how to read the answer.
struct Leg {
  const route::Candidate* candidate = nullptr;
  protocol::ProviderKind kind = protocol::ProviderKind::kOpenAi;  // wire protocol
  bool translate = false;
  Upstream* upstream = nullptr;
  UpstreamRequest request;
};

// A candidate's breaker permit and request. Without a leg the candidate was
// skipped (recorded); `end` is set when the request cannot be sent to anyone
// (untranslatable: 400, already sealed).
struct ProxyService::Opened {
  route::BreakerPermit permit;
  std::optional<Leg> leg;
  std::optional<ProxyResponse> end;
};

// The request for one candidate: verbatim for the same protocol (only the
// model patched), else translated through the IR. kUnavailable with a skip
// reason ("protocol_unsupported", "provider_unavailable") when the candidate
// cannot serve it; kInvalidArgument when the request cannot be translated.
Result<Leg> PrepareLeg(ProxyService::Flight& f, const route::Candidate& c);

// Adds the flight's X-Helm-* headers (moved: a flight's answer is finished
// once) and the X-Helm-Output-Hash of res.body.
ProxyResponse Finish(ProxyService::Flight& f, ProxyResponse res);
// An error in the client's protocol shape; with_helm adds the helm member.
ProxyResponse ErrorResponse(ProxyService::Flight& f, int status, const std::string& code,
                            const std::string& message, bool with_helm = false);

// How an upstream transport fault counts for the breaker.
route::AttemptOutcome OutcomeForFault(UpstreamFault fault);
// Appends {provider, model, outcome, skip_reason, latency_us} to f.attempts.
void RecordAttempt(ProxyService::Flight& f, const route::Candidate& c, const std::string& outcome,
                   const std::string& skip_reason, int64_t latency_us);
// A provider's non-2xx answer for the client (a deterministic 4xx, or a 429
// kept for when every candidate fails): as is for the same protocol, else in
// the client's error shape. Not yet finished.
ProxyResponse ClientErrorFromProvider(ProxyService::Flight& f, const Leg& leg,
                                      const UpstreamHead& head, std::string body);
// A successful provider body for the client; fills f.usage and f.cost_micros.
Result<std::string> ClientBodyFromProvider(ProxyService::Flight& f, const Leg& leg,
                                           std::string body);
protocol::EncodeOptions EncodeOptionsFor(const ProxyService::Flight& f);
// The candidate answers: records it, counts the candidates tried before it,
// and adds X-Helm-Model and X-Helm-Fallbacks.
void CommitTo(ProxyService::Flight& f, const route::Candidate& c);
// Cost of f.usage at the serving candidate's prices.
void PriceUsage(ProxyService::Flight& f, const route::Candidate& c);

}  // namespace helm
