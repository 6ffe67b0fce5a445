// StreamChannel: hands an upstream response from the thread that reads it to
// the thread that writes it to the client, one chunk at a time, with
// back-pressure (Push blocks while max_buffered_bytes are queued) and
// cancellation in both directions. Thread-safe: one producer, one consumer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

#include "core/provider/upstream.h"

namespace helm {

class StreamChannel {
 public:
  explicit StreamChannel(size_t max_buffered_bytes) : max_bytes_(max_buffered_bytes) {}

  // Producer side. Push and SetHead return false once the consumer cancelled.
  bool SetHead(UpstreamHead& head);  // takes it
  bool Push(std::string_view data);
  void Finish(const UpstreamResult& result);

  // Consumer side.
  // Waits up to `timeout` for the head: kData with *head set, kDone when the
  // upstream finished without one, kTimeout.
  enum class Next { kData, kDone, kTimeout };
  Next WaitHead(UpstreamHead* head, std::chrono::milliseconds timeout);
  // Takes everything queued (appended to *out), or waits up to timeout.
  Next Take(std::string* out, std::chrono::milliseconds timeout);
  void Cancel();
  // Valid once Take returned kDone (or WaitHead returned false).
  UpstreamResult result() const;

 private:
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool has_head_ = false;       // GUARDED_BY(mu_)
  UpstreamHead head_;           // GUARDED_BY(mu_)
  std::deque<std::string> q_;   // GUARDED_BY(mu_)
  size_t queued_bytes_ = 0;     // GUARDED_BY(mu_)
  bool finished_ = false;       // GUARDED_BY(mu_)
  bool cancelled_ = false;      // GUARDED_BY(mu_)
  UpstreamResult result_;       // GUARDED_BY(mu_)
};

}  // namespace helm
