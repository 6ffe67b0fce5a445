// Signature nonces made before they are needed (crypto.h, PrepareSignature),
// each with the receipt id it was derived for. A thread of their own makes
// them on otherwise idle cores (StartMaker) and an appending thread takes one
// instead of making its own, so that the scalar multiplications of receipts
// run in idle time, off the requests' paths (docs/ledger.md, "Ready
// nonces"). A nonce older than max_age is dropped:
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
#include <thread>

#include "core/common/ids.h"
#include "core/crypto/crypto.h"

namespace helm::ledger_internal {

class ReadyNonces {
 public:
  struct Entry {
    std::string receipt_id;
    crypto::SignatureNonce nonce;  // derived for receipt_id
  };

  ReadyNonces(int64_t max_age_micros, const Clock* clock)
      : max_age_micros_(max_age_micros), clock_(clock) {}
  ~ReadyNonces();  // stops the maker, if started
  ReadyNonces(const ReadyNonces&) = delete;
  ReadyNonces& operator=(const ReadyNonces&) = delete;

  // The oldest fresh nonce, or nullopt when none is ready. Never waits: a
  // held lock counts as none ready (see StartMaker).
  std::optional<Entry> Take();
  // Makes nonces (outside the lock) until `target` fresh ones are ready.
  void Refill(const crypto::SigningKey& key, size_t target);
  // Starts the maker, a thread at the lowest priority (SCHED_IDLE: it runs
  // only on a core that would otherwise idle) that makes the nonces Take
  // hands out: woken by a Take that leaves fewer than half of `pool` (or
  // finds none), it refills to twice the number of Takes since its last
  // round, at most `pool` and at least 2. Work the request threads would do
  // moves to idle time; an idle ledger makes none. `key` must outlive this.
  void StartMaker(const crypto::SigningKey& key, size_t pool);
  size_t size() const { return count_.load(std::memory_order_relaxed); }

 private:
  struct Made {
    Entry entry;
    int64_t micros = 0;  // clock time when it was made
  };
  void DropStale(int64_t now);  // mu_ held
  void Want();                  // wakes the maker, if any and asleep
  void MakerLoop(const crypto::SigningKey& key, size_t pool);

  const int64_t max_age_micros_;
  const Clock* const clock_;
  std::mutex mu_;
  std::deque<Made> ready_;          // guarded by mu_, oldest first
  std::atomic<size_t> count_{0};    // ready_.size(), read without the lock

  std::atomic<size_t> low_water_{0};    // the maker is woken below this (0: no maker)
  std::atomic<size_t> takes_{0};        // Take calls since the maker's last round
  std::atomic<bool> hungry_{false};     // the maker's wake-up
  std::atomic<bool> stopping_{false};
  std::thread maker_;
};

}  // namespace helm::ledger_internal
