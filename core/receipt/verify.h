// Offline verification of a receipt chain, fed one stored receipt at a time
// (export lines, or ledger values in seq order). Integrity (format,
// signatures, seq contiguity, prev_hash chain, checkpoints) and trust (signer
// key in the trusted set) are reported separately. Not thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/json.h"

namespace helm::receipt {

struct VerifyReport {
  uint64_t receipts = 0;     // all receipts seen, checkpoints included
  uint64_t checkpoints = 0;
  uint64_t head_seq = 0;
  std::string head_hash;
  bool integrity_ok = true;
  uint64_t first_broken_seq = 0;  // seq (or line number if seq unreadable) of the first failure
  std::string first_broken_check;  // "format" | "signature" | "seq" | "prev_hash" | "ledger_id" | "checkpoint" | "truncated"
  std::string first_broken_detail;
  bool trust_ok = true;
  uint64_t first_untrusted_seq = 0;
  std::string untrusted_key_id;
  std::vector<std::string> decisions_without_outcome;  // decision receipt ids (ALLOW only)

  Json ToJson() const;
};

class ChainVerifier {
 public:
  // trusted_public_keys: raw 32-byte Ed25519 keys.
  explicit ChainVerifier(std::set<std::string> trusted_public_keys);
  // Feeds the next stored receipt (JCS bytes with signature).
  void Add(std::string_view stored);
  // Ends the input. A checkpoint that names a seq beyond the last receipt
  // seen is reported as "truncated".
  VerifyReport Finish();

 private:
  void Fail(uint64_t seq, const char* check, std::string detail);
  std::set<std::string> trusted_;
  VerifyReport report_;
  uint64_t line_ = 0;
  std::string expected_prev_hash_;
  std::string ledger_id_;
  uint64_t max_checkpoint_seq_ = 0;
  std::set<std::string> open_decisions_;
  std::vector<std::string> decision_order_;
};

}  // namespace helm::receipt
