#include "core/boundary/api_keys.h"

#include "core/common/ids.h"
#include "core/crypto/crypto.h"

namespace helm {
namespace {

constexpr char kPrefix[] = "apikey/";

}  // namespace

Result<std::unique_ptr<ApiKeys>> ApiKeys::Load(StateStore* store) {
  std::unique_ptr<ApiKeys> keys(new ApiKeys(store));
  for (const auto& [key, value] : store->Scan(kPrefix)) {
    auto record = ParseStrictJson(value);
    if (!record.ok() || !record->is_object()) {
      return MakeError(ErrorCode::kCorruption, "state: malformed API key record " + key);
    }
    keys->by_hash_[key.substr(sizeof(kPrefix) - 1)] = std::move(record.value());
  }
  return keys;
}

Status ApiKeys::Store(const std::string& hash, const Json& record) {
  if (Status s = store_->Put(kPrefix + hash, DumpJson(record)); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  by_hash_[hash] = record;
  return Status::Ok();
}

Status ApiKeys::EnsureBootstrap(const std::string& secret) {
  std::string hash = crypto::Sha256Hex(secret);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (by_hash_.count(hash)) return Status::Ok();
  }
  return Store(hash, Json{{"id", kBootstrapKeyId}, {"agent", kRootAgent}, {"revoked", false},
                          {"pin_models", true}});
}

Result<CreatedKey> ApiKeys::Create(const std::string& agent) {
  if (agent.empty() || agent.size() > 128) {
    return MakeError(ErrorCode::kInvalidArgument, "agent must be 1 to 128 characters");
  }
  CreatedKey created{NewId("key_"), "hk_" + crypto::Base64UrlEncode(crypto::RandomBytes(32)), agent};
  Json record{{"id", created.id}, {"agent", agent}, {"revoked", false}, {"pin_models", false}};
  if (Status s = Store(crypto::Sha256Hex(created.secret), record); !s.ok()) return s.error();
  return created;
}

Status ApiKeys::Revoke(const std::string& key_id) {
  std::string hash;
  Json record;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [h, r] : by_hash_) {
      if (r.value("id", "") == key_id) {
        hash = h;
        record = r;
      }
    }
  }
  if (hash.empty()) return MakeError(ErrorCode::kNotFound, "no API key " + key_id);
  record["revoked"] = true;
  return Store(hash, record);
}

std::vector<Json> ApiKeys::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Json> out;
  for (const auto& [hash, r] : by_hash_) {
    out.push_back({{"id", r.value("id", "")}, {"agent", r.value("agent", "")},
                   {"revoked", r.value("revoked", false)}});
  }
  return out;
}

std::optional<Principal> ApiKeys::Authenticate(std::string_view secret) const {
  if (secret.empty()) return std::nullopt;
  std::string hash = crypto::Sha256Hex(secret);  // equal hashes, not secrets, are compared
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end() || it->second.value("revoked", false)) return std::nullopt;
  return Principal{it->second.value("agent", ""), it->second.value("id", ""),
                   it->second.value("pin_models", false)};
}

}  // namespace helm
