#include "core/boundary/approvals.h"

namespace helm {
namespace {

constexpr char kPrefix[] = "approval/";

// A state database that cannot be read is unavailable (503), whether its file
// is damaged or its disk failing: an approval it holds is neither unknown nor
// usable until it reads again.
Error Unreadable(const Error& e) {
  return MakeError(ErrorCode::kUnavailable, "state store: " + e.message);
}

// A record that does not parse is damage, as a block that does not read is.
Result<Json> ParseRecord(const std::string& key, const std::string& value) {
  auto record = ParseStrictJson(value);
  if (!record.ok()) return Unreadable(Error{ErrorCode::kCorruption, "malformed record " + key});
  return record;
}

}  // namespace

Result<Json> Approvals::LoadLocked(const std::string& id) const {
  auto value = store_->Get(kPrefix + id);
  if (!value.ok()) return Unreadable(value.error());
  if (!*value) return MakeError(ErrorCode::kNotFound, "no approval " + id);
  return ParseRecord(kPrefix + id, **value);
}

Status Approvals::SaveLocked(const Json& record) {
  return store_->Put(kPrefix + record["id"].get<std::string>(), DumpJson(record));
}

std::string Approvals::EffectiveStatus(const Json& record) const {
  std::string status = record.value("status", "");
  if ((status == "pending" || status == "approved") &&
      clock_->NowMicros() > record.value("expires_us", int64_t{0})) {
    return "expired";
  }
  return status;
}

Result<std::string> Approvals::Create(const std::string& agent, const std::string& request_hash,
                                      const std::string& decision_id,
                                      const std::string& reason_code, const std::string& rule_id) {
  int64_t now = clock_->NowMicros();
  Json record{{"id", NewId("apr_")},     {"agent", agent},
              {"request_hash", request_hash}, {"decision_id", decision_id},
              {"reason_code", reason_code},   {"rule_id", rule_id},
              {"status", "pending"},          {"created_us", now},
              {"expires_us", now + ttl_us_}};
  std::lock_guard<std::mutex> lock(mu_);
  if (Status s = SaveLocked(record); !s.ok()) return s.error();
  return record["id"].get<std::string>();
}

Status Approvals::Decide(const std::string& id, bool approve, const std::string& by) {
  std::lock_guard<std::mutex> lock(mu_);
  auto record = LoadLocked(id);
  if (!record.ok()) return record.error();
  std::string status = EffectiveStatus(*record);
  if (status != "pending") {
    return MakeError(ErrorCode::kConflict, "approval " + id + " is " + status + ", not pending");
  }
  (*record)["status"] = approve ? "approved" : "denied";
  (*record)["decided_by"] = by;
  (*record)["decided_us"] = clock_->NowMicros();
  Status saved = SaveLocked(*record);
  decided_.notify_all();
  return saved;
}

Result<std::string> Approvals::WaitForDecision(const std::string& id,
                                               std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  Result<std::string> status = std::string("pending");
  decided_.wait_for(lock, timeout, [&] {
    Result<Json> record = LoadLocked(id);
    status = record.ok() ? Result<std::string>(EffectiveStatus(*record))
                         : Result<std::string>(record.error());
    return !status.ok() || *status != "pending";
  });
  return status;
}

Status Approvals::Consume(const std::string& id, const std::string& agent,
                          const std::string& request_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  auto record = LoadLocked(id);
  if (!record.ok() && record.error().code == ErrorCode::kNotFound) {
    return MakeError(ErrorCode::kPermissionDenied, "APPROVAL_NOT_FOUND");
  }
  if (!record.ok()) return record.error();  // unreadable: neither unknown nor used
  if (record->value("agent", "") != agent || record->value("request_hash", "") != request_hash) {
    return MakeError(ErrorCode::kPermissionDenied, "APPROVAL_MISMATCH");
  }
  std::string status = EffectiveStatus(*record);
  if (status == "pending") return MakeError(ErrorCode::kPermissionDenied, "APPROVAL_PENDING");
  if (status == "denied") return MakeError(ErrorCode::kPermissionDenied, "APPROVAL_DENIED");
  if (status == "expired") return MakeError(ErrorCode::kPermissionDenied, "APPROVAL_EXPIRED");
  if (status != "approved") return MakeError(ErrorCode::kPermissionDenied, "APPROVAL_USED");
  (*record)["status"] = "used";
  (*record)["used_us"] = clock_->NowMicros();
  if (Status s = SaveLocked(*record); !s.ok()) {
    return MakeError(ErrorCode::kUnavailable, "state store: " + s.error().message);
  }
  return Status::Ok();
}

Result<std::vector<Json>> Approvals::List(const std::string& status_filter) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto records = store_->Scan(kPrefix);
  if (!records.ok()) return Unreadable(records.error());
  std::vector<Json> out;
  for (const auto& [key, value] : *records) {
    auto record = ParseRecord(key, value);
    if (!record.ok()) return record.error();
    (*record)["status"] = EffectiveStatus(*record);
    if (status_filter.empty() || (*record)["status"] == status_filter) {
      out.push_back(std::move(record.value()));
    }
  }
  return out;
}

Result<Json> Approvals::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto record = LoadLocked(id);
  if (record.ok()) (*record)["status"] = EffectiveStatus(*record);
  return record;
}

}  // namespace helm
