#include "core/ledger/rocks_util.h"

#include <rocksdb/env.h>
#include <rocksdb/status.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string>

namespace helm::ledger_internal {

Error FromRocks(const rocksdb::Status& status, std::string_view what) {
  std::string message = std::string(what) + ": " + status.ToString();
  if (status.IsCorruption()) return MakeError(ErrorCode::kCorruption, std::move(message));
  return MakeError(ErrorCode::kUnavailable, std::move(message));
}

namespace {

class PrefixedStderrLogger : public rocksdb::Logger {
 public:
  explicit PrefixedStderrLogger(std::string_view prefix)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), prefix_(prefix) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[1024];
    int n = std::vsnprintf(line, sizeof line, format, ap);
    n = std::clamp(n, 0, static_cast<int>(sizeof line) - 1);
    while (n > 0 && line[n - 1] == '\n') --n;  // some of RocksDB's messages end in one
    std::fprintf(stderr, "%s: %.*s\n", prefix_.c_str(), n, line);
  }

 private:
  std::string prefix_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> StderrLogger(std::string_view prefix) {
  return std::make_shared<PrefixedStderrLogger>(prefix);
}

}  // namespace helm::ledger_internal
