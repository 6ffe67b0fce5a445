#include "core/boundary/sealer.h"

#include <pthread.h>

#include <utility>

#include "core/common/metrics.h"

namespace helm {

Sealer::Sealer(Boundary* boundary, size_t threads, size_t capacity)
    : boundary_(boundary), capacity_(capacity) {
  for (size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "helm-seal");
      Run();
    });
  }
}

Sealer::~Sealer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();  // each drains the queue before it ends
}

void Sealer::Submit(Outcome outcome) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() < capacity_ && !threads_.empty()) {
      queue_.push_back(std::move(outcome));
      cv_.notify_one();
      return;
    }
  }
  GetCounter("helm_seals_inline_total").Add();
  SealNow(outcome);
}

void Sealer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to seal
    Outcome outcome = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    SealNow(outcome);
    lock.lock();
  }
}

void Sealer::SealNow(const Outcome& outcome) {
  if (!boundary_->Seal(outcome).ok()) GetCounter("helm_seal_failures_total").Add();
}

}  // namespace helm
