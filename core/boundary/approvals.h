// The ESCALATE workflow. An approval is created pending for one agent and one
// request hash, decided by an operator (approve / deny), and consumed at most
// once by a re-sent identical request before it expires. Records live in the
// state database ("approval/<id>") so they survive restarts. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/common/ids.h"
#include "core/common/json.h"
#include "core/ledger/state_store.h"

namespace helm {

class Approvals {
 public:
  Approvals(StateStore* store, const Clock* clock, int64_t ttl_seconds)
      : store_(store), clock_(clock), ttl_us_(ttl_seconds * 1000000) {}

  // A new pending approval; returns its id ("apr_" + ULID).
  Result<std::string> Create(const std::string& agent, const std::string& request_hash,
                             const std::string& decision_id, const std::string& reason_code,
                             const std::string& rule_id);
  // Operator decisions. kNotFound, or kConflict when not pending or expired.
  // Here and below, a record the state database cannot read is kUnavailable:
  // never an unknown approval, and nothing is written.
  Status Decide(const std::string& id, bool approve, const std::string& by);
  // Consumes an approved approval for this agent and request. On failure the
  // error message is the reason code: APPROVAL_NOT_FOUND, APPROVAL_MISMATCH,
  // APPROVAL_PENDING, APPROVAL_DENIED, APPROVAL_EXPIRED or APPROVAL_USED;
  // kUnavailable when the record cannot be read or the use not written.
  // A consumed approval stays used even when its decision receipt then fails
  // to be written: a failed write may still reach the WAL and reappear at the
  // next open, and an approval must never allow two requests.
  Status Consume(const std::string& id, const std::string& agent, const std::string& request_hash);

  // Blocks until the approval is no longer pending or the timeout passes;
  // returns its status then (see EffectiveStatus). An approval that cannot
  // be read (or is not there) ends the wait with that error.
  Result<std::string> WaitForDecision(const std::string& id, std::chrono::milliseconds timeout);

  // "" = all. A read error, or a malformed record, instead of a shorter list.
  Result<std::vector<Json>> List(const std::string& status_filter) const;
  Result<Json> Get(const std::string& id) const;

 private:
  Result<Json> LoadLocked(const std::string& id) const;
  Status SaveLocked(const Json& record);
  std::string EffectiveStatus(const Json& record) const;  // "expired" once past expiry

  StateStore* store_;
  const Clock* clock_;
  int64_t ttl_us_;
  mutable std::mutex mu_;  // serialises read-modify-write of records
  std::condition_variable decided_;  // signalled by Decide
};

}  // namespace helm
