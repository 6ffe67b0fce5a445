// Sealer: appends outcome receipts off the response path. A request's
// outcome is known once its last byte is ready; the client need not wait
// while the receipt is signed and made durable, so the proxy hands the
// outcome here and answers. The decision receipt, by contrast, is always
// durable before dispatch (DESIGN §3); a crash between the answer and the
// seal leaves a decision without an outcome, which `helm receipts verify`
// lists (RELIABILITY I2), exactly as a crash mid-request does.
//
// Bounded (RELIABILITY I5): at most `capacity` outcomes wait; beyond that
// Submit seals in the caller's thread, so a slow ledger slows requests down
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
