// LocalBoundary::Evaluate against a real policy and ledger in a temporary data
// dir: the facts it hands the policy and the obligations it applies.
#include "core/boundary/local_boundary.h"

#include <doctest/doctest.h>

#include <chrono>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

#include "core/common/protocols.h"
#include "core/crypto/crypto.h"

namespace helm {
namespace {

// A ledger write hook that fails every write while `fail` is set.
std::function<Status()> FailWhile(const bool& fail) {
  return [&fail]() -> Status {
    return fail ? MakeError(ErrorCode::kUnavailable, "injected write failure") : Status::Ok();
  };
}

// A state store read hook that fails every read of a key starting with
// `prefix` while `fail` is set.
std::function<Status(std::string_view)> FailReadsWhile(const bool& fail, std::string prefix) {
  return [&fail, prefix = std::move(prefix)](std::string_view key) -> Status {
    if (!fail || !key.starts_with(prefix)) return Status::Ok();
    return MakeError(ErrorCode::kCorruption, "injected read error");
  };
}

struct Fixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("helm-boundary-" + crypto::HexEncode(crypto::RandomBytes(6)));
  BoundaryOptions options;
  std::unique_ptr<LocalBoundary> boundary;

  explicit Fixture(const std::string& policy_toml, std::function<Status()> before_write = nullptr,
                   std::function<Status(std::string_view)> before_read = nullptr) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "policy.toml") << policy_toml;
    options.policy_path = (dir / "policy.toml").string();
    options.data_dir = (dir / "data").string();
    options.ledger.sync = false;
    options.ledger.before_write = std::move(before_write);
    options.state.before_read = std::move(before_read);
    Reopen();
  }
  void Reopen() {
    boundary.reset();
    boundary = std::move(LocalBoundary::Open(options).value());
  }
  ~Fixture() {
    boundary.reset();
    std::filesystem::remove_all(dir);
  }

  Decision Evaluate(const std::string& text, HeaderList headers = {}) {
    return boundary->Evaluate(Input(text, std::move(headers))).value();
  }
  // Evaluates `text` (an ESCALATE under kDeployNeedsApproval), has an
  // operator approve it, and returns the request to re-send with its id.
  EvaluateInput ApprovedResend(const std::string& text) {
    Decision escalated = Evaluate(text);
    REQUIRE(escalated.verdict == Verdict::kEscalate);
    REQUIRE(boundary->approvals().Decide(escalated.approval_id, true, "operator").ok());
    EvaluateInput resent = Input(text);
    resent.approval_id = escalated.approval_id;
    return resent;
  }
  EvaluateInput Input(const std::string& text, HeaderList headers = {}) {
    EvaluateInput in;
    in.principal.agent = "boundary-test";
    in.principal.api_key_id = "key_test";
    in.protocol = kOpenAiChat;
    in.endpoint = "/v1/chat/completions";
    in.body = Json{{"model", "m"},
                   {"messages", Json::array({{{"role", "user"}, {"content", text}}})}};
    in.request_hash = crypto::Sha256Tagged(DumpJson(in.body));
    in.headers = std::move(headers);
    return in;
  }
};

TEST_CASE("header conditions see the request's headers") {
  Fixture f(R"([policy]
id = "headers"
version = 1
default_verdict = "ALLOW"

[[rules]]
id = "prod-needs-approval"
verdict = "DENY"
reason = "PROD_BLOCKED"
when.headers = { "X-Helm-Env" = ["prod"] }
)");
  Decision prod = f.Evaluate("hi", {{"x-helm-env", "prod"}, {"authorization", "Bearer k"}});
  CHECK(prod.verdict == Verdict::kDeny);
  CHECK(prod.reason_code == "PROD_BLOCKED");
  CHECK(f.Evaluate("hi", {{"x-helm-env", "dev"}}).verdict == Verdict::kAllow);
  CHECK(f.Evaluate("hi").verdict == Verdict::kAllow);
  // A repeated field: the first one received counts.
  CHECK(f.Evaluate("hi", {{"x-helm-env", "prod"}, {"x-helm-env", "dev"}}).verdict ==
        Verdict::kDeny);
  CHECK(f.Evaluate("hi", {{"x-helm-env", "dev"}, {"x-helm-env", "prod"}}).verdict ==
        Verdict::kAllow);
}

TEST_CASE("redaction rewrites the body only when a pattern matches") {
  Fixture f(R"([policy]
id = "redact"
version = 1
default_verdict = "DENY"

[[rules]]
id = "allow-redacted"
verdict = "ALLOW"
then.redact_regex = ['AKIA[0-9A-Z]{16}']
)");
  Decision clean = f.Evaluate("nothing secret here");
  CHECK(clean.verdict == Verdict::kAllow);
  CHECK(clean.redactions == 0);
  CHECK_FALSE(clean.rewritten_body);
  Decision secret = f.Evaluate("key AKIAABCDEFGHIJKLMNOP please");
  CHECK(secret.verdict == Verdict::kAllow);
  CHECK(secret.redactions == 1);
  REQUIRE(secret.rewritten_body);
  CHECK((*secret.rewritten_body)["messages"][0]["content"] == "key [REDACTED] please");
}

TEST_CASE("an ALLOW carries the facts the policy decided on, a DENY carries none") {
  Fixture f(R"([policy]
id = "facts"
version = 1
default_verdict = "ALLOW"

[[rules]]
id = "no-secrets"
verdict = "DENY"
reason = "SECRET"
when.content_regex = ['secret']
)");
  Decision allowed = f.Evaluate("route me please");
  REQUIRE(allowed.verdict == Verdict::kAllow);
  REQUIRE(allowed.facts);
  CHECK(allowed.facts->agent == "boundary-test");
  CHECK(allowed.facts->model == "m");
  REQUIRE(allowed.facts->texts.size() == 1);
  CHECK(allowed.facts->texts[0] == "route me please");
  CHECK(allowed.facts->input_tokens == 4);  // ceil(15 bytes / 4)
  // Facts travel in-process only: the evaluate API's JSON has no room for them.
  CHECK_FALSE(Decision::FromJson(allowed.ToJson()).value().facts);
  Decision denied = f.Evaluate("a secret");
  CHECK(denied.verdict == Verdict::kDeny);
  CHECK_FALSE(denied.facts);
}

TEST_CASE("an outcome's token usage is recorded in its receipt and checked on the wire") {
  Fixture f(R"([policy]
id = "usage"
version = 1
default_verdict = "ALLOW"
)");
  Decision allowed = f.Evaluate("count my tokens");
  REQUIRE(allowed.verdict == Verdict::kAllow);
  Outcome o;
  o.decision_id = allowed.decision_id;
  o.decision_receipt_id = allowed.receipt_id;
  o.principal.agent = "boundary-test";
  o.principal.api_key_id = "key_test";
  o.status = "completed";
  o.http_status = 200;
  o.usage = TokenUsage{12, 5, 3};
  const std::string id = f.boundary->Seal(o).value();
  const Json receipt = Json::parse(f.boundary->ledger().GetById(id).value().value());
  CHECK(receipt["usage"] == Json{{"input", 12}, {"output", 5}, {"cached", 3}});

  // The seal API's body carries the same counts, and nothing else passes as usage.
  CHECK(Outcome::FromJson(o.ToJson()).value().usage == o.usage);
  Json text_count = o.ToJson();
  text_count["usage"]["input"] = "12";
  CHECK_FALSE(Outcome::FromJson(text_count).ok());
  Json missing = o.ToJson();
  missing["usage"].erase("cached");
  CHECK_FALSE(Outcome::FromJson(missing).ok());
  o.usage.reset();
  CHECK_FALSE(Outcome::FromJson(o.ToJson()).value().usage);

  // Counts beyond what a receipt holds (an upstream's absurd usage, the cost
  // computed from it) are recorded at the limit: the outcome is not lost.
  Decision again = f.Evaluate("count my tokens again");
  REQUIRE(again.verdict == Verdict::kAllow);
  o.decision_id = again.decision_id;
  o.decision_receipt_id = again.receipt_id;
  o.usage = TokenUsage{INT64_MAX, -INT64_MAX, 3 * kExactJsonInt};
  o.cost_micros = INT64_MAX;
  Result<std::string> sealed = f.boundary->Seal(o);
  REQUIRE(sealed.ok());
  const Json clamped = Json::parse(f.boundary->ledger().GetById(*sealed).value().value());
  CHECK(clamped["usage"] ==
        Json{{"input", kExactJsonInt}, {"output", -kExactJsonInt}, {"cached", kExactJsonInt}});
  CHECK(clamped["cost_micros"] == kExactJsonInt);
}

// Requests that mention a deploy wait for an operator's approval.
constexpr const char* kDeployNeedsApproval = R"([policy]
id = "approvals"
version = 1
default_verdict = "ALLOW"

[[rules]]
id = "deploys-need-approval"
verdict = "ESCALATE"
when.content_regex = ['deploy']
)";

TEST_CASE("an approval whose decision receipt could not be written stays used") {
  // A failed write may still have reached the WAL and reappear at the next
  // open, so giving the approval back could let it allow two requests.
  bool fail_writes = false;
  Fixture f(kDeployNeedsApproval, FailWhile(fail_writes));
  EvaluateInput resent = f.ApprovedResend("deploy it");

  fail_writes = true;
  CHECK_FALSE(f.boundary->Evaluate(resent).ok());
  fail_writes = false;
  CHECK(f.boundary->approvals().Get(resent.approval_id).value()["status"] == "used");
  Decision again = f.boundary->Evaluate(resent).value();
  CHECK(again.verdict == Verdict::kDeny);
  CHECK(again.reason_code == "APPROVAL_USED");
  CHECK(f.Evaluate("no approval needed").verdict == Verdict::kAllow);  // the ledger recovered
}

TEST_CASE("a seal from outside names an ALLOW decision with its own id, and only once") {
  bool fail_writes = false;
  Fixture f(R"([policy]
id = "seals"
version = 1
default_verdict = "ALLOW"

[[rules]]
id = "no-secrets"
verdict = "DENY"
reason = "SECRET"
when.content_regex = ['secret']
)",
            FailWhile(fail_writes));
  auto outcome_of = [](const Decision& d) {
    Outcome o;  // parent_durable stays false: as from the admin API
    o.decision_id = d.decision_id;
    o.decision_receipt_id = d.receipt_id;
    o.principal.agent = "boundary-test";
    o.principal.api_key_id = "key_test";
    o.status = "completed";
    o.http_status = 200;
    o.output_hash = "sha256:" + std::string(64, '0');
    return o;
  };
  auto refusal = [&](const Outcome& o) { return f.boundary->Seal(o).error().code; };
  const Decision allowed = f.Evaluate("route me");
  const Decision denied = f.Evaluate("a secret");
  REQUIRE(denied.verdict == Verdict::kDeny);

  CHECK(refusal(outcome_of(denied)) == ErrorCode::kInvalidArgument);  // never dispatched
  Outcome other_id = outcome_of(allowed);
  other_id.decision_id = "dec_someone_else";
  CHECK(refusal(other_id) == ErrorCode::kInvalidArgument);
  Outcome no_parent = outcome_of(allowed);
  no_parent.decision_receipt_id = "rcpt_missing";
  CHECK(refusal(no_parent) == ErrorCode::kNotFound);

  fail_writes = true;  // an outcome that was not written may be sent again
  CHECK(refusal(outcome_of(allowed)) == ErrorCode::kUnavailable);
  fail_writes = false;
  CHECK(f.boundary->Seal(outcome_of(allowed)).ok());
  CHECK(refusal(outcome_of(allowed)) == ErrorCode::kConflict);

  // A decision the reopened boundary has not seen is checked in the ledger.
  const Decision earlier = f.Evaluate("route me too");
  f.Reopen();
  CHECK(refusal(outcome_of(allowed)) == ErrorCode::kConflict);
  CHECK(refusal(outcome_of(denied)) == ErrorCode::kInvalidArgument);
  CHECK(f.boundary->Seal(outcome_of(earlier)).ok());
  CHECK(refusal(outcome_of(earlier)) == ErrorCode::kConflict);
}

// Regression: a "sealed" marker that could not be read was taken for none,
// so a second outcome of one decision was accepted and appended.
TEST_CASE("a seal whose sealed marker cannot be read is refused, and nothing is written") {
  bool fail_reads = false;
  Fixture f(R"([policy]
id = "seals"
version = 1
default_verdict = "ALLOW"
)",
            nullptr, FailReadsWhile(fail_reads, "sealed/"));
  const Decision allowed = f.Evaluate("route me");
  Outcome o;  // parent_durable stays false: as from the admin API
  o.decision_id = allowed.decision_id;
  o.decision_receipt_id = allowed.receipt_id;
  o.principal.agent = "boundary-test";
  o.status = "completed";
  o.http_status = 200;
  o.output_hash = "sha256:" + std::string(64, '0');
  REQUIRE(f.boundary->Seal(o).ok());
  const uint64_t head = f.boundary->ledger().HeadSeq();

  fail_reads = true;
  Result<std::string> again = f.boundary->Seal(o);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kUnavailable);
  f.boundary->SealDetached(o);
  CHECK(f.boundary->ledger().HeadSeq() == head);

  const Decision unsealed = f.Evaluate("route me too");  // no outcome yet: not claimed either
  o.decision_id = unsealed.decision_id;
  o.decision_receipt_id = unsealed.receipt_id;
  CHECK(f.boundary->Seal(o).error().code == ErrorCode::kUnavailable);
  fail_reads = false;
  CHECK(f.boundary->Seal(o).ok());
  CHECK(f.boundary->ledger().HeadSeq() == head + 2);  // the second decision and its outcome
}

// Regression: an approval that could not be read was APPROVAL_NOT_FOUND.
TEST_CASE("an approval that cannot be read: DENY APPROVAL_UNAVAILABLE, and it stays usable") {
  bool fail_reads = false;
  Fixture f(kDeployNeedsApproval, nullptr, FailReadsWhile(fail_reads, "approval/"));
  EvaluateInput resent = f.ApprovedResend("deploy it");

  fail_reads = true;
  Decision refused = f.boundary->Evaluate(resent).value();
  CHECK(refused.verdict == Verdict::kDeny);
  CHECK(refused.reason_code == "APPROVAL_UNAVAILABLE");
  fail_reads = false;
  Decision approved = f.boundary->Evaluate(resent).value();
  CHECK(approved.verdict == Verdict::kAllow);
  CHECK(approved.reason_code == "APPROVED");
}

// Regression: an approval that could not be read while its request was held
// counted as expired, and the request ended ESCALATE with that approval's id.
TEST_CASE("a held request whose approval cannot be read: DENY APPROVAL_UNAVAILABLE, not held") {
  bool fail_reads = false;
  Fixture f(std::string(kDeployNeedsApproval) + "then.hold_seconds = 30\n", nullptr,
            FailReadsWhile(fail_reads, "approval/"));
  fail_reads = true;
  const auto start = std::chrono::steady_clock::now();
  Decision held = f.Evaluate("deploy it");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(held.verdict == Verdict::kDeny);
  CHECK(held.reason_code == "APPROVAL_UNAVAILABLE");
}

TEST_CASE("a state database whose API keys cannot be read refuses to open") {
  bool fail_reads = false;
  Fixture f("[policy]\nid = \"p\"\nversion = 1\n", nullptr, FailReadsWhile(fail_reads, "apikey/"));
  f.boundary.reset();
  fail_reads = true;
  auto refused = LocalBoundary::Open(f.options);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kCorruption);
  CHECK(refused.error().message.find("state: cannot read API keys") == 0);
}

TEST_CASE("a request path that is not UTF-8 is an invalid request, recorded re-encoded") {
  Fixture f(R"([policy]
id = "paths"
version = 1
default_verdict = "ALLOW"
)");
  EvaluateInput in = f.Input("hello");
  in.protocol = kGeminiGenerate;
  in.endpoint = "/v1beta/models/g\xff:generateContent";  // from /v1beta/models/g%FF:...
  in.path_model = "g\xff";
  in.body = Json{{"contents", Json::array({{{"parts", Json::array({{{"text", "hello"}}})}}})}};
  Decision d = f.boundary->Evaluate(in).value();
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.reason_code == "REQUEST_INVALID");
  auto stored =
      ParseStrictJson(f.boundary->ledger().GetById(d.receipt_id).value().value()).value();
  CHECK(stored["request"]["endpoint"] == "/v1beta/models/g%FF:generateContent");
  CHECK(stored["request"]["model"] == "");
}

TEST_CASE("a data dir whose signing key is damaged refuses to open") {
  Fixture f("[policy]\nid = \"p\"\nversion = 1\ndefault_verdict = \"ALLOW\"\n");
  f.boundary.reset();
  const std::filesystem::path key_path = f.dir / "data" / "keys" / "signing.key";
  std::string hex;
  std::ifstream(key_path) >> hex;
  REQUIRE(hex.size() == 128);
  hex[127] = hex[127] == '0' ? '1' : '0';  // the public half's last digit
  std::ofstream(key_path, std::ios::trunc) << hex << "\n";
  BoundaryOptions options;
  options.policy_path = (f.dir / "policy.toml").string();
  options.data_dir = (f.dir / "data").string();
  auto reopened = LocalBoundary::Open(options);
  REQUIRE_FALSE(reopened.ok());
  CHECK(reopened.error().code == ErrorCode::kConfig);
  CHECK(reopened.error().message.find("signing.key: damaged") != std::string::npos);
}

}  // namespace
}  // namespace helm
