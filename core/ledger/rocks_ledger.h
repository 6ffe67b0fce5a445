// RocksLedger: the Ledger implementation (internal to core/ledger). Split
// over ledger_open.cpp (open, meta, tail check), ledger_writer.cpp (the
// writer: signing, group commit, checkpoints) and ledger_read.cpp.
//
// Threading: any thread may call Append/Checkpoint and the readers. There is
// no writer thread: the appending threads take the writer's two roles in
// turn, as RocksDB's own write leader does, so that an append with nobody
// else in flight signs and writes in its own thread without a hand-off:
//   sign leader    takes up to max_batch queued pendings (its own first),
//                  signs them in seq order on the working head (work_) and
//                  builds one WriteBatch; then hands the role to the next
//                  waiting caller in the queue, if any (moved to its front);
//   commit leader  the signer of a batch then writes it (one fsync),
//                  publishes the durable head (durable_) and releases the
//                  batch's callers.
// The next sign leader signs once the batch before is written, not while it
// is: a batch then takes in everything queued during the write before it, so
// batches are larger and syncs fewer (docs/ledger.md, "Group commit"). It
// signs while that batch's callers are being released. A failed write fails
// its batch, and the next sign leader restarts from durable_.
// Detached appends (AppendDetached) join the queue without a waiting caller
// and ride along with the callers' batches; only when none is in flight does
// someone lead for them: with sync on, the ticker thread (after a linger),
// without it, their caller's thread at once. AppendAsync's receipts are
// detached too, but lead in their caller's thread when nobody signs, and
// never wait for the linger. The ticker also submits time-based checkpoints
// when the ledger is idle.
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

#include "core/crypto/crypto.h"
#include "core/ledger/ledger.h"
#include "core/ledger/ready_nonces.h"
#include "core/ledger/signing_template.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

#define HELM_GUARDED_BY(x)  // documentation; checked by review under g++
#define HELM_REQUIRES(x)    // the caller holds x

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
// The caller waits on it for its turn: to lead signing, to lead the commit of
// the batch it signed, or for its result. A detached pending (AppendDetached)
// is owned by the queue instead: nobody waits on it, it never leads, and its
// `detached` callback receives the result. (A mutex and condition variable per
// caller rather than std::binary_semaphore, whose libstdc++ wait spins on
// sched_yield, or one shared condition variable, which wakes every caller.)
struct Pending {
  enum class Kind { kReceipt, kCheckpoint, kTick };  // kTick: a checkpoint if one is due
  enum class Turn { kWait, kSign, kDone };

  PreparedReceipt prepared;      // kReceipt only
  crypto::SignatureNonce nonce;  // kReceipt: made by the caller, so the leader's
                                 // signature costs no scalar multiplication
  Kind kind = Kind::kReceipt;
  Ledger::DetachedDone detached;  // set: a detached pending, freed once done
  bool prompt = false;            // detached by AppendAsync: never lingers
  Result<Appended> result = MakeError(ErrorCode::kInternal, "not written");

  void Give(Turn turn) {
    std::lock_guard<std::mutex> lock(mu);
    turn_ = turn;
    cv.notify_one();
  }
  // Blocks until given a turn; kDone (result final) is the last one.
  Turn Take() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return turn_ != Turn::kWait; });
    return turn_ == Turn::kDone ? Turn::kDone : std::exchange(turn_, Turn::kWait);
  }

 private:
  std::mutex mu;
  std::condition_variable cv;
  Turn turn_ HELM_GUARDED_BY(mu) = Turn::kWait;
};

// A signed batch on its way to disk: the WriteBatch, its callers, and the
// chain state before and after it. (Destroyed only in .cpp files that
// include rocksdb/write_batch.h.)
struct Commit {
  std::vector<Pending*> batch;  // ticks excluded: they are done once signed
  std::unique_ptr<rocksdb::WriteBatch> wb;
  ChainState base;   // work_ before signing: durable_ when written
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
  // After StartWriter: when the head receipt was signed by another key than
  // this ledger's, appends a key_rotation receipt naming that signer.
  Status RecordKeyRotation();
  void PublishHeadForReadOnly();

  using Ledger::Append;
  using Ledger::AppendDetached;
  Result<Appended> Append(ReceiptDraft receipt) override;
  void AppendDetached(ReceiptDraft receipt, DetachedDone done) override;
  Result<std::string> AppendAsync(ReceiptDraft receipt, DetachedDone done) override;
  Result<Appended> Checkpoint() override;
  Result<std::optional<std::string>> Get(uint64_t seq) const override;
  Result<std::optional<std::string>> GetById(std::string_view receipt_id) const override;
  Result<std::vector<Appended>> List(uint64_t from_seq, size_t limit,
                                     std::string_view agent) const override;
  Status ForEach(uint64_t from_seq, uint64_t to_seq,
                 const std::function<bool(uint64_t, std::string_view)>& fn) const override;
  uint64_t HeadSeq() const override;
  std::string HeadHash() const override;
  const std::string& ledger_id() const override { return ledger_id_; }
  uint64_t WaitForAppend(uint64_t after_seq, std::chrono::milliseconds timeout) const override;

  bool fast_signing() const { return fast_signing_; }
  size_t ready_nonce_count() const { return ready_nonces_.size(); }

 private:
  enum Cf { kDefault = 0, kReceipts, kById, kByAgent, kMeta, kCfCount };

  // The receipt that an entry of `index` (by_id, by_agent) names. A receipt
  // and its index entries are written in one batch: an entry without its
  // receipt is damage too (kCorruption); a read error is returned as by Get.
  Result<std::string> GetIndexed(uint64_t seq, std::string_view index) const;
  // Compiles `receipt` into `pending` and gives it a signature nonce: a
  // ready one (with its receipt id) when the receipt has no id of its own
  // and one is ready, else one made here.
  Status PrepareReceipt(ReceiptDraft receipt, Pending* pending);
  // Whether `pending` may still be queued (ticks also while closing).
  bool Accepting(const Pending& pending) const HELM_REQUIRES(mu_);
  // Queues `pending`; true when the caller now leads signing, with `leader`
  // (its own pending, or a tick carrying a detached one) at the queue's head.
  // kUnavailable when the ledger no longer accepts it.
  Result<bool> Enqueue(Pending* pending, Pending* leader);
  Result<Appended> Submit(Pending* pending);
  // The turns of a waiting caller: it leads signing first when `lead`, then
  // whenever it is handed the role, until its own pending is done.
  void TakeTurns(Pending* self, bool lead);
  // Queues a detached pending (takes ownership).
  void SubmitDetached(Pending* pending);
  // Queues a detached `pending` (owned by the queue once queued) and, when
  // nobody is signing, leads its batch in this thread before returning.
  // True when it led.
  Result<bool> QueueAndLead(std::unique_ptr<Pending>& pending);
  // Asks the ticker thread to lead: detached receipts wait and nobody signs.
  void WakeTicker() HELM_REQUIRES(mu_);
  Status CreateMeta();
  bool CheckpointDue(const ChainState& state) const;
  void TickerLoop();

  // The sign leader only.
  void LeadSigning();
  std::unique_ptr<Commit> SignBatch(const std::vector<Pending*>& batch,
                                    std::unique_ptr<rocksdb::WriteBatch> wb);
  // The sign leader of `commit`, once it has handed the sign role on:
  // writes it and answers its callers.
  void LeadCommit(std::unique_ptr<Commit> commit);
  void WriteCommit(Commit* commit);
  // `nonce` (may be null: a deterministic signature) is spent.
  Result<Appended> AppendOne(const PreparedReceipt& prepared, crypto::SignatureNonce* nonce,
                             rocksdb::WriteBatch* wb);
  Result<Appended> AppendCheckpoint(rocksdb::WriteBatch* wb);
  // Puts the batch's by_id entries that AppendOne held back, in key order.
  void PutByIdSorted(rocksdb::WriteBatch* wb);
  // Sign `prepared` as receipt `seq` chained to head_hash_ at `time`.
  void SignFast(const PreparedReceipt& prepared, crypto::SignatureNonce* nonce, uint64_t seq,
                int64_t time_micros, Appended* out, std::string* hash);
  Status SignSlow(const PreparedReceipt& prepared, uint64_t seq, int64_t time_micros,
                  Appended* out, std::string* hash);

  const LedgerOptions options_;
  const crypto::KeyPair key_;
  const crypto::SigningKey signing_key_{key_.secret_key};  // key_, expanded once
  const bool read_only_;
  std::string ledger_id_;         // fixed after LoadMeta
  std::string signer_canonical_;  // JCS of the `signer` value for key_
  Json previous_signer_;          // set by CheckTail when the head's signer is another key
  bool fast_signing_ = true;      // false: every receipt goes through receipt::Sign
  // Made by their own thread on idle cores (StartWriter starts it): appends
  // take one instead of making their own. Declared after signing_key_,
  // which its thread uses until it is destroyed.
  ReadyNonces ready_nonces_{options_.ready_nonces, 100'000, options_.clock};

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cf_;  // indexed by Cf

  mutable std::mutex mu_;
  std::condition_variable disk_cv_;            // the sign leader waits for the write before
  std::condition_variable idle_cv_;            // the destructor waits for the leaders
  std::condition_variable ticker_cv_;          // the ticker's sleep
  mutable std::condition_variable append_cv_;  // tail waiters
  std::deque<Pending*> queue_ HELM_GUARDED_BY(mu_);
  bool signing_ HELM_GUARDED_BY(mu_) = false;                         // a sign leader is at work
  bool committing_ HELM_GUARDED_BY(mu_) = false;                      // a commit leader is at work
  bool writable_ HELM_GUARDED_BY(mu_) = false;                        // set by StartWriter
  bool stop_ HELM_GUARDED_BY(mu_) = false;                            // no more appends
  bool lead_wanted_ HELM_GUARDED_BY(mu_) = false;  // see WakeTicker
  bool rollback_ HELM_GUARDED_BY(mu_) = false;  // a write failed: the next sign leader
                                                // restarts from durable_
  ChainState durable_ HELM_GUARDED_BY(mu_);     // what is on disk; what readers see
  // The last written batch, cleared, for the next sign leader: its buffer
  // is reused rather than a batch-sized one allocated and freed per commit.
  std::unique_ptr<rocksdb::WriteBatch> spare_wb_ HELM_GUARDED_BY(mu_);

  // Sign-leader state (one sign leader at a time; handed over under mu_).
  ChainState work_;  // the head including signed, not yet durable receipts
  std::string signing_buf_, seq_text_, prev_text_, time_text_, sig_text_;
  std::string next_hash_;  // the next head hash, swapped with work_.head_hash
  // The batch's by_id entries, put sorted by receipt id at its end: ids are
  // minted ahead (ready nonces) or on demand, so in seq order half of them
  // would land before the previous one, and a memtable insert out of order
  // searches its skiplist from the top instead of from the last insert.
  struct ByIdEntry {
    uint32_t id_begin, id_size;  // in by_id_ids_
    uint64_t seq;
  };
  std::string by_id_ids_;
  std::vector<ByIdEntry> by_id_;
  std::thread ticker_;
};

}  // namespace helm::ledger_internal
