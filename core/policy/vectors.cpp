#include "core/policy/vectors.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/policy/toml_json.h"

namespace helm {
namespace {

namespace fs = std::filesystem;

Error Bad(std::string_view file, const std::string& where, const std::string& problem) {
  return MakeError(ErrorCode::kConfig, std::string(file) + ": " + where + ": " + problem);
}

Status CheckKeys(const Json& obj, std::string_view file, const std::string& where,
                 std::initializer_list<std::string_view> allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return Bad(file, where + "." + it.key(), "unknown key");
    }
  }
  return Status::Ok();
}

Result<std::string> RequiredString(const Json& obj, const char* key, std::string_view file,
                                   const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return Bad(file, where + "." + key, "missing or not a string");
  }
  return it->get<std::string>();
}

// Reads the expectation of one vector into result.
Status ReadExpect(const Json& v, std::string_view file, const std::string& where,
                  VectorResult& result) {
  auto it = v.find("expect");
  if (it == v.end() || !it->is_object()) return Bad(file, where + ".expect", "missing object");
  const Json& e = *it;
  Status s = CheckKeys(e, file, where + ".expect", {"verdict", "reason", "rule_id", "redactions"});
  if (!s.ok()) return s;
  auto verdict = RequiredString(e, "verdict", file, where + ".expect");
  if (!verdict.ok()) return verdict.error();
  if (!ParseVerdict(*verdict)) return Bad(file, where + ".expect.verdict", "unknown verdict");
  result.expected_verdict = *verdict;
  for (auto [key, dst] : {std::pair{"reason", &result.expected_reason},
                          std::pair{"rule_id", &result.expected_rule_id}}) {
    auto f = e.find(key);
    if (f == e.end()) continue;
    if (!f->is_string()) return Bad(file, where + ".expect." + key, "expected a string");
    *dst = f->get<std::string>();
  }
  auto r = e.find("redactions");
  if (r != e.end()) {
    if (!r->is_number_integer()) return Bad(file, where + ".expect.redactions", "not an integer");
    result.expected_redactions = r->get<int>();
  }
  return Status::Ok();
}

// Facts for one vector: ExtractFacts plus agent, headers, overrides, size.
Result<RequestFacts> VectorFacts(const Json& v, const std::string& agent,
                                 const std::string& protocol, std::string_view file,
                                 const std::string& where) {
  const Json& body = v["body"];
  auto facts = ExtractFacts(protocol, body);
  if (!facts.ok()) return facts;
  facts->agent = agent;
  facts->body_bytes = static_cast<int64_t>(DumpJson(body).size());
  if (auto h = v.find("headers"); h != v.end()) {
    if (!h->is_object()) return Bad(file, where + ".headers", "expected an object");
    for (auto it = h->begin(); it != h->end(); ++it) {
      if (!it->is_string()) return Bad(file, where + ".headers." + it.key(), "not a string");
      std::string name = it.key();
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      facts->headers[name] = it->get<std::string>();
    }
  }
  if (auto m = v.find("model"); m != v.end()) {
    if (!m->is_string()) return Bad(file, where + ".model", "expected a string");
    facts->model = m->get<std::string>();
  }
  if (auto st = v.find("stream"); st != v.end()) {
    if (!st->is_boolean()) return Bad(file, where + ".stream", "expected a boolean");
    facts->stream = st->get<bool>();
  }
  return facts;
}

std::string Outcome(const std::string& verdict, const std::string& reason,
                    const std::string& rule_id) {
  std::string out = verdict + " " + (reason.empty() ? "(no reason)" : reason);
  if (!rule_id.empty()) out += " (rule " + rule_id + ")";
  return out;
}

void Compare(VectorResult& r) {
  std::vector<std::string> diffs;
  if (r.verdict != r.expected_verdict) diffs.push_back("verdict " + r.expected_verdict);
  if (r.expected_reason && r.reason != *r.expected_reason) {
    diffs.push_back("reason " + (r.expected_reason->empty() ? "(none)" : *r.expected_reason));
  }
  if (r.expected_rule_id && r.rule_id != *r.expected_rule_id) {
    diffs.push_back("rule " + (r.expected_rule_id->empty() ? "(default)" : *r.expected_rule_id));
  }
  if (r.expected_redactions && r.redactions != *r.expected_redactions) {
    diffs.push_back(std::to_string(*r.expected_redactions) + " redactions");
  }
  r.passed = diffs.empty();
  if (r.passed) return;
  std::string expected;
  for (const auto& d : diffs) expected += (expected.empty() ? "" : ", ") + d;
  r.mismatch = "expected " + expected + "; got " + Outcome(r.verdict, r.reason, r.rule_id) +
               " with " + std::to_string(r.redactions) + " redactions";
}

Result<VectorResult> RunOne(const Policy& policy, const Json& v, std::string_view file,
                            const std::string& where) {
  if (!v.is_object()) return Bad(file, where, "expected an object");
  Status s = CheckKeys(v, file, where, {"name", "description", "agent", "protocol", "body",
                                        "headers", "model", "stream", "expect"});
  if (!s.ok()) return s.error();
  VectorResult result;
  result.file = std::string(file);
  auto name = RequiredString(v, "name", file, where);
  auto agent = RequiredString(v, "agent", file, where);
  auto protocol = RequiredString(v, "protocol", file, where);
  for (const auto* r : {&name, &agent, &protocol}) {
    if (!r->ok()) return r->error();
  }
  result.name = *name;
  if (!v.contains("body")) return Bad(file, where + ".body", "missing");
  s = ReadExpect(v, file, where, result);
  if (!s.ok()) return s.error();
  auto facts = VectorFacts(v, *agent, *protocol, file, where);
  if (!facts.ok() && facts.error().code != ErrorCode::kInvalidArgument) return facts.error();
  if (!facts.ok()) {
    result.verdict = VerdictName(Verdict::kDeny);
    result.reason = kReasonRequestInvalid;
  } else {
    PolicyDecision d = policy.Evaluate(*facts);
    result.verdict = VerdictName(d.verdict);
    result.reason = d.reason_code;
    result.rule_id = d.rule_id;
    if (d.obligations.has_redaction) {
      Json copy = v["body"];
      result.redactions = policy.Redact(d, *protocol, copy);
    }
  }
  Compare(result);
  return result;
}

Result<Json> ReadVectorFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string label = path.filename().string();
  if (!in) return MakeError(ErrorCode::kConfig, path.string() + ": cannot read");
  if (path.extension() == ".toml") {
    auto doc = TomlToJson(buffer.str(), label);
    if (!doc.ok()) return doc;
    if (!doc->contains("vectors")) return Bad(label, "vectors", "missing [[vectors]]");
    return (*doc)["vectors"];
  }
  auto doc = ParseStrictJson(buffer.str());
  if (!doc.ok()) return Bad(label, "json", doc.error().message);
  if (doc->is_object() && doc->contains("vectors")) return (*doc)["vectors"];
  return doc;
}

}  // namespace

Status RunVectorList(const Policy& policy, const Json& list, std::string_view file,
                     VectorReport& report) {
  if (!list.is_array()) return Bad(file, "vectors", "expected a list of vectors");
  for (size_t i = 0; i < list.size(); ++i) {
    auto r = RunOne(policy, list[i], file, "vectors[" + std::to_string(i) + "]");
    if (!r.ok()) return r.error();
    (r->passed ? report.passed : report.failed)++;
    report.results.push_back(std::move(r).value());
  }
  return Status::Ok();
}

Result<VectorReport> RunVectors(const Policy& policy, const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    auto ext = entry.path().extension();
    if (entry.is_regular_file() && (ext == ".json" || ext == ".toml")) {
      files.push_back(entry.path());
    }
  }
  if (ec) return MakeError(ErrorCode::kConfig, dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  VectorReport report;
  for (const auto& path : files) {
    auto list = ReadVectorFile(path);
    if (!list.ok()) return list.error();
    Status s = RunVectorList(policy, *list, path.filename().string(), report);
    if (!s.ok()) return s.error();
  }
  if (report.results.empty()) return MakeError(ErrorCode::kConfig, dir + ": no decision vectors");
  return report;
}

std::string VectorReport::ToText() const {
  std::string out;
  for (const auto& r : results) {
    out += (r.passed ? "PASS " : "FAIL ") + r.file + ": " + r.name;
    if (!r.passed) out += ": " + r.mismatch;
    out += "\n";
  }
  out += std::to_string(passed) + " passed, " + std::to_string(failed) + " failed\n";
  return out;
}

Json VectorReport::ToJson() const {
  Json vectors = Json::array();
  for (const auto& r : results) {
    Json expected = {{"verdict", r.expected_verdict}};
    if (r.expected_reason) expected["reason"] = *r.expected_reason;
    if (r.expected_rule_id) expected["rule_id"] = *r.expected_rule_id;
    if (r.expected_redactions) expected["redactions"] = *r.expected_redactions;
    Json item = {{"file", r.file},
                 {"name", r.name},
                 {"passed", r.passed},
                 {"expected", expected},
                 {"actual", {{"verdict", r.verdict},
                             {"reason", r.reason},
                             {"rule_id", r.rule_id},
                             {"redactions", r.redactions}}}};
    if (!r.passed) item["mismatch"] = r.mismatch;
    vectors.push_back(std::move(item));
  }
  return Json{{"passed", passed}, {"failed", failed}, {"vectors", std::move(vectors)}};
}

}  // namespace helm
