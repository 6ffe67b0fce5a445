// ApiKeys: limits on the key record, and a budgeted key's spend kept across
// a reopen of the state database.
#include "core/boundary/api_keys.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/common/ids.h"
#include "core/ledger/test_util.h"

namespace helm {
namespace {

std::string TempDir() {
  auto dir = std::filesystem::temp_directory_path() / NewId("helm-keys-test-");
  std::filesystem::create_directories(dir);
  return dir.string();
}

TEST_CASE("KeyLimits: the JSON form, set members only, invalid members refused") {
  KeyLimits l;
  l.lanes = {"balanced"};
  l.rpm = 60;
  l.budget_micros = 2500000;
  CHECK(l.ToJson() == Json{{"lanes", {"balanced"}}, {"rpm", 60}, {"budget_micros", 2500000}});
  auto back = KeyLimits::FromJson(l.ToJson());
  REQUIRE(back.ok());
  CHECK(back->lanes == l.lanes);
  CHECK(back->rpm == 60);
  CHECK(back->tpm == 0);
  CHECK(back->budget_micros == 2500000);
  CHECK(KeyLimits::FromJson(Json()).ok());  // absent: no limits
  CHECK_FALSE(KeyLimits().any());
  for (const char* bad : {R"({"rpm": -1})", R"({"rpm": 1.5})", R"({"rpm": "60"})",
                          R"({"rps": 1})", R"({"lanes": "balanced"})", R"({"lanes": [""]})",
                          R"([])", R"({"tpm": 9007199254740993})"}) {
    CAPTURE(bad);
    CHECK_FALSE(KeyLimits::FromJson(Json::parse(bad)).ok());
  }
  CHECK(KeyLimits::FromJson(Json::parse(R"({"tpm": 9007199254740992})")).ok());  // 2^53: at the limit
}

TEST_CASE("ApiKeys: a key's limits come with its principal, spend persists, budgeted keys only") {
  const std::string dir = TempDir();
  std::string limited_secret, plain_secret, limited_id, plain_id;
  {
    auto store = StateStore::Open({.path = dir});
    REQUIRE(store.ok());
    auto keys = ApiKeys::Load(store->get());
    REQUIRE(keys.ok());
    KeyLimits l;
    l.budget_micros = 1000;
    l.concurrency = 2;
    auto limited = (*keys)->Create("agent-a", l);
    auto plain = (*keys)->Create("agent-b");
    REQUIRE(limited.ok());
    REQUIRE(plain.ok());
    limited_secret = limited->secret;
    limited_id = limited->id;
    plain_secret = plain->secret;
    plain_id = plain->id;
    auto p = (*keys)->Authenticate(plain_secret);
    REQUIRE(p);
    CHECK(p->limits == nullptr);  // no limits: nothing to check on the request path
    CHECK((*keys)->AddSpend(limited_id, 400).ok());
    CHECK((*keys)->AddSpend(limited_id, 700).ok());
    CHECK((*keys)->AddSpend(plain_id, 5000).ok());  // no budget: not tracked
    p = (*keys)->Authenticate(limited_secret);
    REQUIRE(p);
    REQUIRE(p->limits != nullptr);
    CHECK(p->limits->concurrency == 2);
    CHECK(p->spent_micros == 1100);
  }
  auto store = StateStore::Open({.path = dir});
  REQUIRE(store.ok());
  auto keys = ApiKeys::Load(store->get());
  REQUIRE(keys.ok());
  auto p = (*keys)->Authenticate(limited_secret);
  REQUIRE(p);
  CHECK(p->spent_micros == 1100);  // survives the reopen
  CHECK(p->limits->budget_micros == 1000);
  CHECK((*store)->Get("spend/" + plain_id).value() == std::nullopt);
  REQUIRE((*keys)->Revoke(limited_id).ok());
  CHECK_FALSE((*keys)->Authenticate(limited_secret));
  bool listed = false;
  for (const Json& k : (*keys)->List()) {
    if (k["id"] == limited_id) {
      listed = true;
      CHECK(k["limits"] == Json{{"budget_micros", 1000}, {"concurrency", 2}});
      CHECK(k["spent_micros"] == 1100);
      CHECK(k["revoked"] == true);
    }
  }
  CHECK(listed);
  // An absurd cost saturates a spend instead of wrapping it negative.
  KeyLimits budget;
  budget.budget_micros = 1000;
  auto absurd = (*keys)->Create("agent-c", budget);
  REQUIRE(absurd.ok());
  for (int i = 0; i < 2; ++i) {
    CHECK((*keys)->AddSpend(absurd->id, INT64_MAX).ok());
    CHECK((*keys)->Authenticate(absurd->secret)->spent_micros == INT64_MAX);
  }
  store->reset();
  std::filesystem::remove_all(dir);
}

TEST_CASE("ApiKeys: a rotated key keeps its id, limits and spend, its old secret is refused") {
  const std::string dir = TempDir();
  std::string old_secret, new_secret, id;
  {
    auto store = StateStore::Open({.path = dir});
    REQUIRE(store.ok());
    auto keys = ApiKeys::Load(store->get());
    REQUIRE(keys.ok());
    KeyLimits limits;
    limits.rpm = 10;
    limits.budget_micros = 1000;
    auto created = (*keys)->Create("agent-a", limits);
    REQUIRE(created.ok());
    id = created->id;
    old_secret = created->secret;
    REQUIRE((*keys)->AddSpend(id, 300).ok());

    auto rotated = (*keys)->Rotate(id);
    REQUIRE(rotated.ok());
    new_secret = rotated->secret;
    CHECK(rotated->id == id);
    CHECK(rotated->agent == "agent-a");
    CHECK(rotated->limits.rpm == 10);
    CHECK(new_secret != old_secret);
    CHECK_FALSE((*keys)->Authenticate(old_secret));
    auto p = (*keys)->Authenticate(new_secret);
    REQUIRE(p);
    CHECK(p->api_key_id == id);
    CHECK(p->spent_micros == 300);
    REQUIRE((*keys)->AddSpend(id, 200).ok());  // charged to the key, whichever secret
    CHECK((*keys)->List().size() == 1);
    CHECK((*keys)->Rotate("key_unknown").error().code == ErrorCode::kNotFound);
  }
  auto store = StateStore::Open({.path = dir});  // the same after a reopen
  REQUIRE(store.ok());
  auto keys = ApiKeys::Load(store->get());
  REQUIRE(keys.ok());
  CHECK_FALSE((*keys)->Authenticate(old_secret));
  auto p = (*keys)->Authenticate(new_secret);
  REQUIRE(p);
  CHECK(p->spent_micros == 500);
  REQUIRE((*keys)->List().size() == 1);
  CHECK((*keys)->List()[0]["id"] == id);
  REQUIRE((*keys)->Revoke(id).ok());  // the current secret, not the replaced one
  CHECK_FALSE((*keys)->Authenticate(new_secret));
  CHECK((*keys)->Rotate(id).error().code == ErrorCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST_CASE("ApiKeys: a key's limits replaced, for the next authentication and after a reopen") {
  const std::string dir = TempDir();
  std::string secret, id;
  {
    auto store = StateStore::Open({.path = dir});
    REQUIRE(store.ok());
    auto keys = ApiKeys::Load(store->get());
    REQUIRE(keys.ok());
    KeyLimits limits;
    limits.rpm = 1;
    auto created = (*keys)->Create("agent-a", limits);
    REQUIRE(created.ok());
    id = created->id;
    secret = created->secret;
    REQUIRE((*keys)->AddSpend(id, 300).ok());  // no budget yet: not counted

    KeyLimits raised;
    raised.rpm = 100;
    raised.budget_micros = 5000;
    auto shown = (*keys)->SetLimits(id, raised);
    REQUIRE(shown.ok());
    CHECK((*shown)["limits"] == raised.ToJson());
    CHECK((*shown)["spent_micros"] == 0);
    auto p = (*keys)->Authenticate(secret);
    REQUIRE(p);
    REQUIRE(p->limits);
    CHECK(p->limits->rpm == 100);
    CHECK(p->limits->budget_micros == 5000);
    REQUIRE((*keys)->AddSpend(id, 200).ok());  // with a budget: counted from now on
    CHECK((*keys)->Authenticate(secret)->spent_micros == 200);
    CHECK((*keys)->SetLimits("key_unknown", raised).error().code == ErrorCode::kNotFound);
  }
  auto store = StateStore::Open({.path = dir});  // the same after a reopen
  REQUIRE(store.ok());
  auto keys = ApiKeys::Load(store->get());
  REQUIRE(keys.ok());
  auto p = (*keys)->Authenticate(secret);
  REQUIRE(p);
  REQUIRE(p->limits);
  CHECK(p->limits->rpm == 100);
  CHECK(p->spent_micros == 200);
  auto cleared = (*keys)->SetLimits(id, KeyLimits{});  // none
  REQUIRE(cleared.ok());
  CHECK_FALSE(cleared->contains("limits"));
  CHECK_FALSE((*keys)->Authenticate(secret)->limits);
  REQUIRE((*keys)->Revoke(id).ok());
  CHECK((*keys)->SetLimits(id, KeyLimits{}).error().code == ErrorCode::kNotFound);
  std::filesystem::remove_all(dir);
}

// Regression: a state database that could not be read loaded as one with
// fewer keys, so the bootstrap secret, rotated away, was registered again by
// EnsureBootstrap and accepted.
TEST_CASE("ApiKeys: a damaged state database refuses the load, a rotated bootstrap stays refused") {
  ledger_testing::TempDir dir;
  const std::string path = dir.Sub("state");
  const std::string bootstrap = "hk_bootstrap_secret";
  {
    auto store = StateStore::Open({.path = path});
    REQUIRE(store.ok());
    auto keys = ApiKeys::Load(store->get());
    REQUIRE(keys.ok());
    REQUIRE((*keys)->EnsureBootstrap(bootstrap).ok());
    REQUIRE((*keys)->Rotate(kBootstrapKeyId).ok());
    for (int i = 0; i < 10; ++i) REQUIRE((*keys)->Create("agent-" + std::to_string(i)).ok());
  }
  REQUIRE(StateStore::Open({.path = path}).ok());  // the open moves the WAL into an .sst
  REQUIRE_FALSE(ledger_testing::DamageLargestTable(path, 100).empty());
  auto store = StateStore::Open({.path = path});
  REQUIRE(store.ok());
  auto keys = ApiKeys::Load(store->get());
  REQUIRE_FALSE(keys.ok());
  CHECK(keys.error().code == ErrorCode::kCorruption);
  CHECK(keys.error().message.find("state: cannot read API keys") == 0);
}

// Regression: a budgeted key's spend that could not be read loaded as zero,
// a fresh budget.
TEST_CASE("ApiKeys: a spend that cannot be read refuses the load, never reads as zero") {
  ledger_testing::TempDir dir;
  bool fail_spend = false;
  StateStoreOptions options{dir.Sub("state"), [&fail_spend](std::string_view key) -> Status {
                              if (!fail_spend || !key.starts_with("spend/")) return Status::Ok();
                              return MakeError(ErrorCode::kUnavailable, "injected read error");
                            }};
  auto store = StateStore::Open(options);
  REQUIRE(store.ok());
  std::string id;
  {
    auto keys = ApiKeys::Load(store->get());
    REQUIRE(keys.ok());
    KeyLimits budget;
    budget.budget_micros = 1000;
    auto created = (*keys)->Create("agent-a", budget);
    REQUIRE(created.ok());
    id = created->id;
    REQUIRE((*keys)->AddSpend(id, 900).ok());
  }
  fail_spend = true;
  auto keys = ApiKeys::Load(store->get());
  REQUIRE_FALSE(keys.ok());
  CHECK(keys.error().code == ErrorCode::kUnavailable);
  CHECK(keys.error().message.find("state: cannot read the spend of API key " + id) == 0);
  fail_spend = false;
  keys = ApiKeys::Load(store->get());
  REQUIRE(keys.ok());
  CHECK((*keys)->List()[0]["spent_micros"] == 900);
}

}  // namespace
}  // namespace helm
