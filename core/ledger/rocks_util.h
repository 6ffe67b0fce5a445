// RocksDB at the edge: converts rocksdb::Status into helm's Error taxonomy.
// Only this module's .cpp files include RocksDB headers; this header only
// forward-declares. Thread-safe.
#pragma once

#include <string_view>

#include "core/common/result.h"

namespace rocksdb {
class Status;
}  // namespace rocksdb

namespace helm::ledger_internal {

// Corruption -> kCorruption (refuse to start); everything else (I/O error,
// no space, lock held by another process, busy) -> kUnavailable. `what`
// names the operation, e.g. "open /var/lib/helm/ledger".
Error FromRocks(const rocksdb::Status& status, std::string_view what);

}  // namespace helm::ledger_internal
