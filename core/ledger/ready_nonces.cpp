#include "core/ledger/ready_nonces.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/crypto/ed25519_base.h"
#include "core/ledger/signing_template.h"

namespace helm::ledger_internal {
namespace {

// A receipt id's length: the prefix and a ULID.
const size_t kIdBytes = std::strlen(kReceiptIdPrefix) + 26;

// The cores this process may run on, at most `limit`; none when unknown.
std::vector<int> AllowedCpus(size_t limit) {
  std::vector<int> cpus;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE && cpus.size() < limit; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
  }
  return cpus;
}

}  // namespace

size_t FillTarget(uint64_t takes, int64_t elapsed_micros, int64_t max_age_micros, size_t capacity) {
  const auto elapsed = static_cast<uint64_t>(std::max<int64_t>(elapsed_micros, 1));
  const auto half_age = static_cast<uint64_t>(std::max<int64_t>(max_age_micros, 0)) / 2;
  const unsigned __int128 wanted = static_cast<unsigned __int128>(takes) * half_age / elapsed;
  return static_cast<size_t>(
      std::min<unsigned __int128>(std::max<unsigned __int128>(wanted, 2), capacity));
}

ReadyNonces::ReadyNonces(size_t capacity, int64_t max_age_micros, const Clock* clock)
    : max_age_micros_(max_age_micros),
      clock_(clock),
      ring_(std::max<size_t>(capacity, 1)),
      window_start_(clock->NowMicros()) {
  for (Slot& slot : ring_) slot.receipt_id.reserve(kIdBytes);
}

ReadyNonces::~ReadyNonces() {
  if (makers_.empty()) return;
  stopping_ = true;
  hungry_ = true;
  hungry_.notify_all();
  for (std::thread& maker : makers_) maker.join();
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
  if (!makers_on_.load(std::memory_order_relaxed)) return;
  if (!hungry_.exchange(true)) hungry_.notify_all();
}

std::optional<ReadyNonces::Entry> ReadyNonces::Take() {
  takes_.fetch_add(1, std::memory_order_relaxed);
  if (size() == 0) {  // the common case under load: no lock
    Want();
    return std::nullopt;
  }
  // A maker may be holding the lock while preempted, and at its priority
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
  // Below three quarters of the target: waking the makers costs a futex
  // call and a wake-up per core, so they are not woken for every take.
  const bool low = ready_ < target_ - target_ / 4;
  lock.unlock();
  if (low) Want();
  return entry;
}

// One round's receipt ids and nonces, allocated once per maker.
struct ReadyNonces::Batch {
  Batch() {
    for (std::string& id : ids) id.reserve(kIdBytes);
  }
  std::array<std::string, crypto::kBaseBatch> ids;
  std::array<std::string_view, crypto::kBaseBatch> contexts;
  std::array<crypto::SignatureNonce, crypto::kBaseBatch> nonces;
};

void ReadyNonces::Refill(const crypto::SigningKey& key, size_t target) {
  Batch batch;
  RefillWith(key, target, &batch);
}

void ReadyNonces::RefillWith(const crypto::SigningKey& key, size_t target, Batch* batch) {
  target = std::min(target, ring_.size());
  while (!stopping_.load(std::memory_order_relaxed)) {
    size_t n = 0;
    {
      // Nonces are claimed before they are made, so that makers working
      // together never make more than the target between them.
      std::lock_guard<std::mutex> lock(mu_);
      DropStale(clock_->NowMicros());
      if (ready_ + making_ >= target) return;
      n = std::min(target - ready_ - making_, crypto::kBaseBatch);
      making_ += n;
    }
    // Aged from before their ids are minted, so that an id's time stays
    // within max_age of its use however long a preempted maker takes.
    const int64_t minted = clock_->NowMicros();
    // Made together, they share the cost of encoding (crypto.h, PrepareSignatures).
    for (size_t i = 0; i < n; ++i) {
      batch->ids[i].clear();
      AppendNewId(kReceiptIdPrefix, &batch->ids[i]);
      batch->contexts[i] = batch->ids[i];
    }
    crypto::PrepareSignatures(key, std::span(batch->contexts).first(n),
                              std::span(batch->nonces).first(n));
    std::lock_guard<std::mutex> lock(mu_);
    making_ -= n;
    for (size_t i = 0; i < n; ++i) {
      Slot& slot = ring_[(head_ + ready_) % ring_.size()];
      slot.receipt_id.assign(batch->ids[i]);  // within the reserved buffer
      slot.nonce = std::move(batch->nonces[i]);
      slot.micros = minted;
      ++ready_;
    }
    count_.store(ready_, std::memory_order_relaxed);
  }
}

size_t ReadyNonces::UpdateTarget() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_->NowMicros();
  if (now - window_start_ >= kRateWindowMicros) {
    target_ = FillTarget(takes_.exchange(0, std::memory_order_relaxed), now - window_start_,
                         max_age_micros_, ring_.size());
    window_start_ = now;
  }
  return target_;
}

void ReadyNonces::StartMakers(const crypto::SigningKey& key) {
  makers_on_ = true;
  std::vector<int> cpus = AllowedCpus(kMaxMakers);
  if (cpus.empty()) cpus.push_back(-1);  // one maker, wherever the kernel puts it
  for (int cpu : cpus) makers_.emplace_back([this, &key, cpu] { MakerLoop(key, cpu); });
}

void ReadyNonces::MakerLoop(const crypto::SigningKey& key, int cpu) {
  if (cpu >= 0) {  // refused: the maker runs wherever the kernel puts it
    cpu_set_t only;
    CPU_ZERO(&only);
    CPU_SET(cpu, &only);
    (void)pthread_setaffinity_np(pthread_self(), sizeof only, &only);
  }
  sched_param param{};
  // Refused (a sandbox may forbid it): the maker then competes with the
  // request threads for the nonces they would make anyway.
  (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
  // Named once set up, for whoever finds the makers by name (at most 15 characters).
  pthread_setname_np(pthread_self(), "helm-nonces");
  Batch batch;  // the maker's only allocation
  for (;;) {
    hungry_.wait(false);
    // Cleared before stopping_ is read: a stop after this read finds it set
    // again (the destructor sets stopping_, then hungry_), so the next wait
    // returns and the check below ends the loop.
    hungry_ = false;  // a Take during this round wakes the next one
    if (stopping_) {
      // This maker may have cleared the destructor's wake-up: pass it on.
      hungry_ = true;
      hungry_.notify_all();
      return;
    }
    RefillWith(key, UpdateTarget(), &batch);
  }
}

}  // namespace helm::ledger_internal
