// The proxy's request path when the ledger cannot write (I1): the real
// LocalBoundary, RocksDB ledger, ProxyService and HTTP upstream client, with
// an upstream on a loopback port that records what reaches it, and the
// ledger's writes failed by its test hook. Requests run concurrently, so that
// decisions queue behind a commit leader and their upstream writes wait on
// their gate (Decision::durable) rather than on the append itself.
#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/boundary/local_boundary.h"
#include "core/common/protocols.h"
#include "core/ledger/test_util.h"
#include "core/proxy/proxy_service.h"
#include "core/proxy/test_util.h"
#include "core/proxy/router.h"
#include "core/receipt/verify.h"

namespace helm {
namespace {

using std::chrono::milliseconds;

constexpr char kAnswer[] =
    R"({"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}})";

struct Upstream {
  httplib::Server server;
  std::thread thread;
  std::atomic<int> requests{0};
  std::string url;

  Upstream() {
    server.Post("/v1/chat/completions", [this](const httplib::Request&, httplib::Response& res) {
      ++requests;
      res.set_content(kAnswer, "application/json");
    });
    int port = server.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(milliseconds(1));
    url = "http://127.0.0.1:" + std::to_string(port);
  }
  ~Upstream() {
    server.stop();
    thread.join();
  }
};

using proxy_testing::Header;

TEST_CASE("decisions the ledger cannot write: 503 LEDGER_UNAVAILABLE, nothing dispatched") {
  ledger_testing::TempDir dir;
  Upstream upstream;
  std::atomic<bool> fail{false};
  std::atomic<bool> hold{false};
  std::promise<void> in_write, release;
  std::shared_future<void> released = release.get_future().share();
  BoundaryOptions options;
  options.policy_path = HELM_SOURCE_DIR "/policies/development.toml";
  options.data_dir = dir.Sub("data");
  options.ledger.before_write = [&]() -> Status {
    if (!fail) return Status::Ok();
    if (hold.exchange(false)) {  // the first failing write waits while requests queue
      in_write.set_value();
      released.wait();
    }
    return MakeError(ErrorCode::kUnavailable, "injected EIO");
  };
  auto boundary = LocalBoundary::Open(options);
  REQUIRE(boundary.ok());
  auto router = Router::FromUpstreamUrl(upstream.url, {});
  REQUIRE(router.ok());
  ProxyService proxy(boundary->get(), router->get(), ProxyOptions{});
  const std::string key = (*boundary)->data_dir().bootstrap_key;
  auto request = [&](bool stream) {
    ProxyRequest r;
    r.protocol = kOpenAiChat;
    r.endpoint = r.upstream_path = "/v1/chat/completions";
    r.body = std::string(R"({"model":"m","stream":)") + (stream ? "true" : "false") +
             R"(,"messages":[{"role":"user","content":"hello"}]})";
    r.content_type = "application/json";
    r.credential = key;
    return r;
  };
  auto handle = [&](bool stream = false) {
    ProxyResponse res = proxy.Handle(request(stream));
    if (res.after_send) res.after_send();  // as the HTTP adapter does: seals the outcome
    return res;
  };
  Ledger& ledger = (*boundary)->ledger();
  auto wait_for_head = [&](uint64_t seq) {
    for (int i = 0; i < 500 && ledger.HeadSeq() < seq; ++i) std::this_thread::sleep_for(milliseconds(10));
    return ledger.HeadSeq();
  };

  // A request that goes through leaves an idle upstream connection behind.
  ProxyResponse warm = handle();
  REQUIRE(warm.status == 200);
  CHECK(upstream.requests == 1);
  REQUIRE(wait_for_head(2) == 2);  // its decision and its outcome

  fail = true;
  hold = true;
  std::vector<std::future<ProxyResponse>> failing;
  failing.push_back(std::async(std::launch::async, handle, false));
  in_write.get_future().wait();
  for (int i = 0; i < 3; ++i) {  // behind the held write: to sign, to commit, and queued
    const bool stream = i == 2;    // the streaming path waits on the gate in its reader
    failing.push_back(std::async(std::launch::async, handle, stream));
    std::this_thread::sleep_for(milliseconds(200));
  }
  release.set_value();
  for (auto& f : failing) {
    ProxyResponse res = f.get();
    CHECK(res.status == 503);
    CHECK(res.body.find("LEDGER_UNAVAILABLE") != std::string::npos);
    CHECK(Header(res, "X-Helm-Receipt-ID").empty());
    CHECK_FALSE(Header(res, "X-Helm-Correlation-ID").empty());
  }
  std::this_thread::sleep_for(milliseconds(100));  // anything sent would have arrived
  CHECK(upstream.requests == 1);
  CHECK(ledger.HeadSeq() == 2);  // no decision, no outcome

  fail = false;
  ProxyResponse after = handle();
  REQUIRE(after.status == 200);
  CHECK(upstream.requests == 2);
  const std::string receipt_id = Header(after, "X-Helm-Receipt-ID");
  Result<std::optional<std::string>> written = ledger.GetById(receipt_id);
  REQUIRE(written.ok());
  CHECK(written->has_value());
  REQUIRE(wait_for_head(4) == 4);
  receipt::ChainVerifier verifier({(*boundary)->data_dir().signing_key.public_key});
  Status read = ledger.ForEach(1, UINT64_MAX, [&](uint64_t, std::string_view stored) {
    verifier.Add(stored);
    return true;
  });
  CHECK(read.ok());
  CHECK(verifier.Finish().integrity_ok);
}

}  // namespace
}  // namespace helm
