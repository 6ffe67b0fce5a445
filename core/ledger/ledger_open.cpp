// Opening a ledger: database and column families, meta, the tail check and
// the signer self-check. See docs/ledger.md.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>

#include "core/crypto/crypto.h"
#include "core/ledger/direct_io.h"
#include "core/ledger/ledger_layout.h"
#include "core/ledger/rocks_ledger.h"
#include "core/ledger/rocks_util.h"
#include "core/ledger/tail_check.h"
#include "core/receipt/jcs.h"
#include "core/receipt/receipt.h"

namespace helm {
namespace ledger_internal {
namespace {

namespace fs = std::filesystem;
namespace layout = ledger_layout;

const char* const kCfNames[] = {"default", layout::kReceiptsCf, layout::kByIdCf, layout::kByAgentCf,
                                layout::kMetaCf};

// True when `path` holds a RocksDB database; an error when it holds
// something else (a foreign directory is never turned into a new ledger).
Result<bool> DatabaseExists(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return false;
  if (fs::exists(fs::path(path) / "CURRENT", ec)) return true;
  if (fs::is_directory(path, ec) && fs::is_empty(path, ec)) return false;
  return MakeError(ErrorCode::kConfig, path + " exists and is not a helm ledger");
}

rocksdb::Options BaseOptions() {
  rocksdb::Options options;
  // An audit log never opens on a silently shortened history: any WAL
  // corruption stops the open (docs/ledger.md, "Corruption").
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kAbsoluteConsistency;
  options.paranoid_checks = true;
  options.max_open_files = 512;
  // Memory and the WAL stay bounded however long the ledger runs. Four
  // column families with their own 64 MiB memtables (two each while one
  // flushes) could hold 512 MiB, and the index and meta families fill so
  // slowly that every WAL file since their last flush stays live (4x the
  // memtables by default) for a restart to replay.
  options.db_write_buffer_size = 128 << 20;  // every family's memtables together
  options.max_total_wal_size = 256 << 20;    // beyond it, the oldest WAL's families flush
  options.info_log = StderrLogger("helm ledger (rocksdb)");
  // Keys arrive in order (seqs, time-ordered receipt ids): a memtable insert
  // starts its search where the previous one ended.
  options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(0));
  return options;
}

// Obsolete WAL and table files are deleted a slice at a time. On a
// filesystem mounted with `discard`, unlinking a file trims all its blocks
// at once, and the WAL syncs queued behind the trim wait for it: 36 ms for
// a 256 MiB file on the VMs helm is developed on (docs/ledger.md,
// "Files are deleted a slice at a time").
std::shared_ptr<rocksdb::SstFileManager> PacedDeletes(const std::shared_ptr<rocksdb::Logger>& log) {
  constexpr int64_t kBytesPerSecond = int64_t{128} << 20;
  constexpr uint64_t kSliceBytes = uint64_t{1} << 20;
  // Files wait to be deleted until the waiting ones reach 4x the table
  // files' size; beyond, they go at once. A new ledger has few table files.
  constexpr double kMaxWaitingRatio = 4.0;
  return std::shared_ptr<rocksdb::SstFileManager>(
      rocksdb::NewSstFileManager(rocksdb::Env::Default(), log, /*trash_dir=*/"", kBytesPerSecond,
                                 /*delete_existing_trash=*/true, /*status=*/nullptr,
                                 kMaxWaitingRatio, kSliceBytes));
}

}  // namespace

RocksLedger::RocksLedger(LedgerOptions options, crypto::KeyPair key, bool read_only)
    : options_(std::move(options)), key_(std::move(key)), read_only_(read_only) {}

Status RocksLedger::OpenDatabase() {
  Result<bool> exists = DatabaseExists(options_.path);
  if (!exists.ok()) return exists.error();
  if (read_only_ && !*exists) {
    return MakeError(ErrorCode::kNotFound, "no ledger at " + options_.path);
  }
  rocksdb::Options options = BaseOptions();
  // Table files are written once and read rarely: kept out of the page
  // cache, whose growth with the ledger costs every later write (docs/ledger.md).
  options.use_direct_io_for_flush_and_compaction = !read_only_ && DirectWritesWork(options_.path);
  if (!read_only_) options.sst_file_manager = PacedDeletes(options.info_log);
  options.create_if_missing = !*exists;
  options.create_missing_column_families = !*exists;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* name : kCfNames) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      read_only_ ? rocksdb::DB::OpenForReadOnly(options, options_.path, descriptors, &cf_, &db)
                 : rocksdb::DB::Open(options, options_.path, descriptors, &cf_, &db);
  if (!s.ok()) return FromRocks(s, "open ledger " + options_.path);
  db_.reset(db);
  return Status::Ok();
}

Status RocksLedger::CreateMeta() {
  ledger_id_ = "ldg_" + NewUlid(options_.clock->NowMicros() / 1000);
  rocksdb::WriteBatch wb;
  wb.Put(cf_[kMeta], layout::kMetaFormat, layout::kFormatVersion);
  wb.Put(cf_[kMeta], layout::kMetaLedgerId, ledger_id_);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &wb);
  if (!s.ok()) return FromRocks(s, "create ledger meta");
  return Status::Ok();
}

Status RocksLedger::LoadMeta() {
  auto read = [&](const char* key, std::string* value) {
    return db_->Get(rocksdb::ReadOptions(), cf_[kMeta], key, value);
  };
  std::string value;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_[kReceipts]));
  it->SeekToLast();
  if (!it->status().ok()) return FromRocks(it->status(), "read ledger tail");
  uint64_t last_key = 0;
  if (it->Valid()) last_key = layout::DecodeSeq(it->key().ToStringView()).value_or(UINT64_MAX);

  rocksdb::Status s = read(layout::kMetaLedgerId, &ledger_id_);
  if (s.IsNotFound() && last_key == 0 && !read_only_) return CreateMeta();  // new (or half-created)
  if (!s.ok()) return MakeError(ErrorCode::kCorruption, "ledger meta has no ledger_id");
  if (!read(layout::kMetaFormat, &value).ok() || value != layout::kFormatVersion) {
    return MakeError(ErrorCode::kCorruption,
                     "ledger meta format is not " + std::string(layout::kFormatVersion));
  }
  work_.head_hash = receipt::kGenesisPrevHash;
  if (read(layout::kMetaHeadSeq, &value).ok()) {
    work_.head_seq = layout::DecodeSeq(value).value_or(UINT64_MAX);
    if (!read(layout::kMetaHeadHash, &work_.head_hash).ok()) work_.head_hash.clear();
  }
  if (read(layout::kMetaCheckpointSeq, &value).ok()) {
    work_.checkpoint_seq = layout::DecodeSeq(value).value_or(0);
  }
  if (work_.head_seq != last_key) {
    return MakeError(ErrorCode::kCorruption,
                     "ledger corrupt at seq " + std::to_string(std::max(work_.head_seq, last_key)) +
                         ": meta head seq " + std::to_string(work_.head_seq) +
                         " but the last stored receipt is seq " + std::to_string(last_key));
  }
  return Status::Ok();
}

Status RocksLedger::CheckTail() {
  if (work_.head_seq == 0) work_.head_hash = receipt::kGenesisPrevHash;
  Result<TailInfo> tail = VerifyTail(work_.head_seq, work_.head_hash, ledger_id_, kTailWindow,
                                     [this](uint64_t seq) { return Get(seq); });
  if (!tail.ok()) return tail.error();
  // The head receipt's signer is another key: allowed, said once at start,
  // and recorded as a key_rotation receipt once the writer runs.
  const std::string& previous_key_id = tail->last_signer_key_id;
  const std::string current_key_id = crypto::KeyId(key_.public_key);
  if (!read_only_ && !previous_key_id.empty() && previous_key_id != current_key_id) {
    std::fprintf(stderr,
                 "helm ledger: signing key %s differs from the key %s of the head receipt; "
                 "earlier receipts stay verifiable under their own key\n",
                 current_key_id.c_str(), previous_key_id.c_str());
    previous_signer_ = tail->last_signer;
  }
  work_.since_checkpoint = work_.head_seq - std::min(work_.head_seq, work_.checkpoint_seq);
  work_.checkpoint_micros = options_.clock->NowMicros();
  std::lock_guard<std::mutex> lock(mu_);
  durable_ = work_;
  return Status::Ok();
}

Status RocksLedger::InitSigner() {
  // The signer member exactly as receipt::Sign writes it for this key.
  Json probe = {{"kind", "probe"},
                {"receipt_id", "rcpt_probe"},
                {"principal", {{"agent", "probe-\xC3\xA9\xF0\x9F\x98\x80"}, {"api_key_id", "k"}}},
                {"request", {{"stream", true}, {"hash", "sha256:00"}, {"n", -7}}},
                {"\xE2\x82\xAC", "euro"},
                {"\xF0\x9F\x98\x80", "emoji"},
                {"route", {{"attempts", Json::array({1, "x", nullptr})}}}};
  Result<receipt::Signed> reference = receipt::Sign(probe, key_);
  if (!reference.ok()) return reference.error();
  Result<std::string> signer = Canonicalize(reference->json["signer"]);
  if (!signer.ok()) return signer.error();
  signer_canonical_ = std::move(*signer);

  // Self-check: the template path must give receipt::Sign's bytes.
  Result<ReceiptDraft> draft = ReceiptDraft::FromJson(probe);
  if (!draft.ok()) return draft.error();
  Result<PreparedReceipt> prepared =
      Prepare(std::move(*draft), "ldg_probe", signer_canonical_, /*keep_json=*/true);
  if (!prepared.ok()) return prepared.error();
  Appended fast;
  std::string fast_hash;
  Appended slow;
  std::string slow_hash;
  const int64_t time = 1700000000123456;
  SignFast(*prepared, nullptr, 42, time, &fast, &fast_hash);  // deterministic, comparable
  Status s = SignSlow(*prepared, 42, time, &slow, &slow_hash);
  if (!s.ok()) return s;
  fast_signing_ = fast.stored == slow.stored && fast_hash == slow_hash;
  if (!fast_signing_) {
    std::fprintf(stderr,
                 "helm ledger: template signing differs from receipt::Sign; "
                 "using receipt::Sign for every receipt\n");
  }
  return Status::Ok();
}

RocksLedger::~RocksLedger() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;  // no new appends
  }
  ticker_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
  // Appends already queued are signed and written by their own callers;
  // detached ones, by this thread leading as the ticker would.
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!writable_ || std::none_of(queue_.begin(), queue_.end(),
                                     [](const Pending* p) { return p->detached; })) {
        break;
      }
    }
    Pending tick;
    tick.kind = Pending::Kind::kTick;
    (void)Submit(&tick);
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [&] { return queue_.empty() && !signing_ && !committing_; });
  }
  if (db_) {
    for (rocksdb::ColumnFamilyHandle* h : cf_) db_->DestroyColumnFamilyHandle(h);
    cf_.clear();
    db_->Close().PermitUncheckedError();
  }
}

}  // namespace ledger_internal

Result<std::unique_ptr<Ledger>> Ledger::Open(const LedgerOptions& options,
                                             const crypto::KeyPair& signing_key) {
  crypto::Init();
  if (options.path.empty()) return MakeError(ErrorCode::kConfig, "ledger path is empty");
  if (options.max_batch == 0 || options.clock == nullptr) {
    return MakeError(ErrorCode::kConfig, "ledger max_batch must be > 0 and clock set");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  auto ledger = std::make_unique<ledger_internal::RocksLedger>(options, signing_key, false);
  Status s = ledger->OpenDatabase();
  if (s.ok()) s = ledger->LoadMeta();
  if (s.ok()) s = ledger->CheckTail();
  if (s.ok()) s = ledger->InitSigner();
  if (!s.ok()) return s.error();
  if (!options.sync) {
    std::fprintf(stderr,
                 "helm ledger: WARNING ledger.sync = none: acknowledged receipts may be "
                 "lost on power failure; for benchmarks only\n");
  }
  ledger->StartWriter();
  if (Status rotation = ledger->RecordKeyRotation(); !rotation.ok()) return rotation.error();
  return std::unique_ptr<Ledger>(std::move(ledger));
}

Result<std::unique_ptr<Ledger>> Ledger::OpenReadOnly(const std::string& path) {
  crypto::Init();
  LedgerOptions options;
  options.path = path;
  auto ledger = std::make_unique<ledger_internal::RocksLedger>(options, crypto::KeyPair{}, true);
  Status s = ledger->OpenDatabase();
  if (s.ok()) s = ledger->LoadMeta();
  if (!s.ok()) return s.error();
  // No tail check: verify and export must be able to read a damaged ledger.
  ledger->PublishHeadForReadOnly();
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace helm
