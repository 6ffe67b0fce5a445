#include "core/proxy/stream_channel.h"

namespace helm {

bool StreamChannel::SetHead(UpstreamHead& head) {
  std::lock_guard<std::mutex> lock(mu_);
  head_ = std::move(head);
  has_head_ = true;
  cv_.notify_all();
  return !cancelled_;
}

bool StreamChannel::Push(std::string_view data) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return cancelled_ || queued_bytes_ < max_bytes_; });
  if (cancelled_) return false;
  q_.emplace_back(data);
  queued_bytes_ += data.size();
  cv_.notify_all();
  return true;
}

void StreamChannel::Finish(const UpstreamResult& result) {
  std::lock_guard<std::mutex> lock(mu_);
  result_ = result;
  finished_ = true;
  cv_.notify_all();
}

StreamChannel::Next StreamChannel::WaitHead(UpstreamHead* head, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return has_head_ || finished_; })) return Next::kTimeout;
  if (!has_head_) return Next::kDone;
  *head = head_;
  return Next::kData;
}

StreamChannel::Next StreamChannel::Take(std::string* out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !q_.empty() || finished_; })) return Next::kTimeout;
  if (q_.empty()) return Next::kDone;
  while (!q_.empty()) {
    out->append(q_.front());
    q_.pop_front();
  }
  queued_bytes_ = 0;
  cv_.notify_all();
  return Next::kData;
}

void StreamChannel::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  cv_.notify_all();
}

UpstreamResult StreamChannel::result() const {
  std::lock_guard<std::mutex> lock(mu_);
  return result_;
}

}  // namespace helm
