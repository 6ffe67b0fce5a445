#include "core/proxy/proxy_service.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "core/common/ids.h"
#include "core/common/metrics.h"
#include "core/crypto/crypto.h"
#include "core/receipt/canonical_object.h"
#include "core/proxy/client_errors.h"
#include "core/proxy/flight.h"
#include "core/proxy/request_rules.h"
#include "core/route/capability.h"

namespace helm {
namespace {

int64_t NowUs() { return SystemClock().NowMicros(); }

// JSON output asked for, in each protocol's spelling.
bool WantsJson(const Json& body) {
  auto is_json_type = [](const Json& fmt) {
    if (!fmt.is_object()) return false;
    auto type = fmt.find("type");
    return type != fmt.end() && (*type == "json_object" || *type == "json_schema");
  };
  if (body.contains("response_format") && is_json_type(body["response_format"])) return true;
  if (body.contains("text") && body["text"].is_object() && body["text"].contains("format") &&
      is_json_type(body["text"]["format"])) {
    return true;
  }
  for (const char* key : {"generationConfig", "generation_config"}) {
    if (body.contains(key) && body[key].is_object()) {
      const Json& g = body[key];
      for (const char* mime : {"responseMimeType", "response_mime_type"}) {
        if (g.contains(mime) && g[mime] == "application/json") return true;
      }
    }
  }
  return false;
}

// What the router needs to know of a request, from its facts and body.
route::RouteFacts RouteFactsOf(const RequestFacts& facts, const Json& body,
                               const std::string& model, bool stream) {
  route::RouteFacts rf;
  rf.model = model;
  rf.has_tools = !facts.tools.empty();
  rf.has_images = facts.has_images;
  rf.json_output = WantsJson(body);
  for (const std::string& t : facts.texts) rf.texts.push_back(t);
  rf.input_tokens = facts.input_tokens;
  rf.stream = stream;
  return rf;
}

// The model and streaming a client asked for: Gemini's from the path.
std::string ClientModel(const ProxyRequest& req, const Json& body) {
  if (req.path_model) return *req.path_model;
  if (auto model = body.find("model"); model != body.end() && model->is_string()) {
    return model->get<std::string>();
  }
  return "";
}
bool ClientStream(const ProxyRequest& req, const Json& body) {
  if (req.path_stream) return *req.path_stream;
  auto stream = body.find("stream");
  return stream != body.end() && *stream == true;
}

// A Flight and its shared_ptr control block are ~2 KB: above glibc's
// per-thread cache, so each request's make_shared went to the arena, which
// first consolidates its fast bins (5% of the CPU per request at 64
// connections, docs/performance.md). Freed blocks are kept for the next
// flights in one pool: a parked flight ends on whichever worker resumes
// it, so a pool per thread would mostly be empty where flights start.
class FlightBlocks {
 public:
  static FlightBlocks& Get() {
    static FlightBlocks* pool = new FlightBlocks;  // never destroyed: workers may outlive statics
    return *pool;
  }
  FlightBlocks() { blocks_.reserve(kKept); }
  void* Take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!blocks_.empty() && bytes == bytes_) {
        void* block = blocks_.back();
        blocks_.pop_back();
        return block;
      }
    }
    return ::operator new(bytes);
  }
  void Give(void* block, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (blocks_.empty()) bytes_ = bytes;
      if (blocks_.size() < kKept && bytes == bytes_) {
        blocks_.push_back(block);
        return;
      }
    }
    ::operator delete(block);
  }

 private:
  static constexpr size_t kKept = 512;  // about a megabyte at most
  std::mutex mu_;
  std::vector<void*> blocks_;  // guarded by mu_
  size_t bytes_ = 0;           // guarded by mu_
};

template <class T>
struct FlightAllocator {
  using value_type = T;
  FlightAllocator() = default;
  template <class U>
  FlightAllocator(const FlightAllocator<U>&) {}  // NOLINT: rebinding
  T* allocate(size_t n) { return static_cast<T*>(FlightBlocks::Get().Take(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { FlightBlocks::Get().Give(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const FlightAllocator<U>&) const { return true; }
};

// The answer to a request whose decision could not be recorded (nothing was
// dispatched): no decision headers, as if the boundary had refused.
ProxyResponse Unrecorded(ProxyService::Flight& f, const std::string& why) {
  f.helm_headers.clear();
  AppendHeaderLine(&f.helm_headers, "X-Helm-Correlation-ID", f.correlation_id);
  return ErrorResponse(f, 503, "LEDGER_UNAVAILABLE", why);
}

}  // namespace

ProxyService::ProxyService(Boundary* boundary, Router* router, ProxyOptions options)
    : boundary_(boundary),
      router_(router),
      options_(std::move(options)) {}

ProxyService::~ProxyService() = default;

ProxyResponse ProxyService::Handle(ProxyRequest incoming) {
  auto f = std::allocate_shared<Flight>(FlightAllocator<Flight>());
  f->req = std::move(incoming);
  return Complete(f, Guarded(*f, [&] { return HandleFlight(f); }));
}

ProxyResponse ProxyService::Guarded(Flight& f, const std::function<ProxyResponse()>& step) {
  try {
    return step();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "helm proxy: internal error on %s: %s\n", f.req.endpoint.c_str(),
                 e.what());
  }
  GetCounter("helm_proxy_internal_errors_total").Add();
  const bool decided = !f.decision.decision_id.empty();
  if (decided && f.decision.verdict == Verdict::kAllow && !f.outcome_sealed) {
    Seal(f, "error", 500);  // the outcome status for a defect (api.md)
  }
  return ErrorResponse(f, 500, "INTERNAL", "internal error", decided);
}

ProxyResponse ProxyService::Complete(const std::shared_ptr<Flight>& f, ProxyResponse res) {
  if (res.park) {  // the same, once the parked response resumes
    res.park->resume = [this, f, resume = std::move(res.park->resume)](bool timed_out) {
      return Complete(f, Guarded(*f, [&] { return resume(timed_out); }));
    };
    return res;
  }
  // No answer leaves before its decision is durable (I1). One that could not
  // be made durable was never dispatched — the upstream write waits behind
  // the same gate — and its outcome is not sealed.
  if (f->decision.durable) {
    if (const Status& written = f->decision.durable->Wait(); !written.ok()) {
      res = Unrecorded(*f, written.error().message);
      f->outcome.reset();
    }
  }
  if (f->outcome) res.after_send = [this, f] { SealOutcome(*f); };
  return res;
}

ProxyResponse ProxyService::HandleFlight(const std::shared_ptr<Flight>& f) {
  const ProxyRequest& request = f->req;
  f->start_us = NowUs();
  f->correlation_id = CorrelationId(request.headers);
  f->helm_headers.reserve(512);  // every X-Helm-* header a response can carry
  AppendHeaderLine(&f->helm_headers, "X-Helm-Correlation-ID", f->correlation_id);

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

  std::optional<GateRefusal> refused;
  if (f->principal.limits && invalid.empty()) refused = Gate(*f);  // a pointer check when none

  EvaluateInput in;
  in.principal = f->principal;
  in.protocol = request.protocol;
  in.endpoint = request.endpoint;
  in.body = invalid.empty() ? std::move(f->body) : Json::object();
  in.request_hash = crypto::Sha256Tagged(request.body);
  in.body_bytes = static_cast<int64_t>(request.body.size());
  in.path_model = request.path_model;
  in.path_stream = request.path_stream;
  if (const std::string* approval = FindHeader(request.headers, "x-helm-approval")) {
    in.approval_id = *approval;
  }
  in.correlation_id = f->correlation_id;
  in.headers = std::move(f->req.headers);  // not needed past the decision
  in.invalid_reason = invalid;
  if (refused) in.gate_reason = refused->reason;
  in.defer_durability = true;  // Handle and the upstream write wait for Decision::durable
  auto decision = boundary_->Evaluate(in);
  if (invalid.empty()) f->body = std::move(in.body);
  if (!decision.ok()) {
    bool ledger = decision.error().message.rfind("ledger", 0) == 0;
    return ErrorResponse(*f, 503, ledger ? "LEDGER_UNAVAILABLE" : "BOUNDARY_UNAVAILABLE",
                         decision.error().message);
  }
  f->decision = std::move(decision.value());
  const Decision& d = f->decision;
  AppendHeaderLine(&f->helm_headers, "X-Helm-Decision-ID", d.decision_id);
  AppendHeaderLine(&f->helm_headers, "X-Helm-Receipt-ID", d.receipt_id);
  AppendHeaderLine(&f->helm_headers, "X-Helm-Reason-Code", d.reason_code);
  AppendHeaderLine(&f->helm_headers, "X-Helm-Status", VerdictName(d.verdict));

  if (!invalid.empty()) return ErrorResponse(*f, invalid_status, "REQUEST_INVALID", invalid, true);
  if (refused && d.verdict != Verdict::kAllow) {
    ProxyResponse res = ErrorResponse(*f, refused->status, d.reason_code, refused->message, true);
    if (refused->retry_after_s > 0) {
      res.headers.emplace_back("Retry-After", std::to_string(refused->retry_after_s));
    }
    return res;
  }
  if (d.verdict == Verdict::kDeny && d.reason_code == "REQUEST_INVALID") {  // JSON of a wrong shape
    return ErrorResponse(*f, 400, "REQUEST_INVALID",
                         d.detail.empty() ? "not a valid request for this endpoint" : d.detail,
                         true);
  }
  if (d.verdict == Verdict::kEscalate) {
    AppendHeaderLine(&f->helm_headers, "X-Helm-Approval-ID", d.approval_id);
    return ErrorResponse(*f, 403, d.reason_code,
                         "this request needs an operator's approval; re-send it with "
                         "X-Helm-Approval: " + d.approval_id + " once approved",
                         true);
  }
  if (d.verdict != Verdict::kAllow) {
    return ErrorResponse(*f, 403, d.reason_code, "denied by policy rule '" + d.rule_id + "'", true);
  }
  return Route(f);
}

std::optional<GateRefusal> ProxyService::Gate(Flight& f) {
  const KeyLimits& limits = *f.principal.limits;
  RequestFacts facts;
  if (limits.tpm > 0 || !limits.lanes.empty()) {
    auto extracted = ExtractFacts(f.req.protocol, f.body);
    if (!extracted.ok()) return std::nullopt;  // the boundary refuses it: REQUEST_INVALID
    facts = std::move(extracted.value());
  }
  if (!limits.lanes.empty()) {
    // The lane the request asks for (a lane name, an alias, a pinned model)
    // or is classified into, before the policy's lane obligations.
    route::RouteFacts rf = RouteFactsOf(facts, f.body, ClientModel(f.req, f.body),
                                        ClientStream(f.req, f.body));
    auto state = router_->state();
    auto plan = route::SelectRoute(*state->config, rf, {}, f.principal.may_pin_models);
    if (plan.ok() && std::find(limits.lanes.begin(), limits.lanes.end(), plan->selected_lane) ==
                         limits.lanes.end()) {
      return GateRefusal{"LANE_NOT_ALLOWED", 403, 0,
                         "this API key may not use lane '" + plan->selected_lane + "'"};
    }
  }
  std::optional<GateRefusal> refused = gate_.Admit(f.principal, facts.input_tokens, &f.gate_pass);
  if (refused) GetLabeledCounter("helm_gate_refusals_total", "reason", refused->reason).Add();
  return refused;
}

ProxyResponse ProxyService::Route(std::shared_ptr<Flight> f) {
  const Decision& d = f->decision;
  // The decoders have checked both members' types where the protocol has
  // them; Gemini's come from the path, and its body's are ignored.
  f->client_model = ClientModel(f->req, f->body);
  f->stream = ClientStream(f->req, f->body);
  // Only an obligation re-serialises the body; otherwise it goes out as received.
  // Neither the parsed body nor the received bytes are needed past this
  // point: move them, do not copy them.
  const bool redacted = d.rewritten_body.has_value();
  bool patched = redacted;
  f->dispatch_json = patched ? std::move(*f->decision.rewritten_body) : std::move(f->body);
  patched = ApplyObligations(f->req.protocol, d.obligations, f->dispatch_json) || patched;
  f->dispatch_text = patched ? DumpJson(f->dispatch_json) : std::move(f->req.body);

  f->router = router_->state();
  // The facts the policy saw, unless there are none (a remote boundary) or
  // redaction changed the texts; a token cap does not change them.
  RequestFacts extracted;
  const RequestFacts* facts_seen = redacted ? nullptr : d.facts.get();
  if (facts_seen == nullptr) {
    if (auto r = ExtractFacts(f->req.protocol, f->dispatch_json); r.ok()) {
      extracted = std::move(r.value());
    }
  }
  const RequestFacts& facts = facts_seen ? *facts_seen : extracted;
  route::RouteFacts rf = RouteFactsOf(facts, f->dispatch_json, f->client_model, f->stream);
  rf.max_output_tokens = d.obligations.max_output_tokens.value_or(0);
  auto plan = route::SelectRoute(*f->router->config, rf,
                                 {d.obligations.lane_pin, d.obligations.lane_cap},
                                 f->principal.may_pin_models);
  if (!plan.ok()) {
    ProxyResponse res = ErrorResponse(*f, 503, "EMPTY_LANE", plan.error().message);
    Seal(*f, "rejected", 503);
    return res;
  }
  f->plan = std::move(plan.value());
  route::Filtered filtered = route::FilterCandidates(std::move(f->plan.candidates), rf);
  for (const route::Skipped& s : filtered.skipped) {
    RecordAttempt(*f, s.candidate, "skipped", route::SkipReasonName(s.reason), 0);
  }
  if (filtered.usable.empty()) {
    ProxyResponse res = ErrorResponse(*f, 422, "NO_CAPABLE_MODEL",
                                      "no model in lane '" + f->plan.lane +
                                          "' has the capabilities this request needs");
    Seal(*f, "rejected", 422);
    return res;
  }
  AppendHeaderLine(&f->helm_headers, "X-Helm-Lane", f->plan.lane);
  if (f->stream) return ExecuteStream(std::move(f), filtered.usable);
  f->candidates = std::move(filtered.usable);
  return ExecuteBuffered(std::move(f), 0);
}

ProxyService::Opened ProxyService::Open(Flight& f, const route::Candidate& c) {
  Opened o;
  o.permit = router_->breakers().TryAcquire(c.key);
  if (!o.permit.admitted()) {
    RecordAttempt(f, c, "skipped", route::DenialName(o.permit.denial()), 0);
    return o;
  }
  auto leg = PrepareLeg(f, c);
  if (leg.ok()) {
    o.leg = std::move(leg.value());
    return o;
  }
  o.permit.Release(route::ReportFault(route::AttemptOutcome::kAbandoned));
  if (leg.error().code == ErrorCode::kInvalidArgument) {
    o.end = ErrorResponse(f, 400, "REQUEST_UNTRANSLATABLE", leg.error().message);
    Seal(f, "rejected", 400);
  } else {
    RecordAttempt(f, c, "skipped", leg.error().message, 0);
  }
  return o;
}

struct ProxyService::Attempt {
  size_t index = 0;  // in flight.candidates
  Opened opened;
  UpstreamHead head;
  std::string out;
  int64_t t0 = 0;
};

ProxyResponse ProxyService::ExecuteBuffered(std::shared_ptr<Flight> f, size_t first) {
  for (size_t i = first; i < f->candidates.size(); ++i) {
    auto a = std::make_shared<Attempt>();
    a->index = i;
    a->opened = Open(*f, f->candidates[i]);
    if (a->opened.end) return std::move(*a->opened.end);
    if (!a->opened.leg) continue;
    Leg& leg = *a->opened.leg;
    auto on_head = [a](UpstreamHead& h) {
      a->head = std::move(h);
      return true;
    };
    const size_t max_bytes = options_.limits.max_response_bytes;
    auto on_data = [a, max_bytes](std::string_view data) {
      if (a->out.size() + data.size() > max_bytes) return false;
      a->out.append(data);
      return true;
    };
    a->t0 = NowUs();
    DispatchGate* gate = f->decision.durable.get();
    if (f->req.can_park) {
      if (std::shared_ptr<StartedSend> started = leg.upstream->Start(leg.request, gate)) {
        ProxyResponse parked;
        parked.park = std::make_shared<Park>();
        parked.park->fd = started->fd;
        parked.park->deadline_ns = started->deadline_ns;
        parked.park->resume = [this, f, a, started, on_head, on_data](bool timed_out) {
          UpstreamResult r = started->finish(timed_out, on_head, on_data);
          if (std::optional<ProxyResponse> res = Answered(*f, *a, r)) return std::move(*res);
          return ExecuteBuffered(f, a->index + 1);
        };
        return parked;
      }
    }
    UpstreamResult r = leg.upstream->Send(std::move(leg.request),  // a leg is sent once
                                          gate, on_head, on_data);
    if (std::optional<ProxyResponse> res = Answered(*f, *a, r)) return std::move(*res);
  }
  return AllFailed(*f);
}

std::optional<ProxyResponse> ProxyService::Answered(Flight& f, Attempt& a,
                                                    const UpstreamResult& r) {
  const route::Candidate& c = f.candidates[a.index];
  route::BreakerPermit& permit = a.opened.permit;
  Leg* leg = &*a.opened.leg;
  const UpstreamHead& head = a.head;
  int64_t latency = NowUs() - a.t0;
  if (f.req.client_alive && !f.req.client_alive()) {  // nobody to answer: no fallback
    permit.Release(route::ReportFault(route::AttemptOutcome::kAbandoned));
    RecordAttempt(f, c, "client_disconnected", "", latency);
    ProxyResponse res = ErrorResponse(f, 499, "CLIENT_DISCONNECTED", "the client went away");
    Seal(f, "client_disconnected", 499);
    return res;
  }
  if (r.fault == UpstreamFault::kNotSent) return ProxyResponse{};  // not recorded: Complete answers
  if (r.fault != UpstreamFault::kNone) {
    permit.Release(route::ReportFault(OutcomeForFault(r.fault)));
    RecordAttempt(f, c, UpstreamFaultName(r.fault), "", latency);
    return std::nullopt;
  }
  route::AttemptReport report = route::ReportFromResponse(head.status, head.headers, NowUs());
  std::string outcome = "http_" + std::to_string(head.status);
  if (route::IsFault(report.outcome)) {
    permit.Release(report);
    RecordAttempt(f, c, outcome, "", latency);
    if (head.status == 429) f.rate_limited = ClientErrorFromProvider(f, *leg, head, a.out);
    return std::nullopt;
  }
  f.served_by = c.key;
  if (head.status < 200 || head.status > 299) {  // a deterministic client error: no failover
    permit.Release(report);
    RecordAttempt(f, c, outcome, "", latency);
    ProxyResponse res = Finish(f, ClientErrorFromProvider(f, *leg, head, std::move(a.out)));
    Seal(f, "rejected", res.status);
    return res;
  }
  auto body = ClientBodyFromProvider(f, *leg, std::move(a.out));
  if (!body.ok()) {  // a 2xx the translator cannot read is the provider's fault
    permit.Release(route::ReportFault(route::AttemptOutcome::kServerError));
    RecordAttempt(f, c, "unreadable_response", "", latency);
    return std::nullopt;
  }
  permit.Release(report);
  CommitTo(f, c);
  RecordAttempt(f, c, "ok", "", latency);
  PriceUsage(f, c);
  ProxyResponse res;
  if (const std::string* ct = FindHeader(head.headers, "content-type"); ct && !leg->translate) {
    res.content_type = *ct;
  }
  res.body = std::move(body.value());
  res = Finish(f, std::move(res));
  Seal(f, "completed", 200);
  return res;
}

ProxyResponse ProxyService::AllFailed(Flight& f) {
  if (f.rate_limited) {
    ProxyResponse res = Finish(f, std::move(*f.rate_limited));
    Seal(f, "upstream_error", res.status);
    return res;
  }
  ProxyResponse res = ErrorResponse(f, 502, "UPSTREAM_ERROR",
                                    "every candidate in lane '" + f.plan.lane + "' failed (" +
                                        std::to_string(f.attempt_count) + " attempts)");
  Seal(f, "upstream_error", 502);
  return res;
}

void ProxyService::Seal(Flight& f, const std::string& status, int http_status) {
  Outcome o;
  o.decision_id = f.decision.decision_id;
  o.decision_receipt_id = f.decision.receipt_id;
  o.principal = f.principal;
  o.correlation_id = f.correlation_id;
  o.status = status;
  o.http_status = http_status;
  std::string_view provider, model;
  if (size_t slash = f.served_by.find('/'); slash != std::string::npos) {
    provider = std::string_view(f.served_by).substr(0, slash);
    model = std::string_view(f.served_by).substr(slash + 1);
  }
  CanonicalObject route_object(256 + f.attempts.size());
  route_object.AddString("lane", f.plan.lane);
  route_object.AddString("selected_lane", f.plan.selected_lane);
  route_object.AddString("classified_by", f.plan.classified_by);
  route_object.AddString("lane_adjusted_by", route::LaneAdjustmentName(f.plan.lane_adjusted_by));
  route_object.AddString("provider", provider);
  route_object.AddString("model", model);
  route_object.AddInt("fallbacks", f.fallbacks);
  route_object.AddCanonical("attempts", "[" + f.attempts + "]");
  // Names from the configuration and the client are valid UTF-8 (both were
  // parsed strictly): the route is always canonical; "{}" only guards that.
  Result<std::string> route_text = route_object.Text();
  o.route = route_text.ok() ? std::move(route_text).value() : "{}";
  if (f.usage) f.gate_pass.AddOutputTokens(f.usage->output_tokens);  // only with a tpm
  o.usage = std::move(f.usage);
  o.cost_micros = f.cost_micros;
  o.output_hash = f.output_hash;
  o.latency_us = NowUs() - f.start_us;
  // Handed over only once the decision is durable (Handle): from a local
  // boundary's Evaluate, or over the wire, where the flag does not travel.
  o.parent_durable = true;
  f.outcome = std::move(o);
}

void ProxyService::SealOutcome(Flight& f) {
  if (!f.outcome) return;
  GetLabeledCounter("helm_proxy_requests_total", "status", f.outcome->status).Add();
  GetLabeledHistogram("helm_proxy_request_duration_seconds", kRequestSecondsBounds, "status",
                      f.outcome->status)
      .Observe(static_cast<double>(f.outcome->latency_us) / 1e6);
  boundary_->SealDetached(std::move(*f.outcome));
  f.outcome.reset();
  f.outcome_sealed = true;
}

std::string ProxyService::BreakerMetrics() const {
  return route::RenderBreakerMetrics(router_->breakers().Snapshot());
}

ProxyResponse ProxyService::Models(const ProxyRequest& request, const std::string& id) {
  Flight f;
  f.req = request;
  auto principal = boundary_->Authenticate(request.credential);
  if (!principal.ok()) {
    bool down = principal.error().code == ErrorCode::kUnavailable;
    return ErrorResponse(f, down ? 503 : 401, down ? "BOUNDARY_UNAVAILABLE" : "UNAUTHENTICATED",
                         principal.error().message);
  }
  auto model = [](const std::string& m) {
    return Json{{"id", m}, {"object", "model"}, {"created", 0}, {"owned_by", "helm"}};
  };
  Json data = Json::array({model("auto")});
  auto state = router_->state();
  for (const auto& [name, lane] : state->config->lanes) data.push_back(model(name));
  ProxyResponse res;
  if (id.empty()) {
    res.body = DumpJson({{"object", "list"}, {"data", data}});
    return res;
  }
  for (const Json& m : data) {
    if (m["id"] == id) {
      res.body = DumpJson(m);
      return res;
    }
  }
  return ErrorResponse(f, 404, "MODEL_NOT_FOUND", "no model " + id);
}

}  // namespace helm
