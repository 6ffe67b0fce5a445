#include "core/boundary/local_boundary.h"

#include "core/common/ids.h"
#include "core/common/metrics.h"

namespace helm {
namespace {

// Receipts are written member by member straight into their canonical form
// (they are on every request).
CanonicalObject PrincipalObject(const Principal& p) {
  CanonicalObject o;
  o.AddString("agent", p.agent);
  o.AddString("api_key_id", p.api_key_id);
  return o;
}

// The members every decision and outcome receipt opens with (the ledger sorts
// them into canonical order).
ReceiptDraft NewReceipt(std::string_view kind, const Principal& principal,
                        const std::string& decision_id, const std::string& correlation_id) {
  ReceiptDraft r;
  r.agent = principal.agent;
  r.members.AddString("kind", kind);
  r.members.AddString("decision_id", decision_id);
  r.members.AddString("correlation_id", correlation_id);
  r.members.AddObject("principal", PrincipalObject(principal));
  return r;
}

}  // namespace

Result<std::unique_ptr<LocalBoundary>> LocalBoundary::Open(const BoundaryOptions& options) {
  std::unique_ptr<LocalBoundary> b(new LocalBoundary);
  b->options_ = options;
  auto policy = Policy::LoadFile(options.policy_path);
  if (!policy.ok()) return policy.error();
  b->policy_ = std::move(policy.value());

  auto dir = OpenDataDir(options.data_dir);
  if (!dir.ok()) return dir.error();
  b->data_dir_ = std::move(dir.value());

  auto state = StateStore::Open(b->data_dir_.StatePath());
  if (!state.ok()) return state.error();
  b->state_ = std::move(state.value());

  LedgerOptions ledger_options = options.ledger;
  ledger_options.path = b->data_dir_.LedgerPath();
  auto ledger = Ledger::Open(ledger_options, b->data_dir_.signing_key);
  if (!ledger.ok()) return ledger.error();
  b->ledger_ = std::move(ledger.value());

  auto keys = ApiKeys::Load(b->state_.get());
  if (!keys.ok()) return keys.error();
  b->api_keys_ = std::move(keys.value());
  if (Status s = b->api_keys_->EnsureBootstrap(b->data_dir_.bootstrap_key); !s.ok()) {
    return s.error();
  }
  b->approvals_ = std::make_unique<Approvals>(b->state_.get(), ledger_options.clock,
                                              options.limits.approval_ttl_seconds);
  return b;
}

LocalBoundary::~LocalBoundary() { ledger_.reset(); }

std::shared_ptr<const Policy> LocalBoundary::policy() const {
  std::lock_guard<std::mutex> lock(policy_mu_);
  return policy_;
}

Status LocalBoundary::ReloadPolicy() {
  auto loaded = Policy::LoadFile(options_.policy_path);
  if (!loaded.ok()) {
    GetCounter("helm_policy_reloads_total", R"(result="rejected")").Add();
    return loaded.error();
  }
  std::lock_guard<std::mutex> lock(policy_mu_);
  policy_ = std::move(loaded.value());
  GetCounter("helm_policy_reloads_total", R"(result="ok")").Add();
  return Status::Ok();
}

Result<Principal> LocalBoundary::Authenticate(std::string_view secret) {
  std::optional<Principal> p = api_keys_->Authenticate(secret);
  if (!p) return MakeError(ErrorCode::kUnauthenticated, "invalid API key");
  return *p;
}

Decision LocalBoundary::Decide(const EvaluateInput& input, const Policy& policy,
                               RequestFacts* facts) {
  Decision d;
  d.decision_id = NewId("dec_");  // receipt_id: minted by the ledger on append
  auto invalid = [&d](const std::string& detail) {
    d.verdict = Verdict::kDeny;
    d.reason_code = "REQUEST_INVALID";
    d.detail = detail;
    return d;
  };
  if (!input.invalid_reason.empty()) return invalid(input.invalid_reason);
  auto extracted = ExtractFacts(input.protocol, input.body);
  if (!extracted.ok()) return invalid(extracted.error().message);
  *facts = std::move(extracted.value());
  facts->agent = input.principal.agent;
  facts->body_bytes = input.body_bytes;
  for (const std::string& name : policy.header_names()) {  // most policies name none
    if (const std::string* value = FindHeader(input.headers, name)) {
      facts->headers.emplace(name, *value);
    }
  }
  if (input.path_model) facts->model = *input.path_model;
  if (input.path_stream) facts->stream = *input.path_stream;

  PolicyDecision pd = policy.Evaluate(*facts);
  d.verdict = pd.verdict;
  d.reason_code = pd.reason_code;
  d.rule_id = pd.rule_id;
  d.obligations = pd.obligations;

  if (d.verdict == Verdict::kEscalate && !input.approval_id.empty()) {
    Status consumed =
        approvals_->Consume(input.approval_id, input.principal.agent, input.request_hash);
    if (consumed.ok()) {
      d.verdict = Verdict::kAllow;
      d.reason_code = "APPROVED";
      d.approval_id = input.approval_id;
    } else {
      d.verdict = Verdict::kDeny;
      d.reason_code = consumed.error().code == ErrorCode::kPermissionDenied
                          ? consumed.error().message
                          : "APPROVAL_UNAVAILABLE";
    }
  }
  if (d.verdict == Verdict::kAllow && pd.obligations.has_redaction &&
      policy.WouldRedact(pd, input.protocol, input.body)) {
    Json body = input.body;
    d.redactions = policy.Redact(pd, input.protocol, body);
    if (d.redactions > 0) d.rewritten_body = std::move(body);
  }
  return d;
}

void LocalBoundary::Hold(const EvaluateInput& input, Decision* d) {
  std::string status = approvals_->WaitForDecision(
      d->approval_id, std::chrono::seconds(d->obligations.hold_seconds));
  if (status == "denied") {
    d->verdict = Verdict::kDeny;
    d->reason_code = "APPROVAL_DENIED";
    return;
  }
  if (status != "approved" ||
      !approvals_->Consume(d->approval_id, input.principal.agent, input.request_hash).ok()) {
    return;  // still ESCALATE: the client may re-send with the approval id later
  }
  d->verdict = Verdict::kAllow;
  d->reason_code = "APPROVED";
}

ReceiptDraft LocalBoundary::DecisionReceipt(const EvaluateInput& input, const Policy& policy,
                                            const RequestFacts& facts, const Decision& d) const {
  CanonicalObject request;
  request.AddString("protocol", input.protocol);
  request.AddString("endpoint", input.endpoint);
  request.AddString("model", facts.model);
  request.AddBool("stream", facts.stream);
  request.AddString("hash", input.request_hash);
  CanonicalObject policy_ref;
  policy_ref.AddString("id", policy.id());
  policy_ref.AddInt("version", policy.version());
  policy_ref.AddString("hash", policy.hash());
  ReceiptDraft r = NewReceipt("decision", input.principal, d.decision_id, input.correlation_id);
  CanonicalObject& m = r.members;
  m.AddString("verdict", VerdictName(d.verdict));
  m.AddString("reason_code", d.reason_code);
  m.AddString("rule_id", d.rule_id);
  m.AddObject("policy", policy_ref);
  m.AddObject("request", request);
  if (d.verdict == Verdict::kAllow) {
    Json obligations = d.obligations.ToJson();
    if (obligations.is_object() && !obligations.empty()) m.AddJson("obligations", obligations);
  }
  if (d.redactions > 0) m.AddInt("redactions", d.redactions);
  if (!d.approval_id.empty()) m.AddString("approval_id", d.approval_id);
  return r;
}

namespace {

// From the call to Evaluate until the decision receipt is durable.
Histogram& DecisionSeconds(Verdict verdict) {
  return GetLabeledHistogram("helm_decision_duration_seconds", kRequestSecondsBounds, "verdict",
                             VerdictName(verdict));
}

}  // namespace

Result<Decision> LocalBoundary::Evaluate(const EvaluateInput& input) {
  const auto start = std::chrono::steady_clock::now();
  std::shared_ptr<const Policy> current = policy();
  RequestFacts facts;
  Decision d = Decide(input, *current, &facts);

  if (d.verdict == Verdict::kEscalate) {
    auto approval = approvals_->Create(input.principal.agent, input.request_hash, d.decision_id,
                                       d.reason_code, d.rule_id);
    if (!approval.ok()) {
      return MakeError(ErrorCode::kUnavailable, "state store: " + approval.error().message);
    }
    d.approval_id = *approval;
    if (d.obligations.hold_seconds > 0) Hold(input, &d);
  }
  ReceiptDraft receipt = DecisionReceipt(input, *current, facts, d);
  if (input.defer_durability && d.verdict == Verdict::kAllow) {
    return EvaluateDeferred(std::move(receipt), std::move(d), std::move(facts), start);
  }
  auto appended = ledger_->Append(std::move(receipt));
  if (!appended.ok()) {  // a consumed approval stays used (Approvals::Consume)
    GetCounter("helm_ledger_failures_total").Add();
    return MakeError(ErrorCode::kUnavailable, "ledger: " + appended.error().message);
  }
  d.receipt_id = std::move(appended->receipt_id);
  if (d.verdict == Verdict::kAllow) {
    RememberDecision(d.receipt_id);
    d.facts = std::make_shared<const RequestFacts>(std::move(facts));
  }
  GetLabeledCounter("helm_decisions_total", "verdict", VerdictName(d.verdict)).Add();
  DecisionSeconds(d.verdict).Observe(SecondsSince(start));
  return d;
}

Result<Decision> LocalBoundary::EvaluateDeferred(ReceiptDraft receipt, Decision d,
                                                 RequestFacts facts,
                                                 std::chrono::steady_clock::time_point start) {
  auto gate = std::make_shared<DispatchGate>();
  Counter* allowed = &GetLabeledCounter("helm_decisions_total", "verdict", "ALLOW");
  Histogram* seconds = &DecisionSeconds(Verdict::kAllow);
  // Runs on the thread that writes the receipt (perhaps this one, before
  // AppendAsync returns). The caller is in-process and seals with
  // Outcome::parent_durable, so the decision need not be remembered.
  auto id = ledger_->AppendAsync(
      std::move(receipt), [gate, allowed, seconds, start](const Result<Appended>& appended) {
        if (!appended.ok()) {
          GetCounter("helm_ledger_failures_total").Add();
          gate->Open(MakeError(ErrorCode::kUnavailable, "ledger: " + appended.error().message));
          return;
        }
        allowed->Add();
        seconds->Observe(SecondsSince(start));
        gate->Open(Status::Ok());
      });
  if (!id.ok()) {
    GetCounter("helm_ledger_failures_total").Add();
    return MakeError(ErrorCode::kUnavailable, "ledger: " + id.error().message);
  }
  d.receipt_id = std::move(id.value());
  d.facts = std::make_shared<const RequestFacts>(std::move(facts));
  if (!gate->settled()) {
    d.durable = std::move(gate);
  } else if (const Status& written = gate->Wait(); !written.ok()) {  // written here, and failed
    return written.error();
  }
  return d;
}

void LocalBoundary::RememberDecision(const std::string& receipt_id) {
  std::lock_guard<std::mutex> lock(recent_mu_);
  if (recent_order_.size() >= kRecentDecisions) {
    recent_ids_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
  recent_order_.push_back(receipt_id);
  recent_ids_.insert(recent_order_.back());
}

bool LocalBoundary::RecentDecision(std::string_view receipt_id) const {
  std::lock_guard<std::mutex> lock(recent_mu_);
  return recent_ids_.count(receipt_id) != 0;
}

Result<ReceiptDraft> LocalBoundary::OutcomeReceipt(const Outcome& o) const {
  // A decision this boundary appended is in the ledger (which never
  // deletes); any other parent is looked up.
  if (!o.parent_durable && !RecentDecision(o.decision_receipt_id) &&
      !ledger_->GetById(o.decision_receipt_id)) {
    return MakeError(ErrorCode::kNotFound, "no decision receipt " + o.decision_receipt_id);
  }
  // receipt_id is minted by the ledger (no duplicate check needed for it).
  ReceiptDraft r = NewReceipt("outcome", o.principal, o.decision_id, o.correlation_id);
  CanonicalObject& m = r.members;
  m.AddString("parent", o.decision_receipt_id);
  m.AddString("status", o.status);
  m.AddInt("http_status", o.http_status);
  m.AddCanonical("route", o.route);
  m.AddInt("cost_micros", o.cost_micros);
  m.AddString("output_hash", o.output_hash);
  m.AddInt("latency_us", o.latency_us);
  if (o.usage) {
    CanonicalObject usage;
    usage.AddInt("input", o.usage->input_tokens);
    usage.AddInt("output", o.usage->output_tokens);
    usage.AddInt("cached", o.usage->cached_tokens);
    m.AddObject("usage", usage);
  }
  return r;
}

Result<std::string> LocalBoundary::Seal(const Outcome& o) {
  Result<ReceiptDraft> receipt = OutcomeReceipt(o);
  if (!receipt.ok()) return receipt.error();
  auto appended = ledger_->Append(std::move(receipt.value()));
  if (!appended.ok()) {
    GetCounter("helm_ledger_failures_total").Add();
    return MakeError(appended.error().code == ErrorCode::kInvalidArgument
                         ? ErrorCode::kInvalidArgument
                         : ErrorCode::kUnavailable,
                     "ledger: " + appended.error().message);
  }
  GetLabeledCounter("helm_outcomes_total", "status", o.status).Add();
  return appended->receipt_id;
}

void LocalBoundary::SealDetached(Outcome o) {
  Counter* sealed = &GetLabeledCounter("helm_outcomes_total", "status", o.status);
  Result<ReceiptDraft> receipt = OutcomeReceipt(o);
  if (!receipt.ok()) {
    GetCounter("helm_seal_failures_total").Add();
    return;
  }
  ledger_->AppendDetached(std::move(receipt.value()), [sealed](const Result<Appended>& r) {
    if (r.ok()) {
      sealed->Add();
      return;
    }
    GetCounter("helm_ledger_failures_total").Add();
    GetCounter("helm_seal_failures_total").Add();
  });
}

}  // namespace helm
