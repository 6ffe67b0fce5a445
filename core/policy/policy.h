// The policy engine (DESIGN §4, reference in docs/policy.md). A Policy is an
// immutable, validated rule list loaded from TOML; evaluation is a pure
// first-match function of RequestFacts. Thread-safe (immutable after load).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/json.h"
#include "core/policy/facts.h"

namespace helm {

enum class Verdict { kAllow, kDeny, kEscalate };
const char* VerdictName(Verdict v);  // "ALLOW" | "DENY" | "ESCALATE"
std::optional<Verdict> ParseVerdict(std::string_view name);

struct Obligations {
  std::string lane_cap;
  std::string lane_pin;
  std::optional<int64_t> max_output_tokens;
  int64_t hold_seconds = 0;
  bool has_redaction = false;  // the matched rule has redact_regex
  Json ToJson() const;         // only the obligations that are set
};

struct PolicyDecision {
  Verdict verdict = Verdict::kDeny;
  std::string reason_code;
  std::string rule_id;  // empty when the default verdict applied
  Obligations obligations;
};

class Policy {
 public:
  // Fail-closed: any unknown key, wrong type, invalid regex, unknown verdict
  // or duplicate rule id is kConfig with "FILE:LINE: key: problem".
  static Result<std::shared_ptr<const Policy>> LoadFile(const std::string& path);
  static Result<std::shared_ptr<const Policy>> LoadString(std::string_view toml,
                                                          std::string_view source_name);
  virtual ~Policy() = default;

  virtual PolicyDecision Evaluate(const RequestFacts& facts) const = 0;
  // Applies the redact_regex of the rule that produced `decision` to the
  // body's texts; returns the number of replacements ([REDACTED]).
  virtual int Redact(const PolicyDecision& decision, std::string_view protocol,
                     Json& body) const = 0;
  // Whether Redact would replace anything: the copy a redaction needs is made
  // only when it does (most requests carry no secret).
  virtual bool WouldRedact(const PolicyDecision& decision, std::string_view protocol,
                           const Json& body) const = 0;

  // The request headers some rule's when.headers names (lower case): the
  // only ones RequestFacts needs to carry.
  virtual const std::vector<std::string>& header_names() const = 0;
  virtual const std::string& id() const = 0;
  virtual int64_t version() const = 0;
  virtual const std::string& hash() const = 0;  // "sha256:<hex>" of the file bytes
  virtual size_t rule_count() const = 0;
  // The obligations of every rule, in rule order (to check lane names
  // against the routing configuration).
  virtual std::vector<Obligations> rule_obligations() const = 0;
};

}  // namespace helm
