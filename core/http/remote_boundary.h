// RemoteBoundary: the Boundary of a running `helm serve`, over its admin API.
// Any failure to reach it, or an answer that is not a well-formed decision, is
// kUnavailable: the proxy answers 503 BOUNDARY_UNAVAILABLE and dispatches
// nothing. Thread-safe (a pool of keep-alive clients).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/boundary/boundary.h"
#include "core/boundary/sealer.h"
#include "core/common/limits.h"
#include "core/http/admin_client.h"

namespace helm {

class RemoteBoundary : public Boundary {
 public:
  // `limits`: seal_threads and seal_queue size the pool behind SealDetached.
  RemoteBoundary(std::string server, std::string admin_token, const Limits& limits);
  ~RemoteBoundary() override;

  Result<Principal> Authenticate(std::string_view secret) override;
  Result<Decision> Evaluate(const EvaluateInput& input) override;
  Result<std::string> Seal(const Outcome& outcome) override;
  void SealDetached(Outcome outcome) override;

 private:
  // Runs one POST on a pooled client.
  Result<AdminClient::Response> Post(const std::string& path, const Json& body);

  static constexpr auto kAuthCacheTtl = std::chrono::seconds(30);
  std::string server_;
  std::string token_;
  std::mutex mu_;
  std::vector<std::unique_ptr<AdminClient>> idle_;  // GUARDED_BY(mu_)
  struct CachedPrincipal {
    Principal principal;
    std::chrono::steady_clock::time_point expires;
  };
  std::unordered_map<std::string, CachedPrincipal> auth_cache_;  // GUARDED_BY(mu_), by key hash
  Sealer sealer_;  // last: destroyed (and drained) first, while Seal still works
};

}  // namespace helm
