#include <rocksdb/version.h>

#include "core/ledger/rocksdb_version.h"

namespace helm {

std::string RocksDbVersion() {
  return std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." +
         std::to_string(ROCKSDB_PATCH);
}

}  // namespace helm
