#include "core/http/remote_boundary.h"

#include "core/crypto/crypto.h"

namespace helm {

RemoteBoundary::RemoteBoundary(std::string server, std::string admin_token, const Limits& limits)
    : server_(std::move(server)),
      token_(std::move(admin_token)),
      sealer_(this, limits.seal_threads, limits.seal_queue) {}

RemoteBoundary::~RemoteBoundary() = default;

Result<AdminClient::Response> RemoteBoundary::Post(const std::string& path, const Json& body) {
  std::unique_ptr<AdminClient> client;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      client = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!client) client = std::make_unique<AdminClient>(server_, token_);
  auto res = client->Post(path, body);
  if (res.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(client));
  }
  return res;
}

Result<Principal> RemoteBoundary::Authenticate(std::string_view secret) {
  if (secret.empty()) return MakeError(ErrorCode::kUnauthenticated, "missing API key");
  std::string hash = crypto::Sha256Hex(secret);
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = auth_cache_.find(hash);
    if (it != auth_cache_.end() && it->second.expires > now) return it->second.principal;
  }
  auto res = Post("/api/v1/authenticate", {{"key", secret}});
  if (!res.ok()) return MakeError(ErrorCode::kUnavailable, "boundary: " + res.error().message);
  if (res->status == 401) return MakeError(ErrorCode::kUnauthenticated, "invalid API key");
  if (res->status != 200 || !res->body.is_object() || !res->body.contains("agent")) {
    return MakeError(ErrorCode::kUnavailable,
                     "boundary: authenticate answered " + std::to_string(res->status));
  }
  Principal p;
  p.agent = res->body.value("agent", "");
  p.api_key_id = res->body.value("api_key_id", "");
  p.may_pin_models = res->body.value("may_pin_models", false);
  if (res->body.contains("limits")) {  // enforced by this proxy's gate: fail-closed if unreadable
    auto limits = KeyLimits::FromJson(res->body["limits"]);
    auto spent = res->body.find("spent_micros");
    if (!limits.ok() || (spent != res->body.end() && !spent->is_number_integer())) {
      return MakeError(ErrorCode::kUnavailable, "boundary: authenticate answered unreadable limits");
    }
    if (limits->any()) p.limits = std::make_shared<const KeyLimits>(std::move(*limits));
    if (spent != res->body.end()) p.spent_micros = spent->get<int64_t>();
  }
  std::lock_guard<std::mutex> lock(mu_);
  auth_cache_[hash] = {p, now + kAuthCacheTtl};
  return p;
}

Result<Decision> RemoteBoundary::Evaluate(const EvaluateInput& in) {
  Json headers = Json::object();
  for (const auto& [name, value] : in.headers) headers.emplace(name, value);  // the first wins
  Json req{{"agent", in.principal.agent},   {"api_key_id", in.principal.api_key_id},
           {"protocol", in.protocol},       {"endpoint", in.endpoint},
           {"body", in.body},               {"request_hash", in.request_hash},
           {"body_bytes", in.body_bytes},   {"correlation_id", in.correlation_id},
           {"headers", std::move(headers)}};
  if (in.path_model) req["model"] = *in.path_model;
  if (in.path_stream) req["stream"] = *in.path_stream;
  if (!in.approval_id.empty()) req["approval_id"] = in.approval_id;
  if (!in.invalid_reason.empty()) req["invalid_reason"] = in.invalid_reason;
  if (!in.gate_reason.empty()) req["gate_reason"] = in.gate_reason;
  auto res = Post("/api/v1/evaluate", req);
  if (!res.ok()) return MakeError(ErrorCode::kUnavailable, "boundary: " + res.error().message);
  if (res->status != 200) {
    return MakeError(ErrorCode::kUnavailable,
                     "boundary: evaluate answered " + std::to_string(res->status));
  }
  return Decision::FromJson(res->body);
}

Result<std::string> RemoteBoundary::Seal(const Outcome& outcome) {
  auto res = Post("/api/v1/seal", outcome.ToJson());
  if (!res.ok()) return MakeError(ErrorCode::kUnavailable, "boundary: " + res.error().message);
  if (res->status != 200) {
    return MakeError(ErrorCode::kUnavailable,
                     "boundary: seal answered " + std::to_string(res->status));
  }
  return res->body.value("receipt_id", "");
}

void RemoteBoundary::SealDetached(Outcome outcome) { sealer_.Submit(std::move(outcome)); }

}  // namespace helm
