// API keys for clients. Only the SHA-256 of a secret is stored (state
// database, key "apikey/<sha256 hex>"); the secret is shown once at creation.
// Lookups are served from memory. Thread-safe.
#pragma once

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

struct Principal {
  std::string agent;
  std::string api_key_id;
  bool may_pin_models = false;  // only the bootstrap key until per-key capabilities exist
};

struct CreatedKey {
  std::string id;
  std::string secret;
  std::string agent;
};

class ApiKeys {
 public:
  // Loads every stored key into memory.
  static Result<std::unique_ptr<ApiKeys>> Load(StateStore* store);

  // Registers the bootstrap secret for agent root (idempotent).
  Status EnsureBootstrap(const std::string& secret);
  Result<CreatedKey> Create(const std::string& agent);
  Status Revoke(const std::string& key_id);
  std::vector<Json> List() const;  // {id, agent, revoked}, never the secret or its hash

  std::optional<Principal> Authenticate(std::string_view secret) const;

 private:
  explicit ApiKeys(StateStore* store) : store_(store) {}
  Status Store(const std::string& hash, const Json& record);

  StateStore* store_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Json> by_hash_;  // GUARDED_BY(mu_)
};

}  // namespace helm
