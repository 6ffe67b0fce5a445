#include "core/ledger/direct_io.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "core/ledger/test_util.h"

namespace helm {
namespace {

using ledger_testing::TempDir;

TEST_CASE("the direct-write probe leaves nothing behind, and fails without a directory") {
  TempDir dir;
  const std::string path = dir.Sub("ledger");
  std::filesystem::create_directories(path);
  (void)ledger_internal::DirectWritesWork(path);  // either answer: it depends on the filesystem
  CHECK(std::filesystem::is_empty(path));
  CHECK_FALSE(ledger_internal::DirectWritesWork(dir.Sub("absent")));
  CHECK_FALSE(ledger_internal::DirectWritesWork(""));
}

}  // namespace
}  // namespace helm
