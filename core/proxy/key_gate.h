// KeyGate: the gate stage of the request lifecycle (DESIGN §3: auth → gate →
// decide): a key's requests per minute, tokens per minute, budget and
// requests in flight, checked before anything is decided or dispatched.
//
// Limits are per process: two proxies that share a boundary each admit a
// key's rpm, tpm and concurrency in full. The budget is the boundary's: the
// spend comes with the principal (Principal::spent_micros), which the
// boundary keeps from the outcomes' cost_micros.
//
// rpm and tpm are token buckets that hold at most one minute's allowance and
// refill continuously (limit / 60 per second), starting full: a key may burst
// to its limit, and averages at most its limit over any longer period. A
// request takes 1 from the rpm bucket and its estimated input tokens from the
// tpm bucket; its output tokens are taken once known (Pass::AddOutputTokens),
// which may leave the bucket below zero, so later requests wait.
//
// Cost: a principal without limits is never given to Admit (the caller
// checks Principal::limits, a pointer). Keys with limits share one map
// lookup under a mutex, then their own counters' mutex.
//
// Thread-safe. The clock is injected for tests.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/boundary/api_keys.h"
#include "core/common/ids.h"

namespace helm {

struct GateRefusal {
  const char* reason = "";     // RATE_LIMITED, TOKEN_LIMIT, BUDGET_EXCEEDED, CONCURRENCY_LIMIT
  int status = 429;
  int64_t retry_after_s = 0;   // > 0: send Retry-After (a wait will help)
  std::string message;
};

class KeyGate {
 public:
  explicit KeyGate(const Clock& clock = SystemClock()) : clock_(clock) {}

  struct Counters;
  // An admitted request's hold on its key's counters: its concurrency slot,
  // released when the Pass is destroyed or Release()d, and its tpm account.
  // An empty Pass (default) holds nothing and costs nothing.
  class Pass {
   public:
    Pass() = default;
    Pass(Pass&& other) noexcept { *this = std::move(other); }
    Pass& operator=(Pass&& other) noexcept;
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    ~Pass() { Release(); }
    // The answer's output tokens count against the key's tpm.
    void AddOutputTokens(int64_t tokens);
    void Release();  // frees the concurrency slot; idempotent

   private:
    friend class KeyGate;
    std::shared_ptr<Counters> counters_;
    bool holds_slot_ = false;
  };

  // Admits one request of `principal` (whose limits are set), estimated at
  // input_tokens, and fills *pass (empty on entry); or refuses it, taking
  // nothing. Checked in this order: budget, tpm beyond the limit itself,
  // concurrency, rpm, tpm.
  std::optional<GateRefusal> Admit(const Principal& principal, int64_t input_tokens, Pass* pass);

 private:
  std::shared_ptr<Counters> CountersFor(const std::string& key_id);

  const Clock& clock_;
  std::mutex mu_;
  // One entry per key with limits seen by this process (keys are made by an
  // operator, so this is bounded by their number). GUARDED_BY(mu_)
  std::unordered_map<std::string, std::shared_ptr<Counters>> by_key_;
};

}  // namespace helm
