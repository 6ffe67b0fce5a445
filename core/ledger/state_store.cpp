// StateStore on RocksDB: one database, default column family, every write
// synced. RocksDB's own locking makes every method thread-safe.
#include "core/ledger/state_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <filesystem>

#include "core/ledger/rocks_util.h"

namespace helm {
namespace {

using ledger_internal::FromRocks;

class RocksStateStore final : public StateStore {
 public:
  RocksStateStore(std::unique_ptr<rocksdb::DB> db,
                  std::function<Status(std::string_view)> before_read)
      : db_(std::move(db)), before_read_(std::move(before_read)) {}
  ~RocksStateStore() override { db_->Close().PermitUncheckedError(); }

  Status Put(std::string_view key, std::string_view value) override {
    rocksdb::Status s = db_->Put(SyncedWrite(), key, value);
    return s.ok() ? Status::Ok() : Status(FromRocks(s, "state put"));
  }

  Status Delete(std::string_view key) override {
    rocksdb::Status s = db_->Delete(SyncedWrite(), key);
    return s.ok() ? Status::Ok() : Status(FromRocks(s, "state delete"));
  }

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    if (Status injected = InjectedFault(key); !injected.ok()) return injected.error();
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, "state get");
    return std::optional<std::string>(std::move(value));
  }

  Result<std::vector<std::pair<std::string, std::string>>> Scan(
      std::string_view prefix) const override {
    if (Status injected = InjectedFault(prefix); !injected.ok()) return injected.error();
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      out.emplace_back(it->key().ToString(), it->value().ToString());
    }
    // An iterator stops on a read error as on the end of the data: only its status tells.
    if (!it->status().ok()) return FromRocks(it->status(), "state scan");
    return out;
  }

 private:
  static rocksdb::WriteOptions SyncedWrite() {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return wo;
  }

  Status InjectedFault(std::string_view key) const {
    return before_read_ ? before_read_(key) : Status::Ok();
  }

  std::unique_ptr<rocksdb::DB> db_;
  std::function<Status(std::string_view)> before_read_;
};

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::Open(const StateStoreOptions& state_options) {
  const std::string& path = state_options.path;
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  options.info_log = ledger_internal::StderrLogger("helm state (rocksdb)");
  // Mutable state: a torn last WAL record (crash mid-write) is dropped, any
  // other WAL damage stops the open.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &db);
  if (!s.ok()) return FromRocks(s, "open state " + path);
  return std::unique_ptr<StateStore>(std::make_unique<RocksStateStore>(
      std::unique_ptr<rocksdb::DB>(db), state_options.before_read));
}

}  // namespace helm
