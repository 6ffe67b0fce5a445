// The Sealer and LocalBoundary::SealDetached against a real LocalBoundary
// (policy, RocksDB ledger, keys) in a temporary data dir.
#include "core/boundary/sealer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/boundary/local_boundary.h"
#include "core/common/metrics.h"
#include "core/common/protocols.h"
#include "core/crypto/crypto.h"

namespace helm {
namespace {

struct Fixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("helm-sealer-" + crypto::HexEncode(crypto::RandomBytes(6)));
  BoundaryOptions options;
  std::unique_ptr<LocalBoundary> boundary;

  Fixture() {
    options.policy_path = std::string(HELM_SOURCE_DIR) + "/policies/development.toml";
    options.data_dir = dir.string();
    options.ledger.sync = false;
    boundary = std::move(LocalBoundary::Open(options).value());
  }
  // Closes the boundary (which drains what it was handed) and opens it again.
  void Reopen() {
    boundary.reset();
    boundary = std::move(LocalBoundary::Open(options).value());
  }
  ~Fixture() {
    boundary.reset();
    std::filesystem::remove_all(dir);
  }

  // An ALLOW decision to seal outcomes for.
  Decision Allowed() {
    EvaluateInput in;
    in.principal.agent = "sealer-test";
    in.principal.api_key_id = "key_test";
    in.protocol = kOpenAiChat;
    in.endpoint = "/v1/chat/completions";
    in.body =
        Json{{"model", "m"}, {"messages", Json::array({{{"role", "user"}, {"content", "hi"}}})}};
    in.request_hash = crypto::Sha256Tagged(DumpJson(in.body));
    Decision d = boundary->Evaluate(in).value();
    REQUIRE(d.verdict == Verdict::kAllow);
    return d;
  }

  Outcome OutcomeOf(const Decision& d, int n) {
    Outcome o;
    o.decision_id = d.decision_id;
    o.decision_receipt_id = d.receipt_id;
    o.principal.agent = "sealer-test";
    o.principal.api_key_id = "key_test";
    o.status = "completed";
    o.http_status = 200;
    o.output_hash = crypto::Sha256Tagged(std::to_string(n));
    return o;
  }

  // The ledger holds exactly the outcomes OutcomeOf(_, 0 .. n-1), each once.
  void CheckSealed(int n) {
    std::vector<std::string> expected;
    for (int i = 0; i < n; ++i) expected.push_back(crypto::Sha256Tagged(std::to_string(i)));
    std::vector<std::string> hashes = SealedHashes();
    std::sort(expected.begin(), expected.end());
    std::sort(hashes.begin(), hashes.end());
    CHECK(hashes == expected);
  }

  // Output hashes of the outcome receipts in the ledger, in seq order.
  std::vector<std::string> SealedHashes() {
    std::vector<std::string> hashes;
    Status read = boundary->ledger().ForEach(1, boundary->ledger().HeadSeq(),
                                             [&](uint64_t, std::string_view stored) {
                                               Json r = Json::parse(stored);
                                               if (r["kind"] == "outcome") {
                                                 hashes.push_back(r["output_hash"]);
                                               }
                                               return true;
                                             });
    CHECK(read.ok());
    return hashes;
  }
};

}  // namespace

TEST_CASE("Sealer: every submitted outcome is sealed by the time it is destroyed") {
  Fixture fx;
  std::vector<Decision> decisions;
  for (int i = 0; i < 50; ++i) decisions.push_back(fx.Allowed());
  {
    Sealer sealer(fx.boundary.get(), 4, 8);  // a short queue: some seal inline
    for (int i = 0; i < 50; ++i) sealer.Submit(fx.OutcomeOf(decisions[i], i));
  }
  fx.CheckSealed(50);
}

TEST_CASE("Sealer: with no room it seals in the caller's thread, before Submit returns") {
  Fixture fx;
  Decision d = fx.Allowed();
  Sealer sealer(fx.boundary.get(), 1, 0);
  sealer.Submit(fx.OutcomeOf(d, 7));
  CHECK(fx.SealedHashes() == std::vector<std::string>{crypto::Sha256Tagged("7")});
}

TEST_CASE("LocalBoundary::SealDetached: every outcome handed over is sealed by its close") {
  Fixture fx;
  std::vector<Decision> decisions;
  for (int i = 0; i < 50; ++i) decisions.push_back(fx.Allowed());
  std::vector<std::thread> threads;
  for (int t = 0; t < 5; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < 50; i += 5) fx.boundary->SealDetached(fx.OutcomeOf(decisions[i], i));
    });
  }
  for (std::thread& t : threads) t.join();
  // An outcome whose decision is not in the ledger is refused and counted.
  const int64_t failures = GetCounter("helm_seal_failures_total").value();
  Outcome orphan = fx.OutcomeOf(decisions[0], 99);
  orphan.decision_receipt_id = "rcpt_not_in_the_ledger";
  fx.boundary->SealDetached(orphan);
  CHECK(GetCounter("helm_seal_failures_total").value() == failures + 1);

  fx.Reopen();
  fx.CheckSealed(50);
}

}  // namespace helm
