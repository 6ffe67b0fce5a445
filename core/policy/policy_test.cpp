#include "core/policy/policy.h"

#include <doctest/doctest.h>

#include <chrono>

#include "core/policy/glob.h"

namespace helm {
namespace {

std::shared_ptr<const Policy> Load(const std::string& rules,
                                   const std::string& header = "[policy]\nid = \"t\"\n") {
  auto p = Policy::LoadString(header + rules, "t.toml");
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  return p.value();
}

std::string LoadError(const std::string& text) {
  auto p = Policy::LoadString(text, "bad.toml");
  REQUIRE(!p.ok());
  CHECK(p.error().code == ErrorCode::kConfig);
  return p.error().message;
}

RequestFacts Base() {
  RequestFacts f;
  f.agent = "support-bot";
  f.protocol = kOpenAiChat;
  f.model = "gpt-4o-mini";
  f.texts = {"hello"};
  f.tools = {"search", "shell_exec"};
  f.input_tokens = 100;
  f.body_bytes = 1000;
  f.headers = {{"x-helm-env", "prod"}};
  return f;
}

// Evaluates a one-rule policy (ALLOW on match, default DENY) against facts.
bool Fires(const std::string& when, const RequestFacts& facts) {
  auto p = Load("[[rules]]\nid = \"r\"\nverdict = \"ALLOW\"\n" + when + "\n");
  return p->Evaluate(facts).verdict == Verdict::kAllow;
}

TEST_CASE("glob") {
  CHECK(GlobMatch("*", ""));
  CHECK(GlobMatch("gpt-4o*", "gpt-4o-mini"));
  CHECK(!GlobMatch("gpt-4o*", "gpt-4"));
  CHECK(GlobMatch("*-mini", "gpt-4o-mini"));
  CHECK(GlobMatch("a*b*c", "aXbYbc"));
  CHECK(!GlobMatch("a*b*c", "aXbYb"));
  CHECK(GlobMatch("exact", "exact"));
  CHECK(!GlobMatch("exact", "Exact"));
  CHECK(GlobMatch("**x", "abx"));
}

TEST_CASE("each condition, matching and not matching") {
  RequestFacts f = Base();
  CHECK(Fires("when.agents = [\"support-*\"]", f));
  CHECK(!Fires("when.agents = [\"root\"]", f));
  CHECK(Fires("when.models = [\"auto\", \"gpt-4o-mini*\"]", f));
  CHECK(!Fires("when.models = [\"claude*\"]", f));
  CHECK(Fires("when.protocols = [\"openai.chat\"]", f));
  CHECK(!Fires("when.protocols = [\"gemini.generate\"]", f));
  CHECK(Fires("when.tools_any = [\"shell*\", \"delete_*\"]", f));
  CHECK(!Fires("when.tools_any = [\"delete_*\"]", f));
  CHECK(Fires("when.tools_all = [\"search\", \"shell*\"]", f));
  CHECK(!Fires("when.tools_all = [\"search\", \"delete_*\"]", f));
  CHECK(Fires("when.content_regex = ['nomatch', '(?i)HELLO']", f));
  CHECK(!Fires("when.content_regex = ['goodbye']", f));
  CHECK(Fires("when.stream = false", f));
  CHECK(!Fires("when.stream = true", f));
  CHECK(Fires("when.has_images = false", f));
  CHECK(!Fires("when.has_images = true", f));
  CHECK(Fires("when.min_input_tokens = 100", f));
  CHECK(!Fires("when.min_input_tokens = 101", f));
  CHECK(Fires("when.max_input_tokens = 100", f));
  CHECK(!Fires("when.max_input_tokens = 99", f));
  // max_body_bytes fires on bodies larger than the value.
  CHECK(Fires("when.max_body_bytes = 999", f));
  CHECK(!Fires("when.max_body_bytes = 1000", f));
  CHECK(Fires("when.headers = { \"X-Helm-Env\" = [\"prod\", \"staging\"] }", f));
  CHECK(!Fires("when.headers = { \"x-helm-env\" = [\"dev\"] }", f));
  CHECK(!Fires("when.headers = { \"x-absent\" = [\"*\"] }", f));
  f.stream = true;
  f.has_images = true;
  CHECK(Fires("when.stream = true\nwhen.has_images = true", f));
}

TEST_CASE("all given conditions must hold") {
  RequestFacts f = Base();
  CHECK(Fires("when.agents = [\"support-bot\"]\nwhen.models = [\"gpt-4o*\"]", f));
  CHECK(!Fires("when.agents = [\"support-bot\"]\nwhen.models = [\"claude*\"]", f));
  CHECK(Fires("", f));  // no conditions: matches everything
}

TEST_CASE("first match wins, no match gives the default") {
  auto p = Load(R"(
[[rules]]
id = "deny-secrets"
verdict = "DENY"
reason = "SECRET_IN_PROMPT"
when.content_regex = ['AKIA[0-9A-Z]{16}']

[[rules]]
id = "escalate"
verdict = "ESCALATE"
when.tools_any = ["shell*"]
then.hold_seconds = 30

[[rules]]
id = "bot"
verdict = "ALLOW"
when.agents = ["support-bot"]
then.lane_cap = "balanced"
then.lane_pin = "cheap"
then.max_output_tokens = 2048
)");
  CHECK(p->rule_count() == 3);
  RequestFacts f = Base();
  f.texts = {"key AKIAABCDEFGHIJKLMNOP"};
  auto d = p->Evaluate(f);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.reason_code == "SECRET_IN_PROMPT");
  CHECK(d.rule_id == "deny-secrets");

  f = Base();
  d = p->Evaluate(f);
  CHECK(d.verdict == Verdict::kEscalate);
  CHECK(d.reason_code == "APPROVAL_REQUIRED");  // default ESCALATE reason
  CHECK(d.obligations.hold_seconds == 30);

  f.tools.clear();
  d = p->Evaluate(f);
  CHECK(d.verdict == Verdict::kAllow);
  CHECK(d.reason_code.empty());
  CHECK(d.obligations.ToJson() ==
        Json{{"lane_cap", "balanced"}, {"lane_pin", "cheap"}, {"max_output_tokens", 2048}});

  f.agent = "other";
  d = p->Evaluate(f);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.reason_code == "NO_RULE_MATCHED");
  CHECK(d.rule_id.empty());
  CHECK(d.obligations.ToJson() == Json::object());
}

TEST_CASE("policy header: id, version, defaults, hash") {
  auto p = Load("", "[policy]\nid = \"x\"\nversion = 7\ndefault_verdict = \"ALLOW\"\n"
                    "default_reason = \"OPEN_BY_DEFAULT\"\n");
  CHECK(p->id() == "x");
  CHECK(p->version() == 7);
  auto d = p->Evaluate(Base());
  CHECK(d.verdict == Verdict::kAllow);
  CHECK(d.reason_code == "OPEN_BY_DEFAULT");
  CHECK(p->hash().rfind("sha256:", 0) == 0);
  CHECK(p->hash().size() == 7 + 64);
  auto q = Load("", "[policy]\nid = \"x\"\n");
  CHECK(q->hash() != p->hash());
  CHECK(q->version() == 0);
  CHECK(q->Evaluate(Base()).verdict == Verdict::kDeny);
  CHECK(Load("[[rules]]\nid = \"d\"\nverdict = \"DENY\"\n")->Evaluate(Base()).reason_code ==
        "POLICY_DENY");
}

TEST_CASE("redaction rewrites texts and counts replacements") {
  auto p = Load(R"(
[[rules]]
id = "redact"
verdict = "ALLOW"
then.redact_regex = ['REDACT-ME-[0-9]+', 'sk-[A-Za-z0-9]{20,}']
)");
  Json body = ParseStrictJson(R"({"messages":[
    {"role":"system","content":"REDACT-ME-1 and REDACT-ME-22"},
    {"role":"user","content":[{"type":"text","text":"sk-abcdefghijklmnopqrstu"}]}]})").value();
  RequestFacts f = ExtractFacts(kOpenAiChat, body).value();
  auto d = p->Evaluate(f);
  CHECK(d.obligations.has_redaction);
  CHECK(d.obligations.ToJson() == Json{{"redact", true}});
  const Json original = body;
  CHECK(p->WouldRedact(d, kOpenAiChat, body));
  CHECK(body == original);  // asking changes nothing
  CHECK(p->Redact(d, kOpenAiChat, body) == 3);
  CHECK(body["messages"][0]["content"] == "[REDACTED] and [REDACTED]");
  CHECK(body["messages"][1]["content"][0]["text"] == "[REDACTED]");
  CHECK(p->Redact(d, kOpenAiChat, body) == 0);  // idempotent
  CHECK_FALSE(p->WouldRedact(d, kOpenAiChat, body));
  PolicyDecision none;
  CHECK(p->Redact(none, kOpenAiChat, body) == 0);  // default decision: no rule
}

TEST_CASE("verdict names") {
  CHECK(std::string(VerdictName(Verdict::kEscalate)) == "ESCALATE");
  CHECK(ParseVerdict("ALLOW") == Verdict::kAllow);
  CHECK(!ParseVerdict("allow"));
}

TEST_CASE("invalid policies are rejected with FILE:LINE: key: problem") {
  const std::string h = "[policy]\nid = \"t\"\n";  // lines 1-2
  const std::string r = "[[rules]]\nid = \"r\"\n";  // lines 3-4
  CHECK(LoadError(h + "colour = 1\n") == "bad.toml:3: policy.colour: unknown key");
  CHECK(LoadError(h + "[extra]\n") == "bad.toml:3: extra: unknown key");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nwhen.agnets = [\"a\"]\n") ==
        "bad.toml:6: rules[0].when.agnets: unknown key");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nthen.lane = \"x\"\n") ==
        "bad.toml:6: rules[0].then.lane: unknown key");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nwhen.stream = \"yes\"\n") ==
        "bad.toml:6: rules[0].when.stream: expected a boolean, got a string");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nwhen.agents = \"root\"\n") ==
        "bad.toml:6: rules[0].when.agents: expected an array of strings, got a string");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nwhen.agents = []\n") ==
        "bad.toml:6: rules[0].when.agents: must not be empty");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nwhen.content_regex = ['ok', '(unclosed']\n") ==
        "bad.toml:6: rules[0].when.content_regex[1]: invalid regex: missing ): (unclosed");
  CHECK(LoadError(h + r + "verdict = \"MAYBE\"\n") ==
        "bad.toml:5: rules[0].verdict: unknown verdict \"MAYBE\" (ALLOW, DENY or ESCALATE)");
  CHECK(LoadError(h + r + "verdict = \"DENY\"\n" + r + "verdict = \"DENY\"\n") ==
        "bad.toml:7: rules[1].id: duplicate rule id \"r\"");
  CHECK(LoadError(h + r + "verdict = \"DENY\"\nthen.lane_cap = \"x\"\n") ==
        "bad.toml:6: rules[0].then: not allowed on DENY rules (obligations apply to ALLOW)");
  CHECK(LoadError(h + r + "verdict = \"ESCALATE\"\nthen.max_output_tokens = 5\n") ==
        "bad.toml:6: rules[0].then.max_output_tokens: obligations are only allowed on ALLOW "
        "rules");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nthen.hold_seconds = 5\n") ==
        "bad.toml:6: rules[0].then.hold_seconds: only allowed on ESCALATE rules");
  CHECK(LoadError(h + r + "verdict = \"DENY\"\nreason = \"secret\"\n") ==
        "bad.toml:6: rules[0].reason: must be UPPER_SNAKE_CASE");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nwhen.protocols = [\"openai\"]\n") ==
        "bad.toml:6: rules[0].when.protocols[0]: unknown protocol \"openai\"");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nwhen.min_input_tokens = -1\n") ==
        "bad.toml:6: rules[0].when.min_input_tokens: must be between 0 and "
        "9223372036854775807");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nthen.redact_regex = ['x*']\n") ==
        "bad.toml:6: rules[0].then.redact_regex[0]: pattern matches the empty string");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nwhen.headers = { env = [1] }\n") ==
        "bad.toml:6: rules[0].when.headers.env[0]: expected a string, got an integer");
  CHECK(LoadError(h + "[[rules]]\nverdict = \"ALLOW\"\n") == "bad.toml:3: rules[0].id: missing "
                                                            "(required)");
  CHECK(LoadError(h + r) == "bad.toml:3: rules[0].verdict: missing (required)");
  CHECK(LoadError("[policy]\nversion = 1\n") == "bad.toml:1: policy.id: missing (required)");
  CHECK(LoadError("[[rules]]\nid = \"r\"\nverdict = \"DENY\"\n") ==
        "bad.toml:1: policy: missing [policy] table");
  CHECK(LoadError(h + "default_verdict = \"NOPE\"\n") ==
        "bad.toml:3: policy.default_verdict: unknown verdict \"NOPE\"");
  CHECK(LoadError(h + "version = \"3\"\n") ==
        "bad.toml:3: policy.version: expected an integer, got a string");
  CHECK(LoadError("rules = 5\n" + h) ==
        "bad.toml:1: rules: expected an array of tables ([[rules]]), got an integer");
  CHECK(LoadError(h + r + "verdict = \"ALLOW\"\nwhen.min_input_tokens = 9\n"
                          "when.max_input_tokens = 3\n")
            .find("rules[0].when.min_input_tokens: greater than max_input_tokens") !=
        std::string::npos);
  CHECK(LoadError("[policy\n").rfind("bad.toml:1: syntax: ", 0) == 0);
  auto missing = Policy::LoadFile("/nonexistent/policy.toml");
  CHECK(!missing.ok());
  CHECK(missing.error().code == ErrorCode::kConfig);
}

TEST_CASE("a 1 MB prompt evaluates quickly (RE2 is linear)") {
  auto p = Load(R"(
[[rules]]
id = "secrets"
verdict = "DENY"
when.content_regex = ['AKIA[0-9A-Z]{16}', '-----BEGIN [A-Z ]*PRIVATE KEY-----',
                      'sk-[A-Za-z0-9]{20,}', '(a+)+$', '(?i)forbidden-word']
[[rules]]
id = "ok"
verdict = "ALLOW"
)");
  RequestFacts f = Base();
  std::string big(1 << 20, 'a');
  big += "!";  // defeats '(a+)+$' — catastrophic for a backtracking engine
  f.texts = {big};
  auto start = std::chrono::steady_clock::now();
  auto d = p->Evaluate(f);
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(d.rule_id == "ok");
  CHECK(elapsed < std::chrono::milliseconds(500));
  f.texts[0] += "-----BEGIN RSA PRIVATE KEY-----";
  CHECK(p->Evaluate(f).rule_id == "secrets");
}

TEST_CASE("header_names lists the headers the rules name, lower case, once") {
  auto p = Load(R"(
[[rules]]
id = "a"
verdict = "DENY"
when.headers = { "X-Helm-Env" = ["prod"], "X-Team" = ["*"] }
[[rules]]
id = "b"
verdict = "ALLOW"
when.headers = { "x-helm-env" = ["dev"] }
)");
  CHECK(p->header_names() == std::vector<std::string>{"x-helm-env", "x-team"});
  CHECK(Load("")->header_names().empty());
}

}  // namespace
}  // namespace helm
