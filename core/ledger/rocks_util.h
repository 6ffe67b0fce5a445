// RocksDB at the edge: converts rocksdb::Status into helm's Error taxonomy.
// Only this module's .cpp files include RocksDB headers; this header only
// forward-declares. Thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "core/common/result.h"

namespace rocksdb {
class Logger;
class Status;
}  // namespace rocksdb

namespace helm::ledger_internal {

// Corruption -> kCorruption (refuse to start); everything else (I/O error,
// no space, lock held by another process, busy) -> kUnavailable. `what`
// names the operation, e.g. "open /var/lib/helm/ledger".
Error FromRocks(const rocksdb::Status& status, std::string_view what);

// RocksDB's own log (Options::info_log): its warnings and errors on stderr,
// each line prefixed with `prefix`, nothing below WARN and no LOG file in the
// data dir. A LOG file fails on a full disk, and Debian's RocksDB build then
// aborts the process on the next line logged.
std::shared_ptr<rocksdb::Logger> StderrLogger(std::string_view prefix);

}  // namespace helm::ledger_internal
