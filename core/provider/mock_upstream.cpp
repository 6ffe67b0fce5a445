// The `mock://` Upstream: plays a MockReply (mock_openai.h) through the
// Upstream callbacks, with the timing its directives ask for. Pauses longer
// than the configured first-byte or idle timeout end as those faults after
// waiting the timeout, as they would against a real provider.
//
// Thread safety: stateless after construction; Send may run on many threads.
#include "core/provider/mock_upstream.h"

#include <chrono>
#include <exception>
#include <thread>

#include "core/provider/mock_openai.h"

namespace helm {
namespace {

void SleepMs(int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

class MockUpstream final : public Upstream {
 public:
  MockUpstream(std::string url, const UpstreamOptions& options)
      : url_(std::move(url)), options_(options) {}

  // In-process: nothing to hand to the gate, so it waits for it.
  UpstreamResult Send(UpstreamRequest request, DispatchGate* gate,
                      const HeadCallback& on_head,
                      const std::function<bool(std::string_view)>& on_data) override {
    if (UpstreamResult held; !PassGate(gate, &held)) return held;
    try {
      return Play(MockRespond(request), on_head, on_data);
    } catch (const std::exception& e) {  // e.g. bad_alloc; never escapes to the caller
      UpstreamResult result;
      result.fault = UpstreamFault::kBroken;
      result.detail = std::string("mock: ") + e.what();
      return result;
    }
  }

  const std::string& url() const override { return url_; }

 private:
  UpstreamResult Play(const MockReply& reply,
                      const HeadCallback& on_head,
                      const std::function<bool(std::string_view)>& on_data) const;

  const std::string url_;
  const UpstreamOptions options_;
};

UpstreamResult Fault(UpstreamFault fault, const char* detail) {
  UpstreamResult result;
  result.fault = fault;
  result.detail = detail;
  return result;
}

UpstreamResult MockUpstream::Play(const MockReply& reply,
                                  const HeadCallback& on_head,
                                  const std::function<bool(std::string_view)>& on_data) const {
  const auto start = std::chrono::steady_clock::now();
  const MockDirectives& t = reply.timing;
  if (t.first_byte_ms > options_.first_byte_timeout_ms) {
    SleepMs(options_.first_byte_timeout_ms);
    return Fault(UpstreamFault::kFirstByteTimeout, "mock: first byte later than the timeout");
  }
  SleepMs(t.first_byte_ms);
  UpstreamResult result;
  result.first_byte_us = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  UpstreamHead head{reply.status, reply.headers};
  if (!reply.stream) {
    size_t length = 0;
    for (const std::string& f : reply.frames) length += f.size();
    head.headers.emplace_back("content-length", std::to_string(length));
  }
  auto fail = [&result](UpstreamFault fault, const char* detail) {
    result.fault = fault;
    result.detail = detail;
    return result;
  };
  if (!on_head(head)) return fail(UpstreamFault::kCancelled, "cancelled in on_head");
  for (size_t i = 0; i < reply.frames.size(); ++i) {
    if (reply.stream && t.cut >= 0 && i == static_cast<size_t>(t.cut)) {
      return fail(UpstreamFault::kBroken, "mock: connection cut by directive");
    }
    if (reply.stream && t.stall >= 0 && i == static_cast<size_t>(t.stall)) {
      SleepMs(options_.idle_timeout_ms);
      return fail(UpstreamFault::kIdleTimeout, "mock: stream stalled by directive");
    }
    if (reply.stream && i > 0 && t.delay_ms > 0) {
      if (t.delay_ms > options_.idle_timeout_ms) {
        SleepMs(options_.idle_timeout_ms);
        return fail(UpstreamFault::kIdleTimeout, "mock: chunk delay longer than the timeout");
      }
      SleepMs(t.delay_ms);
    }
    if (!on_data(reply.frames[i])) return fail(UpstreamFault::kCancelled, "cancelled in on_data");
  }
  return result;
}

}  // namespace

std::unique_ptr<Upstream> MakeMockUpstream(const std::string& url, const UpstreamOptions& options) {
  return std::make_unique<MockUpstream>(url, options);
}

}  // namespace helm
