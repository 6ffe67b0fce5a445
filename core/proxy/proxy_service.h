// ProxyService: the request lifecycle of DESIGN §3 for one client request —
// auth → parse → decide (durable decision receipt) → dispatch → stream back →
// seal (outcome receipt). Nothing is sent upstream unless the boundary
// answered ALLOW with a receipt id (I1). Thread-safe: Handle is called
// concurrently from the HTTP worker threads.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/boundary/boundary.h"
#include "core/common/limits.h"
#include "core/provider/upstream.h"
#include "core/proxy/proxy_types.h"

namespace helm {

struct ProxyOptions {
  Limits limits;
  std::string upstream_label = "default";  // provider id recorded in receipts
  size_t stream_buffer_bytes = 1 << 20;    // upstream bytes queued per stream at most
};

class ProxyService {
 public:
  ProxyService(Boundary* boundary, std::unique_ptr<Upstream> upstream, ProxyOptions options);
  ~ProxyService();

  ProxyResponse Handle(const ProxyRequest& request);
  // GET /v1/models and /v1/models/{id}: answered locally (no upstream bytes).
  ProxyResponse Models(const ProxyRequest& request, const std::string& id);

  // What the service needs to know about one request in flight.
  struct Flight;

 private:
  ProxyResponse Dispatch(std::shared_ptr<Flight> flight);
  ProxyResponse DispatchBuffered(std::shared_ptr<Flight> flight);
  ProxyResponse DispatchStream(std::shared_ptr<Flight> flight);
  // A fault, or an upstream answer other than 200, mapped for the client and sealed.
  ProxyResponse FailedUpstream(Flight& flight, const UpstreamResult& result,
                               const UpstreamHead& head, std::string body, int64_t upstream_us);
  void Seal(Flight& flight, const std::string& status, int http_status, int64_t upstream_us,
            const std::string& attempt_outcome);

  Boundary* boundary_;
  std::unique_ptr<Upstream> upstream_;
  ProxyOptions options_;
  std::atomic<size_t> open_streams_{0};
};

}  // namespace helm
