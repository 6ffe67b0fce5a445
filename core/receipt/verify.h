// Offline verification of a receipt chain, fed one stored receipt at a time
// (export lines, or ledger values in seq order). Integrity (format,
// signatures, seq contiguity, prev_hash chain, checkpoints) and trust (signer
// key in the trusted set) are reported separately. Not thread-safe; it
// checks the receipts of a batch on every core (their signatures are most
// of the cost), and reports them in input order.
// The rules are listed in docs/receipts.md ("Verification").
//
// The input may be a range that starts after seq 1 (a partial export): then
// the first receipt's prev_hash is taken on trust and every later link is
// checked. A checkpoint obtained first-hand (AddTrustedCheckpoint) pins the
// chain: the input must reach the checkpoint, with the hash it names at the
// seq before it. A whole ledger (ExpectWholeLedger) must start at seq 1 and
// end at the ledger's head.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/json.h"
#include "core/common/result.h"

namespace helm::receipt {

struct VerifyReport {
  uint64_t receipts = 0;     // all receipts seen, checkpoints included
  uint64_t checkpoints = 0;
  uint64_t head_seq = 0;
  std::string head_hash;
  bool integrity_ok = true;
  uint64_t first_broken_seq = 0;  // seq (or line number if seq unreadable) of the first failure
  std::string first_broken_check;  // "format" | "signature" | "seq" | "prev_hash" | "ledger_id" | "checkpoint" | "truncated"
  std::string first_broken_detail;
  bool trust_ok = true;
  uint64_t first_untrusted_seq = 0;
  std::string untrusted_key_id;
  std::vector<std::string> decisions_without_outcome;  // decision receipt ids (ALLOW only)

  Json ToJson() const;
};

class ChainVerifier {
 public:
  // trusted_public_keys: raw 32-byte Ed25519 keys.
  explicit ChainVerifier(std::set<std::string> trusted_public_keys);
  // Pins the chain with a checkpoint receipt obtained earlier and out of band
  // (e.g. from a previous export). Must be called before the first Add. Fails,
  // and pins nothing, if `stored` is not a well-formed checkpoint receipt with
  // a valid signature by a trusted key. At Finish, an input that ends before
  // the checkpoint's own seq is "truncated"; one that starts after it (the pin
  // cannot be checked), a different hash at the seq it names, or a different
  // receipt at its own seq is "checkpoint".
  Status AddTrustedCheckpoint(std::string_view stored);
  // The input is a whole ledger whose meta head is seq `head_seq` with stored-form
  // hash `head_hash` (0 and the genesis value when empty). Must be called before
  // the first Add. A first receipt other than seq 1 is "seq"; at Finish, an input
  // that ends before the head is "truncated", past it "seq", and a last receipt
  // that does not hash to `head_hash` "prev_hash".
  void ExpectWholeLedger(uint64_t head_seq, std::string head_hash);
  // Feeds the next stored receipt (JCS bytes with signature).
  void Add(std::string_view stored);
  // The input could not be read past the receipts added so far (a storage
  // error, `error` says which): a "format" failure at the seq after the last
  // one added. Nothing is added after it.
  void ReadFailed(std::string_view error);
  // Ends the input and checks what only its end can show (pins, the head).
  VerifyReport Finish();

 private:
  struct Pin {  // a trusted checkpoint
    uint64_t own_seq;      // the checkpoint receipt's seq
    std::string own_hash;  // its stored-form hash
    uint64_t seq;          // the seq it names
    std::string head_hash;
    std::string ledger_id;
  };
  // What a receipt's checks need that depends on no other receipt.
  struct Prechecked {
    std::string stored;
    std::string hash;
    Result<Json> parsed = Json();
    std::string missing;  // MissingMember
    Status signature;
  };
  static void Precheck(Prechecked& p);
  // Prechecks the batch in parallel, then takes it in order (Take).
  void Drain();
  void Take(Prechecked& p);
  void Fail(uint64_t seq, const char* check, std::string detail);
  void CheckChain(const Json& r, uint64_t seq);
  void CheckCheckpointBody(const Json& r, uint64_t seq);
  void CheckPins(uint64_t seq, const std::string& hash);
  void CheckTrust(const Json& r, uint64_t seq);
  void TrackDecisions(const Json& r);
  void CheckPinsReached();
  void CheckLedgerHead();
  std::set<std::string> trusted_;
  std::vector<Prechecked> batch_;
  VerifyReport report_;
  uint64_t line_ = 0;
  std::string expected_prev_hash_;
  std::string ledger_id_;
  // ALLOW decisions without an outcome so far, with the line that opened
  // them (the report lists them in input order): only the open ones are
  // kept, so memory follows what is in flight, not the ledger's length.
  std::unordered_map<std::string, uint64_t> open_decisions_;
  bool seen_any_ = false;
  uint64_t first_seq_ = 0;
  uint64_t last_seq_ = 0;
  std::vector<Pin> pins_;
  bool whole_ledger_ = false;  // ExpectWholeLedger was called
  uint64_t ledger_head_seq_ = 0;
  std::string ledger_head_hash_;
};

}  // namespace helm::receipt
