#include "core/ledger/ready_nonces.h"

#include <utility>

#include "core/ledger/signing_template.h"

namespace helm::ledger_internal {

void ReadyNonces::DropStale(int64_t now) {
  while (!ready_.empty() && now - ready_.front().micros > max_age_micros_) ready_.pop_front();
  count_.store(ready_.size(), std::memory_order_relaxed);
}

std::optional<ReadyNonces::Entry> ReadyNonces::Take() {
  if (size() == 0) return std::nullopt;  // the common case under load: no lock
  std::lock_guard<std::mutex> lock(mu_);
  DropStale(clock_->NowMicros());
  if (ready_.empty()) return std::nullopt;
  Entry entry = std::move(ready_.front().entry);
  ready_.pop_front();
  count_.store(ready_.size(), std::memory_order_relaxed);
  return entry;
}

void ReadyNonces::Refill(const crypto::SigningKey& key) {
  size_t missing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    DropStale(clock_->NowMicros());
    missing = capacity_ - ready_.size();
  }
  for (; missing > 0; --missing) {
    Made made;
    made.entry.receipt_id = NewId(kReceiptIdPrefix);
    made.entry.nonce = crypto::PrepareSignature(key, made.entry.receipt_id);
    made.micros = clock_->NowMicros();
    std::lock_guard<std::mutex> lock(mu_);
    if (ready_.size() >= capacity_) return;
    ready_.push_back(std::move(made));
    count_.store(ready_.size(), std::memory_order_relaxed);
  }
}

}  // namespace helm::ledger_internal
