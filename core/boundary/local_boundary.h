// LocalBoundary: the in-process boundary. Owns the policy (hot-reloadable),
// the ledger, the state database, API keys and approvals. `helm serve` and
// `helm proxy --policy` both run one. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/boundary/approvals.h"
#include "core/boundary/boundary.h"
#include "core/boundary/data_dir.h"
#include "core/common/limits.h"
#include "core/ledger/ledger.h"
#include "core/ledger/state_store.h"

namespace helm {

struct BoundaryOptions {
  std::string policy_path;
  std::string data_dir = "./helm-data";
  LedgerOptions ledger;     // path is filled in from data_dir
  StateStoreOptions state;  // path is filled in from data_dir
  Limits limits;
};

class LocalBoundary : public Boundary {
 public:
  // Refuses to start (kConfig / kCorruption) on an invalid policy, an unusable
  // data dir or a ledger whose chain does not verify; and on a state database
  // whose API keys cannot be read (kCorruption / kUnavailable).
  static Result<std::unique_ptr<LocalBoundary>> Open(const BoundaryOptions& options);
  // Closes the ledger first: receipts it still writes call back into this.
  ~LocalBoundary() override;

  Result<Principal> Authenticate(std::string_view secret) override;
  Result<Decision> Evaluate(const EvaluateInput& input) override;
  Result<std::string> Seal(const Outcome& outcome) override;
  // The ledger queues the receipt and writes it with a later group commit.
  void SealDetached(Outcome outcome) override;

  // Loads the policy file again; an invalid file keeps the current policy.
  Status ReloadPolicy();
  std::shared_ptr<const Policy> policy() const;

  Ledger& ledger() { return *ledger_; }
  Approvals& approvals() { return *approvals_; }
  ApiKeys& api_keys() { return *api_keys_; }
  const DataDir& data_dir() const { return data_dir_; }
  const BoundaryOptions& options() const { return options_; }

 private:
  LocalBoundary() = default;
  // Evaluates the policy and settles approvals; no I/O but the state store.
  Decision Decide(const EvaluateInput& input, const Policy& policy, RequestFacts* facts);
  // then.hold_seconds: waits for an operator on the pending approval before
  // the decision is recorded; an approval granted meanwhile is consumed.
  void Hold(const EvaluateInput& input, Decision* decision);
  // Adds a sealed outcome's cost to its key's spend (keys with a budget only).
  void CountSpend(const Outcome& outcome);
  // The outcome receipt (its parent checked by ClaimParent).
  ReceiptDraft OutcomeReceipt(const Outcome& outcome) const;
  // An ALLOW for a caller that defers durability: its receipt is queued
  // (Ledger::AppendAsync) and the gate opened once it is written.
  Result<Decision> EvaluateDeferred(ReceiptDraft receipt, Decision decision, RequestFacts facts,
                                    std::chrono::steady_clock::time_point start);
  ReceiptDraft DecisionReceipt(const EvaluateInput& input, const Policy& policy,
                               const RequestFacts& facts, const Decision& decision) const;

  // ALLOW decision receipts this boundary appended recently (bounded, oldest
  // forgotten first), with their decision ids, so that the seal of a remote
  // proxy (the admin API) confirms its parent without a ledger read; an
  // in-process caller says so instead (Outcome::parent_durable). Outcomes
  // naming an older or foreign decision fall through to Ledger::GetById.
  void RememberDecision(const std::string& receipt_id, const std::string& decision_id);
  std::optional<std::string> RecentDecision(std::string_view receipt_id) const;
  // For a seal that is not in-process: the parent must be an ALLOW decision
  // receipt with the outcome's decision id, and gets one outcome only (a
  // marker in the state store, dropped again when the outcome is not written).
  Status ClaimParent(const Outcome& outcome);
  static constexpr size_t kRecentDecisions = 16384;

  BoundaryOptions options_;
  DataDir data_dir_;
  std::unique_ptr<StateStore> state_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<ApiKeys> api_keys_;
  std::unique_ptr<Approvals> approvals_;
  mutable std::mutex policy_mu_;
  std::shared_ptr<const Policy> policy_;  // GUARDED_BY(policy_mu_)
  mutable std::mutex recent_mu_;
  // receipt id, decision id; GUARDED_BY(recent_mu_), oldest first
  std::deque<std::pair<std::string, std::string>> recent_order_;
  // views into recent_order_ (stable under push_back and pop_front); GUARDED_BY(recent_mu_)
  std::unordered_map<std::string_view, std::string_view> recent_ids_;
  std::mutex seal_mu_;  // orders ClaimParent's check and marker
};

}  // namespace helm
