// Policy loading (the only translation unit that includes toml++) and the
// Policy implementation. Loading is fail-closed: every key is checked against
// the language of docs/policy.md and the first problem is reported as
// "FILE:LINE: key: problem" (kConfig). Evaluation never touches toml++.
#include "core/policy/policy.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "core/common/toml_util.h"

#include "core/crypto/crypto.h"
#include "core/policy/rule.h"
#include "core/policy/toml_json.h"

namespace helm {
namespace {

inline constexpr char kDefaultReasonNoMatch[] = "NO_RULE_MATCHED";
inline constexpr char kDefaultReasonDeny[] = "POLICY_DENY";
inline constexpr char kDefaultReasonEscalate[] = "APPROVAL_REQUIRED";
inline constexpr int64_t kMaxHoldSeconds = 3600;

bool IsUpperSnake(std::string_view s) {
  if (s.empty() || s.front() < 'A' || s.front() > 'Z' || s.back() == '_') return false;
  char prev = 0;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok || (c == '_' && prev == '_')) return false;
    prev = c;
  }
  return true;
}

std::string DefaultReason(Verdict v) {
  if (v == Verdict::kDeny) return kDefaultReasonDeny;
  if (v == Verdict::kEscalate) return kDefaultReasonEscalate;
  return "";
}

// Reads and validates one policy document. Each method returns the first
// problem found as a kConfig Error.
class Loader : public TomlLoaderBase {
 public:
  explicit Loader(std::string_view file) : TomlLoaderBase(file) {}

  // A non-empty array of non-empty strings (an empty list would never match).
  Result<std::vector<std::string>> Strings(const toml::node& n, const std::string& key) const {
    if (!n.is_array()) return WrongType(n, key, "an array of strings");
    const toml::array& arr = *n.as_array();
    if (arr.empty()) return Fail(n, key, "must not be empty");
    std::vector<std::string> out;
    for (size_t i = 0; i < arr.size(); ++i) {
      auto s = String(arr[i], key + "[" + std::to_string(i) + "]");
      if (!s.ok()) return s.error();
      out.push_back(std::move(s).value());
    }
    return out;
  }

  // Compiles each pattern once; the RE2 error text is reported on failure.
  Result<RegexList> Regexes(const toml::node& n, const std::string& key,
                            bool reject_empty_match) const {
    auto patterns = Strings(n, key);
    if (!patterns.ok()) return patterns.error();
    RegexList out;
    for (size_t i = 0; i < patterns->size(); ++i) {
      const std::string& p = (*patterns)[i];
      std::string at = key + "[" + std::to_string(i) + "]";
      auto re = std::make_unique<RE2>(p, PolicyRegexOptions());
      if (!re->ok()) return Fail(*n.as_array()->get(i), at, "invalid regex: " + re->error());
      if (reject_empty_match && RE2::FullMatch("", *re)) {
        return Fail(*n.as_array()->get(i), at, "pattern matches the empty string");
      }
      out.push_back(std::move(re));
    }
    return out;
  }

  Status Protocols(const toml::node& n, const std::string& key, Conditions& c) const;
  Status Headers(const toml::node& n, const std::string& key, Conditions& c) const;
  Status When(const toml::node& n, const std::string& path, Conditions& c) const;
  Status WhenValue(std::string_view name, const toml::node& v, const std::string& key,
                   uint32_t key_line, Conditions& c) const;
  Status Then(const toml::node& n, const std::string& path, Rule& rule) const;
  Result<Rule> ParseRule(const toml::node& n, size_t index) const;
  Status Header(const toml::table& root, PolicyDecision& fallback, std::string& id,
                int64_t& version) const;
};

Status Loader::Protocols(const toml::node& n, const std::string& key, Conditions& c) const {
  auto names = Strings(n, key);
  if (!names.ok()) return names.error();
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string& p = (*names)[i];
    if (p != kOpenAiChat && p != kAnthropicMessages && p != kOpenAiResponses &&
        p != kGeminiGenerate && p != kOpenAiEmbeddings && p != kOpenAiCompletions) {
      return Fail(*n.as_array()->get(i), key + "[" + std::to_string(i) + "]",
                  "unknown protocol \"" + p + "\"");
    }
  }
  c.protocols = std::move(names).value();
  return Status::Ok();
}

Status Loader::Headers(const toml::node& n, const std::string& key, Conditions& c) const {
  if (!n.is_table()) return WrongType(n, key, "a table of header name = [values]");
  const toml::table& t = *n.as_table();
  if (t.empty()) return Fail(n, key, "must not be empty");
  for (auto&& [name, values] : t) {
    std::string lower(name.str());
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    auto globs = Strings(values, Join(key, name.str()));
    if (!globs.ok()) return globs.error();
    c.headers.emplace_back(std::move(lower), std::move(globs).value());
  }
  return Status::Ok();
}

Status Loader::WhenValue(std::string_view name, const toml::node& v, const std::string& key,
                         uint32_t key_line, Conditions& c) const {
  auto assign = [](auto& dst, auto result) -> Status {
    if (!result.ok()) return result.error();
    dst = std::move(result).value();
    return Status::Ok();
  };
  constexpr int64_t kMax = INT64_MAX;
  if (name == "agents") return assign(c.agents, Strings(v, key));
  if (name == "models") return assign(c.models, Strings(v, key));
  if (name == "protocols") return Protocols(v, key, c);
  if (name == "tools_any") return assign(c.tools_any, Strings(v, key));
  if (name == "tools_all") return assign(c.tools_all, Strings(v, key));
  if (name == "content_regex") return assign(c.content_regex, Regexes(v, key, false));
  if (name == "stream") return assign(c.stream, Bool(v, key));
  if (name == "has_images") return assign(c.has_images, Bool(v, key));
  if (name == "min_input_tokens") return assign(c.min_input_tokens, Int(v, key, 0, kMax));
  if (name == "max_input_tokens") return assign(c.max_input_tokens, Int(v, key, 0, kMax));
  if (name == "max_body_bytes") return assign(c.max_body_bytes, Int(v, key, 0, kMax));
  if (name == "headers") return Headers(v, key, c);
  return Fail(key_line, key, "unknown key");
}

Status Loader::When(const toml::node& n, const std::string& path, Conditions& c) const {
  if (!n.is_table()) return WrongType(n, path, "a table");
  for (auto&& [k, v] : *n.as_table()) {
    std::string key = Join(path, k.str());
    Status s = WhenValue(k.str(), v, key, k.source().begin.line, c);
    if (!s.ok()) return s;
  }
  if (c.min_input_tokens && c.max_input_tokens && *c.min_input_tokens > *c.max_input_tokens) {
    return Fail(n, Join(path, "min_input_tokens"), "greater than max_input_tokens");
  }
  return Status::Ok();
}

Status Loader::Then(const toml::node& n, const std::string& path, Rule& rule) const {
  if (!n.is_table()) return WrongType(n, path, "a table");
  for (auto&& [k, v] : *n.as_table()) {
    std::string key = Join(path, k.str());
    std::string_view name = k.str();
    bool hold = name == "hold_seconds";
    if (hold && rule.verdict != Verdict::kEscalate) {
      return Fail(v, key, "only allowed on ESCALATE rules");
    }
    if (!hold && rule.verdict != Verdict::kAllow && (name == "lane_cap" || name == "lane_pin" ||
        name == "max_output_tokens" || name == "redact_regex")) {
      return Fail(v, key, "obligations are only allowed on ALLOW rules");
    }
    if (hold) {
      auto r = Int(v, key, 1, kMaxHoldSeconds);
      if (!r.ok()) return r.error();
      rule.then.hold_seconds = *r;
    } else if (name == "lane_cap" || name == "lane_pin") {
      auto r = String(v, key);
      if (!r.ok()) return r.error();
      (name == "lane_cap" ? rule.then.lane_cap : rule.then.lane_pin) = std::move(r).value();
    } else if (name == "max_output_tokens") {
      auto r = Int(v, key, 1, INT32_MAX);
      if (!r.ok()) return r.error();
      rule.then.max_output_tokens = *r;
    } else if (name == "redact_regex") {
      auto r = Regexes(v, key, true);
      if (!r.ok()) return r.error();
      rule.redact_regex = std::move(r).value();
      rule.then.has_redaction = true;
    } else {
      return Fail(k.source().begin.line, key, "unknown key");
    }
  }
  return Status::Ok();
}

Result<Rule> Loader::ParseRule(const toml::node& n, size_t index) const {
  std::string path = "rules[" + std::to_string(index) + "]";
  if (!n.is_table()) return WrongType(n, path, "a table");
  const toml::table& t = *n.as_table();
  Status s = CheckKeys(t, path, {"id", "verdict", "reason", "description", "when", "then"});
  if (!s.ok()) return s.error();
  Rule rule;
  const toml::node* id = t.get("id");
  if (id == nullptr) return Fail(n, path + ".id", "missing (required)");
  auto id_value = String(*id, path + ".id");
  if (!id_value.ok()) return id_value.error();
  rule.id = std::move(id_value).value();
  const toml::node* verdict = t.get("verdict");
  if (verdict == nullptr) return Fail(n, path + ".verdict", "missing (required)");
  auto name = String(*verdict, path + ".verdict");
  if (!name.ok()) return name.error();
  auto parsed = ParseVerdict(*name);
  if (!parsed) {
    return Fail(*verdict, path + ".verdict",
                "unknown verdict \"" + *name + "\" (ALLOW, DENY or ESCALATE)");
  }
  rule.verdict = *parsed;
  rule.reason = DefaultReason(rule.verdict);
  if (const toml::node* reason = t.get("reason")) {
    auto r = String(*reason, path + ".reason");
    if (!r.ok()) return r.error();
    if (!IsUpperSnake(*r)) return Fail(*reason, path + ".reason", "must be UPPER_SNAKE_CASE");
    rule.reason = std::move(r).value();
  }
  if (const toml::node* d = t.get("description"); d && !d->is_string()) {
    return WrongType(*d, path + ".description", "a string");
  }
  if (const toml::node* when = t.get("when")) {
    s = When(*when, path + ".when", rule.when);
    if (!s.ok()) return s.error();
  }
  if (const toml::node* then = t.get("then")) {
    if (rule.verdict == Verdict::kDeny) {
      return Fail(*then, path + ".then", "not allowed on DENY rules (obligations apply to ALLOW)");
    }
    s = Then(*then, path + ".then", rule);
    if (!s.ok()) return s.error();
  }
  return rule;
}

Status Loader::Header(const toml::table& root, PolicyDecision& fallback, std::string& id,
                      int64_t& version) const {
  const toml::node* policy = root.get("policy");
  if (policy == nullptr) return Fail(1, "policy", "missing [policy] table");
  if (!policy->is_table()) return WrongType(*policy, "policy", "a table");
  const toml::table& t = *policy->as_table();
  Status s = CheckKeys(t, "policy",
                       {"id", "version", "default_verdict", "default_reason", "description"});
  if (!s.ok()) return s;
  const toml::node* id_node = t.get("id");
  if (id_node == nullptr) return Fail(*policy, "policy.id", "missing (required)");
  auto id_value = String(*id_node, "policy.id");
  if (!id_value.ok()) return id_value.error();
  id = std::move(id_value).value();
  if (const toml::node* v = t.get("version")) {
    auto r = Int(*v, "policy.version", 0, INT64_MAX);
    if (!r.ok()) return r.error();
    version = *r;
  }
  if (const toml::node* v = t.get("default_verdict")) {
    auto name = String(*v, "policy.default_verdict");
    if (!name.ok()) return name.error();
    auto parsed = ParseVerdict(*name);
    if (!parsed) return Fail(*v, "policy.default_verdict", "unknown verdict \"" + *name + "\"");
    fallback.verdict = *parsed;
  }
  fallback.reason_code = kDefaultReasonNoMatch;
  if (const toml::node* v = t.get("default_reason")) {
    auto r = String(*v, "policy.default_reason");
    if (!r.ok()) return r.error();
    if (!IsUpperSnake(*r)) return Fail(*v, "policy.default_reason", "must be UPPER_SNAKE_CASE");
    fallback.reason_code = std::move(r).value();
  }
  if (const toml::node* d = t.get("description"); d && !d->is_string()) {
    return WrongType(*d, "policy.description", "a string");
  }
  return Status::Ok();
}

class TomlPolicy final : public Policy {
 public:
  PolicyDecision Evaluate(const RequestFacts& facts) const override {
    for (const Rule& rule : rules_) {
      if (!ConditionsHold(rule.when, facts)) continue;
      return PolicyDecision{rule.verdict, rule.reason, rule.id, rule.then};
    }
    return fallback_;
  }

  int Redact(const PolicyDecision& decision, std::string_view protocol,
             Json& body) const override {
    const RegexList* patterns = RedactPatterns(decision);
    if (patterns == nullptr) return 0;
    return RewriteTexts(protocol, body,
                        [patterns](std::string& text) { return RedactText(*patterns, text); });
  }

  bool WouldRedact(const PolicyDecision& decision, std::string_view protocol,
                   const Json& body) const override {
    const RegexList* patterns = RedactPatterns(decision);
    if (patterns == nullptr) return false;
    bool found = false;
    // The walk changes a text only where the function does, and this one
    // only reads: the body is left as it is.
    RewriteTexts(protocol, const_cast<Json&>(body), [&](std::string& text) {
      found = found || AnyMatch(*patterns, text);
      return 0;
    });
    return found;
  }

  const std::vector<std::string>& header_names() const override { return header_names_; }
  const std::string& id() const override { return id_; }
  int64_t version() const override { return version_; }
  const std::string& hash() const override { return hash_; }
  size_t rule_count() const override { return rules_.size(); }
  std::vector<Obligations> rule_obligations() const override {
    std::vector<Obligations> out;
    for (const Rule& rule : rules_) out.push_back(rule.then);
    return out;
  }

  static Result<std::shared_ptr<const Policy>> Build(const toml::table& root,
                                                     const Loader& loader, std::string hash);

 private:
  // The redact_regex of the rule behind `decision`; null when it has none.
  const RegexList* RedactPatterns(const PolicyDecision& decision) const {
    auto it = by_id_.find(decision.rule_id);
    if (decision.rule_id.empty() || it == by_id_.end()) return nullptr;
    const RegexList& patterns = rules_[it->second].redact_regex;
    return patterns.empty() ? nullptr : &patterns;
  }

  std::string id_;
  int64_t version_ = 0;
  std::string hash_;
  PolicyDecision fallback_;
  std::vector<Rule> rules_;
  std::map<std::string, size_t> by_id_;
  std::vector<std::string> header_names_;  // lower-case, as named by when.headers
};

Result<std::shared_ptr<const Policy>> TomlPolicy::Build(const toml::table& root,
                                                        const Loader& loader, std::string hash) {
  Status s = loader.CheckKeys(root, "", {"policy", "rules"});
  if (!s.ok()) return s.error();
  auto policy = std::make_shared<TomlPolicy>();
  policy->hash_ = std::move(hash);
  s = loader.Header(root, policy->fallback_, policy->id_, policy->version_);
  if (!s.ok()) return s.error();
  const toml::node* rules = root.get("rules");
  if (rules != nullptr && !rules->is_array()) {
    return loader.WrongType(*rules, "rules", "an array of tables ([[rules]])");
  }
  for (size_t i = 0; rules != nullptr && i < rules->as_array()->size(); ++i) {
    const toml::node& node = *rules->as_array()->get(i);
    auto rule = loader.ParseRule(node, i);
    if (!rule.ok()) return rule.error();
    if (!policy->by_id_.emplace(rule->id, i).second) {
      const toml::node* id = node.as_table()->get("id");
      return loader.Fail(*id, "rules[" + std::to_string(i) + "].id",
                         "duplicate rule id \"" + rule->id + "\"");
    }
    for (const auto& [name, globs] : rule->when.headers) {
      auto& names = policy->header_names_;
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    policy->rules_.push_back(std::move(rule).value());
  }
  return std::shared_ptr<const Policy>(std::move(policy));
}

// Parses TOML text; a syntax error becomes "FILE:LINE: syntax: description".
Result<toml::table> ParseToml(std::string_view text, std::string_view source_name) {
  try {
    return toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return MakeError(ErrorCode::kConfig, std::string(source_name) + ":" +
                                             std::to_string(e.source().begin.line) +
                                             ": syntax: " + std::string(e.description()));
  }
}

Json NodeToJson(const toml::node& n) {
  if (const auto* t = n.as_table()) {
    Json out = Json::object();
    for (auto&& [k, v] : *t) out[std::string(k.str())] = NodeToJson(v);
    return out;
  }
  if (const auto* a = n.as_array()) {
    Json out = Json::array();
    for (const auto& v : *a) out.push_back(NodeToJson(v));
    return out;
  }
  if (const auto* s = n.as_string()) return s->get();
  if (const auto* i = n.as_integer()) return i->get();
  if (const auto* f = n.as_floating_point()) return f->get();
  if (const auto* b = n.as_boolean()) return b->get();
  std::ostringstream os;  // dates and times as their TOML text
  n.visit([&os](const auto& value) { os << value; });
  return os.str();
}

}  // namespace

Result<std::shared_ptr<const Policy>> Policy::LoadString(std::string_view toml_text,
                                                         std::string_view source_name) {
  auto root = ParseToml(toml_text, source_name);
  if (!root.ok()) return root.error();
  Loader loader(source_name);
  return TomlPolicy::Build(*root, loader, crypto::Sha256Tagged(toml_text));
}

Result<std::shared_ptr<const Policy>> Policy::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kConfig, path + ": cannot open policy file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return MakeError(ErrorCode::kConfig, path + ": cannot read policy file");
  return LoadString(buffer.str(), path);
}

Result<Json> TomlToJson(std::string_view toml_text, std::string_view source_name) {
  auto root = ParseToml(toml_text, source_name);
  if (!root.ok()) return root.error();
  return NodeToJson(*root);
}

}  // namespace helm
