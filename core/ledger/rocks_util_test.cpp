// RocksDB's own log goes to stderr: neither database writes a LOG file into
// the data dir, where on a full disk it fails and Debian's RocksDB build then
// aborts the process on the next line logged.
#include <doctest/doctest.h>

#include <filesystem>

#include "core/crypto/crypto.h"
#include "core/ledger/ledger.h"
#include "core/ledger/state_store.h"
#include "core/ledger/test_util.h"

namespace helm {
namespace {

using ledger_testing::TempDir;

bool HasLogFile(const std::string& dir) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with("LOG")) return true;
  }
  return false;
}

TEST_CASE("the ledger and the state store write no RocksDB LOG file") {
  TempDir dir;
  {
    LedgerOptions options;
    options.path = dir.Sub("ledger");
    options.sync = false;
    crypto::Init();
    auto ledger = Ledger::Open(options, crypto::GenerateKeyPair());
    REQUIRE(ledger.ok());
    REQUIRE((*ledger)->Append(Json{{"kind", "decision"}}).ok());
    auto state = StateStore::Open({.path = dir.Sub("state")});
    REQUIRE(state.ok());
    REQUIRE((*state)->Put("k", "v").ok());
  }
  CHECK_FALSE(HasLogFile(dir.Sub("ledger")));
  CHECK_FALSE(HasLogFile(dir.Sub("state")));
}

}  // namespace
}  // namespace helm
