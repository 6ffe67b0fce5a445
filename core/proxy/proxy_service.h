// ProxyService: the request lifecycle of DESIGN §3 for one client request —
// auth → parse → decide (durable decision receipt) → route → execute (the
// candidate chain, breakers, fallback) → translate → stream back → seal
// (outcome receipt). Nothing is sent upstream unless the boundary answered
// ALLOW and its receipt is durable (I1): an ALLOW may come with a gate
// (Decision::durable) that the upstream write and the answer wait behind. Thread-safe: Handle is called concurrently
// from the HTTP worker threads.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/boundary/boundary.h"
#include "core/common/limits.h"
#include "core/proxy/key_gate.h"
#include "core/proxy/proxy_types.h"
#include "core/proxy/router.h"
#include "core/route/selection.h"

namespace helm {

struct ProxyOptions {
  Limits limits;
  size_t stream_buffer_bytes = 1 << 20;  // upstream bytes queued per stream at most
};

class ProxyService {
 public:
  ProxyService(Boundary* boundary, Router* router, ProxyOptions options);
  ~ProxyService();

  ProxyResponse Handle(ProxyRequest request);
  // GET /v1/models and /v1/models/{id}: "auto" and the lanes, answered
  // locally (authenticated, no upstream bytes, no receipt).
  ProxyResponse Models(const ProxyRequest& request, const std::string& id);
  // Breaker state per provider/model, Prometheus text.
  std::string BreakerMetrics() const;

  // What the service knows about one request in flight (flight.h).
  struct Flight;

 private:
  // The gate (key_gate.h): only for a principal with limits. A refusal is
  // recorded by the boundary as a DENY with its reason code.
  std::optional<GateRefusal> Gate(Flight& flight);
  ProxyResponse Route(std::shared_ptr<Flight> flight);
  // Tries flight.candidates from `first` on; parks the response while an
  // upstream's answer is awaited when the transport allows.
  ProxyResponse ExecuteBuffered(std::shared_ptr<Flight> flight, size_t first);
  // One buffered attempt at a candidate (proxy_service.cpp).
  struct Attempt;
  // The client's response once attempt's answer (or fault) is in; nullopt
  // to try the next candidate.
  std::optional<ProxyResponse> Answered(Flight& flight, Attempt& attempt, const UpstreamResult& r);
  // What every response goes through before it is sent (parked ones, when
  // they resume): no answer before its decision is durable; the outcome
  // sealed once it is sent.
  ProxyResponse Complete(const std::shared_ptr<Flight>& flight, ProxyResponse res);
  ProxyResponse ExecuteStream(std::shared_ptr<Flight> flight,
                              const std::vector<route::Candidate>& candidates);
  // A candidate's breaker permit and request (flight.h).
  struct Opened;
  Opened Open(Flight& flight, const route::Candidate& candidate);
  // Every candidate failed or was skipped: 502, sealed upstream_error.
  ProxyResponse AllFailed(Flight& flight);
  ProxyResponse HandleFlight(const std::shared_ptr<Flight>& flight);
  // Records the flight's outcome; SealOutcome hands it to the boundary (for a
  // buffered response, once the response is sent: ProxyResponse::after_send).
  void Seal(Flight& flight, const std::string& status, int http_status);
  void SealOutcome(Flight& flight);
  // Runs one step of a flight. A defect in it (an exception) ends the request
  // as every other: a 500 in the client's shape that still waits for the
  // decision to be durable (Complete) and, once allowed, has its outcome.
  ProxyResponse Guarded(Flight& flight, const std::function<ProxyResponse()>& step);

  Boundary* boundary_;
  Router* router_;
  ProxyOptions options_;
  std::atomic<size_t> open_streams_{0};
  KeyGate gate_;
};

}  // namespace helm
