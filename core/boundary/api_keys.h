// API keys for clients. Only the SHA-256 of a secret is stored (state
// database, key "apikey/<sha256 hex>"); the secret is shown once at creation.
// A key may carry limits (KeyLimits) that the proxy's gate enforces
// (core/proxy/key_gate.h); a key with a budget has its spend, the sum of
// its outcomes' cost_micros, kept in the state database ("spend/<key id>",
// decimal) so that it survives a restart. Lookups are served from memory.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/json.h"
#include "core/ledger/state_store.h"

namespace helm {

inline constexpr char kRootAgent[] = "root";
inline constexpr char kBootstrapKeyId[] = "key_bootstrap";

// A key's limits; 0 (or no lanes) means none. Set at creation, replaced by
// ApiKeys::SetLimits.
struct KeyLimits {
  std::vector<std::string> lanes;  // the lanes this key may use
  int64_t rpm = 0;                 // requests per minute
  int64_t tpm = 0;                 // tokens per minute (estimated input + output)
  int64_t budget_micros = 0;       // total cost, millionths of a US dollar
  int64_t concurrency = 0;         // requests in flight

  bool any() const {
    return !lanes.empty() || rpm > 0 || tpm > 0 || budget_micros > 0 || concurrency > 0;
  }
  // {"lanes"?, "rpm"?, "tpm"?, "budget_micros"?, "concurrency"?}: the set ones only.
  Json ToJson() const;
  // kInvalidArgument on a member of the wrong type or range, or an unknown one.
  static Result<KeyLimits> FromJson(const Json& j);
};

struct Principal {
  std::string agent;
  std::string api_key_id;
  bool may_pin_models = false;  // only the bootstrap key until per-key capabilities exist
  std::shared_ptr<const KeyLimits> limits;  // null: the key has none (the common case)
  int64_t spent_micros = 0;  // the key's spend when authenticated; tracked only with a budget
};

struct CreatedKey {
  std::string id;
  std::string secret;
  std::string agent;
  KeyLimits limits;
};

class ApiKeys {
 public:
  // Loads every stored key (and the spend of those with a budget) into memory;
  // a read error of the state database (kCorruption, kUnavailable) is
  // returned instead of a partial set: the caller refuses to start.
  static Result<std::unique_ptr<ApiKeys>> Load(StateStore* store);

  // Registers the bootstrap secret for agent root (idempotent).
  Status EnsureBootstrap(const std::string& secret);
  Result<CreatedKey> Create(const std::string& agent, const KeyLimits& limits = {});
  Status Revoke(const std::string& key_id);
  // A new secret for the key: same id, agent, limits and spend; the old
  // secret is refused from now on. kNotFound for an unknown or revoked key.
  Result<CreatedKey> Rotate(const std::string& key_id);
  // Replaces the key's limits with `limits` (nothing set: none), persisted,
  // for every later authentication; returns the key as List shows it. A
  // budget counts the spend of the outcomes sealed while the key has one.
  // kNotFound for an unknown or revoked key.
  Result<Json> SetLimits(const std::string& key_id, const KeyLimits& limits);
  // {id, agent, revoked, limits?, spent_micros?}, never the secret or its hash
  std::vector<Json> List() const;

  std::optional<Principal> Authenticate(std::string_view secret) const;
  // Adds an outcome's cost to its key's spend, persisted, when the key has a
  // budget; nothing otherwise.
  Status AddSpend(const std::string& key_id, int64_t cost_micros);

 private:
  struct Entry {
    Json record;
    std::shared_ptr<const KeyLimits> limits;  // null: none
    std::atomic<int64_t> spent{0};
  };
  explicit ApiKeys(StateStore* store) : store_(store) {}
  Status Store(const std::string& hash, const Json& record);
  // The hash of the key's current secret: not revoked, not replaced by Rotate.
  std::optional<std::string> CurrentHashLocked(const std::string& key_id) const;
  Json ListEntryLocked(const Entry& e) const;

  StateStore* store_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> by_hash_;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, std::shared_ptr<Entry>> by_id_;    // GUARDED_BY(mu_)
  std::mutex spend_mu_;  // orders the spend writes of one key after another
};

}  // namespace helm
