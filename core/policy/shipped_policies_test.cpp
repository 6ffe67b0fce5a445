// Every shipped policy (policies/*.toml) loads and passes its decision vectors
// (policies/vectors/<policy-name>/), so CI catches a policy/vector drift.
#include <doctest/doctest.h>

#include <filesystem>

#include "core/policy/policy.h"
#include "core/policy/vectors.h"

namespace helm {
namespace {

namespace fs = std::filesystem;

TEST_CASE("shipped policies load and pass their decision vectors") {
  fs::path root = fs::path(HELM_SOURCE_DIR) / "policies";
  int policies = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.path().extension() != ".toml") continue;
    ++policies;
    std::string name = entry.path().stem().string();
    CAPTURE(name);
    auto policy = Policy::LoadFile(entry.path().string());
    REQUIRE_MESSAGE(policy.ok(), policy.error().message);
    CHECK((*policy)->id() == name);
    auto report = RunVectors(**policy, (root / "vectors" / name).string());
    REQUIRE_MESSAGE(report.ok(), report.error().message);
    CHECK_MESSAGE(report->ok(), report->ToText());
    CHECK(report->passed >= 2 * (*policy)->rule_count());
  }
  CHECK(policies >= 3);
}

}  // namespace
}  // namespace helm
