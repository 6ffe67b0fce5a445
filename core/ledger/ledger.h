// The append-only, hash-chained receipt ledger (DESIGN §6, layout in
// docs/ledger.md). One RocksDB database at <data-dir>/ledger with column
// families receipts (8-byte big-endian seq -> stored receipt), by_id
// (receipt id -> seq), by_agent (agent 0x00 seq -> empty) and meta (head
// seq, head hash, ledger id).
//
// Thread safety: every method is safe to call from any thread. Appends are
// ordered by one writer at a time — the appending threads lead in turn — that
// signs and group-commits a batch with one WriteBatch and (sync = always) one
// fsync; Append returns only once its receipt is durable. The type has no delete or overwrite: append and reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/ids.h"
#include "core/common/json.h"
#include "core/crypto/crypto.h"
#include "core/receipt/canonical_object.h"

namespace helm {

struct LedgerOptions {
  std::string path;                          // <data-dir>/ledger
  bool sync = true;                          // ledger.sync = "always" (true) | "none"
  uint64_t checkpoint_every = 1000;          // a checkpoint after this many receipts (0 = never)
  int64_t checkpoint_interval_seconds = 60;  // ... or after this long with new receipts (0 = never)
  size_t max_batch = 512;                    // receipts per group commit at most
  // With sync: how long detached receipts alone wait for an Append to carry
  // them in its group commit before the ledger's own thread writes them.
  int64_t detached_linger_us = 5000;
  // Signature nonces kept ready by a thread that runs only on otherwise idle
  // cores (docs/ledger.md, "Ready nonces"); 0: appends make their own.
  size_t ready_nonces = 512;
  const Clock* clock = &SystemClock();
  // Fault injection for tests: called before each batch write;
  // a non-ok Status fails the batch exactly as a failed RocksDB write does.
  std::function<Status()> before_write;
};

// A receipt as the ledger takes it: its members without the ones the ledger
// fills (v, ledger_id, receipt_id, seq, prev_hash, time, signer, signature),
// the receipt_id the caller chose (empty: the ledger mints one) and the agent
// it is indexed under (principal.agent).
struct ReceiptDraft {
  CanonicalObject members{CanonicalObject::kReceiptBytes};
  std::string receipt_id;
  std::string agent;

  // From a receipt given as a JSON object: members the ledger fills are
  // dropped (a given receipt_id is kept). kInvalidArgument when it is not an
  // object or cannot be canonicalised.
  static Result<ReceiptDraft> FromJson(const Json& receipt);
};

struct Appended {
  uint64_t seq = 0;
  std::string receipt_id;
  std::string stored;  // the stored bytes (JCS with signature)
};

class Ledger {
 public:
  // Opens or creates the ledger, verifies the chain tail (the last receipts
  // and the head hash in meta); a broken tail is kCorruption naming the seq.
  static Result<std::unique_ptr<Ledger>> Open(const LedgerOptions& options,
                                              const crypto::KeyPair& signing_key);
  // Read-only view of a stopped ledger (verify, export). Append fails.
  static Result<std::unique_ptr<Ledger>> OpenReadOnly(const std::string& path);
  virtual ~Ledger() = default;

  // Fills v, ledger_id, seq, prev_hash, time, signer and signature (and
  // receipt_id when absent), signs, writes, and returns once durable.
  // kUnavailable when the database cannot be written (the caller must refuse
  // the request), or when a receipt_id the caller chose cannot be checked
  // for a duplicate (a read error); kConflict when the ledger holds that
  // receipt_id already; kInvalidArgument when the receipt cannot be
  // canonicalised or holds a member the ledger fills.
  virtual Result<Appended> Append(ReceiptDraft receipt) = 0;
  // Append without waiting for it: the receipt is prepared in the caller's
  // thread and queued; it is signed and written with a later group commit by
  // whichever thread leads it (the ledger's own thread when no Append is in
  // flight, after detached_linger_us with sync). `done` runs exactly once,
  // with what Append would have returned: on that thread, or before this
  // returns when the receipt is refused at once (closed ledger, invalid
  // receipt). It must not call into the ledger. Every queued receipt is
  // written before the ledger closes.
  using DetachedDone = std::function<void(const Result<Appended>&)>;
  virtual void AppendDetached(ReceiptDraft receipt, DetachedDone done) = 0;
  // For a receipt the caller needs durable soon but does not wait for now (a
  // decision whose dispatch waits behind a DispatchGate): as AppendDetached,
  // except that it never lingers, and that when no batch is being signed the
  // caller signs and writes it in its own thread, so `done` has run when this
  // returns. Returns the receipt id it gets; when it is refused at once, the
  // error, and `done` is never called.
  virtual Result<std::string> AppendAsync(ReceiptDraft receipt, DetachedDone done) = 0;
  // The same for a receipt given as a JSON object (ReceiptDraft::FromJson).
  Result<Appended> Append(const Json& receipt);
  void AppendDetached(const Json& receipt, DetachedDone done);
  // Writes a checkpoint receipt {kind: checkpoint, checkpoint: {seq, head_hash}} now.
  virtual Result<Appended> Checkpoint() = 0;

  // The stored receipt with this seq, or with this receipt id; nullopt when
  // the ledger has none. A read error (a damaged file: kCorruption; an I/O
  // error: kUnavailable) is returned instead, so that it never reads as "no
  // such receipt"; so is a by_id entry whose receipt is missing (kCorruption).
  virtual Result<std::optional<std::string>> Get(uint64_t seq) const = 0;
  virtual Result<std::optional<std::string>> GetById(std::string_view receipt_id) const = 0;
  // Receipts with seq >= from_seq in ascending order, at most `limit`; agent
  // non-empty filters on principal.agent. A read error (a damaged file:
  // kCorruption; an I/O error: kUnavailable) is returned instead of a page,
  // so that it never reads as the end of the ledger.
  virtual Result<std::vector<Appended>> List(uint64_t from_seq, size_t limit,
                                             std::string_view agent) const = 0;
  // Calls fn for each receipt with from_seq <= seq <= to_seq in order until fn returns false.
  // A read error (a damaged file: kCorruption; an I/O error: kUnavailable) ends the walk
  // and is returned: fn has then seen only the receipts before the one that could not be
  // read. Ok when the walk reached to_seq, the head, or a false from fn.
  virtual Status ForEach(uint64_t from_seq, uint64_t to_seq,
                         const std::function<bool(uint64_t, std::string_view)>& fn) const = 0;

  virtual uint64_t HeadSeq() const = 0;
  virtual std::string HeadHash() const = 0;
  virtual const std::string& ledger_id() const = 0;
  // Blocks until HeadSeq() > after_seq or the timeout passes; returns HeadSeq().
  virtual uint64_t WaitForAppend(uint64_t after_seq, std::chrono::milliseconds timeout) const = 0;
};

}  // namespace helm
