// Mutable state (API keys, approvals, counters) in its own RocksDB database at
// <data-dir>/state, so the ledger's code path has no delete and no overwrite.
// Thread-safe; writes are synced.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/result.h"

namespace helm {

struct StateStoreOptions {
  std::string path;  // <data-dir>/state
  // Fault injection for tests: called before each read (Get with its key,
  // Scan with its prefix); a non-ok Status is returned as that read's error,
  // as a RocksDB read error is.
  std::function<Status(std::string_view key)> before_read = nullptr;
};

class StateStore {
 public:
  static Result<std::unique_ptr<StateStore>> Open(const StateStoreOptions& options);
  virtual ~StateStore() = default;
  virtual Status Put(std::string_view key, std::string_view value) = 0;
  virtual Status Delete(std::string_view key) = 0;
  // The value stored under key; nullopt when there is none. A read error (a
  // damaged file: kCorruption; an I/O error: kUnavailable) is returned
  // instead, so that it never reads as "no such record".
  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;
  // All pairs whose key starts with prefix, in key order; a read error (as
  // for Get) instead of a shorter list.
  virtual Result<std::vector<std::pair<std::string, std::string>>> Scan(
      std::string_view prefix) const = 0;
};

}  // namespace helm
