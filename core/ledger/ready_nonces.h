// Signature nonces made before they are needed (crypto.h, PrepareSignature),
// each with the receipt id it was derived for. Threads of their own make
// them on otherwise idle cores (StartMakers) and an appending thread takes
// one instead of making its own, so that the scalar multiplications of
// receipts run in idle time, off the requests' paths (docs/ledger.md, "Ready
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
  ~ReadyNonces();  // stops the makers, if started
  ReadyNonces(const ReadyNonces&) = delete;
  ReadyNonces& operator=(const ReadyNonces&) = delete;

  // The oldest fresh nonce, or nullopt when none is ready. Never waits: a
  // held lock counts as none ready (see StartMakers).
  std::optional<Entry> Take();
  // Makes nonces (outside the lock) until `target` fresh ones are ready, at
  // most the capacity.
  void Refill(const crypto::SigningKey& key, size_t target);
  // Starts the makers that make the nonces Take hands out: one thread per
  // core this process may run on (at most kMaxMakers), each pinned to its
  // core at the lowest priority (SCHED_IDLE: it runs only when its core
  // would otherwise idle; one maker for all cores could use one idle core
  // at a time). A Take that leaves fewer than three quarters of the fill
  // target (FillTarget) wakes them, and they refill to it. Work the request
  // threads would do moves to idle time; an idle ledger makes none. A
  // maker allocates no memory once started: preempted inside malloc, it
  // would hold an arena's lock that request threads may share until its
  // next idle moment. `key` must outlive this.
  void StartMakers(const crypto::SigningKey& key);
  static constexpr size_t kMaxMakers = 16;
  size_t size() const { return count_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    std::string receipt_id;  // its buffer reserved once, reused
    crypto::SignatureNonce nonce;
    int64_t micros = 0;  // clock time before its receipt id was minted
  };
  static constexpr int64_t kRateWindowMicros = 10'000;
  void DropStale(int64_t now);  // mu_ held
  // The fill target, measured again when kRateWindowMicros have passed.
  size_t UpdateTarget();
  void Want();  // wakes the makers, if any and asleep
  struct Batch;
  // Refill, `batch` the scratch memory of each round of making.
  void RefillWith(const crypto::SigningKey& key, size_t target, Batch* batch);
  void MakerLoop(const crypto::SigningKey& key, int cpu);

  const int64_t max_age_micros_;
  const Clock* const clock_;
  std::mutex mu_;
  std::vector<Slot> ring_;        // guarded by mu_: ready_ slots from head_, oldest first
  size_t head_ = 0;               // guarded by mu_
  size_t ready_ = 0;              // guarded by mu_
  std::atomic<size_t> count_{0};  // ready_, read without the lock

  size_t making_ = 0;         // guarded by mu_: claimed by a maker, not yet ready
  size_t target_ = 2;         // guarded by mu_: FillTarget of the last window
  int64_t window_start_ = 0;  // guarded by mu_: when takes_ started counting

  std::atomic<bool> makers_on_{false};  // Take wakes the makers
  std::atomic<size_t> takes_{0};        // Take calls since window_start_
  std::atomic<bool> hungry_{false};     // the makers' wake-up
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> makers_;
};

// How many nonces the pool holds ready: the takes of half a max_age at the
// rate of `takes` in `elapsed_micros` (at least 2, at most `capacity`).
// Under load that is the whole pool, so that every idle moment of a core
// goes into it; a ledger whose load falls drops at most what half a
// max_age of the old load would have taken.
size_t FillTarget(uint64_t takes, int64_t elapsed_micros, int64_t max_age_micros, size_t capacity);

}  // namespace helm::ledger_internal
