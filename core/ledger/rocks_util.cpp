#include "core/ledger/rocks_util.h"

#include <rocksdb/status.h>

#include <string>

namespace helm::ledger_internal {

Error FromRocks(const rocksdb::Status& status, std::string_view what) {
  std::string message = std::string(what) + ": " + status.ToString();
  if (status.IsCorruption()) return MakeError(ErrorCode::kCorruption, std::move(message));
  return MakeError(ErrorCode::kUnavailable, std::move(message));
}

}  // namespace helm::ledger_internal
