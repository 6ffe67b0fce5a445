#include "core/boundary/api_keys.h"

#include <charconv>
#include <limits>

#include "core/common/ids.h"
#include "core/crypto/crypto.h"

namespace helm {
namespace {

constexpr char kPrefix[] = "apikey/";
constexpr char kSpendPrefix[] = "spend/";
constexpr int64_t kMaxLimit = int64_t{1} << 53;  // exact in every JSON reader

std::string NewSecret() { return "hk_" + crypto::Base64UrlEncode(crypto::RandomBytes(32)); }

Result<int64_t> LimitMember(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return int64_t{0};
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > kMaxLimit) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("limits.") + name + " must be a non-negative integer");
  }
  return it->get<int64_t>();
}

// The state database could not be read at load: refuse to start, naming it.
Error ReadError(const std::string& what, const Error& e) {
  return MakeError(e.code, "state: cannot read " + what + ": " + e.message);
}

}  // namespace

Json KeyLimits::ToJson() const {
  Json j = Json::object();
  if (!lanes.empty()) j["lanes"] = lanes;
  if (rpm > 0) j["rpm"] = rpm;
  if (tpm > 0) j["tpm"] = tpm;
  if (budget_micros > 0) j["budget_micros"] = budget_micros;
  if (concurrency > 0) j["concurrency"] = concurrency;
  return j;
}

Result<KeyLimits> KeyLimits::FromJson(const Json& j) {
  KeyLimits l;
  if (j.is_null()) return l;
  if (!j.is_object()) return MakeError(ErrorCode::kInvalidArgument, "limits must be an object");
  for (const auto& [name, value] : j.items()) {
    if (name != "lanes" && name != "rpm" && name != "tpm" && name != "budget_micros" &&
        name != "concurrency") {
      return MakeError(ErrorCode::kInvalidArgument, "limits: unknown member " + name);
    }
  }
  if (auto it = j.find("lanes"); it != j.end()) {
    if (!it->is_array()) return MakeError(ErrorCode::kInvalidArgument, "limits.lanes must be an array");
    for (const Json& lane : *it) {
      if (!lane.is_string() || lane.get<std::string>().empty() || lane.get<std::string>().size() > 128) {
        return MakeError(ErrorCode::kInvalidArgument, "limits.lanes must hold lane names");
      }
      l.lanes.push_back(lane.get<std::string>());
    }
  }
  auto rpm = LimitMember(j, "rpm");
  auto tpm = LimitMember(j, "tpm");
  auto budget = LimitMember(j, "budget_micros");
  auto concurrency = LimitMember(j, "concurrency");
  for (const auto* r : {&rpm, &tpm, &budget, &concurrency}) {
    if (!r->ok()) return r->error();
  }
  l.rpm = *rpm;
  l.tpm = *tpm;
  l.budget_micros = *budget;
  l.concurrency = *concurrency;
  return l;
}

Result<std::unique_ptr<ApiKeys>> ApiKeys::Load(StateStore* store) {
  std::unique_ptr<ApiKeys> keys(new ApiKeys(store));
  // A read error refuses the load: a key missing from memory could be a
  // revoked or rotated bootstrap key that EnsureBootstrap would register again.
  auto records = store->Scan(kPrefix);
  if (!records.ok()) return ReadError("API keys", records.error());
  for (const auto& [key, value] : *records) {
    auto record = ParseStrictJson(value);
    if (!record.ok() || !record->is_object()) {
      return MakeError(ErrorCode::kCorruption, "state: malformed API key record " + key);
    }
    auto entry = std::make_shared<Entry>();
    if (record->contains("limits")) {
      auto limits = KeyLimits::FromJson((*record)["limits"]);
      if (!limits.ok()) {
        return MakeError(ErrorCode::kCorruption, "state: API key record " + key + ": " +
                                                     limits.error().message);
      }
      if (limits->any()) entry->limits = std::make_shared<const KeyLimits>(std::move(*limits));
    }
    const std::string id = record->value("id", "");
    if (entry->limits && entry->limits->budget_micros > 0) {
      auto spent = store->Get(kSpendPrefix + id);  // a read error is not a spend of zero
      if (!spent.ok()) return ReadError("the spend of API key " + id, spent.error());
      if (*spent) {
        const std::string& stored = **spent;
        int64_t n = 0;
        auto [end, ec] = std::from_chars(stored.data(), stored.data() + stored.size(), n);
        if (ec != std::errc() || end != stored.data() + stored.size()) {
          return MakeError(ErrorCode::kCorruption, "state: malformed spend of API key " + id);
        }
        entry->spent = n;
      }
    }
    entry->record = std::move(record.value());
    if (!entry->record.value("replaced", false)) keys->by_id_[id] = entry;
    keys->by_hash_[key.substr(sizeof(kPrefix) - 1)] = std::move(entry);
  }
  return keys;
}

Status ApiKeys::Store(const std::string& hash, const Json& record) {
  if (Status s = store_->Put(kPrefix + hash, DumpJson(record)); !s.ok()) return s;
  std::shared_ptr<const KeyLimits> limits;  // the record's (validated by its writer)
  if (record.contains("limits")) {
    auto parsed = KeyLimits::FromJson(record["limits"]);
    if (parsed.ok() && parsed->any()) limits = std::make_shared<const KeyLimits>(std::move(*parsed));
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Entry>& entry = by_hash_[hash];
  if (!entry) {
    entry = std::make_shared<Entry>();
    by_id_[record.value("id", "")] = entry;
  }
  entry->record = record;
  entry->limits = std::move(limits);
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

Result<CreatedKey> ApiKeys::Create(const std::string& agent, const KeyLimits& limits) {
  if (agent.empty() || agent.size() > 128) {
    return MakeError(ErrorCode::kInvalidArgument, "agent must be 1 to 128 characters");
  }
  CreatedKey created{NewId("key_"), NewSecret(), agent, limits};
  Json record{{"id", created.id}, {"agent", agent}, {"revoked", false}, {"pin_models", false}};
  if (limits.any()) record["limits"] = limits.ToJson();
  if (Status s = Store(crypto::Sha256Hex(created.secret), record); !s.ok()) return s.error();
  return created;
}

std::optional<std::string> ApiKeys::CurrentHashLocked(const std::string& key_id) const {
  for (const auto& [hash, e] : by_hash_) {
    if (e->record.value("id", "") == key_id && !e->record.value("replaced", false)) return hash;
  }
  return std::nullopt;
}

Status ApiKeys::Revoke(const std::string& key_id) {
  std::optional<std::string> hash;
  Json record;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hash = CurrentHashLocked(key_id);
    if (hash) record = by_hash_.at(*hash)->record;
  }
  if (!hash) return MakeError(ErrorCode::kNotFound, "no API key " + key_id);
  record["revoked"] = true;
  return Store(*hash, record);
}

Result<CreatedKey> ApiKeys::Rotate(const std::string& key_id) {
  std::optional<std::string> old_hash;
  Json record;
  int64_t spent = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old_hash = CurrentHashLocked(key_id);
    if (old_hash) {
      const Entry& e = *by_hash_.at(*old_hash);
      record = e.record;
      spent = e.spent.load();
    }
  }
  if (!old_hash || record.value("revoked", false)) {
    return MakeError(ErrorCode::kNotFound, "no active API key " + key_id);
  }
  CreatedKey created{key_id, NewSecret(), record.value("agent", ""), {}};
  if (record.contains("limits")) created.limits = KeyLimits::FromJson(record["limits"]).value();
  // The new secret first: a failure in between leaves both valid, never none.
  const std::string new_hash = crypto::Sha256Hex(created.secret);
  if (Status s = Store(new_hash, record); !s.ok()) return s.error();
  {
    std::lock_guard<std::mutex> lock(mu_);
    by_hash_.at(new_hash)->spent = spent;
  }
  // The old record stays, revoked, so that the bootstrap secret on disk
  // (EnsureBootstrap) is not registered again at the next start.
  record["revoked"] = true;
  record["replaced"] = true;
  if (Status s = Store(*old_hash, record); !s.ok()) return s.error();
  return created;
}

Result<Json> ApiKeys::SetLimits(const std::string& key_id, const KeyLimits& limits) {
  std::optional<std::string> hash;
  Json record;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hash = CurrentHashLocked(key_id);
    if (hash) record = by_hash_.at(*hash)->record;
  }
  if (!hash || record.value("revoked", false)) {
    return MakeError(ErrorCode::kNotFound, "no active API key " + key_id);
  }
  if (limits.any()) {
    record["limits"] = limits.ToJson();
  } else {
    record.erase("limits");
  }
  if (Status s = Store(*hash, record); !s.ok()) return s.error();
  std::lock_guard<std::mutex> lock(mu_);
  return ListEntryLocked(*by_hash_.at(*hash));
}

Json ApiKeys::ListEntryLocked(const Entry& e) const {
  const Json& r = e.record;
  Json k{{"id", r.value("id", "")}, {"agent", r.value("agent", "")},
         {"revoked", r.value("revoked", false)}};
  if (e.limits) {
    k["limits"] = e.limits->ToJson();
    if (e.limits->budget_micros > 0) k["spent_micros"] = e.spent.load();
  }
  return k;
}

std::vector<Json> ApiKeys::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Json> out;
  for (const auto& [hash, e] : by_hash_) {
    if (e->record.value("replaced", false)) continue;  // a rotated key's old secret
    out.push_back(ListEntryLocked(*e));
  }
  return out;
}

std::optional<Principal> ApiKeys::Authenticate(std::string_view secret) const {
  if (secret.empty()) return std::nullopt;
  std::string hash = crypto::Sha256Hex(secret);  // equal hashes, not secrets, are compared
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end() || it->second->record.value("revoked", false)) return std::nullopt;
  const Entry& e = *it->second;
  Principal p{e.record.value("agent", ""), e.record.value("id", ""),
              e.record.value("pin_models", false), e.limits, 0};
  if (e.limits) p.spent_micros = e.spent.load(std::memory_order_relaxed);
  return p;
}

Status ApiKeys::AddSpend(const std::string& key_id, int64_t cost_micros) {
  if (cost_micros <= 0) return Status::Ok();
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard<std::mutex> lock(mu_);  // limits change under it (SetLimits)
    auto it = by_id_.find(key_id);
    if (it == by_id_.end()) return Status::Ok();
    if (!it->second->limits || it->second->limits->budget_micros <= 0) return Status::Ok();
    entry = it->second;
  }
  std::lock_guard<std::mutex> lock(spend_mu_);
  // Saturates: an absurd cost (> 0 here) must not wrap the spend negative.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t spent = entry->spent.load();
  const int64_t total = spent > kMax - cost_micros ? kMax : spent + cost_micros;
  entry->spent.store(total);
  return store_->Put(kSpendPrefix + key_id, std::to_string(total));
}

}  // namespace helm
