// Decision vectors: request facts in, expected verdict and reason out (the
// engine behind `helm policy test FILE --vectors DIR`, docs/policy.md).
//
// A vector file is JSON (a list of vectors, or {"vectors": [...]}) or TOML
// ([[vectors]] tables). One vector:
//   {"name": "...", "agent": "support-bot", "protocol": "openai.chat",
//    "body": {client request JSON}, "headers": {"x-helm-env": "prod"},
//    "model": optional override (Gemini carries it in the path),
//    "stream": optional override,
//    "expect": {"verdict": "DENY", "reason": "SECRET_IN_PROMPT",
//               "rule_id": optional, "redactions": optional count}}
// Facts come from ExtractFacts plus agent, headers and body_bytes (the size of
// the compactly dumped body). A body ExtractFacts rejects decides DENY
// REQUEST_INVALID, as at the boundary. Pure apart from reading the files.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/json.h"
#include "core/policy/policy.h"

namespace helm {

inline constexpr char kReasonRequestInvalid[] = "REQUEST_INVALID";

struct VectorResult {
  std::string file;  // file name inside the vector directory
  std::string name;
  bool passed = false;
  // Expected; reason, rule_id and redactions are checked only when given.
  std::string expected_verdict;
  std::optional<std::string> expected_reason;
  std::optional<std::string> expected_rule_id;
  std::optional<int> expected_redactions;
  // What came out.
  std::string verdict;
  std::string reason;
  std::string rule_id;
  int redactions = 0;
  std::string mismatch;  // empty when passed, else what differed
};

struct VectorReport {
  std::vector<VectorResult> results;
  size_t passed = 0;
  size_t failed = 0;
  bool ok() const { return failed == 0 && !results.empty(); }
  std::string ToText() const;  // one line per vector, then a summary line
  Json ToJson() const;         // {"passed", "failed", "vectors": [...]}
};

// Runs every *.json and *.toml file in dir (not recursive, sorted by name).
// kConfig when dir cannot be read, holds no vectors, or a file or vector is
// malformed (unknown key, missing name/agent/protocol/body/expect.verdict).
// Mismatches are not errors: they are in the report (ok() is false).
Result<VectorReport> RunVectors(const Policy& policy, const std::string& dir);

// Runs one list of vectors (the JSON form) into report; file labels results.
Status RunVectorList(const Policy& policy, const Json& list, std::string_view file,
                     VectorReport& report);

}  // namespace helm
