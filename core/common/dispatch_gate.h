// DispatchGate: the one-shot gate between a decision and its dispatch (I1).
// Whoever makes the decision receipt durable opens it, with the outcome of
// that write. A request's thread can wait for it, or hand it the first write
// of the request (Then): the opening thread then sends the bytes, and the
// request's thread goes straight on to wait for the answer — it sleeps once
// per request instead of twice. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "core/common/result.h"

namespace helm {

class DispatchGate {
 public:
  using Action = std::function<void(const Status&)>;

  // Opens the gate with `status` (ok: the decision is durable), runs the
  // action handed to Then, if any, and then wakes Wait. Called once.
  void Open(Status status);
  // Runs `action` with the gate's status: here and now when the gate is
  // open, otherwise on the thread that opens it (so it must not block).
  // One action at a time: the next Then only after Wait.
  void Then(Action action);
  // Blocks until the gate is open and its action has returned.
  const Status& Wait();
  // Open, and its action returned: Wait would not block.
  bool settled() const { return settled_.load(std::memory_order_acquire); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;  // guarded by mu_; status_ is fixed once it is set
  Status status_;
  Action action_;      // guarded by mu_
  std::atomic<bool> settled_{false};
};

}  // namespace helm
