// Approvals whose records the state database cannot read: never unknown,
// never used, never listed short.
#include "core/boundary/approvals.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "core/ledger/test_util.h"

namespace helm {
namespace {

using ledger_testing::ManualClock;
using ledger_testing::TempDir;

struct Fixture {
  TempDir dir;
  ManualClock clock;
  bool fail_reads = false;
  std::unique_ptr<StateStore> store;
  std::unique_ptr<Approvals> approvals;

  Fixture() {
    StateStoreOptions options{dir.Sub("state"), [this](std::string_view) -> Status {
                                if (!fail_reads) return Status::Ok();
                                return MakeError(ErrorCode::kCorruption, "injected read error");
                              }};
    store = std::move(StateStore::Open(options).value());
    approvals = std::make_unique<Approvals>(store.get(), &clock, 900);
  }
  std::string Approved() {
    std::string id = approvals->Create("agent", "sha256:req", "dec_1", "R", "rule").value();
    REQUIRE(approvals->Decide(id, true, "operator").ok());
    return id;
  }
};

// Regression: an approval that could not be read was APPROVAL_NOT_FOUND (a
// DENY with the wrong reason) and an approvals list left it out.
TEST_CASE("an approval that cannot be read: unavailable, not unknown, and not used up") {
  Fixture f;
  const std::string id = f.Approved();
  const std::string pending =
      f.approvals->Create("agent", "sha256:other", "dec_2", "R", "rule").value();

  f.fail_reads = true;
  Status consumed = f.approvals->Consume(id, "agent", "sha256:req");
  REQUIRE_FALSE(consumed.ok());
  CHECK(consumed.error().code == ErrorCode::kUnavailable);
  CHECK(f.approvals->Decide(pending, true, "operator").error().code == ErrorCode::kUnavailable);
  CHECK(f.approvals->Get(id).error().code == ErrorCode::kUnavailable);
  Result<std::vector<Json>> listed = f.approvals->List("");
  REQUIRE_FALSE(listed.ok());
  CHECK(listed.error().code == ErrorCode::kUnavailable);

  f.fail_reads = false;  // nothing was written meanwhile
  CHECK(f.approvals->Get(pending).value()["status"] == "pending");
  CHECK(f.approvals->Get(id).value()["status"] == "approved");
  CHECK(f.approvals->Consume(id, "agent", "sha256:req").ok());
  CHECK(f.approvals->Consume(id, "agent", "sha256:req").error().message == "APPROVAL_USED");
  CHECK(f.approvals->Consume("apr_none", "agent", "sha256:req").error().message ==
        "APPROVAL_NOT_FOUND");
  CHECK(f.approvals->List("").value().size() == 2);
}

// A malformed record is damage like an unreadable one: unavailable (503
// LEDGER_UNAVAILABLE from the admin API, APPROVAL_UNAVAILABLE for a request),
// never a shorter list nor an internal error.
TEST_CASE("an approvals list with a malformed record is refused, not shortened") {
  Fixture f;
  f.Approved();
  REQUIRE(f.store->Put("approval/apr_bad", "{not json").ok());
  Result<std::vector<Json>> listed = f.approvals->List("");
  REQUIRE_FALSE(listed.ok());
  CHECK(listed.error().code == ErrorCode::kUnavailable);
  CHECK(listed.error().message.find("approval/apr_bad") != std::string::npos);
  CHECK(f.approvals->Get("apr_bad").error().code == ErrorCode::kUnavailable);
  CHECK(f.approvals->Consume("apr_bad", "agent", "sha256:req").error().code ==
        ErrorCode::kUnavailable);
  CHECK(f.approvals->Decide("apr_bad", true, "operator").error().code == ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace helm
