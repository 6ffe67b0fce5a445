// Mutable state (API keys, approvals, counters) in its own RocksDB database at
// <data-dir>/state, so the ledger's code path has no delete and no overwrite.
// Thread-safe; writes are synced.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/result.h"

namespace helm {

class StateStore {
 public:
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path);
  virtual ~StateStore() = default;
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  virtual Status Delete(std::string_view key) = 0;
  virtual std::optional<std::string> Get(std::string_view key) const = 0;
  // All pairs whose key starts with prefix, in key order.
  virtual std::vector<std::pair<std::string, std::string>> Scan(std::string_view prefix) const = 0;
};

}  // namespace helm
