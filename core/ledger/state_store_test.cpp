#include "core/ledger/state_store.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/ledger/test_util.h"

namespace helm {
namespace {

using ledger_testing::TempDir;

TEST_CASE("StateStore: put, get, delete, scan by prefix, reopen") {
  TempDir dir;
  const std::string path = dir.Sub("state");
  {
    auto store = StateStore::Open(path);
    REQUIRE(store.ok());
    CHECK((*store)->Put("key/2", "two").ok());
    CHECK((*store)->Put("key/1", "one").ok());
    CHECK((*store)->Put("keyz", "other").ok());
    CHECK((*store)->Put("approval/a", std::string("bin\0ary", 7)).ok());
    CHECK((*store)->Get("key/1") == "one");
    CHECK_FALSE((*store)->Get("key/3").has_value());
    CHECK((*store)->Put("key/1", "uno").ok());  // overwrite
    CHECK((*store)->Get("key/1") == "uno");
    auto scan = (*store)->Scan("key/");
    REQUIRE(scan.size() == 2);
    CHECK(scan[0] == std::pair<std::string, std::string>{"key/1", "uno"});
    CHECK(scan[1] == std::pair<std::string, std::string>{"key/2", "two"});
    CHECK((*store)->Scan("").size() == 4);
    CHECK((*store)->Scan("nothing").empty());
    CHECK((*store)->Delete("key/2").ok());
    CHECK((*store)->Delete("key/absent").ok());
    CHECK_FALSE((*store)->Get("key/2").has_value());
  }
  auto store = StateStore::Open(path);
  REQUIRE(store.ok());
  CHECK((*store)->Get("key/1") == "uno");
  CHECK_FALSE((*store)->Get("key/2").has_value());
  CHECK((*store)->Get("approval/a") == std::string("bin\0ary", 7));
  CHECK((*store)->Scan("key").size() == 2);
}

TEST_CASE("StateStore: a second open of the same path is refused while the first is open") {
  TempDir dir;
  auto first = StateStore::Open(dir.Sub("state"));
  REQUIRE(first.ok());
  auto second = StateStore::Open(dir.Sub("state"));
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == ErrorCode::kUnavailable);
}

TEST_CASE("StateStore: concurrent writers") {
  TempDir dir;
  auto store = StateStore::Open(dir.Sub("state"));
  REQUIRE(store.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        CHECK((*store)->Put("c/" + std::to_string(t) + "/" + std::to_string(i), "v").ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK((*store)->Scan("c/").size() == 100);
}

}  // namespace
}  // namespace helm
