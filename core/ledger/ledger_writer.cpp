// The writer: a sign leader takes up to max_batch pending receipts and signs
// them in seq order, a commit leader writes them with one WriteBatch (one
// fsync when sync is on). See rocks_ledger.h and docs/ledger.md, "Group
// commit".
#include <pthread.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "core/common/metrics.h"
#include "core/crypto/crypto.h"
#include "core/crypto/ed25519_base.h"
#include "core/ledger/ledger_layout.h"
#include "core/ledger/rocks_ledger.h"
#include "core/ledger/rocks_util.h"
#include "core/receipt/receipt.h"

namespace helm::ledger_internal {
namespace {

namespace layout = ledger_layout;

// A written batch's buffer is kept for the next batch up to this size.
constexpr size_t kKeptBatchBytes = size_t{1} << 20;
// Upper bounds of helm_ledger_write_receipts: receipts (checkpoints included) per write.
constexpr double kBatchBounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

void Quote(std::string_view text, std::string* out) {
  out->clear();
  out->push_back('"');
  out->append(text);
  out->push_back('"');
}

// Hands a pending its final result: its waiting caller wakes, or a detached
// pending's callback runs here and the pending is freed.
void Complete(Pending* pending) {
  if (pending->detached) {
    pending->detached(pending->result);
    delete pending;
  } else {
    pending->Give(Pending::Turn::kDone);
  }
}

}  // namespace

void RocksLedger::StartWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    writable_ = true;
  }
  // The batched nonce multiplication checks itself against libsodium on
  // first use: here, at start, rather than on a first request.
  if (fast_signing_ && !crypto::FastBaseAvailable()) {
    std::fprintf(stderr,
                 "helm ledger: the batched nonce multiplication failed its self-test; "
                 "nonces are made one at a time with libsodium\n");
  }
  if (fast_signing_ && options_.ready_nonces > 0) {
    ready_nonces_.StartMakers(signing_key_);
  }
  ticker_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "helm-ledger");  // at most 15 characters
    TickerLoop();
  });
}

void RocksLedger::PublishHeadForReadOnly() {
  std::lock_guard<std::mutex> lock(mu_);
  if (work_.head_seq == 0) work_.head_hash = receipt::kGenesisPrevHash;
  durable_ = work_;
}

bool RocksLedger::Accepting(const Pending& pending) const {
  return writable_ && (!stop_ || pending.kind == Pending::Kind::kTick);
}

void RocksLedger::WakeTicker() {
  // Once asked, the ticker leads for whatever is queued by then: a second
  // call would only wake it in its linger to sleep again.
  if (std::exchange(lead_wanted_, true)) return;
  ticker_cv_.notify_one();
}

Result<bool> RocksLedger::Enqueue(Pending* pending, Pending* leader) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!Accepting(*pending)) {
    return MakeError(ErrorCode::kUnavailable, "ledger is closed or read-only");
  }
  // Nobody signing: this caller leads, in its own thread, with `leader`
  // first (detached ones may be queued). Otherwise a leader hands it a turn
  // or its result.
  const bool lead = !signing_;
  signing_ = true;
  if (lead && leader == pending) {
    queue_.push_front(pending);
    return true;
  }
  queue_.push_back(pending);
  if (lead) queue_.push_front(leader);
  return lead;
}

Result<Appended> RocksLedger::Submit(Pending* pending) {
  Result<bool> lead = Enqueue(pending, pending);
  if (!lead.ok()) return lead.error();
  TakeTurns(pending, *lead);
  return std::move(pending->result);
}

void RocksLedger::TakeTurns(Pending* self, bool lead) {
  for (Pending::Turn turn = lead ? Pending::Turn::kSign : self->Take();
       turn != Pending::Turn::kDone; turn = self->Take()) {
    LeadSigning();
  }
}

void RocksLedger::SubmitDetached(Pending* pending) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Accepting(*pending)) {
      queue_.push_back(pending);
      if (!signing_) WakeTicker();
      return;
    }
  }
  pending->result = MakeError(ErrorCode::kUnavailable, "ledger is closed or read-only");
  Complete(pending);
}

Status RocksLedger::PrepareReceipt(ReceiptDraft receipt, Pending* pending) {
  if (read_only_) return MakeError(ErrorCode::kUnavailable, "ledger is open read-only");
  // A receipt without receipt_id gets a fresh one (80 random bits per
  // millisecond): only an id the caller chose can already be in the ledger,
  // so only those cost a by_id read. LocalBoundary leaves the id to the ledger.
  const bool caller_id = !receipt.receipt_id.empty();
  std::optional<ReadyNonces::Entry> ready;
  if (!caller_id && fast_signing_ && (ready = ready_nonces_.Take())) {
    receipt.receipt_id = std::move(ready->receipt_id);
  }
  // The JSON form is only needed by receipt::Sign (the fallback path).
  Result<PreparedReceipt> prepared =
      Prepare(std::move(receipt), ledger_id_, signer_canonical_, /*keep_json=*/!fast_signing_);
  if (!prepared.ok()) return prepared.error();
  if (caller_id) {
    // A read error may hide a duplicate: refused, as a write error is.
    Result<std::optional<std::string>> existing = GetById(prepared->receipt_id);
    if (!existing.ok()) {
      return MakeError(ErrorCode::kUnavailable,
                       "receipt_id " + prepared->receipt_id +
                           " cannot be checked for a duplicate: " + existing.error().message);
    }
    if (*existing) {
      return MakeError(ErrorCode::kConflict, "receipt_id " + prepared->receipt_id + " exists");
    }
  }
  pending->prepared = std::move(*prepared);
  // The signature's scalar multiplication happens here, in parallel across
  // callers, instead of on the single chain (crypto.h, PrepareSignature).
  if (ready) {
    pending->nonce = std::move(ready->nonce);
  } else if (fast_signing_) {
    pending->nonce = crypto::PrepareSignature(signing_key_, pending->prepared.receipt_id);
  }
  return Status::Ok();
}

Result<Appended> RocksLedger::Append(ReceiptDraft receipt) {
  Pending pending;
  if (Status s = PrepareReceipt(std::move(receipt), &pending); !s.ok()) return s.error();
  return Submit(&pending);
}

void RocksLedger::AppendDetached(ReceiptDraft receipt, DetachedDone done) {
  auto pending = std::make_unique<Pending>();
  pending->detached = std::move(done);
  if (Status s = PrepareReceipt(std::move(receipt), pending.get()); !s.ok()) {
    pending->result = s.error();
    Complete(pending.release());
    return;
  }
  if (options_.sync) {  // the ticker lingers for an append to carry it
    SubmitDetached(pending.release());
    return;
  }
  // Without syncs a write is cheap: written now, in this thread, instead of
  // waking the ledger's.
  Result<bool> led = QueueAndLead(pending);
  if (!led.ok()) {
    pending->result = led.error();
    Complete(pending.release());
  }
}

Result<std::string> RocksLedger::AppendAsync(ReceiptDraft receipt, DetachedDone done) {
  auto pending = std::make_unique<Pending>();
  pending->detached = std::move(done);
  pending->prompt = true;
  if (Status s = PrepareReceipt(std::move(receipt), pending.get()); !s.ok()) return s.error();
  std::string receipt_id = pending->prepared.receipt_id;
  Result<bool> led = QueueAndLead(pending);
  if (!led.ok()) return led.error();
  return receipt_id;
}

Result<bool> RocksLedger::QueueAndLead(std::unique_ptr<Pending>& pending) {
  // Leading takes turns, and a detached pending takes none: the caller leads
  // on a tick (which writes nothing of its own) at the head of the batch.
  Pending lead;
  lead.kind = Pending::Kind::kTick;
  Result<bool> leads = Enqueue(pending.get(), &lead);
  if (!leads.ok()) return leads.error();
  pending.release();  // the queue owns it now
  if (*leads) TakeTurns(&lead, true);
  return *leads;
}

Result<Appended> RocksLedger::Checkpoint() {
  if (read_only_) return MakeError(ErrorCode::kUnavailable, "ledger is open read-only");
  Pending pending;
  pending.kind = Pending::Kind::kCheckpoint;
  return Submit(&pending);
}

bool RocksLedger::CheckpointDue(const ChainState& state) const {
  if (options_.checkpoint_interval_seconds <= 0 || state.since_checkpoint == 0) return false;
  return options_.clock->NowMicros() - state.checkpoint_micros >=
         options_.checkpoint_interval_seconds * 1000000;
}

// Leads for detached receipts nobody else is signing, and submits time-based
// checkpoints (appends also check the time, so those only matter when the
// ledger is idle).
void RocksLedger::TickerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  auto prompt_queued = [&] {
    return std::any_of(queue_.begin(), queue_.end(), [](const Pending* p) { return p->prompt; });
  };
  for (;;) {
    ticker_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || lead_wanted_; });
    if (stop_) break;
    bool lead = std::exchange(lead_wanted_, false);
    if (lead && !prompt_queued() && options_.sync && options_.detached_linger_us > 0) {
      // Detached receipts alone: an Append arriving meanwhile carries them in
      // its own group commit (one sync instead of two). Without syncs their
      // callers lead for them (AppendDetached). A prompt receipt left queued
      // meanwhile (its leader ended with nobody waiting) ends the linger.
      ticker_cv_.wait_for(lock, std::chrono::microseconds(options_.detached_linger_us),
                          [&] { return stop_ || prompt_queued(); });
      if (stop_) break;  // the destructor writes what is queued
      lead = !signing_ && !queue_.empty();
    }
    if (lead || CheckpointDue(durable_)) {
      lock.unlock();
      Pending tick;
      tick.kind = Pending::Kind::kTick;
      (void)Submit(&tick);  // answered; a refused tick is retried a second later
      lock.lock();
    }
  }
}

void RocksLedger::LeadSigning() {
  std::vector<Pending*> batch;
  std::unique_ptr<rocksdb::WriteBatch> wb;
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Signed once the batch before is written: meanwhile the queue keeps
    // filling, so batches are larger and writes (and syncs) fewer.
    disk_cv_.wait(lock, [&] { return !committing_; });
    if (rollback_) {  // a write failed: sign on from what is durable
      work_ = durable_;
      rollback_ = false;
    }
    const size_t n = std::min(queue_.size(), options_.max_batch);
    batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    wb = std::move(spare_wb_);
  }
  std::unique_ptr<Commit> commit = SignBatch(batch, std::move(wb));
  // Ticks write nothing: answered once signed, so that a caller leading for
  // detached receipts does not wait for the disk.
  auto ticks = std::stable_partition(batch.begin(), batch.end(), [](const Pending* p) {
    return p->kind != Pending::Kind::kTick;
  });
  std::vector<Pending*> done(ticks, batch.end());
  batch.erase(ticks, batch.end());
  Pending* next_signer = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The next sign leader is the first waiting caller, moved to the front so
    // that its own pending heads its batch. Detached pendings alone leave
    // the role to the ticker.
    auto waiting = std::find_if(queue_.begin(), queue_.end(),
                                [](const Pending* p) { return !p->detached; });
    if (waiting == queue_.end()) {
      signing_ = false;
      idle_cv_.notify_all();
      if (!queue_.empty()) WakeTicker();
    } else {
      next_signer = *waiting;
      queue_.erase(waiting);
      queue_.push_front(next_signer);
    }
    if (commit) {
      commit->batch = std::move(batch);
      committing_ = true;  // the next signer waits for this write
    } else {  // nothing to write: every pending of the batch is answered
      done.insert(done.end(), batch.begin(), batch.end());
    }
  }
  if (next_signer) next_signer->Give(Pending::Turn::kSign);
  for (Pending* p : done) Complete(p);
  if (commit) LeadCommit(std::move(commit));
}

std::unique_ptr<Commit> RocksLedger::SignBatch(const std::vector<Pending*>& batch,
                                               std::unique_ptr<rocksdb::WriteBatch> wb) {
  auto commit = std::make_unique<Commit>();
  // Room for the batch's receipts and index entries: the last batch's
  // buffer (LeadCommit keeps it), else allocated once.
  commit->wb =
      wb ? std::move(wb) : std::make_unique<rocksdb::WriteBatch>(256 + batch.size() * 1536);
  commit->base = work_;
  for (Pending* p : batch) {
    switch (p->kind) {
      case Pending::Kind::kTick:
        p->result = MakeError(ErrorCode::kInternal, "checkpoint tick");
        continue;
      case Pending::Kind::kCheckpoint:
        p->result = AppendCheckpoint(commit->wb.get());
        continue;
      case Pending::Kind::kReceipt:
        p->result = AppendOne(p->prepared, &p->nonce, commit->wb.get());
        break;
    }
    if (!p->result.ok()) continue;
    ++work_.since_checkpoint;
    if (options_.checkpoint_every > 0 && work_.since_checkpoint >= options_.checkpoint_every) {
      AppendCheckpoint(commit->wb.get()).value();  // cannot fail: a fixed, canonicalisable receipt
    }
  }
  if (CheckpointDue(work_)) AppendCheckpoint(commit->wb.get()).value();
  PutByIdSorted(commit->wb.get());
  if (work_.head_seq == commit->base.head_seq) return nullptr;  // every receipt refused
  commit->wb->Put(cf_[kMeta], layout::kMetaHeadSeq, layout::EncodeSeq(work_.head_seq));
  commit->wb->Put(cf_[kMeta], layout::kMetaHeadHash, work_.head_hash);
  if (work_.checkpoint_seq != commit->base.checkpoint_seq) {
    commit->wb->Put(cf_[kMeta], layout::kMetaCheckpointSeq,
                    layout::EncodeSeq(work_.checkpoint_seq));
  }
  commit->after = work_;
  return commit;
}

void RocksLedger::LeadCommit(std::unique_ptr<Commit> commit) {
  WriteCommit(commit.get());
  const bool keep = commit->wb->GetDataSize() <= kKeptBatchBytes;
  commit->wb->Clear();  // keeps its buffer
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (keep) spare_wb_ = std::move(commit->wb);
    committing_ = false;
    idle_cv_.notify_all();
  }
  disk_cv_.notify_one();  // the next sign leader signs while this batch is answered
  for (Pending* p : commit->batch) Complete(p);
}

void RocksLedger::WriteCommit(Commit* commit) {
  rocksdb::Status s;
  if (Status injected = options_.before_write ? options_.before_write() : Status::Ok();
      !injected.ok()) {
    s = rocksdb::Status::IOError(injected.error().message);
  } else {
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    const auto start = std::chrono::steady_clock::now();
    s = db_->Write(wo, commit->wb.get());
    static Histogram& seconds =
        GetHistogram("helm_ledger_write_duration_seconds", kWriteSecondsBounds);
    static Histogram& receipts = GetHistogram("helm_ledger_write_receipts", kBatchBounds);
    seconds.Observe(SecondsSince(start));
    receipts.Observe(static_cast<double>(commit->after.head_seq - commit->base.head_seq));
  }
  if (s.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      durable_ = commit->after;
    }
    append_cv_.notify_all();
    return;
  }
  // Nothing of this batch is durable: its callers hear kUnavailable, and the
  // next sign leader continues from the last durable receipt.
  Error error = FromRocks(s, "ledger write");
  error.code = ErrorCode::kUnavailable;
  for (Pending* p : commit->batch) p->result = error;
  std::lock_guard<std::mutex> lock(mu_);
  rollback_ = true;
}

Status RocksLedger::RecordKeyRotation() {
  if (previous_signer_.is_null()) return Status::Ok();
  ReceiptDraft receipt;
  receipt.members.AddString("kind", "key_rotation");
  receipt.members.AddJson("previous_signer", previous_signer_);
  Result<Appended> appended = Append(std::move(receipt));
  if (!appended.ok()) return appended.error();
  previous_signer_ = nullptr;
  return Status::Ok();
}

Result<Appended> RocksLedger::AppendCheckpoint(rocksdb::WriteBatch* wb) {
  CanonicalObject checkpoint;
  checkpoint.AddInt("seq", static_cast<int64_t>(work_.head_seq));
  checkpoint.AddString("head_hash", work_.head_hash);
  ReceiptDraft receipt;
  receipt.members.AddString("kind", "checkpoint");
  receipt.members.AddObject("checkpoint", checkpoint);
  Result<PreparedReceipt> prepared =
      Prepare(std::move(receipt), ledger_id_, signer_canonical_, /*keep_json=*/!fast_signing_);
  if (!prepared.ok()) return prepared.error();
  Result<Appended> appended = AppendOne(*prepared, nullptr, wb);
  if (appended.ok()) {
    work_.checkpoint_seq = appended->seq;
    work_.since_checkpoint = 0;
    work_.checkpoint_micros = options_.clock->NowMicros();
  }
  return appended;
}

Result<Appended> RocksLedger::AppendOne(const PreparedReceipt& prepared,
                                        crypto::SignatureNonce* nonce, rocksdb::WriteBatch* wb) {
  const uint64_t seq = work_.head_seq + 1;
  Appended out;
  const int64_t time = options_.clock->NowMicros();
  if (fast_signing_) {
    SignFast(prepared, nonce, seq, time, &out, &next_hash_);
  } else {
    Status s = SignSlow(prepared, seq, time, &out, &next_hash_);
    if (!s.ok()) return s.error();
  }
  const std::string key = layout::EncodeSeq(seq);
  wb->Put(cf_[kReceipts], key, out.stored);
  by_id_.push_back({static_cast<uint32_t>(by_id_ids_.size()),
                    static_cast<uint32_t>(out.receipt_id.size()), seq});
  by_id_ids_.append(out.receipt_id);
  if (layout::IndexableAgent(prepared.agent)) {
    wb->Put(cf_[kByAgent], layout::AgentKey(prepared.agent, seq), rocksdb::Slice());
  }
  work_.head_seq = seq;
  work_.head_hash.swap(next_hash_);  // both buffers are kept for the next receipts
  return out;
}

void RocksLedger::PutByIdSorted(rocksdb::WriteBatch* wb) {
  const std::string_view ids(by_id_ids_);
  auto id = [&](const ByIdEntry& e) { return ids.substr(e.id_begin, e.id_size); };
  std::sort(by_id_.begin(), by_id_.end(),
            [&](const ByIdEntry& a, const ByIdEntry& b) { return id(a) < id(b); });
  for (const ByIdEntry& e : by_id_) {
    const std::string_view receipt_id = id(e);
    wb->Put(cf_[kById], rocksdb::Slice(receipt_id.data(), receipt_id.size()),
            layout::EncodeSeq(e.seq));
  }
  by_id_.clear();
  by_id_ids_.clear();
}

void RocksLedger::SignFast(const PreparedReceipt& prepared, crypto::SignatureNonce* nonce,
                           uint64_t seq, int64_t time_micros, Appended* out,
                           std::string* hash) {
  char digits[24];
  seq_text_.assign(digits, std::to_chars(digits, digits + sizeof digits, seq).ptr);
  Quote(work_.head_hash, &prev_text_);
  time_text_.assign(1, '"');
  AppendRfc3339Micros(time_micros, &time_text_);
  time_text_.push_back('"');
  SlotValues values{prev_text_, seq_text_, time_text_, {}};
  Render(prepared.pieces, Form::kSigned, values, &signing_buf_);
  sig_text_.assign(1, '"');
  crypto::AppendBase64Url(nonce ? crypto::FinishSignature(signing_buf_, signing_key_, *nonce)
                                : crypto::Sign(signing_buf_, key_.secret_key),
                          &sig_text_);
  sig_text_.push_back('"');
  values.signature = sig_text_;
  Render(prepared.pieces, Form::kStored, values, &out->stored);
  hash->clear();
  crypto::AppendSha256Tagged(out->stored, hash);
  out->seq = seq;
  out->receipt_id = prepared.receipt_id;
}

Status RocksLedger::SignSlow(const PreparedReceipt& prepared, uint64_t seq, int64_t time_micros,
                             Appended* out, std::string* hash) {
  Json receipt = prepared.json;
  receipt["seq"] = seq;
  receipt["prev_hash"] = work_.head_hash;
  receipt["time"] = FormatRfc3339Micros(time_micros);
  Result<receipt::Signed> signed_receipt = receipt::Sign(std::move(receipt), key_);
  if (!signed_receipt.ok()) return signed_receipt.error();
  out->stored = std::move(signed_receipt->canonical);
  *hash = std::move(signed_receipt->hash);
  out->seq = seq;
  out->receipt_id = prepared.receipt_id;
  return Status::Ok();
}

}  // namespace helm::ledger_internal

namespace helm {

Result<Appended> Ledger::Append(const Json& receipt) {
  Result<ReceiptDraft> draft = ReceiptDraft::FromJson(receipt);
  if (!draft.ok()) return draft.error();
  return Append(std::move(*draft));
}

void Ledger::AppendDetached(const Json& receipt, DetachedDone done) {
  Result<ReceiptDraft> draft = ReceiptDraft::FromJson(receipt);
  if (!draft.ok()) {
    done(draft.error());
    return;
  }
  AppendDetached(std::move(*draft), std::move(done));
}

}  // namespace helm
