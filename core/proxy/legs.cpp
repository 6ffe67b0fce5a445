// Building the request for one candidate (verbatim or translated) and reading
// its answer back into the client's protocol.
#include "core/common/ids.h"
#include "core/common/json_scan.h"
#include "core/crypto/crypto.h"
#include "core/protocol/codec.h"
#include "core/receipt/canonical_object.h"
#include "core/proxy/client_errors.h"
#include "core/proxy/flight.h"
#include "core/proxy/json_patch.h"
#include "core/proxy/request_rules.h"
#include "core/proxy/stream_relay.h"
#include "core/route/cost.h"

namespace helm {
namespace {

protocol::ProviderKind WireKind(route::ProviderKind kind) {
  switch (kind) {
    case route::ProviderKind::kAnthropic: return protocol::ProviderKind::kAnthropic;
    case route::ProviderKind::kGemini: return protocol::ProviderKind::kGemini;
    default: return protocol::ProviderKind::kOpenAi;  // openai and mock
  }
}

// Usage of a provider body that is forwarded verbatim: only the integers of
// the top-level usage member are read, and no JSON tree is built.
std::optional<TokenUsage> UsageOfProviderBody(protocol::ProviderKind kind,
                                              const std::string& body) {
  const char* member = kind == protocol::ProviderKind::kGemini ? "usageMetadata" : "usage";
  std::optional<std::string_view> raw = TopLevelMember(body, member);
  if (!raw) return std::nullopt;
  const protocol::UsageObject u(*raw);
  if (!u.is_object()) return std::nullopt;
  switch (kind) {
    case protocol::ProviderKind::kAnthropic: return UsageOf(protocol::UsageFromAnthropic(u));
    case protocol::ProviderKind::kGemini: return UsageOf(protocol::UsageFromGemini(u));
    default: return UsageOf(protocol::UsageFromOpenAi(u));
  }
}

void AddProviderAuth(const route::Candidate& c, protocol::ProviderKind kind, HeaderList& headers) {
  const std::string& key = c.provider->api_key;
  if (kind == protocol::ProviderKind::kAnthropic) {
    headers.emplace_back("anthropic-version", "2023-06-01");
    if (!key.empty()) headers.emplace_back("x-api-key", key);
  } else if (kind == protocol::ProviderKind::kGemini) {
    if (!key.empty()) headers.emplace_back("x-goog-api-key", key);
  } else if (!key.empty()) {
    headers.emplace_back("Authorization", "Bearer " + key);
  }
}

}  // namespace

ProxyResponse Finish(ProxyService::Flight& f, ProxyResponse res) {
  f.output_hash = crypto::Sha256Tagged(res.body);
  // A flight's answer is finished once: its headers move to it.
  res.head_lines = std::move(f.helm_headers);
  f.helm_headers.clear();
  AppendHeaderLine(&res.head_lines, "X-Helm-Output-Hash", f.output_hash);
  return res;
}

ProxyResponse ErrorResponse(ProxyService::Flight& f, int status, const std::string& code,
                            const std::string& message, bool with_helm) {
  Json helm = nullptr;
  if (with_helm) {
    helm = {{"decision_id", f.decision.decision_id},
            {"receipt_id", f.decision.receipt_id},
            {"reason_code", f.decision.reason_code}};
    if (!f.decision.approval_id.empty()) helm["approval_id"] = f.decision.approval_id;
  }
  ProxyResponse res;
  res.status = status;
  res.body = ClientErrorBody(f.req.protocol, status, code, message, helm);
  return Finish(f, std::move(res));
}

route::AttemptOutcome OutcomeForFault(UpstreamFault fault) {
  switch (fault) {
    case UpstreamFault::kConnect: return route::AttemptOutcome::kConnectError;
    case UpstreamFault::kFirstByteTimeout:
    case UpstreamFault::kIdleTimeout: return route::AttemptOutcome::kTimeout;
    case UpstreamFault::kCancelled: return route::AttemptOutcome::kAbandoned;
    default: return route::AttemptOutcome::kServerError;
  }
}

void RecordAttempt(ProxyService::Flight& f, const route::Candidate& c, const std::string& outcome,
                   const std::string& skip_reason, int64_t latency_us) {
  CanonicalObject a;
  a.AddString("provider", c.provider_id);
  a.AddString("model", c.model_id);
  a.AddString("outcome", outcome);
  a.AddInt("latency_us", latency_us);
  if (!skip_reason.empty()) a.AddString("skip_reason", skip_reason);
  f.sent_count += outcome != "skipped";
  // Configured names and the fixed outcome words are valid UTF-8, so the
  // attempt is always canonical; were it not, it is left out whole.
  const size_t mark = f.attempts.size();
  if (f.attempt_count > 0) f.attempts.push_back(',');
  if (!a.AppendTo(&f.attempts).ok()) {
    f.attempts.resize(mark);
    return;
  }
  ++f.attempt_count;
}

void CommitTo(ProxyService::Flight& f, const route::Candidate& c) {
  f.served_by = c.key;
  f.fallbacks = f.sent_count;
  // The model that served: the client's own name when it was passed through.
  AppendHeaderLine(&f.helm_headers, "X-Helm-Model",
                   f.router->passthrough_model ? f.client_model : c.key);
  AppendHeaderLine(&f.helm_headers, "X-Helm-Fallbacks", std::to_string(f.fallbacks));
}

protocol::EncodeOptions EncodeOptionsFor(const ProxyService::Flight& f) {
  protocol::EncodeOptions o;
  o.model = f.client_model;
  o.response_id = f.decision.decision_id;
  o.created_unix = f.start_us / 1000000;
  o.include_usage = f.ir ? f.ir->include_usage : false;
  return o;
}

Result<Leg> PrepareLeg(ProxyService::Flight& f, const route::Candidate& c) {
  Leg leg;
  leg.candidate = &c;
  leg.kind = WireKind(c.kind);
  auto up = f.router->upstreams.find(c.provider_id);
  if (up == f.router->upstreams.end()) {
    return MakeError(ErrorCode::kUnavailable, "provider_unavailable");
  }
  leg.upstream = up->second.get();
  const std::string model = f.router->passthrough_model ? f.client_model : c.upstream_model;
  const bool chat = protocol::IsTranslatableProtocol(f.req.protocol);
  if (!chat && leg.kind != protocol::ProviderKind::kOpenAi) {
    return MakeError(ErrorCode::kUnavailable, "protocol_unsupported");
  }
  leg.translate = chat && !protocol::SameProtocol(f.req.protocol, leg.kind);
  UpstreamRequest& r = leg.request;
  r.headers.emplace_back("Content-Type", "application/json");
  AddProviderAuth(c, leg.kind, r.headers);
  if (!leg.translate) {
    r.body = f.dispatch_text;
    if (leg.kind == protocol::ProviderKind::kGemini) {
      r.path = protocol::ProviderPath(leg.kind, model, f.stream);
    } else {
      r.path = f.req.upstream_path;
      if (model != f.client_model) {
        if (auto patched = ReplaceTopLevelString(r.body, "model", model)) r.body = *patched;
      }
    }
    return leg;
  }
  if (!f.ir) {
    auto decoded = protocol::DecodeClientRequest(f.req.protocol, f.dispatch_json);
    if (!decoded.ok()) return MakeError(ErrorCode::kInvalidArgument, decoded.error().message);
    f.ir = std::move(decoded.value());
    f.ir->model = f.client_model;
    f.ir->stream = f.stream;
  }
  auto encoded = protocol::EncodeProviderRequest(leg.kind, *f.ir, model);
  if (!encoded.ok()) return MakeError(ErrorCode::kInvalidArgument, encoded.error().message);
  r.body = DumpJson(*encoded);
  r.path = protocol::ProviderPath(leg.kind, model, f.stream);
  return leg;
}

ProxyResponse ClientErrorFromProvider(ProxyService::Flight& f, const Leg& leg,
                                      const UpstreamHead& head, std::string body) {
  ProxyResponse res;
  res.status = head.status;
  if (leg.translate) {
    protocol::ProviderError e = protocol::ExtractProviderError(
        leg.kind, head.status, Json::parse(body, nullptr, false));
    res.body = DumpJson(protocol::EncodeClientError(f.req.protocol, head.status, e.message));
  } else {
    res.body = std::move(body);
    if (const std::string* ct = FindHeader(head.headers, "content-type")) res.content_type = *ct;
  }
  if (const std::string* ra = FindHeader(head.headers, "retry-after")) {
    res.headers.emplace_back("Retry-After", *ra);
  }
  return res;
}

Result<std::string> ClientBodyFromProvider(ProxyService::Flight& f, const Leg& leg,
                                           std::string body) {
  if (!protocol::IsTranslatableProtocol(f.req.protocol)) {  // embeddings, completions
    f.usage = ExtractUsage(f.req.protocol, Json::parse(body, nullptr, false));
    return body;
  }
  if (!leg.translate) {  // verbatim: the client gets exactly what the provider sent
    f.usage = UsageOfProviderBody(leg.kind, body);
    return body;
  }
  auto decoded = protocol::DecodeProviderResponse(leg.kind, Json::parse(body, nullptr, false));
  if (!decoded.ok()) return decoded.error();  // cannot translate what cannot be read
  if (decoded->usage.known) f.usage = UsageOf(decoded->usage);
  return DumpJson(protocol::EncodeClientResponse(f.req.protocol, *decoded, EncodeOptionsFor(f)));
}

void PriceUsage(ProxyService::Flight& f, const route::Candidate& c) {
  if (!f.usage || c.model == nullptr) return;
  f.cost_micros = route::CostMicros(*f.usage, c.model->prices);
}

}  // namespace helm
