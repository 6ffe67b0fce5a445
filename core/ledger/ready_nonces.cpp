#include "core/ledger/ready_nonces.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <utility>

#include "core/ledger/signing_template.h"

namespace helm::ledger_internal {

ReadyNonces::~ReadyNonces() {
  if (!maker_.joinable()) return;
  stopping_ = true;
  hungry_ = true;
  hungry_.notify_one();
  maker_.join();
}

void ReadyNonces::DropStale(int64_t now) {
  while (!ready_.empty() && now - ready_.front().micros > max_age_micros_) ready_.pop_front();
  count_.store(ready_.size(), std::memory_order_relaxed);
}

void ReadyNonces::Want() {
  if (low_water_.load(std::memory_order_relaxed) == 0) return;
  if (!hungry_.exchange(true)) hungry_.notify_one();
}

std::optional<ReadyNonces::Entry> ReadyNonces::Take() {
  takes_.fetch_add(1, std::memory_order_relaxed);
  if (size() == 0) {  // the common case under load: no lock
    Want();
    return std::nullopt;
  }
  // The maker may be holding the lock while preempted, and at its priority
  // it may not run again soon: never wait for it.
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock()) return std::nullopt;
  DropStale(clock_->NowMicros());
  std::optional<Entry> entry;
  if (!ready_.empty()) {
    entry = std::move(ready_.front().entry);
    ready_.pop_front();
    count_.store(ready_.size(), std::memory_order_relaxed);
  }
  const bool low = ready_.size() < low_water_.load(std::memory_order_relaxed);
  lock.unlock();
  if (low) Want();
  return entry;
}

void ReadyNonces::Refill(const crypto::SigningKey& key, size_t target) {
  size_t missing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    DropStale(clock_->NowMicros());
    missing = target > ready_.size() ? target - ready_.size() : 0;
  }
  for (; missing > 0 && !stopping_.load(std::memory_order_relaxed); --missing) {
    Made made;
    made.entry.receipt_id = NewId(kReceiptIdPrefix);
    made.entry.nonce = crypto::PrepareSignature(key, made.entry.receipt_id);
    made.micros = clock_->NowMicros();
    std::lock_guard<std::mutex> lock(mu_);
    if (ready_.size() >= target) return;
    ready_.push_back(std::move(made));
    count_.store(ready_.size(), std::memory_order_relaxed);
  }
}

void ReadyNonces::StartMaker(const crypto::SigningKey& key, size_t pool) {
  low_water_ = std::max<size_t>(pool / 2, 1);
  maker_ = std::thread([this, &key, pool] { MakerLoop(key, pool); });
}

void ReadyNonces::MakerLoop(const crypto::SigningKey& key, size_t pool) {
  pthread_setname_np(pthread_self(), "helm-nonces");  // at most 15 characters
  sched_param param{};
  // Refused (a sandbox may forbid it): the maker then competes with the
  // request threads for the nonces they would make anyway.
  (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
  for (;;) {
    hungry_.wait(false);
    if (stopping_) return;
    hungry_ = false;  // a Take during this round wakes the next one
    const size_t demand = takes_.exchange(0, std::memory_order_relaxed);
    Refill(key, std::clamp<size_t>(2 * demand, 2, pool));
  }
}

}  // namespace helm::ledger_internal
