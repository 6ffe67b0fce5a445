#include "core/route/breaker.h"

#include <algorithm>

namespace helm::route {
namespace {

inline constexpr int64_t kMicrosPerMilli = 1000;

}  // namespace

const char* BreakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
    case BreakerState::kClosed:
      break;
  }
  return "closed";
}

const char* AttemptOutcomeName(AttemptOutcome o) {
  switch (o) {
    case AttemptOutcome::kSuccess:
      return "success";
    case AttemptOutcome::kClientError:
      return "client_error";
    case AttemptOutcome::kConnectError:
      return "connect_error";
    case AttemptOutcome::kTimeout:
      return "timeout";
    case AttemptOutcome::kServerError:
      return "server_error";
    case AttemptOutcome::kRateLimited:
      return "rate_limited";
    case AttemptOutcome::kAbandoned:
      return "abandoned";
  }
  return "";
}

bool IsFault(AttemptOutcome o) {
  return o == AttemptOutcome::kConnectError || o == AttemptOutcome::kTimeout ||
         o == AttemptOutcome::kServerError || o == AttemptOutcome::kRateLimited;
}

const char* DenialName(Denial d) {
  switch (d) {
    case Denial::kOpen:
      return "circuit_open";
    case Denial::kProbeBusy:
      return "half_open_probe_busy";
    case Denial::kRateLimited:
      return "rate_limited";
    case Denial::kNone:
      break;
  }
  return "";
}

AttemptReport ReportFromResponse(int http_status, const Headers& headers, int64_t now_micros) {
  AttemptReport r;
  if (http_status >= 200 && http_status < 400) {
    r.outcome = AttemptOutcome::kSuccess;
  } else if (http_status == 408) {
    r.outcome = AttemptOutcome::kTimeout;
  } else if (http_status == 429) {
    r.outcome = AttemptOutcome::kRateLimited;
  } else if (http_status >= 400 && http_status < 500) {
    r.outcome = AttemptOutcome::kClientError;
  } else {
    r.outcome = AttemptOutcome::kServerError;
  }
  r.skip_until_micros = RateLimitSkipUntil(http_status, headers, now_micros);
  return r;
}

// ---- BreakerPermit ---------------------------------------------------------

BreakerPermit& BreakerPermit::operator=(BreakerPermit&& other) noexcept {
  if (this != &other) {
    if (held_) Release(ReportFault(AttemptOutcome::kAbandoned));
    breaker_ = std::move(other.breaker_);
    denial_ = other.denial_;
    probe_ = other.probe_;
    held_ = other.held_;
    retry_at_micros_ = other.retry_at_micros_;
    other.breaker_ = nullptr;
    other.held_ = false;
  }
  return *this;
}

BreakerPermit::~BreakerPermit() {
  if (held_) Release(ReportFault(AttemptOutcome::kAbandoned));
}

void BreakerPermit::Release(const AttemptReport& report) {
  if (!held_) return;
  held_ = false;
  breaker_->Release(probe_, report);
}

// ---- Breaker ---------------------------------------------------------------

Breaker::Breaker(std::string key, const BreakerSettings& settings, const Clock& clock)
    : key_(std::move(key)), clock_(clock), settings_(settings) {
  counters_.key = key_;
}

void Breaker::Apply(const BreakerSettings& settings) {
  std::lock_guard<std::mutex> lock(mu_);
  settings_ = settings;
}

BreakerPermit Breaker::TryAcquire() {
  BreakerPermit permit;
  permit.breaker_ = shared_from_this();
  const int64_t now = clock_.NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  if (now < skip_until_) {
    permit.denial_ = Denial::kRateLimited;
    permit.retry_at_micros_ = skip_until_;
  } else if (state_ == BreakerState::kOpen && now < open_until_) {
    permit.denial_ = Denial::kOpen;
    permit.retry_at_micros_ = open_until_;
  } else if (state_ == BreakerState::kClosed) {
    permit.held_ = true;
  } else if (probe_in_flight_) {  // HALF_OPEN
    permit.denial_ = Denial::kProbeBusy;
  } else {  // OPEN after its cool-down, or HALF_OPEN with no probe out
    state_ = BreakerState::kHalfOpen;
    probe_in_flight_ = true;
    permit.held_ = true;
    permit.probe_ = true;
  }
  if (!permit.held_) ++counters_.refusals;
  return permit;
}

void Breaker::OpenLocked(int64_t now) {
  state_ = BreakerState::kOpen;
  open_until_ = now + settings_.cool_down_ms * kMicrosPerMilli;
  consecutive_faults_ = 0;
  ++counters_.opened;
}

void Breaker::Release(bool probe, const AttemptReport& report) {
  const int64_t now = clock_.NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  if (report.skip_until_micros > now) {
    int64_t capped =
        std::min(report.skip_until_micros, now + settings_.max_skip_ms * kMicrosPerMilli);
    skip_until_ = std::max(skip_until_, capped);
  }
  const bool fault = IsFault(report.outcome);
  switch (report.outcome) {
    case AttemptOutcome::kAbandoned:
      ++counters_.abandoned;
      break;
    case AttemptOutcome::kClientError:
      ++counters_.client_errors;
      break;
    case AttemptOutcome::kSuccess:
      ++counters_.successes;
      break;
    default:
      ++counters_.faults;
  }
  if (report.outcome == AttemptOutcome::kAbandoned) {
    if (probe) probe_in_flight_ = false;  // the next TryAcquire probes again
    return;
  }
  if (probe) {
    probe_in_flight_ = false;
    if (fault) {
      OpenLocked(now);
    } else {
      state_ = BreakerState::kClosed;
      consecutive_faults_ = 0;
    }
    return;
  }
  if (state_ != BreakerState::kClosed) return;  // a stale permit: only the probe decides
  if (!fault) {
    consecutive_faults_ = 0;
  } else if (++consecutive_faults_ >= settings_.failure_threshold) {
    OpenLocked(now);
  }
}

BreakerSnapshot Breaker::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  BreakerSnapshot s = counters_;
  s.state = state_;
  s.consecutive_faults = consecutive_faults_;
  s.open_until_micros = state_ == BreakerState::kOpen ? open_until_ : 0;
  s.skip_until_micros = skip_until_ > clock_.NowMicros() ? skip_until_ : 0;
  return s;
}

// ---- BreakerRegistry -------------------------------------------------------

BreakerRegistry::BreakerRegistry(const BreakerSettings& settings, const Clock& clock)
    : clock_(clock), settings_(settings) {}

void BreakerRegistry::Apply(const BreakerSettings& settings) {
  std::lock_guard<std::mutex> lock(mu_);
  settings_ = settings;
  for (const auto& [key, breaker] : breakers_) breaker->Apply(settings);
}

std::shared_ptr<Breaker> BreakerRegistry::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = breakers_.find(key);
  if (it != breakers_.end()) return it->second;
  auto breaker = std::make_shared<Breaker>(key, settings_, clock_);
  breakers_.emplace(key, breaker);
  return breaker;
}

std::vector<BreakerSnapshot> BreakerRegistry::Snapshot() const {
  std::vector<std::shared_ptr<Breaker>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, b] : breakers_) all.push_back(b);
  }
  std::vector<BreakerSnapshot> out;
  out.reserve(all.size());
  for (const auto& b : all) out.push_back(b->Snapshot());
  return out;
}

std::string RenderBreakerMetrics(const std::vector<BreakerSnapshot>& snapshots) {
  std::string out;
  auto line = [&](const char* name, const std::string& key, int64_t value) {
    out += name;
    out += "{model=\"" + key + "\"} " + std::to_string(value) + "\n";
  };
  for (const auto& s : snapshots) {
    line("helm_breaker_state", s.key, static_cast<int64_t>(s.state));
    line("helm_breaker_consecutive_faults", s.key, s.consecutive_faults);
    line("helm_breaker_successes_total", s.key, s.successes);
    line("helm_breaker_faults_total", s.key, s.faults);
    line("helm_breaker_client_errors_total", s.key, s.client_errors);
    line("helm_breaker_abandoned_total", s.key, s.abandoned);
    line("helm_breaker_refusals_total", s.key, s.refusals);
    line("helm_breaker_opened_total", s.key, s.opened);
  }
  return out;
}

}  // namespace helm::route
