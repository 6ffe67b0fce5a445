// Circuit breakers, one per provider model ("provider_id/model_id"), and the
// permit protocol the proxy's execution loop follows for every attempt:
//
//   BreakerPermit permit = registry.TryAcquire(candidate.key);
//   if (!permit.admitted()) { record skip DenialName(permit.denial()); next candidate; }
//   ... send ...
//   permit.Release(ReportFromResponse(status, headers, clock.NowMicros()));  // a response head
//   permit.Release(ReportFault(AttemptOutcome::kConnectError));            // no response
//   permit.Release(ReportFault(AttemptOutcome::kAbandoned));               // client went away
//
// A permit not released by the time it is destroyed is released as
// kAbandoned, so a probe can never leak. Count a fault only before the
// response is committed to the client (the first output byte); once output
// has flowed, release kSuccess whatever happens later.
//
// State machine (settings in config.h BreakerSettings):
//   CLOSED    admits everything. failure_threshold consecutive faults → OPEN.
//             A success or a client 4xx resets the count.
//   OPEN      refuses ("circuit_open") until cool_down_ms has passed, then the
//             next TryAcquire moves to HALF_OPEN and is admitted as the probe.
//   HALF_OPEN admits one probe at a time; others are refused
//             ("half_open_probe_busy"). The probe's success (or 4xx) → CLOSED;
//             its fault → OPEN with a fresh cool-down; abandoned → stays
//             HALF_OPEN and the next TryAcquire probes again.
// Reports from permits taken before the circuit opened do not move an OPEN or
// HALF_OPEN breaker: only the probe decides there.
//
// Independently of the state, a rate-limit signal (429/503 Retry-After,
// remaining == 0 with a reset time; see rate_limit.h) makes the breaker refuse
// ("rate_limited") until that time, capped at max_skip_ms from now.
//
// Faults: connect errors, timeouts, 5xx (and a broken connection before
// output), 429. Not faults: 2xx, client 4xx, an abandoned attempt.
//
// Thread safety: Breaker and BreakerRegistry are thread-safe (a mutex per
// breaker; the registry's map has its own). A BreakerPermit belongs to one
// attempt and is not shared between threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/common/ids.h"
#include "core/route/config.h"
#include "core/route/rate_limit.h"

namespace helm::route {

enum class BreakerState { kClosed, kOpen, kHalfOpen };
const char* BreakerStateName(BreakerState s);  // "closed", "open", "half_open"

enum class AttemptOutcome {
  kSuccess,       // the provider answered 2xx (or output was committed)
  kClientError,   // a deterministic 4xx other than 408/429: returned as is, not a fault
  kConnectError,  // fault: refused, DNS, TLS
  kTimeout,       // fault: first-byte or idle timeout, or HTTP 408
  kServerError,   // fault: 5xx, or the connection broke before output
  kRateLimited,   // fault: 429
  kAbandoned,     // the client went away: not a fault; releases a probe
};
const char* AttemptOutcomeName(AttemptOutcome o);
bool IsFault(AttemptOutcome o);

struct AttemptReport {
  AttemptOutcome outcome = AttemptOutcome::kSuccess;
  int64_t skip_until_micros = 0;  // refuse this model until then (0 = no signal)
};

// The outcome of an HTTP status (2xx/3xx success, 408 timeout, 429 rate
// limited, other 4xx client error, 5xx and anything else server error) plus
// the rate-limit signals of its headers.
AttemptReport ReportFromResponse(int http_status, const Headers& headers, int64_t now_micros);
inline AttemptReport ReportFault(AttemptOutcome outcome) { return AttemptReport{outcome, 0}; }

// Why TryAcquire refused.
enum class Denial { kNone, kOpen, kProbeBusy, kRateLimited };
const char* DenialName(Denial d);  // "", "circuit_open", "half_open_probe_busy", "rate_limited"

class Breaker;

// The right to make one attempt. Move-only; released once (later calls are
// ignored); released as kAbandoned on destruction if still held.
class BreakerPermit {
 public:
  BreakerPermit() = default;
  BreakerPermit(BreakerPermit&& other) noexcept { *this = std::move(other); }
  BreakerPermit& operator=(BreakerPermit&& other) noexcept;
  BreakerPermit(const BreakerPermit&) = delete;
  BreakerPermit& operator=(const BreakerPermit&) = delete;
  ~BreakerPermit();

  bool admitted() const { return denial_ == Denial::kNone && breaker_ != nullptr; }
  Denial denial() const { return denial_; }
  bool is_probe() const { return probe_; }
  // When refused: the earliest time the breaker may admit again (0 = unknown).
  int64_t retry_at_micros() const { return retry_at_micros_; }
  bool held() const { return held_; }

  void Release(const AttemptReport& report);

 private:
  friend class Breaker;
  std::shared_ptr<Breaker> breaker_;
  Denial denial_ = Denial::kNone;
  bool probe_ = false;
  bool held_ = false;
  int64_t retry_at_micros_ = 0;
};

struct BreakerSnapshot {
  std::string key;
  BreakerState state = BreakerState::kClosed;
  int64_t consecutive_faults = 0;
  int64_t open_until_micros = 0;  // end of the cool-down while OPEN
  int64_t skip_until_micros = 0;  // rate-limit skip, 0 = none
  int64_t successes = 0, faults = 0, client_errors = 0, abandoned = 0;
  int64_t refusals = 0, opened = 0;  // TryAcquire refusals; CLOSED/HALF_OPEN → OPEN transitions
};

class Breaker : public std::enable_shared_from_this<Breaker> {
 public:
  // Use std::make_shared: permits hold a shared_ptr to their breaker.
  Breaker(std::string key, const BreakerSettings& settings, const Clock& clock);

  BreakerPermit TryAcquire();
  BreakerSnapshot Snapshot() const;
  const std::string& key() const { return key_; }
  // New settings from a config reload. The state is kept: the next fault is
  // counted against the new threshold, the next opening lasts the new
  // cool-down (a circuit already open keeps the end it was given).
  void Apply(const BreakerSettings& settings);

 private:
  friend class BreakerPermit;
  void Release(bool probe, const AttemptReport& report);
  void OpenLocked(int64_t now);  // EXCLUSIVE_LOCKS_REQUIRED(mu_)

  const std::string key_;
  const Clock& clock_;
  mutable std::mutex mu_;
  BreakerSettings settings_;                    // GUARDED_BY(mu_)
  BreakerState state_ = BreakerState::kClosed;  // GUARDED_BY(mu_)
  int64_t consecutive_faults_ = 0;              // GUARDED_BY(mu_)
  int64_t open_until_ = 0;                      // GUARDED_BY(mu_)
  bool probe_in_flight_ = false;                // GUARDED_BY(mu_)
  int64_t skip_until_ = 0;                      // GUARDED_BY(mu_)
  BreakerSnapshot counters_;                    // GUARDED_BY(mu_), counters only
};

// Breakers by "provider_id/model_id", created on first use with the current
// settings. Breakers are never removed; keep one registry per process (across
// config reloads, so state survives them).
class BreakerRegistry {
 public:
  BreakerRegistry(const BreakerSettings& settings, const Clock& clock);

  std::shared_ptr<Breaker> Get(const std::string& key);
  BreakerPermit TryAcquire(const std::string& key) { return Get(key)->TryAcquire(); }
  std::vector<BreakerSnapshot> Snapshot() const;  // sorted by key
  // New settings for every breaker, existing and future (Breaker::Apply).
  void Apply(const BreakerSettings& settings);

 private:
  const Clock& clock_;
  mutable std::mutex mu_;
  BreakerSettings settings_;  // GUARDED_BY(mu_)
  std::map<std::string, std::shared_ptr<Breaker>> breakers_;  // GUARDED_BY(mu_)
};

// Prometheus text for the snapshots: helm_breaker_state{model="p/m"} (0 closed,
// 1 open, 2 half_open), helm_breaker_consecutive_faults, and
// helm_breaker_{successes,faults,client_errors,abandoned,refusals,opened}_total.
std::string RenderBreakerMetrics(const std::vector<BreakerSnapshot>& snapshots);

}  // namespace helm::route
