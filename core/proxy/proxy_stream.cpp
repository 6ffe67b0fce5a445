// The streaming half of ProxyService. Each candidate's upstream is read on its
// own thread into a StreamChannel. The HTTP status is settled before the
// client's stream opens: a candidate that fails before its first real output
// event (a fault, a 5xx or 429, an in-band error event, a body that ends
// first) falls over to the next one, and what it sent is dropped; the first
// output event commits the stream (DESIGN §8). After that each chunk reaches
// the client as it arrives (translated when the protocols differ). An SSE
// stream ends with the `: helm-output-hash` comment that the outcome receipt
// repeats; a JSON array (stream_framing.h) has no room for one, and its hash,
// of the whole body, is in the outcome receipt only.
#include <thread>

#include "core/common/ids.h"
#include "core/common/metrics.h"
#include "core/crypto/crypto.h"
#include "core/proxy/flight.h"
#include "core/proxy/stream_channel.h"
#include "core/proxy/stream_relay.h"

namespace helm {
namespace {

constexpr auto kLivenessPoll = std::chrono::milliseconds(100);

int64_t NowUs() { return SystemClock().NowMicros(); }

// One upstream read on its own thread. The destructor cancels the read (its
// socket shut down if it is still waiting) and joins the thread, whatever
// happened to the response.
struct UpstreamReader {
  std::shared_ptr<StreamChannel> channel;
  std::shared_ptr<SendCancel> cancel = std::make_shared<SendCancel>();
  std::thread thread;

  UpstreamReader(Upstream* upstream, UpstreamRequest request, DispatchGate* gate,
                 size_t buffer_bytes)
      : channel(std::make_shared<StreamChannel>(buffer_bytes)) {
    request.cancel = cancel;
    thread = std::thread([upstream, request = std::move(request), gate, ch = channel]() mutable {
      ch->Finish(upstream->Send(
          std::move(request), gate, [&](UpstreamHead& h) { return ch->SetHead(h); },
          [&](std::string_view data) { return ch->Push(data); }));
    });
  }
  ~UpstreamReader() { Join(); }
  void Join() {
    channel->Cancel();
    cancel->Cancel();  // a read waiting on the upstream ends now, not at its timeout
    if (thread.joinable()) thread.join();
  }
  // Waits for the head (head != nullptr) or the next bytes; kTimeout only
  // when `gone` says the client left meanwhile.
  StreamChannel::Next Wait(UpstreamHead* head, std::string* out,
                           const std::function<bool()>& gone) {
    for (;;) {
      StreamChannel::Next n = head != nullptr ? channel->WaitHead(head, kLivenessPoll)
                                              : channel->Take(out, kLivenessPoll);
      if (n != StreamChannel::Next::kTimeout || gone()) return n;
    }
  }
  // Reads the body through `relay` until its first output event, until it is
  // truncated (an error event, a malformed stream), or until the client's
  // bytes held in *held pass max_held; kData then. kDone when the body ended
  // first, kTimeout when the client left.
  StreamChannel::Next ReadToOutput(StreamRelay& relay, std::string* held, size_t max_held,
                                   const std::function<bool()>& gone) {
    std::string chunk;
    for (;;) {
      chunk.clear();
      StreamChannel::Next n = Wait(nullptr, &chunk, gone);
      if (n != StreamChannel::Next::kData) return n;
      held->append(relay.Feed(chunk));
      if (relay.output_started() || relay.truncated() || held->size() > max_held) return n;
    }
  }
};

// Seals the outcome once: explicitly when the stream ends, or as
// client_disconnected when the response is dropped before it ran.
struct SealOnce {
  std::function<void(const char*)> seal;
  std::atomic<bool> done{false};
  void operator()(const char* status) {
    if (!done.exchange(true)) seal(status);
  }
  ~SealOnce() { (*this)("client_disconnected"); }
};

}  // namespace

ProxyResponse ProxyService::ExecuteStream(std::shared_ptr<Flight> f,
                                          const std::vector<route::Candidate>& candidates) {
  if (open_streams_.fetch_add(1) >= options_.limits.max_concurrent_streams) {
    open_streams_.fetch_sub(1);
    GetCounter("helm_proxy_streams_shed_total").Add();
    ProxyResponse res = ErrorResponse(*f, 503, "STREAM_CAPACITY",
                                      "too many concurrent streams; retry shortly");
    res.headers.emplace_back("Retry-After", "1");
    Seal(*f, "rejected", 503);
    return res;
  }
  struct StreamSlot {
    std::atomic<size_t>* open;
    ~StreamSlot() { open->fetch_sub(1); }
  };
  auto slot = std::make_shared<StreamSlot>(&open_streams_);
  const std::function<bool()> gone = [f] {
    return f->req.client_alive && !f->req.client_alive();
  };

  for (const route::Candidate& c : candidates) {
    Opened opened = Open(*f, c);
    if (opened.end) return std::move(*opened.end);
    if (!opened.leg) continue;
    route::BreakerPermit& permit = opened.permit;
    Leg* leg = &*opened.leg;
    int64_t t0 = NowUs();
    auto reader = std::make_shared<UpstreamReader>(leg->upstream, std::move(leg->request),
                                                   f->decision.durable.get(),
                                                   options_.stream_buffer_bytes);
    UpstreamHead head;
    auto relay = std::make_shared<StreamRelay>(f->req.protocol, leg->kind, leg->translate,
                                               EncodeOptionsFor(*f), f->req.stream_framing);
    auto first = std::make_shared<std::string>();  // the client's bytes up to the first output
    StreamChannel::Next waited = reader->Wait(&head, nullptr, gone);
    bool has_head = waited == StreamChannel::Next::kData;
    bool ok_head = has_head && head.status >= 200 && head.status <= 299;
    auto abandoned = [&] {  // the client left before any output
      reader->Join();
      permit.Release(route::ReportFault(route::AttemptOutcome::kAbandoned));
      RecordAttempt(*f, c, "client_disconnected", "", NowUs() - t0);
      ProxyResponse res = ErrorResponse(*f, 499, "CLIENT_DISCONNECTED", "the client went away");
      Seal(*f, "client_disconnected", 499);
      return res;
    };
    if (ok_head) {
      waited = reader->ReadToOutput(*relay, first.get(), options_.limits.max_response_bytes, gone);
    }
    if (waited == StreamChannel::Next::kTimeout) return abandoned();
    if (ok_head && relay->truncated() && !relay->output_started()) {
      reader->Join();  // an error event, or a malformed stream, before any output: a fault
      permit.Release(route::ReportFault(route::AttemptOutcome::kServerError));
      RecordAttempt(*f, c, "stream_error", "", NowUs() - t0);
      continue;
    }
    if (!ok_head || waited == StreamChannel::Next::kDone) {
      if (ok_head || !has_head) {  // no head, or a body that ended first: a fault before output
        reader->Join();
        UpstreamResult r = reader->channel->result();
        if (r.fault == UpstreamFault::kNotSent) return {};  // not recorded: Handle answers
        UpstreamFault fault = r.fault == UpstreamFault::kNone ? UpstreamFault::kBroken : r.fault;
        permit.Release(route::ReportFault(OutcomeForFault(fault)));
        RecordAttempt(*f, c, ok_head ? "no_output" : UpstreamFaultName(fault), "",
                      NowUs() - t0);
        continue;
      }
      // An error answer is read whole, within the limit of a buffered one.
      std::string body;
      const size_t max_bytes = options_.limits.max_response_bytes;
      while (body.size() <= max_bytes &&
             (waited = reader->Wait(nullptr, &body, gone)) == StreamChannel::Next::kData) {
      }
      if (waited == StreamChannel::Next::kTimeout) return abandoned();
      if (body.size() > max_bytes) {  // as a buffered answer over the limit
        reader->Join();
        permit.Release(route::ReportFault(OutcomeForFault(UpstreamFault::kCancelled)));
        RecordAttempt(*f, c, UpstreamFaultName(UpstreamFault::kCancelled), "", NowUs() - t0);
        continue;
      }
      route::AttemptReport report = route::ReportFromResponse(head.status, head.headers, NowUs());
      permit.Release(report);
      RecordAttempt(*f, c, "http_" + std::to_string(head.status), "", NowUs() - t0);
      if (route::IsFault(report.outcome)) {
        if (head.status == 429) f->rate_limited = ClientErrorFromProvider(*f, *leg, head, body);
        continue;
      }
      f->served_by = c.key;
      ProxyResponse res = Finish(*f, ClientErrorFromProvider(*f, *leg, head, std::move(body)));
      Seal(*f, "rejected", res.status);
      return res;
    }

    // Committed: faults from here on are not the provider's breaker faults.
    permit.Release({route::AttemptOutcome::kSuccess, 0});
    CommitTo(*f, c);
    auto seal = std::make_shared<SealOnce>();
    const route::Candidate candidate = c;
    seal->seal = [this, f, candidate, t0](const char* status) {
      RecordAttempt(*f, candidate, std::string(status) == "completed" ? "ok" : status, "",
                    NowUs() - t0);
      PriceUsage(*f, candidate);
      Seal(*f, status, 200);
      SealOutcome(*f);  // the stream has ended: nothing left to wait for
    };
    const bool sse = f->req.stream_framing == StreamFraming::kSse;
    ProxyResponse res;
    res.content_type = sse ? "text/event-stream" : "application/json";
    res.head_lines = f->helm_headers;
    res.headers.emplace_back("Cache-Control", "no-cache");
    res.stream = [f, reader, relay, seal, first, slot, sse](ResponseWriter& w) {
      crypto::Sha256Stream hash;
      bool client_gone = false;
      auto deliver = [&](const std::string& bytes) {
        if (bytes.empty()) return true;
        hash.Update(bytes);
        return w.Write(bytes);
      };
      if (!deliver(*first)) client_gone = true;
      std::string buf;
      while (!client_gone) {
        buf.clear();
        StreamChannel::Next step = reader->channel->Take(&buf, kLivenessPoll);
        if (step == StreamChannel::Next::kDone) break;
        if (step == StreamChannel::Next::kTimeout) {
          client_gone = !w.Alive();
          continue;
        }
        if (!deliver(relay->Feed(buf))) client_gone = true;
      }
      reader->Join();
      UpstreamResult r = reader->channel->result();
      std::string fault;
      if (!client_gone && r.fault != UpstreamFault::kNone) {
        fault = std::string("upstream stream ended: ") + UpstreamFaultName(r.fault);
      }
      if (!client_gone) deliver(relay->Finish(fault));
      const char* status = client_gone          ? "client_disconnected"
                           : relay->truncated() ? "truncated"
                                                : "completed";
      f->usage = relay->usage();  // unknown, never zero, when truncated (I6)
      f->output_hash = hash.FinishTagged();
      if (!client_gone && sse) w.Write(": helm-output-hash " + f->output_hash + "\n\n");
      (*seal)(status);
    };
    return res;
  }
  return AllFailed(*f);
}

}  // namespace helm
