#include "core/boundary/local_boundary.h"

#include "core/common/ids.h"
#include "core/common/metrics.h"
#include "core/receipt/jcs.h"

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

  StateStoreOptions state_options = options.state;
  state_options.path = b->data_dir_.StatePath();
  auto state = StateStore::Open(state_options);
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
  if (!input.gate_reason.empty()) {  // the proxy's gate refused it: recorded, not evaluated
    if (auto extracted = ExtractFacts(input.protocol, input.body); extracted.ok()) {
      *facts = std::move(extracted.value());
    }
    if (input.path_model) facts->model = *input.path_model;
    if (input.path_stream) facts->stream = *input.path_stream;
    d.verdict = Verdict::kDeny;
    d.reason_code = input.gate_reason;
    return d;
  }
  // The path arrives percent-decoded, so as any bytes: it is recorded, and its
  // model is routed and may go upstream, so both must be text.
  if (!IsValidUtf8(input.endpoint) || (input.path_model && !IsValidUtf8(*input.path_model))) {
    return invalid("the request path is not valid UTF-8");
  }
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
  Result<std::string> waited = approvals_->WaitForDecision(
      d->approval_id, std::chrono::seconds(d->obligations.hold_seconds));
  if (!waited.ok()) {  // as for a re-sent request whose approval cannot be read
    d->verdict = Verdict::kDeny;
    d->reason_code = "APPROVAL_UNAVAILABLE";
    return;
  }
  const std::string& status = *waited;
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

namespace {

// A path that is not UTF-8 (Decide refuses it) is recorded with its bytes
// above 0x7f percent-encoded again.
std::string Utf8Path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : path) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out += c;
    } else {
      out += {'%', kHex[b >> 4], kHex[b & 15]};
    }
  }
  return out;
}

}  // namespace

ReceiptDraft LocalBoundary::DecisionReceipt(const EvaluateInput& input, const Policy& policy,
                                            const RequestFacts& facts, const Decision& d) const {
  CanonicalObject request;
  request.AddString("protocol", input.protocol);
  if (IsValidUtf8(input.endpoint)) {
    request.AddString("endpoint", input.endpoint);
  } else {
    request.AddString("endpoint", Utf8Path(input.endpoint));
  }
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
    RememberDecision(d.receipt_id, d.decision_id);
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

void LocalBoundary::RememberDecision(const std::string& receipt_id,
                                     const std::string& decision_id) {
  std::lock_guard<std::mutex> lock(recent_mu_);
  if (recent_order_.size() >= kRecentDecisions) {
    recent_ids_.erase(recent_order_.front().first);
    recent_order_.pop_front();
  }
  const auto& [rid, did] = recent_order_.emplace_back(receipt_id, decision_id);
  recent_ids_.emplace(rid, did);
}

std::optional<std::string> LocalBoundary::RecentDecision(std::string_view receipt_id) const {
  std::lock_guard<std::mutex> lock(recent_mu_);
  auto it = recent_ids_.find(receipt_id);
  if (it == recent_ids_.end()) return std::nullopt;
  return std::string(it->second);
}

namespace {

std::string SealedKey(const Outcome& o) { return "sealed/" + o.decision_receipt_id; }

}  // namespace

Status LocalBoundary::ClaimParent(const Outcome& o) {
  if (o.parent_durable) return Status::Ok();  // in-process: its own decision, sealed once
  const std::string& parent = o.decision_receipt_id;
  std::optional<std::string> decision_id = RecentDecision(parent);
  if (!decision_id) {
    Result<std::optional<std::string>> stored = ledger_->GetById(parent);
    if (!stored.ok()) {  // the parent may well exist: neither unknown nor claimed
      return MakeError(ErrorCode::kUnavailable, "ledger: " + stored.error().message);
    }
    if (!*stored) return MakeError(ErrorCode::kNotFound, "no decision receipt " + parent);
    auto receipt = ParseStrictJson(**stored);
    if (!receipt.ok() || receipt->value("kind", "") != "decision" ||
        receipt->value("verdict", "") != "ALLOW") {
      return MakeError(ErrorCode::kInvalidArgument,
                       "receipt " + parent + " is not an ALLOW decision: nothing was dispatched");
    }
    decision_id = receipt->value("decision_id", "");
  }
  if (*decision_id != o.decision_id) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "decision_id " + o.decision_id + " is not the one of receipt " + parent);
  }
  std::lock_guard<std::mutex> lock(seal_mu_);
  Result<std::optional<std::string>> sealed = state_->Get(SealedKey(o));
  if (!sealed.ok()) {  // the parent may have its outcome already: neither sealed again nor claimed
    return MakeError(ErrorCode::kUnavailable, "state store: " + sealed.error().message);
  }
  if (*sealed) {
    return MakeError(ErrorCode::kConflict,
                     "decision receipt " + parent + " already has an outcome");
  }
  if (Status s = state_->Put(SealedKey(o), o.decision_id); !s.ok()) {
    return MakeError(ErrorCode::kUnavailable, "state store: " + s.error().message);
  }
  return Status::Ok();
}

ReceiptDraft LocalBoundary::OutcomeReceipt(const Outcome& o) const {
  // receipt_id is minted by the ledger (no duplicate check needed for it).
  ReceiptDraft r = NewReceipt("outcome", o.principal, o.decision_id, o.correlation_id);
  CanonicalObject& m = r.members;
  m.AddString("parent", o.decision_receipt_id);
  m.AddString("status", o.status);
  m.AddInt("http_status", o.http_status);
  m.AddCanonical("route", o.route);
  // The counts come from the upstream's usage: a number beyond what a
  // receipt holds is recorded at its limit rather than losing the receipt.
  m.AddInt("cost_micros", ClampExactJsonInt(o.cost_micros));
  m.AddString("output_hash", o.output_hash);
  m.AddInt("latency_us", o.latency_us);
  if (o.usage) {
    CanonicalObject usage;
    usage.AddInt("input", ClampExactJsonInt(o.usage->input_tokens));
    usage.AddInt("output", ClampExactJsonInt(o.usage->output_tokens));
    usage.AddInt("cached", ClampExactJsonInt(o.usage->cached_tokens));
    m.AddObject("usage", usage);
  }
  return r;
}

void LocalBoundary::CountSpend(const Outcome& o) {
  if (o.cost_micros <= 0) return;
  // In-process, the principal says whether the key has a budget: a key
  // without one costs no lookup. A remote proxy's outcome is looked up.
  if (o.parent_durable && (!o.principal.limits || o.principal.limits->budget_micros <= 0)) return;
  if (Status s = api_keys_->AddSpend(o.principal.api_key_id, o.cost_micros); !s.ok()) {
    GetCounter("helm_spend_failures_total").Add();
  }
}

Result<std::string> LocalBoundary::Seal(const Outcome& o) {
  if (Status claimed = ClaimParent(o); !claimed.ok()) return claimed.error();
  CountSpend(o);
  auto appended = ledger_->Append(OutcomeReceipt(o));
  if (!appended.ok()) {
    if (!o.parent_durable) (void)state_->Delete(SealedKey(o));  // the outcome may be sent again
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
  if (!ClaimParent(o).ok()) {
    GetCounter("helm_seal_failures_total").Add();
    return;
  }
  CountSpend(o);
  // Empty (no allocation) for the in-process proxy, whose parent needs no marker.
  std::string marker = o.parent_durable ? std::string() : SealedKey(o);
  ledger_->AppendDetached(OutcomeReceipt(o), [this, sealed, marker = std::move(marker)](
                                                 const Result<Appended>& r) {
    if (r.ok()) {
      sealed->Add();
      return;
    }
    if (!marker.empty()) (void)state_->Delete(marker);
    GetCounter("helm_ledger_failures_total").Add();
    GetCounter("helm_seal_failures_total").Add();
  });
}

}  // namespace helm
