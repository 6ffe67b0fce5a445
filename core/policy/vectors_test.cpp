#include "core/policy/vectors.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace helm {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const Policy> TestPolicy() {
  auto p = Policy::LoadString(R"(
[policy]
id = "v"
[[rules]]
id = "no-secrets"
verdict = "DENY"
reason = "SECRET_IN_PROMPT"
when.content_regex = ['SECRET']
[[rules]]
id = "prod-only"
verdict = "ALLOW"
when.headers = { "x-helm-env" = ["prod"] }
then.redact_regex = ['X[0-9]']
[[rules]]
id = "gemini-flash"
verdict = "ALLOW"
when.models = ["gemini-*-flash"]
when.stream = true
)",
                              "v.toml");
  REQUIRE(p.ok());
  return p.value();
}

Json Vector(const char* text) { return ParseStrictJson(text).value(); }

TEST_CASE("vectors pass, fail with a clear mismatch, and report") {
  auto policy = TestPolicy();
  VectorReport report;
  Json list = Vector(R"([
    {"name": "secret", "agent": "a", "protocol": "openai.chat",
     "body": {"messages": [{"role": "user", "content": "a SECRET"}]},
     "expect": {"verdict": "DENY", "reason": "SECRET_IN_PROMPT", "rule_id": "no-secrets"}},
    {"name": "header", "agent": "a", "protocol": "openai.chat", "headers": {"X-Helm-Env": "prod"},
     "body": {"messages": [{"role": "user", "content": "X1 X2"}]},
     "expect": {"verdict": "ALLOW", "reason": "", "redactions": 2}},
    {"name": "gemini overrides", "agent": "a", "protocol": "gemini.generate",
     "model": "gemini-2.0-flash", "stream": true,
     "body": {"contents": [{"parts": [{"text": "hi"}]}]},
     "expect": {"verdict": "ALLOW", "rule_id": "gemini-flash"}},
    {"name": "invalid body", "agent": "a", "protocol": "anthropic.messages", "body": {},
     "expect": {"verdict": "DENY", "reason": "REQUEST_INVALID"}},
    {"name": "wrong expectation", "agent": "a", "protocol": "openai.chat",
     "body": {"messages": []}, "expect": {"verdict": "ALLOW", "reason": "X"}}
  ])");
  REQUIRE(RunVectorList(*policy, list, "inline.json", report).ok());
  CHECK(report.passed == 4);
  CHECK(report.failed == 1);
  CHECK(!report.ok());
  const VectorResult& bad = report.results.back();
  CHECK(!bad.passed);
  CHECK(bad.mismatch ==
        "expected verdict ALLOW, reason X; got DENY NO_RULE_MATCHED with 0 redactions");
  CHECK(report.ToText().find("FAIL inline.json: wrong expectation: expected") !=
        std::string::npos);
  CHECK(report.ToText().find("4 passed, 1 failed") != std::string::npos);
  Json j = report.ToJson();
  CHECK(j["failed"] == 1);
  CHECK(j["vectors"][4]["actual"]["verdict"] == "DENY");
  CHECK(j["vectors"][4]["expected"]["reason"] == "X");
}

TEST_CASE("malformed vectors are configuration errors") {
  auto policy = TestPolicy();
  VectorReport report;
  auto run = [&](const char* text) {
    Status s = RunVectorList(*policy, Vector(text), "f.json", report);
    REQUIRE(!s.ok());
    CHECK(s.error().code == ErrorCode::kConfig);
    return s.error().message;
  };
  CHECK(run(R"({"a": 1})") == "f.json: vectors: expected a list of vectors");
  CHECK(run(R"([{"name": "n", "agent": "a", "protocol": "openai.chat", "body": {},
                 "expect": {"verdict": "DENY"}, "expected": 1}])") ==
        "f.json: vectors[0].expected: unknown key");
  CHECK(run(R"([{"name": "n", "protocol": "openai.chat", "body": {},
                 "expect": {"verdict": "DENY"}}])") ==
        "f.json: vectors[0].agent: missing or not a string");
  CHECK(run(R"([{"name": "n", "agent": "a", "protocol": "openai.chat", "body": {},
                 "expect": {"verdict": "NOPE"}}])") ==
        "f.json: vectors[0].expect.verdict: unknown verdict");
  CHECK(run(R"([{"name": "n", "agent": "a", "protocol": "openai.chat", "body": {}}])") ==
        "f.json: vectors[0].expect: missing object");
}

TEST_CASE("RunVectors reads JSON and TOML files from a directory") {
  fs::path dir = fs::temp_directory_path() / ("helm_vectors_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a.json") << R"({"vectors": [{"name": "j", "agent": "a",
    "protocol": "openai.completions", "body": {"prompt": "SECRET"},
    "expect": {"verdict": "DENY", "reason": "SECRET_IN_PROMPT"}}]})";
  std::ofstream(dir / "b.toml") << "[[vectors]]\nname = \"t\"\nagent = \"a\"\n"
                                   "protocol = \"openai.embeddings\"\n"
                                   "body = { input = [\"ok\"] }\n"
                                   "expect = { verdict = \"DENY\", "
                                   "reason = \"NO_RULE_MATCHED\" }\n";
  std::ofstream(dir / "notes.txt") << "ignored";
  auto policy = TestPolicy();
  auto report = RunVectors(*policy, dir.string());
  REQUIRE_MESSAGE(report.ok(), report.error().message);
  CHECK(report->ok());
  REQUIRE(report->results.size() == 2);
  CHECK(report->results[0].file == "a.json");
  CHECK(report->results[1].file == "b.toml");

  std::ofstream(dir / "c.toml") << "[[vectors]\n";
  auto broken = RunVectors(*policy, dir.string());
  REQUIRE(!broken.ok());
  CHECK(broken.error().message.rfind("c.toml:1: syntax: ", 0) == 0);
  fs::remove_all(dir);

  auto missing = RunVectors(*policy, (dir / "absent").string());
  CHECK(!missing.ok());
  fs::create_directories(dir);
  auto empty = RunVectors(*policy, dir.string());
  CHECK(!empty.ok());
  CHECK(empty.error().message.find("no decision vectors") != std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace helm
