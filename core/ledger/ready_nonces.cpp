#include "core/ledger/ready_nonces.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/ledger/signing_template.h"

namespace helm::ledger_internal {
namespace {

// A receipt id's length: the prefix and a ULID.
const size_t kIdBytes = std::strlen(kReceiptIdPrefix) + 26;

}  // namespace

ReadyNonces::ReadyNonces(size_t capacity, int64_t max_age_micros, const Clock* clock)
    : max_age_micros_(max_age_micros), clock_(clock), ring_(std::max<size_t>(capacity, 1)) {
  for (Slot& slot : ring_) slot.receipt_id.reserve(kIdBytes);
}

ReadyNonces::~ReadyNonces() {
  if (!maker_.joinable()) return;
  stopping_ = true;
  hungry_ = true;
  hungry_.notify_one();
  maker_.join();
}

void ReadyNonces::DropStale(int64_t now) {
  while (ready_ > 0 && now - ring_[head_].micros > max_age_micros_) {
    ring_[head_].nonce = crypto::SignatureNonce();  // wiped
    head_ = (head_ + 1) % ring_.size();
    --ready_;
  }
  count_.store(ready_, std::memory_order_relaxed);
}

void ReadyNonces::Want() {
  if (!maker_on_.load(std::memory_order_relaxed)) return;
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
  if (ready_ > 0) {
    Slot& slot = ring_[head_];
    entry.emplace(Entry{slot.receipt_id, std::move(slot.nonce)});
    head_ = (head_ + 1) % ring_.size();
    --ready_;
    count_.store(ready_, std::memory_order_relaxed);
  }
  const bool low = ready_ < ring_.size() / 2 + 1;
  lock.unlock();
  if (low) Want();
  return entry;
}

void ReadyNonces::Refill(const crypto::SigningKey& key, size_t target) {
  std::string id;
  id.reserve(kIdBytes);
  RefillWith(key, target, &id);
}

void ReadyNonces::RefillWith(const crypto::SigningKey& key, size_t target, std::string* id) {
  target = std::min(target, ring_.size());
  size_t missing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    DropStale(clock_->NowMicros());
    missing = target > ready_ ? target - ready_ : 0;
  }
  for (; missing > 0 && !stopping_.load(std::memory_order_relaxed); --missing) {
    id->clear();
    AppendNewId(kReceiptIdPrefix, id);
    crypto::SignatureNonce nonce = crypto::PrepareSignature(key, *id);
    const int64_t made = clock_->NowMicros();
    std::lock_guard<std::mutex> lock(mu_);
    if (ready_ >= target) return;
    Slot& slot = ring_[(head_ + ready_) % ring_.size()];
    slot.receipt_id.assign(*id);  // within the reserved buffer
    slot.nonce = std::move(nonce);
    slot.micros = made;
    ++ready_;
    count_.store(ready_, std::memory_order_relaxed);
  }
}

void ReadyNonces::StartMaker(const crypto::SigningKey& key) {
  maker_on_ = true;
  maker_ = std::thread([this, &key] { MakerLoop(key); });
}

void ReadyNonces::MakerLoop(const crypto::SigningKey& key) {
  pthread_setname_np(pthread_self(), "helm-nonces");  // at most 15 characters
  sched_param param{};
  // Refused (a sandbox may forbid it): the maker then competes with the
  // request threads for the nonces they would make anyway.
  (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
  std::string id;  // the maker's only allocation
  id.reserve(kIdBytes);
  for (;;) {
    hungry_.wait(false);
    // Cleared before stopping_ is read: a stop after this read finds it set
    // again (the destructor sets stopping_, then hungry_), so the next wait
    // returns and the check below ends the loop.
    hungry_ = false;  // a Take during this round wakes the next one
    if (stopping_) return;
    const size_t demand = takes_.exchange(0, std::memory_order_relaxed);
    RefillWith(key, std::clamp<size_t>(2 * demand, 2, ring_.size()), &id);
  }
}

}  // namespace helm::ledger_internal
