#include "core/common/dispatch_gate.h"

#include <utility>

namespace helm {

void DispatchGate::Open(Status status) {
  Action action;
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = std::move(status);
    open_ = true;
    action = std::move(action_);
  }
  if (action) action(status_);
  std::lock_guard<std::mutex> lock(mu_);
  settled_.store(true, std::memory_order_release);
  cv_.notify_all();
}

void DispatchGate::Then(Action action) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!open_) {
      action_ = std::move(action);
      return;
    }
  }
  action(status_);
}

const Status& DispatchGate::Wait() {
  if (!settled()) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return settled(); });
  }
  return status_;
}

}  // namespace helm
