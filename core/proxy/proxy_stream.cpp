// The streaming half of ProxyService: the upstream is read on its own thread
// into a StreamChannel; the HTTP status is settled from the upstream head
// before the client's stream opens; each upstream chunk reaches the client as
// it arrives; the stream ends with the `: helm-output-hash` comment and the
// outcome receipt carries the same hash.
#include <thread>

#include "core/common/ids.h"
#include "core/common/metrics.h"
#include "core/crypto/crypto.h"
#include "core/provider/sse.h"
#include "core/proxy/client_errors.h"
#include "core/proxy/flight.h"
#include "core/proxy/request_rules.h"
#include "core/proxy/stream_channel.h"

namespace helm {
namespace {

constexpr auto kLivenessPoll = std::chrono::milliseconds(100);

// Owns the upstream thread of one stream. Whatever happens to the client
// response (sent, abandoned before its headers went out), the destructor
// cancels the upstream, joins its thread and makes sure the outcome is sealed.
struct StreamJob {
  std::shared_ptr<StreamChannel> channel;
  std::thread reader;
  std::function<void(const char* status)> seal_if_unsealed;
  std::atomic<size_t>* open_streams = nullptr;

  ~StreamJob() {
    channel->Cancel();
    if (reader.joinable()) reader.join();
    seal_if_unsealed("client_disconnected");
    open_streams->fetch_sub(1);
  }
};

// Reads usage out of SSE events as they pass (only events that mention it are parsed).
class UsageScanner {
 public:
  explicit UsageScanner(std::string protocol) : protocol_(std::move(protocol)) {}
  void Feed(std::string_view bytes) {
    events_.clear();
    if (!parser_.Feed(bytes, &events_).ok()) return;
    for (const SseEvent& e : events_) {
      if (e.data.find("\"usage\"") == std::string::npos) continue;
      Json chunk = Json::parse(e.data, nullptr, false);
      if (auto u = ExtractUsage(protocol_, chunk)) usage = std::move(u);
    }
  }
  std::optional<Json> usage;

 private:
  std::string protocol_;
  SseParser parser_;
  std::vector<SseEvent> events_;
};

std::string StreamErrorEvent(const std::string& protocol, const std::string& message) {
  std::string body = ClientErrorBody(protocol, 502, "UPSTREAM_STREAM_BROKEN", message);
  if (protocol == kAnthropicMessages) return "event: error\ndata: " + body + "\n\n";
  return "data: " + body + "\n\n";
}

}  // namespace

ProxyResponse ProxyService::DispatchStream(std::shared_ptr<Flight> f) {
  if (open_streams_.fetch_add(1) >= options_.limits.max_concurrent_streams) {
    open_streams_.fetch_sub(1);
    GetCounter("helm_proxy_streams_shed_total").Add();
    ProxyResponse res = ErrorResponse(*f, 503, "STREAM_CAPACITY",
                                      "too many concurrent streams; retry shortly");
    res.headers.emplace_back("Retry-After", "1");
    Seal(*f, "rejected", 503, 0, "not_dispatched");
    return res;
  }
  auto job = std::make_shared<StreamJob>();
  job->open_streams = &open_streams_;
  job->channel = std::make_shared<StreamChannel>(options_.stream_buffer_bytes);
  auto sealed = std::make_shared<std::atomic<bool>>(false);
  int64_t t0 = SystemClock().NowMicros();
  job->seal_if_unsealed = [this, f, sealed, t0](const char* status) {
    if (sealed->exchange(true)) return;
    Seal(*f, status, 200, SystemClock().NowMicros() - t0, status);
  };
  job->reader = std::thread([this, f, ch = job->channel] {
    ch->Finish(upstream_->Send(
        f->upstream, [&](const UpstreamHead& h) { return ch->SetHead(h); },
        [&](std::string_view data) { return ch->Push(data); }));
  });

  UpstreamHead head;
  if (!job->channel->WaitHead(&head) || head.status != 200) {
    std::string body;
    while (job->channel->Take(&body, std::chrono::hours(1)) != StreamChannel::Next::kDone) {
    }
    job->reader.join();
    *sealed = true;  // FailedUpstream seals with the real status
    UpstreamResult r = job->channel->result();
    if (r.fault == UpstreamFault::kNone && head.status == 0) r.fault = UpstreamFault::kBroken;
    return FailedUpstream(*f, r, head, std::move(body), SystemClock().NowMicros() - t0);
  }

  // The stream commits on its first output: an upstream that fails before
  // sending any body is a 502, not a 200 that turns into an error.
  auto first = std::make_shared<std::string>();
  StreamChannel::Next next;
  do {
    next = job->channel->Take(first.get(), kLivenessPoll);
  } while (next == StreamChannel::Next::kTimeout);
  if (next == StreamChannel::Next::kDone) {
    job->reader.join();
    *sealed = true;  // FailedUpstream seals
    UpstreamResult r = job->channel->result();
    if (r.fault == UpstreamFault::kNone) r.fault = UpstreamFault::kBroken;
    return FailedUpstream(*f, r, UpstreamHead{}, "", SystemClock().NowMicros() - t0);
  }

  ProxyResponse res;
  res.content_type = "text/event-stream";
  res.headers = f->headers;
  res.headers.emplace_back("Cache-Control", "no-cache");
  res.stream = [this, f, job, sealed, t0, first](ResponseWriter& w) {
    crypto::Sha256Stream hash;
    UsageScanner usage(f->req.protocol);
    std::string buf = std::move(*first);
    bool client_gone = false;
    for (bool have = true;; have = false) {
      StreamChannel::Next step = StreamChannel::Next::kData;
      if (!have) {
        buf.clear();
        step = job->channel->Take(&buf, kLivenessPoll);
      }
      if (step == StreamChannel::Next::kDone) break;
      if (step == StreamChannel::Next::kTimeout) {
        if (!w.Alive()) client_gone = true;
        if (client_gone) break;
        continue;
      }
      hash.Update(buf);
      usage.Feed(buf);
      if (!w.Write(buf)) {
        client_gone = true;
        break;
      }
    }
    job->channel->Cancel();
    if (job->reader.joinable()) job->reader.join();
    UpstreamResult r = job->channel->result();
    const char* status = "completed";
    if (client_gone) {
      status = "client_disconnected";
    } else if (r.fault != UpstreamFault::kNone) {
      status = "truncated";
      std::string event = StreamErrorEvent(f->req.protocol, std::string("upstream stream ended: ") +
                                                                UpstreamFaultName(r.fault));
      hash.Update(event);
      w.Write(event);
    }
    f->output_hash = hash.FinishTagged();
    // A truncated stream's usage is unknown, never zero (I6).
    f->usage = std::string(status) == "completed" ? usage.usage : std::nullopt;
    if (!client_gone) w.Write(": helm-output-hash " + f->output_hash + "\n\n");
    if (!sealed->exchange(true)) {
      Seal(*f, status, 200, SystemClock().NowMicros() - t0,
           r.fault == UpstreamFault::kNone ? "ok" : UpstreamFaultName(r.fault));
    }
  };
  return res;
}

}  // namespace helm
