// Signature nonces made before they are needed (crypto.h, PrepareSignature),
// each with the receipt id it was derived for. The ledger's own thread makes
// them when it is awake anyway and an appending thread takes one instead of
// making its own, so that at low concurrency the scalar multiplication of the
// next receipts runs on the idle core, off the request's path
// (docs/ledger.md, "Ready nonces"). A nonce older than max_age is dropped:
// the receipt id is a ULID that carries its mint time, and that time should
// stay close to the receipt's own `time`.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/ids.h"
#include "core/crypto/crypto.h"

namespace helm::ledger_internal {

class ReadyNonces {
 public:
  struct Entry {
    std::string receipt_id;
    crypto::SignatureNonce nonce;  // derived for receipt_id
  };

  ReadyNonces(size_t capacity, int64_t max_age_micros, const Clock* clock)
      : capacity_(capacity), max_age_micros_(max_age_micros), clock_(clock) {}

  // The oldest fresh nonce, or nullopt when none is ready.
  std::optional<Entry> Take();
  // Makes nonces (outside the lock) until `capacity` fresh ones are ready.
  void Refill(const crypto::SigningKey& key);
  size_t size() const { return count_.load(std::memory_order_relaxed); }

 private:
  struct Made {
    Entry entry;
    int64_t micros = 0;  // clock time when it was made
  };
  void DropStale(int64_t now);  // mu_ held

  const size_t capacity_;
  const int64_t max_age_micros_;
  const Clock* const clock_;
  std::mutex mu_;
  std::deque<Made> ready_;          // guarded by mu_, oldest first
  std::atomic<size_t> count_{0};    // ready_.size(), read without the lock
};

}  // namespace helm::ledger_internal
