// Sealer: Boundary::SealDetached for a boundary whose Seal blocks (the
// remote boundary's HTTP call): a pool of threads calls Seal for the
// outcomes handed over, so that the request need not wait. (LocalBoundary
// needs no threads: its ledger queues detached receipts itself.)
//
// Bounded (RELIABILITY I5): at most `capacity` outcomes wait; beyond that
// Submit seals in the caller's thread, so a slow boundary slows requests down
// instead of growing a queue. The destructor seals every queued outcome.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "core/boundary/boundary.h"

namespace helm {

class Sealer {
 public:
  // `threads` seal concurrently, so their appends share group commits.
  Sealer(Boundary* boundary, size_t threads, size_t capacity);
  ~Sealer();
  Sealer(const Sealer&) = delete;
  Sealer& operator=(const Sealer&) = delete;

  void Submit(Outcome outcome);

 private:
  void Run();
  void SealNow(const Outcome& outcome);

  Boundary* const boundary_;
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Outcome> queue_;  // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace helm
