#include "core/proxy/proxy_service.h"

#include "core/common/ids.h"
#include "core/common/metrics.h"
#include "core/crypto/crypto.h"
#include "core/proxy/client_errors.h"
#include "core/proxy/flight.h"
#include "core/proxy/request_rules.h"

namespace helm {
namespace {

constexpr size_t kMaxBufferedResponseBytes = 64 << 20;

int64_t NowUs() { return SystemClock().NowMicros(); }

Json HelmMember(const ProxyService::Flight& f) {
  Json h{{"decision_id", f.decision.decision_id},
         {"receipt_id", f.decision.receipt_id},
         {"reason_code", f.decision.reason_code}};
  if (!f.decision.approval_id.empty()) h["approval_id"] = f.decision.approval_id;
  return h;
}

}  // namespace

// Adds the X-Helm-Output-Hash of a buffered body and the flight's headers.
ProxyResponse Finish(ProxyService::Flight& f, ProxyResponse res) {
  f.output_hash = crypto::Sha256Tagged(res.body);
  res.headers.insert(res.headers.end(), f.headers.begin(), f.headers.end());
  res.headers.emplace_back("X-Helm-Output-Hash", f.output_hash);
  return res;
}

ProxyResponse ErrorResponse(ProxyService::Flight& f, int status, const std::string& code,
                            const std::string& message, bool with_helm) {
  ProxyResponse res;
  res.status = status;
  res.body = ClientErrorBody(f.req.protocol, status, code, message,
                             with_helm ? HelmMember(f) : Json(nullptr));
  return Finish(f, std::move(res));
}

namespace {

std::string FaultMessage(const UpstreamResult& r) {
  return std::string("upstream ") + UpstreamFaultName(r.fault) +
         (r.detail.empty() ? "" : ": " + r.detail);
}

const std::string* FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

// An upstream answer that is not a success, mapped for the client: 5xx →
// 502 in the client's shape; 4xx (429 included) returned as is.
ProxyResponse UpstreamFailure(ProxyService::Flight& f, const UpstreamHead& head,
                              std::string body) {
  if (head.status >= 500 || head.status < 400) {
    return ErrorResponse(f, 502, "UPSTREAM_ERROR",
                         "upstream answered HTTP " + std::to_string(head.status));
  }
  ProxyResponse res;
  res.status = head.status;
  res.body = std::move(body);
  if (const std::string* ct = FindHeader(head.headers, "content-type")) res.content_type = *ct;
  if (const std::string* ra = FindHeader(head.headers, "retry-after")) {
    res.headers.emplace_back("Retry-After", *ra);
  }
  return Finish(f, std::move(res));
}

const char* OutcomeStatusFor(int upstream_status) {
  if (upstream_status == 429 || upstream_status >= 500) return "upstream_error";
  return "rejected";
}

}  // namespace

ProxyService::ProxyService(Boundary* boundary, std::unique_ptr<Upstream> upstream,
                           ProxyOptions options)
    : boundary_(boundary), upstream_(std::move(upstream)), options_(std::move(options)) {}

ProxyService::~ProxyService() = default;

ProxyResponse ProxyService::Handle(const ProxyRequest& request) {
  auto f = std::make_shared<Flight>();
  f->req = request;
  f->start_us = NowUs();
  f->correlation_id = CorrelationId(request.headers);
  f->headers.emplace_back("X-Helm-Correlation-ID", f->correlation_id);

  auto principal = boundary_->Authenticate(request.credential);
  if (!principal.ok()) {
    if (principal.error().code == ErrorCode::kUnavailable) {
      return ErrorResponse(*f, 503, "BOUNDARY_UNAVAILABLE", principal.error().message);
    }
    GetCounter("helm_proxy_unauthenticated_total").Add();
    return ErrorResponse(*f, 401, "UNAUTHENTICATED", "missing or invalid API key");
  }
  f->principal = *principal;

  int invalid_status = 0;
  std::string invalid;
  if (request.body.size() > options_.limits.max_body_bytes) {
    invalid_status = 413;
    invalid = "request body exceeds " + std::to_string(options_.limits.max_body_bytes) + " bytes";
  } else if (!IsJsonContentType(request.content_type)) {
    invalid_status = 415;
    invalid = "content type must be application/json";
  } else if (auto parsed = ParseStrictJson(request.body, options_.limits.max_json_depth);
             !parsed.ok()) {
    invalid_status = 400;
    invalid = parsed.error().message;
  } else if (!parsed->is_object()) {
    invalid_status = 400;
    invalid = "request body must be a JSON object";
  } else {
    f->body = std::move(parsed.value());
  }

  EvaluateInput in;
  in.principal = f->principal;
  in.protocol = request.protocol;
  in.endpoint = request.endpoint;
  in.body = invalid.empty() ? f->body : Json::object();
  in.request_hash = crypto::Sha256Tagged(request.body);
  in.body_bytes = static_cast<int64_t>(request.body.size());
  in.path_model = request.path_model;
  in.path_stream = request.path_stream;
  if (auto it = request.headers.find("x-helm-approval"); it != request.headers.end()) {
    in.approval_id = it->second;
  }
  in.correlation_id = f->correlation_id;
  in.headers = request.headers;
  in.invalid_reason = invalid;
  auto decision = boundary_->Evaluate(in);
  if (!decision.ok()) {
    bool ledger = decision.error().message.rfind("ledger", 0) == 0;
    return ErrorResponse(*f, 503, ledger ? "LEDGER_UNAVAILABLE" : "BOUNDARY_UNAVAILABLE",
                         decision.error().message);
  }
  f->decision = std::move(decision.value());
  const Decision& d = f->decision;
  f->headers.emplace_back("X-Helm-Decision-ID", d.decision_id);
  f->headers.emplace_back("X-Helm-Receipt-ID", d.receipt_id);
  f->headers.emplace_back("X-Helm-Reason-Code", d.reason_code);
  f->headers.emplace_back("X-Helm-Status", VerdictName(d.verdict));

  if (!invalid.empty()) return ErrorResponse(*f, invalid_status, "REQUEST_INVALID", invalid, true);
  if (d.verdict == Verdict::kEscalate) {
    f->headers.emplace_back("X-Helm-Approval-ID", d.approval_id);
    return ErrorResponse(*f, 403, d.reason_code,
                         "this request needs an operator's approval; re-send it with "
                         "X-Helm-Approval: " + d.approval_id + " once approved",
                         true);
  }
  if (d.verdict != Verdict::kAllow) {
    return ErrorResponse(*f, 403, d.reason_code, "denied by policy rule '" + d.rule_id + "'", true);
  }
  return Dispatch(std::move(f));
}

ProxyResponse ProxyService::Dispatch(std::shared_ptr<Flight> f) {
  const Decision& d = f->decision;
  f->model = f->req.path_model.value_or(f->body.value("model", ""));
  f->stream = f->req.path_stream.value_or(f->body.value("stream", false));
  f->upstream.path = f->req.upstream_path;
  f->upstream.headers.emplace_back("Content-Type", "application/json");
  Json body = d.rewritten_body ? *d.rewritten_body : Json();
  bool patched = d.rewritten_body.has_value();
  if (d.obligations.max_output_tokens) {
    if (!patched) body = f->body;
    patched = ApplyObligations(f->req.protocol, d.obligations, body) || patched;
  }
  // Same-protocol traffic goes out byte for byte unless an obligation changed it.
  f->upstream.body = patched ? DumpJson(body) : f->req.body;
  f->headers.emplace_back("X-Helm-Lane", "default");
  f->headers.emplace_back("X-Helm-Model", f->model);
  f->headers.emplace_back("X-Helm-Fallbacks", "0");
  return f->stream ? DispatchStream(std::move(f)) : DispatchBuffered(std::move(f));
}

ProxyResponse ProxyService::DispatchBuffered(std::shared_ptr<Flight> f) {
  UpstreamHead head;
  std::string out;
  int64_t t0 = NowUs();
  UpstreamResult r = upstream_->Send(
      f->upstream,
      [&](const UpstreamHead& h) {
        head = h;
        return true;
      },
      [&](std::string_view data) {
        if (out.size() + data.size() > kMaxBufferedResponseBytes) return false;
        out.append(data);
        return true;
      });
  int64_t upstream_us = NowUs() - t0;
  if (r.fault != UpstreamFault::kNone || head.status != 200) {
    return FailedUpstream(*f, r, head, std::move(out), upstream_us);
  }
  ProxyResponse res;
  if (const std::string* ct = FindHeader(head.headers, "content-type")) res.content_type = *ct;
  Json parsed = Json::parse(out, nullptr, false);
  f->usage = ExtractUsage(f->req.protocol, parsed);
  res.body = std::move(out);
  res = Finish(*f, std::move(res));
  Seal(*f, "completed", 200, upstream_us, "ok");
  return res;
}

ProxyResponse ProxyService::FailedUpstream(Flight& f, const UpstreamResult& r,
                                           const UpstreamHead& head, std::string body,
                                           int64_t upstream_us) {
  ProxyResponse res;
  if (r.fault != UpstreamFault::kNone && head.status == 0) {
    res = ErrorResponse(f, 502, "UPSTREAM_ERROR", FaultMessage(r));
    Seal(f, "upstream_error", 502, upstream_us, UpstreamFaultName(r.fault));
    return res;
  }
  res = UpstreamFailure(f, head, std::move(body));
  Seal(f, OutcomeStatusFor(head.status), res.status, upstream_us,
       "http_" + std::to_string(head.status));
  return res;
}

void ProxyService::Seal(Flight& f, const std::string& status, int http_status,
                        int64_t upstream_us, const std::string& attempt_outcome) {
  Outcome o;
  o.decision_id = f.decision.decision_id;
  o.decision_receipt_id = f.decision.receipt_id;
  o.principal = f.principal;
  o.correlation_id = f.correlation_id;
  o.status = status;
  o.http_status = http_status;
  o.route = {{"lane", "default"},
             {"classified_by", "none"},
             {"provider", options_.upstream_label},
             {"model", f.model},
             {"attempts", Json::array({{{"provider", options_.upstream_label},
                                        {"model", f.model},
                                        {"outcome", attempt_outcome},
                                        {"latency_us", upstream_us}}})}};
  o.usage = f.usage;
  o.output_hash = f.output_hash;
  o.latency_us = NowUs() - f.start_us;
  auto sealed = boundary_->Seal(o);
  if (!sealed.ok()) GetCounter("helm_proxy_seal_failures_total").Add();
  GetCounter("helm_proxy_requests_total", "status=\"" + status + "\"").Add();
}

ProxyResponse ProxyService::Models(const ProxyRequest& request, const std::string& id) {
  auto principal = boundary_->Authenticate(request.credential);
  Flight f;
  f.req = request;
  if (!principal.ok()) {
    return ErrorResponse(f, principal.error().code == ErrorCode::kUnavailable ? 503 : 401,
                         principal.error().code == ErrorCode::kUnavailable
                             ? "BOUNDARY_UNAVAILABLE"
                             : "UNAUTHENTICATED",
                         principal.error().message);
  }
  auto model = [](const std::string& m) {
    return Json{{"id", m}, {"object", "model"}, {"created", 0}, {"owned_by", "helm"}};
  };
  ProxyResponse res;
  if (!id.empty()) {
    if (id != "auto") return ErrorResponse(f, 404, "MODEL_NOT_FOUND", "no model " + id);
    res.body = DumpJson(model(id));
  } else {
    res.body = DumpJson({{"object", "list"}, {"data", Json::array({model("auto")})}});
  }
  return res;
}

}  // namespace helm
