// RocksLedger: the Ledger implementation (internal to core/ledger). Split
// over ledger_open.cpp (open, meta, tail check), ledger_writer.cpp (the
// single writer: signing, group commit, checkpoints) and ledger_read.cpp.
//
// Threading: any thread may call Append/Checkpoint and the readers. Append
// enqueues a Pending and blocks on its semaphore; the writer thread owns the
// working head (head_, checkpoint counters, scratch buffers) and is the only
// thread that writes to the database. The durable head (durable_*) is what
// readers see; it changes under mu_ only after a successful write.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "core/ledger/ledger.h"
#include "core/ledger/signing_template.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

#define HELM_GUARDED_BY(x)  // documentation; checked by review under g++

namespace helm::ledger_internal {

// One caller's request to the writer, owned by the caller's stack frame.
struct Pending {
  PreparedReceipt prepared;  // unused when checkpoint is set
  bool checkpoint = false;   // a forced checkpoint (Ledger::Checkpoint)
  Result<Appended> result = MakeError(ErrorCode::kInternal, "not written");
  std::binary_semaphore done{0};  // released by the writer once result is final
};

class RocksLedger final : public Ledger {
 public:
  RocksLedger(LedgerOptions options, crypto::KeyPair key, bool read_only);
  ~RocksLedger() override;

  // Opening steps, called once by Ledger::Open / OpenReadOnly in this order.
  Status OpenDatabase();
  Status LoadMeta();
  Status CheckTail();
  Status InitSigner();
  void StartWriter();
  void PublishHeadForReadOnly();

  Result<Appended> Append(Json receipt) override;
  Result<Appended> Checkpoint() override;
  std::optional<std::string> Get(uint64_t seq) const override;
  std::optional<std::string> GetById(std::string_view receipt_id) const override;
  std::vector<Appended> List(uint64_t from_seq, size_t limit,
                             std::string_view agent) const override;
  void ForEach(uint64_t from_seq, uint64_t to_seq,
               const std::function<bool(uint64_t, std::string_view)>& fn) const override;
  uint64_t HeadSeq() const override;
  std::string HeadHash() const override;
  const std::string& ledger_id() const override { return ledger_id_; }
  uint64_t WaitForAppend(uint64_t after_seq, std::chrono::milliseconds timeout) const override;

  bool fast_signing() const { return fast_signing_; }

 private:
  enum Cf { kDefault = 0, kReceipts, kById, kByAgent, kMeta, kCfCount };

  Result<Appended> Submit(Pending* pending);
  Status CreateMeta();

  // Writer thread only.
  void WriterLoop();
  bool CheckpointDueByTime() const;
  void ProcessBatch(const std::vector<Pending*>& batch);
  Result<Appended> AppendOne(const PreparedReceipt& prepared, rocksdb::WriteBatch* wb);
  Result<Appended> AppendCheckpoint(rocksdb::WriteBatch* wb);
  // Sign `prepared` as receipt `seq` chained to head_hash_ at `time`.
  void SignFast(const PreparedReceipt& prepared, uint64_t seq, const std::string& time,
                Appended* out, std::string* hash);
  Status SignSlow(const PreparedReceipt& prepared, uint64_t seq, const std::string& time,
                  Appended* out, std::string* hash);

  const LedgerOptions options_;
  const crypto::KeyPair key_;
  const bool read_only_;
  std::string ledger_id_;         // fixed after LoadMeta
  std::string signer_canonical_;  // JCS of the `signer` value for key_
  bool fast_signing_ = true;      // false: every receipt goes through receipt::Sign

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cf_;  // indexed by Cf

  mutable std::mutex mu_;
  std::condition_variable queue_cv_;           // the writer waits for work
  mutable std::condition_variable append_cv_;  // tail waiters
  std::deque<Pending*> queue_ HELM_GUARDED_BY(mu_);
  bool stop_ HELM_GUARDED_BY(mu_) = false;
  uint64_t durable_seq_ HELM_GUARDED_BY(mu_) = 0;
  std::string durable_hash_ HELM_GUARDED_BY(mu_);

  // Writer-thread state (set up before the thread starts).
  uint64_t head_seq_ = 0;
  std::string head_hash_;
  uint64_t checkpoint_seq_ = 0;       // seq of the last checkpoint receipt (0 = none)
  uint64_t since_checkpoint_ = 0;     // receipts appended after it
  int64_t checkpoint_micros_ = 0;     // clock time of the last checkpoint (or of open)
  std::string signing_buf_, seq_text_, prev_text_, time_text_, sig_text_;
  std::thread writer_;
};

}  // namespace helm::ledger_internal
