// Test-only helpers for the ledger module's tests (and the state store's
// users): a fresh temporary directory per test (removed afterwards), a manual
// clock, and a damaged table file.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/common/ids.h"

namespace helm::ledger_testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "helm-ledger-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t micros = 1'750'000'000'000'000) : now_(micros) {}
  int64_t NowMicros() const override { return now_.load(); }
  void Advance(int64_t micros) { now_ += micros; }

 private:
  std::atomic<int64_t> now_;
};

// Flips one bit of the byte at `offset` in the largest .sst file of the
// RocksDB database at `db_path` (inside its first data block when that is
// longer than `offset`), as a damaged disk would; returns that file, or an
// empty path when there is no .sst file. The database must be closed.
inline std::filesystem::path DamageLargestTable(const std::string& db_path, std::streamoff offset) {
  std::filesystem::path largest;
  for (const auto& entry : std::filesystem::directory_iterator(db_path)) {
    if (entry.path().extension() == ".sst" &&
        (largest.empty() || entry.file_size() > std::filesystem::file_size(largest))) {
      largest = entry.path();
    }
  }
  if (largest.empty()) return largest;
  std::fstream file(largest, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(offset);
  char byte = 0;
  file.read(&byte, 1);
  file.seekp(offset);
  file.put(static_cast<char>(byte ^ 0x01));
  return largest;
}

}  // namespace helm::ledger_testing
