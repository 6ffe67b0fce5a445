// The single writer: takes up to max_batch pending receipts, signs them in
// seq order, and commits them with one WriteBatch (one fsync when sync is
// on). See docs/ledger.md, "Group commit".
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <string>
#include <utility>

#include "core/crypto/crypto.h"
#include "core/ledger/ledger_layout.h"
#include "core/ledger/rocks_ledger.h"
#include "core/ledger/rocks_util.h"
#include "core/receipt/receipt.h"

namespace helm::ledger_internal {
namespace {

namespace layout = ledger_layout;

void Quote(std::string_view text, std::string* out) {
  out->clear();
  out->push_back('"');
  out->append(text);
  out->push_back('"');
}

}  // namespace

void RocksLedger::StartWriter() {
  writer_ = std::thread([this] { WriterLoop(); });
}

void RocksLedger::PublishHeadForReadOnly() {
  std::lock_guard<std::mutex> lock(mu_);
  if (head_seq_ == 0) head_hash_ = receipt::kGenesisPrevHash;
  durable_seq_ = head_seq_;
  durable_hash_ = head_hash_;
}

Result<Appended> RocksLedger::Submit(Pending* pending) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || !writer_.joinable()) {
      return MakeError(ErrorCode::kUnavailable, "ledger is closed or read-only");
    }
    queue_.push_back(pending);
  }
  queue_cv_.notify_one();
  pending->done.acquire();
  return std::move(pending->result);
}

Result<Appended> RocksLedger::Append(Json receipt) {
  if (read_only_) return MakeError(ErrorCode::kUnavailable, "ledger is open read-only");
  bool caller_id = receipt.is_object() && receipt.contains("receipt_id");
  Result<PreparedReceipt> prepared = Prepare(std::move(receipt), ledger_id_, signer_canonical_);
  if (!prepared.ok()) return prepared.error();
  if (caller_id && GetById(prepared->receipt_id)) {
    return MakeError(ErrorCode::kConflict, "receipt_id " + prepared->receipt_id + " exists");
  }
  Pending pending;
  pending.prepared = std::move(*prepared);
  return Submit(&pending);
}

Result<Appended> RocksLedger::Checkpoint() {
  if (read_only_) return MakeError(ErrorCode::kUnavailable, "ledger is open read-only");
  Pending pending;
  pending.checkpoint = true;
  return Submit(&pending);
}

bool RocksLedger::CheckpointDueByTime() const {
  if (options_.checkpoint_interval_seconds <= 0 || since_checkpoint_ == 0) return false;
  return options_.clock->NowMicros() - checkpoint_micros_ >=
         options_.checkpoint_interval_seconds * 1000000;
}

void RocksLedger::WriterLoop() {
  std::vector<Pending*> batch;
  batch.reserve(options_.max_batch);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (queue_.empty() && !stop_ && !CheckpointDueByTime()) {
        // Wake at least once a second to notice a checkpoint falling due.
        queue_cv_.wait_for(lock, std::chrono::seconds(1));
      }
      if (queue_.empty() && stop_) return;  // every queued caller has been answered
      size_t n = std::min(queue_.size(), options_.max_batch);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    ProcessBatch(batch);
    batch.clear();
  }
}

void RocksLedger::ProcessBatch(const std::vector<Pending*>& batch) {
  const uint64_t start_seq = head_seq_;
  const std::string start_hash = head_hash_;
  const uint64_t start_checkpoint_seq = checkpoint_seq_;
  const uint64_t start_since = since_checkpoint_;
  const int64_t start_micros = checkpoint_micros_;

  rocksdb::WriteBatch wb;
  for (Pending* p : batch) {
    p->result = p->checkpoint ? AppendCheckpoint(&wb) : AppendOne(p->prepared, &wb);
    if (p->checkpoint || !p->result.ok()) continue;
    ++since_checkpoint_;
    if (options_.checkpoint_every > 0 && since_checkpoint_ >= options_.checkpoint_every) {
      AppendCheckpoint(&wb).value();  // cannot fail: a fixed, canonicalisable receipt
    }
  }
  if (CheckpointDueByTime()) AppendCheckpoint(&wb).value();
  if (head_seq_ == start_seq) {  // nothing to write (every receipt refused)
    for (Pending* p : batch) p->done.release();
    return;
  }
  wb.Put(cf_[kMeta], layout::kMetaHeadSeq, layout::EncodeSeq(head_seq_));
  wb.Put(cf_[kMeta], layout::kMetaHeadHash, head_hash_);
  if (checkpoint_seq_ != start_checkpoint_seq) {
    wb.Put(cf_[kMeta], layout::kMetaCheckpointSeq, layout::EncodeSeq(checkpoint_seq_));
  }
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  Status injected = options_.before_write ? options_.before_write() : Status::Ok();
  rocksdb::Status s = injected.ok() ? db_->Write(wo, &wb) : rocksdb::Status::IOError(
                                                                 injected.error().message);
  if (s.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      durable_seq_ = head_seq_;
      durable_hash_ = head_hash_;
    }
    append_cv_.notify_all();
  } else {
    // Nothing of this batch is durable: the next batch chains from the last
    // durable receipt, and every caller of this batch hears kUnavailable.
    Error error = FromRocks(s, "ledger write");
    error.code = ErrorCode::kUnavailable;
    head_seq_ = start_seq;
    head_hash_ = start_hash;
    checkpoint_seq_ = start_checkpoint_seq;
    since_checkpoint_ = start_since;
    checkpoint_micros_ = start_micros;
    for (Pending* p : batch) p->result = error;
  }
  for (Pending* p : batch) p->done.release();
}

Result<Appended> RocksLedger::AppendCheckpoint(rocksdb::WriteBatch* wb) {
  Json receipt = {{"kind", "checkpoint"},
                  {"checkpoint", {{"seq", head_seq_}, {"head_hash", head_hash_}}}};
  Result<PreparedReceipt> prepared = Prepare(std::move(receipt), ledger_id_, signer_canonical_);
  if (!prepared.ok()) return prepared.error();
  Result<Appended> appended = AppendOne(*prepared, wb);
  if (appended.ok()) {
    checkpoint_seq_ = appended->seq;
    since_checkpoint_ = 0;
    checkpoint_micros_ = options_.clock->NowMicros();
  }
  return appended;
}

Result<Appended> RocksLedger::AppendOne(const PreparedReceipt& prepared, rocksdb::WriteBatch* wb) {
  const uint64_t seq = head_seq_ + 1;
  Appended out;
  std::string hash;
  const std::string time = FormatRfc3339Micros(options_.clock->NowMicros());
  if (fast_signing_) {
    SignFast(prepared, seq, time, &out, &hash);
  } else {
    Status s = SignSlow(prepared, seq, time, &out, &hash);
    if (!s.ok()) return s.error();
  }
  const std::string key = layout::EncodeSeq(seq);
  wb->Put(cf_[kReceipts], key, out.stored);
  wb->Put(cf_[kById], out.receipt_id, key);
  if (layout::IndexableAgent(prepared.agent)) {
    wb->Put(cf_[kByAgent], layout::AgentKey(prepared.agent, seq), rocksdb::Slice());
  }
  head_seq_ = seq;
  head_hash_ = std::move(hash);
  return out;
}

void RocksLedger::SignFast(const PreparedReceipt& prepared, uint64_t seq,
                           const std::string& time, Appended* out, std::string* hash) {
  seq_text_ = std::to_string(seq);
  Quote(head_hash_, &prev_text_);
  Quote(time, &time_text_);
  SlotValues values{prev_text_, seq_text_, time_text_, {}};
  Render(prepared.signing, values, &signing_buf_);
  Quote(crypto::Base64UrlEncode(crypto::Sign(signing_buf_, key_.secret_key)), &sig_text_);
  values.signature = sig_text_;
  Render(prepared.stored, values, &out->stored);
  *hash = crypto::Sha256Tagged(out->stored);
  out->seq = seq;
  out->receipt_id = prepared.receipt_id;
}

Status RocksLedger::SignSlow(const PreparedReceipt& prepared, uint64_t seq,
                             const std::string& time, Appended* out, std::string* hash) {
  Json receipt = prepared.json;
  receipt["seq"] = seq;
  receipt["prev_hash"] = head_hash_;
  receipt["time"] = time;
  Result<receipt::Signed> signed_receipt = receipt::Sign(std::move(receipt), key_);
  if (!signed_receipt.ok()) return signed_receipt.error();
  out->stored = std::move(signed_receipt->canonical);
  *hash = std::move(signed_receipt->hash);
  out->seq = seq;
  out->receipt_id = prepared.receipt_id;
  return Status::Ok();
}

}  // namespace helm::ledger_internal
