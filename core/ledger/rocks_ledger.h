// RocksLedger: the Ledger implementation (internal to core/ledger). Split
// over ledger_open.cpp (open, meta, tail check), ledger_writer.cpp (the
// single writer: signing, group commit, checkpoints) and ledger_read.cpp.
//
// Threading: any thread may call Append/Checkpoint and the readers. Append
// enqueues a Pending and blocks on its semaphore. Two internal threads form a
// two-stage pipeline so that signing batch N+1 overlaps the fsync of batch N:
//   signer    takes up to max_batch pendings, signs them in seq order on the
//             working head (work_), builds one WriteBatch, hands it on;
//   committer writes each WriteBatch (one fsync), then publishes the durable
//             head (durable_) and releases the batch's callers.
// A failed write fails its batch and every batch signed after it (their
// base is no longer durable), and the signer restarts from durable_.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
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

// The chain head and checkpoint bookkeeping, as one value so that a failed
// write can restore all of it.
struct ChainState {
  uint64_t head_seq = 0;
  std::string head_hash;
  uint64_t checkpoint_seq = 0;    // seq of the last checkpoint receipt (0 = none)
  uint64_t since_checkpoint = 0;  // receipts appended after it
  int64_t checkpoint_micros = 0;  // clock time of the last checkpoint (or of open)
};

// One caller's request to the writer, owned by the caller's stack frame.
// (A mutex and condition variable rather than std::binary_semaphore, whose
// libstdc++ wait spins on sched_yield: with 64 waiting callers on 2 cores the
// spinning took CPU from the signer.)
struct Pending {
  PreparedReceipt prepared;  // unused when checkpoint is set
  bool checkpoint = false;   // a forced checkpoint (Ledger::Checkpoint)
  Result<Appended> result = MakeError(ErrorCode::kInternal, "not written");

  // Called once by the writer after `result` is final.
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_one();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }

 private:
  std::mutex mu;
  std::condition_variable cv;
  bool done HELM_GUARDED_BY(mu) = false;
};

// A signed batch on its way to disk: the WriteBatch, its callers, and the
// chain state before and after it. (Destroyed only in .cpp files that
// include rocksdb/write_batch.h.)
struct Commit {
  std::vector<Pending*> batch;
  std::unique_ptr<rocksdb::WriteBatch> wb;
  ChainState base;   // work_ before signing: must equal durable_ when written
  ChainState after;  // work_ after signing: durable_ once written
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

  // Signer thread only.
  void SignerLoop();
  bool CheckpointDueByTime() const;
  std::unique_ptr<Commit> SignBatch(std::vector<Pending*> batch);
  // Committer thread only.
  void CommitterLoop();
  void WriteCommit(Commit* commit);
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
  std::condition_variable queue_cv_;           // the signer waits for work
  std::condition_variable commit_cv_;          // the committer waits for a commit; the
                                               // signer waits for room in commits_
  mutable std::condition_variable append_cv_;  // tail waiters
  std::deque<Pending*> queue_ HELM_GUARDED_BY(mu_);
  std::deque<std::unique_ptr<Commit>> commits_ HELM_GUARDED_BY(mu_);  // at most one waiting
  bool stop_ HELM_GUARDED_BY(mu_) = false;         // no more appends; the signer drains
  bool signer_done_ HELM_GUARDED_BY(mu_) = false;  // the committer drains and ends
  bool rollback_ HELM_GUARDED_BY(mu_) = false;     // a write failed: the signer restarts
                                                   // from durable_
  ChainState durable_ HELM_GUARDED_BY(mu_);        // what is on disk; what readers see

  // Signer-thread state (set up before the threads start).
  ChainState work_;  // the head including signed, not yet durable receipts
  std::string signing_buf_, seq_text_, prev_text_, time_text_, sig_text_;
  std::thread signer_;
  std::thread committer_;
};

}  // namespace helm::ledger_internal
