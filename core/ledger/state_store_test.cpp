#include "core/ledger/state_store.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/ledger/test_util.h"

namespace helm {
namespace {

using ledger_testing::TempDir;
using Pairs = std::vector<std::pair<std::string, std::string>>;

// A read that must not fail: the value, or nullopt when there is none.
std::optional<std::string> Stored(const Result<std::optional<std::string>>& read) {
  REQUIRE(read.ok());
  return *read;
}

Pairs Scanned(const Result<Pairs>& scan) {
  REQUIRE(scan.ok());
  return *scan;
}

TEST_CASE("StateStore: put, get, delete, scan by prefix, reopen") {
  TempDir dir;
  const std::string path = dir.Sub("state");
  {
    auto store = StateStore::Open({.path = path});
    REQUIRE(store.ok());
    CHECK((*store)->Put("key/2", "two").ok());
    CHECK((*store)->Put("key/1", "one").ok());
    CHECK((*store)->Put("keyz", "other").ok());
    CHECK((*store)->Put("approval/a", std::string("bin\0ary", 7)).ok());
    CHECK(Stored((*store)->Get("key/1")) == "one");
    CHECK_FALSE(Stored((*store)->Get("key/3")).has_value());
    CHECK((*store)->Put("key/1", "uno").ok());  // overwrite
    CHECK(Stored((*store)->Get("key/1")) == "uno");
    auto scan = Scanned((*store)->Scan("key/"));
    REQUIRE(scan.size() == 2);
    CHECK(scan[0] == std::pair<std::string, std::string>{"key/1", "uno"});
    CHECK(scan[1] == std::pair<std::string, std::string>{"key/2", "two"});
    CHECK(Scanned((*store)->Scan("")).size() == 4);
    CHECK(Scanned((*store)->Scan("nothing")).empty());
    CHECK((*store)->Delete("key/2").ok());
    CHECK((*store)->Delete("key/absent").ok());
    CHECK_FALSE(Stored((*store)->Get("key/2")).has_value());
  }
  auto store = StateStore::Open({.path = path});
  REQUIRE(store.ok());
  CHECK(Stored((*store)->Get("key/1")) == "uno");
  CHECK_FALSE(Stored((*store)->Get("key/2")).has_value());
  CHECK(Stored((*store)->Get("approval/a")) == std::string("bin\0ary", 7));
  CHECK(Scanned((*store)->Scan("key")).size() == 2);
}

TEST_CASE("StateStore: a second open of the same path is refused while the first is open") {
  TempDir dir;
  auto first = StateStore::Open({.path = dir.Sub("state")});
  REQUIRE(first.ok());
  auto second = StateStore::Open({.path = dir.Sub("state")});
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == ErrorCode::kUnavailable);
}

TEST_CASE("StateStore: concurrent writers") {
  TempDir dir;
  auto store = StateStore::Open({.path = dir.Sub("state")});
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
  CHECK(Scanned((*store)->Scan("c/")).size() == 100);
}

// Regression: Get answered a read error as "no such record" and Scan ended at
// one as at the end of the data, so a damaged block read as absent state:
// an unsealed parent, an unknown approval, a key that was never rotated.
TEST_CASE("a damaged .sst file: Get and Scan return the read error, not none or a shorter list") {
  TempDir dir;
  const std::string path = dir.Sub("state");
  {
    auto store = StateStore::Open({.path = path});
    REQUIRE(store.ok());
    for (int i = 0; i < 20; ++i) {
      CHECK((*store)->Put("rec/" + std::to_string(100 + i), std::string(100, 'v')).ok());
    }
  }
  REQUIRE(StateStore::Open({.path = path}).ok());  // the open moves the WAL into an .sst
  REQUIRE_FALSE(ledger_testing::DamageLargestTable(path, 100).empty());
  auto store = StateStore::Open({.path = path});
  REQUIRE(store.ok());
  Result<std::optional<std::string>> read = (*store)->Get("rec/100");
  REQUIRE_FALSE(read.ok());
  CHECK(read.error().code == ErrorCode::kCorruption);
  Result<Pairs> scan = (*store)->Scan("rec/");
  REQUIRE_FALSE(scan.ok());
  CHECK(scan.error().code == ErrorCode::kCorruption);
  // A key past the damaged table's range is not in it: none, as before.
  CHECK_FALSE(Stored((*store)->Get("zzz")).has_value());
}

TEST_CASE("StateStore: before_read fails a read as a RocksDB read error does") {
  TempDir dir;
  bool fail = false;
  auto store = StateStore::Open({dir.Sub("state"), [&fail](std::string_view key) -> Status {
                                   if (!fail || !key.starts_with("x/")) return Status::Ok();
                                   return MakeError(ErrorCode::kUnavailable, "injected read error");
                                 }});
  REQUIRE(store.ok());
  REQUIRE((*store)->Put("x/1", "one").ok());
  CHECK(Stored((*store)->Get("x/1")) == "one");
  fail = true;
  CHECK((*store)->Get("x/1").error().code == ErrorCode::kUnavailable);
  CHECK((*store)->Scan("x/").error().code == ErrorCode::kUnavailable);
  CHECK_FALSE(Stored((*store)->Get("y/1")).has_value());  // other keys still read
  fail = false;
  CHECK(Scanned((*store)->Scan("x/")).size() == 1);
}

}  // namespace
}  // namespace helm
