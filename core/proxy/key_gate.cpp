#include "core/proxy/key_gate.h"

#include <algorithm>
#include <cmath>

namespace helm {
namespace {

constexpr double kMinuteUs = 60e6;

// A bucket of at most `limit` tokens that refills at limit per minute. A
// key's limit may change (ApiKeys::SetLimits): a raised one adds the
// difference at once, as a new key would start full; a lowered one caps it.
struct Bucket {
  int64_t limit = 0;  // the limit last refilled under; 0: not started
  double tokens = 0;
  int64_t at_us = 0;

  void Refill(int64_t new_limit, int64_t now_us) {
    if (new_limit > limit) tokens += static_cast<double>(new_limit - limit);
    limit = new_limit;
    if (now_us > at_us) tokens += static_cast<double>(now_us - at_us) * limit / kMinuteUs;
    tokens = std::min(static_cast<double>(limit), tokens);
    at_us = std::max(at_us, now_us);
  }
  // Whole seconds until the bucket holds `need` (at least 1).
  int64_t SecondsUntil(double need) const {
    double seconds = (need - tokens) * 60.0 / static_cast<double>(limit);
    return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(seconds - 1e-9)));
  }
};

}  // namespace

struct KeyGate::Counters {
  const Clock* clock = nullptr;
  std::mutex mu;
  Bucket rpm;            // GUARDED_BY(mu)
  Bucket tpm;            // GUARDED_BY(mu)
  int64_t in_flight = 0;  // GUARDED_BY(mu)
};

KeyGate::Pass& KeyGate::Pass::operator=(Pass&& other) noexcept {
  if (this != &other) {
    Release();
    counters_ = std::move(other.counters_);
    holds_slot_ = other.holds_slot_;
    other.holds_slot_ = false;
  }
  return *this;
}

void KeyGate::Pass::AddOutputTokens(int64_t tokens) {
  if (!counters_ || tokens <= 0) return;
  std::lock_guard<std::mutex> lock(counters_->mu);
  if (counters_->tpm.limit <= 0) return;  // the key has had no tpm limit
  counters_->tpm.Refill(counters_->tpm.limit, counters_->clock->NowMicros());
  counters_->tpm.tokens -= static_cast<double>(tokens);
}

void KeyGate::Pass::Release() {
  if (!holds_slot_) return;
  holds_slot_ = false;
  std::lock_guard<std::mutex> lock(counters_->mu);
  --counters_->in_flight;
}

std::shared_ptr<KeyGate::Counters> KeyGate::CountersFor(const std::string& key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Counters>& c = by_key_[key_id];
  if (!c) {
    c = std::make_shared<Counters>();
    c->clock = &clock_;
  }
  return c;
}

std::optional<GateRefusal> KeyGate::Admit(const Principal& p, int64_t input_tokens, Pass* pass) {
  if (!p.limits || pass->counters_) return std::nullopt;  // no limits, or admitted already
  const KeyLimits& l = *p.limits;
  if (l.budget_micros > 0 && p.spent_micros >= l.budget_micros) {
    return GateRefusal{"BUDGET_EXCEEDED", 429, 0,
                       "this API key has spent its budget of " + std::to_string(l.budget_micros) +
                           " micro-dollars"};
  }
  if (l.rpm <= 0 && l.tpm <= 0 && l.concurrency <= 0) return std::nullopt;
  if (l.tpm > 0 && input_tokens > l.tpm) {  // no wait will let it through
    return GateRefusal{"TOKEN_LIMIT", 429, 0,
                       "the request's estimated " + std::to_string(input_tokens) +
                           " input tokens exceed this API key's limit of " +
                           std::to_string(l.tpm) + " tokens per minute"};
  }
  std::shared_ptr<Counters> c = CountersFor(p.api_key_id);
  std::lock_guard<std::mutex> lock(c->mu);
  const int64_t now = clock_.NowMicros();
  if (l.concurrency > 0 && c->in_flight >= l.concurrency) {
    return GateRefusal{"CONCURRENCY_LIMIT", 429, 0,
                       "this API key has " + std::to_string(l.concurrency) +
                           " requests in flight, its limit"};
  }
  if (l.rpm > 0) {
    c->rpm.Refill(l.rpm, now);
    if (c->rpm.tokens < 1.0) {
      return GateRefusal{"RATE_LIMITED", 429, c->rpm.SecondsUntil(1.0),
                         "this API key is limited to " + std::to_string(l.rpm) +
                             " requests per minute"};
    }
  }
  const double need = static_cast<double>(std::max<int64_t>(input_tokens, 0));
  if (l.tpm > 0) {
    c->tpm.Refill(l.tpm, now);
    if (c->tpm.tokens < need || c->tpm.tokens <= 0) {
      return GateRefusal{"TOKEN_LIMIT", 429, c->tpm.SecondsUntil(std::max(need, 1.0)),
                         "this API key is limited to " + std::to_string(l.tpm) +
                             " tokens per minute"};
    }
  }
  if (l.rpm > 0) c->rpm.tokens -= 1.0;
  if (l.tpm > 0) c->tpm.tokens -= need;
  if (l.concurrency > 0) {
    ++c->in_flight;
    pass->holds_slot_ = true;
  }
  pass->counters_ = c;
  return std::nullopt;
}

}  // namespace helm
