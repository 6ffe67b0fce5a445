// A defect on the proxy's request path (an exception after the decision):
// the real LocalBoundary, RocksDB ledger and ProxyService with the built-in
// mock upstream; the exception is thrown by the transport's liveness check,
// which the proxy calls once the upstream has answered.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/boundary/local_boundary.h"
#include "core/common/json.h"
#include "core/common/protocols.h"
#include "core/ledger/test_util.h"
#include "core/proxy/proxy_service.h"
#include "core/proxy/test_util.h"
#include "core/proxy/router.h"

namespace helm {
namespace {

using proxy_testing::Header;

TEST_CASE("an exception after an ALLOW: 500 in the client's shape, and its outcome sealed") {
  ledger_testing::TempDir dir;
  BoundaryOptions options;
  options.policy_path = HELM_SOURCE_DIR "/policies/development.toml";
  options.data_dir = dir.Sub("data");
  auto boundary = LocalBoundary::Open(options);
  REQUIRE(boundary.ok());
  auto router = Router::FromUpstreamUrl("mock://", {});
  REQUIRE(router.ok());
  ProxyService proxy(boundary->get(), router->get(), ProxyOptions{});

  ProxyRequest r;
  r.protocol = kOpenAiChat;
  r.endpoint = r.upstream_path = "/v1/chat/completions";
  r.body = R"({"model":"m","messages":[{"role":"user","content":"hello"}]})";
  r.content_type = "application/json";
  r.credential = (*boundary)->data_dir().bootstrap_key;
  r.client_alive = []() -> bool { throw std::runtime_error("injected defect"); };
  ProxyResponse res = proxy.Handle(std::move(r));

  CHECK(res.status == 500);
  Json body = Json::parse(res.body);
  CHECK(body["error"]["code"] == "INTERNAL");
  CHECK(Header(res, "X-Helm-Status") == "ALLOW");
  const std::string decision_receipt = Header(res, "X-Helm-Receipt-ID");
  REQUIRE_FALSE(decision_receipt.empty());
  CHECK(body["error"]["helm"]["receipt_id"] == decision_receipt);
  REQUIRE(res.after_send);
  res.after_send();  // as the HTTP adapter does once the answer is written

  Ledger& ledger = (*boundary)->ledger();
  for (int i = 0; i < 500 && ledger.HeadSeq() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(ledger.HeadSeq() == 2);
  Result<std::optional<std::string>> stored = ledger.Get(2);
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  Json outcome = Json::parse(**stored);
  CHECK(outcome["kind"] == "outcome");
  CHECK(outcome["parent"] == decision_receipt);
  CHECK(outcome["status"] == "error");
  CHECK(outcome["http_status"] == 500);
  // A remote boundary's seal API (helm serve) takes the same status.
  Outcome remote;
  remote.decision_id = outcome["decision_id"];
  remote.decision_receipt_id = decision_receipt;
  remote.status = outcome["status"];
  CHECK(Outcome::FromJson(remote.ToJson()).ok());
}

}  // namespace
}  // namespace helm
