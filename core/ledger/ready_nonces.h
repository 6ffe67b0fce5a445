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
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/common/ids.h"
#include "core/crypto/crypto.h"

namespace helm::ledger_internal {

class ReadyNonces {
 public:
  struct Entry {
    std::string receipt_id;
    crypto::SignatureNonce nonce;  // derived for receipt_id
  };

  // Holds up to `capacity` nonces, in memory allocated here, once.
  ReadyNonces(size_t capacity, int64_t max_age_micros, const Clock* clock);
  ~ReadyNonces();  // stops the maker, if started
  ReadyNonces(const ReadyNonces&) = delete;
  ReadyNonces& operator=(const ReadyNonces&) = delete;

  // The oldest fresh nonce, or nullopt when none is ready. Never waits: a
  // held lock counts as none ready (see StartMaker).
  std::optional<Entry> Take();
  // Makes nonces (outside the lock) until `target` fresh ones are ready, at
  // most the capacity.
  void Refill(const crypto::SigningKey& key, size_t target);
  // Starts the maker, a thread at the lowest priority (SCHED_IDLE: it runs
  // only on a core that would otherwise idle) that makes the nonces Take
  // hands out: woken by a Take that leaves fewer than half of the capacity
  // (or finds none), it refills to twice the number of Takes since its last
  // round, at most the capacity and at least 2. Work the request threads
  // would do moves to idle time; an idle ledger makes none. The maker
  // allocates no memory once started: preempted inside malloc, it would
  // hold an arena's lock that request threads may share until its next
  // idle moment. `key` must outlive this.
  void StartMaker(const crypto::SigningKey& key);
  size_t size() const { return count_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    std::string receipt_id;  // its buffer reserved once, reused
    crypto::SignatureNonce nonce;
    int64_t micros = 0;  // clock time when it was made
  };
  void DropStale(int64_t now);  // mu_ held
  void Want();                  // wakes the maker, if any and asleep
  // Refill, with `id` as the scratch buffer of each new receipt id.
  void RefillWith(const crypto::SigningKey& key, size_t target, std::string* id);
  void MakerLoop(const crypto::SigningKey& key);

  const int64_t max_age_micros_;
  const Clock* const clock_;
  std::mutex mu_;
  std::vector<Slot> ring_;  // guarded by mu_: ready_ slots from head_, oldest first
  size_t head_ = 0;         // guarded by mu_
  size_t ready_ = 0;        // guarded by mu_
  std::atomic<size_t> count_{0};  // ready_, read without the lock

  std::atomic<bool> maker_on_{false};  // Take wakes the maker
  std::atomic<size_t> takes_{0};       // Take calls since the maker's last round
  std::atomic<bool> hungry_{false};    // the maker's wake-up
  std::atomic<bool> stopping_{false};
  std::thread maker_;
};

}  // namespace helm::ledger_internal
