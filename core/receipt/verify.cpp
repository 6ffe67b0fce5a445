// Chain verification; the rules are listed in docs/receipts.md ("Verification").
#include "core/receipt/verify.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "core/crypto/crypto.h"
#include "core/receipt/receipt.h"

namespace helm::receipt {
namespace {

// Receipts checked together: enough to keep every core busy for a while
// per thread start, few enough to hold (about 5 MB parsed).
constexpr size_t kBatch = 1024;
constexpr size_t kMaxThreads = 16;

bool IsString(const Json& r, const char* name) {
  auto it = r.find(name);
  return it != r.end() && it->is_string();
}

std::string Str(const Json& r, const char* name) {
  auto it = r.find(name);
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A positive integer member, or 0 if absent or not one.
uint64_t PositiveInt(const Json& r, const char* name) {
  auto it = r.find(name);
  if (it == r.end() || !it->is_number_unsigned()) return 0;
  return it->get<uint64_t>();
}

// The missing or mistyped required member of a receipt, or "" if none is.
std::string MissingMember(const Json& r) {
  if (Str(r, "v") != kVersion) return "v (expected \"" + std::string(kVersion) + "\")";
  for (const char* name : {"kind", "receipt_id", "ledger_id", "prev_hash"}) {
    if (!IsString(r, name)) return name;
  }
  if (PositiveInt(r, "seq") == 0) return "seq";
  return "";
}

// The raw signer key; CheckSignature has already validated its shape.
std::string SignerKey(const Json& r) {
  auto key = crypto::HexDecode(r["signer"]["public_key"].get<std::string>());
  return key.ok() ? key.value() : std::string();
}

}  // namespace

Json VerifyReport::ToJson() const {
  return Json{{"receipts", receipts},
              {"checkpoints", checkpoints},
              {"head_seq", head_seq},
              {"head_hash", head_hash},
              {"integrity_ok", integrity_ok},
              {"first_broken_seq", first_broken_seq},
              {"first_broken_check", first_broken_check},
              {"first_broken_detail", first_broken_detail},
              {"trust_ok", trust_ok},
              {"first_untrusted_seq", first_untrusted_seq},
              {"untrusted_key_id", untrusted_key_id},
              {"decisions_without_outcome", decisions_without_outcome}};
}

ChainVerifier::ChainVerifier(std::set<std::string> trusted_public_keys)
    : trusted_(std::move(trusted_public_keys)) {
  crypto::Init();
}

void ChainVerifier::Fail(uint64_t seq, const char* check, std::string detail) {
  if (!report_.integrity_ok) return;  // report the first failure only
  report_.integrity_ok = false;
  report_.first_broken_seq = seq;
  report_.first_broken_check = check;
  report_.first_broken_detail = std::move(detail);
}

Status ChainVerifier::AddTrustedCheckpoint(std::string_view stored) {
  auto bad = [](std::string why) {
    return MakeError(ErrorCode::kInvalidArgument, "trusted checkpoint: " + std::move(why));
  };
  if (line_ > 0 || !batch_.empty()) return bad("must be added before the first receipt");
  auto parsed = ParseStored(stored);
  if (!parsed.ok()) return bad(parsed.error().message);
  const Json& r = *parsed;
  if (std::string missing = MissingMember(r); !missing.empty()) return bad("no valid " + missing);
  if (Str(r, "kind") != "checkpoint") return bad("kind is not checkpoint");
  if (Status s = CheckSignature(r); !s.ok()) return bad(s.error().message);
  if (trusted_.count(SignerKey(r)) == 0) return bad("signed by an untrusted key");
  auto body = r.find("checkpoint");
  if (body == r.end() || !body->is_object() || PositiveInt(*body, "seq") == 0 ||
      !IsString(*body, "head_hash")) {
    return bad("no valid checkpoint member");
  }
  pins_.push_back(Pin{PositiveInt(r, "seq"), crypto::Sha256Tagged(stored),
                      PositiveInt(*body, "seq"), Str(*body, "head_hash"), Str(r, "ledger_id")});
  return Status::Ok();
}

void ChainVerifier::ExpectWholeLedger(uint64_t head_seq, std::string head_hash) {
  whole_ledger_ = true;
  ledger_head_seq_ = head_seq;
  ledger_head_hash_ = std::move(head_hash);
}

void ChainVerifier::Add(std::string_view stored) {
  batch_.emplace_back().stored = stored;
  if (batch_.size() == kBatch) Drain();
}

void ChainVerifier::Precheck(Prechecked& p) {
  p.hash = crypto::Sha256Tagged(p.stored);
  p.parsed = ParseStored(p.stored);
  if (!p.parsed.ok()) return;
  p.missing = MissingMember(*p.parsed);
  if (p.missing.empty()) p.signature = CheckSignature(*p.parsed);
}

void ChainVerifier::Drain() {
  // Each thread takes the next unchecked receipt, so one that loses its core
  // for a while holds up nobody.
  std::atomic<size_t> next{0};
  auto work = [this, &next] {
    for (size_t i; (i = next.fetch_add(1)) < batch_.size();) Precheck(batch_[i]);
  };
  const size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, kMaxThreads);
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < std::min(threads, batch_.size()); ++t) {
    try {
      helpers.emplace_back(work);
    } catch (const std::system_error&) {  // no thread to be had: fewer do the work
      break;
    }
  }
  work();
  for (std::thread& t : helpers) t.join();
  for (Prechecked& p : batch_) Take(p);
  batch_.clear();
}

void ChainVerifier::Take(Prechecked& p) {
  ++line_;
  ++report_.receipts;
  if (!p.parsed.ok()) {
    Fail(line_, "format", "line " + std::to_string(line_) + ": " + p.parsed.error().message);
    expected_prev_hash_ = p.hash;  // keep the next link checkable
    return;
  }
  const Json& r = *p.parsed;
  if (!p.missing.empty()) {
    Fail(line_, "format", "line " + std::to_string(line_) + ": missing or invalid " + p.missing);
    expected_prev_hash_ = p.hash;
    return;
  }
  const uint64_t seq = PositiveInt(r, "seq");
  const bool signature_ok = p.signature.ok();
  if (!signature_ok) Fail(seq, "signature", p.signature.error().message);
  CheckChain(r, seq);
  if (Str(r, "kind") == "checkpoint") CheckCheckpointBody(r, seq);
  CheckPins(seq, p.hash);
  if (signature_ok) CheckTrust(r, seq);
  TrackDecisions(r);
  seen_any_ = true;
  last_seq_ = seq;
  expected_prev_hash_ = p.hash;
  report_.head_seq = seq;
  report_.head_hash = p.hash;
}

void ChainVerifier::ReadFailed(std::string_view error) {
  Drain();
  const uint64_t next = seen_any_ ? last_seq_ + 1 : line_ + 1;
  Fail(next, "format",
       "cannot read the receipt after seq " + std::to_string(next - 1) + ": " + std::string(error));
}

// ledger_id constant; seq contiguous; prev_hash links to the previous stored
// line (seq 1 to the genesis value; a range's first link is taken on trust).
void ChainVerifier::CheckChain(const Json& r, uint64_t seq) {
  const std::string ledger_id = Str(r, "ledger_id");
  if (ledger_id_.empty()) ledger_id_ = ledger_id;
  if (ledger_id != ledger_id_) {
    Fail(seq, "ledger_id", "ledger_id \"" + ledger_id + "\" in a chain of \"" + ledger_id_ + "\"");
  }
  if (!seen_any_) {
    first_seq_ = seq;
    if (seq == 1) {
      expected_prev_hash_ = kGenesisPrevHash;
    } else if (whole_ledger_) {
      Fail(seq, "seq", "the ledger starts at seq " + std::to_string(seq) + ", not 1");
    }
  } else if (seq != last_seq_ + 1) {
    Fail(seq, "seq", "seq " + std::to_string(seq) + " follows " + std::to_string(last_seq_));
  }
  if ((seen_any_ || seq == 1) && Str(r, "prev_hash") != expected_prev_hash_) {
    Fail(seq, "prev_hash", "prev_hash " + Str(r, "prev_hash") + ", previous receipt hashes to " +
                               expected_prev_hash_);
  }
}

// An in-chain checkpoint describes the receipt right before it.
void ChainVerifier::CheckCheckpointBody(const Json& r, uint64_t seq) {
  ++report_.checkpoints;
  auto body = r.find("checkpoint");
  if (body == r.end() || !body->is_object()) {
    Fail(seq, "checkpoint", "checkpoint receipt without a checkpoint object");
    return;
  }
  if (PositiveInt(*body, "seq") != seq - 1 || Str(*body, "head_hash") != Str(r, "prev_hash")) {
    Fail(seq, "checkpoint", "checkpoint does not describe the receipt before it");
  }
}

// Trusted checkpoints: the chain must have the pinned hash at the pinned seq,
// and the checkpoint itself at its own seq.
void ChainVerifier::CheckPins(uint64_t seq, const std::string& hash) {
  for (const Pin& pin : pins_) {
    if (seq == pin.seq && hash != pin.head_hash) {
      Fail(seq, "checkpoint", "hash differs from trusted checkpoint seq " +
                                  std::to_string(pin.own_seq));
    }
    if (seq == pin.own_seq && hash != pin.own_hash) {
      Fail(seq, "checkpoint", "receipt differs from the trusted checkpoint at this seq");
    }
  }
}

void ChainVerifier::CheckTrust(const Json& r, uint64_t seq) {
  if (trusted_.count(SignerKey(r)) > 0 || !report_.trust_ok) return;
  report_.trust_ok = false;
  report_.first_untrusted_seq = seq;
  report_.untrusted_key_id = r["signer"]["key_id"].get<std::string>();
}

// ALLOW decisions wait for an outcome naming them as parent. One left open
// means the process stopped between the two (visible, not an integrity fault).
void ChainVerifier::TrackDecisions(const Json& r) {
  const std::string kind = Str(r, "kind");
  if (kind == "decision" && Str(r, "verdict") == "ALLOW") {
    open_decisions_.emplace(Str(r, "receipt_id"), line_);
  } else if (kind == "outcome") {
    open_decisions_.erase(Str(r, "parent"));
  }
}

// A trusted checkpoint must lie within the input: an input that ends before
// it was cut off; one that starts after it was never checked against it.
void ChainVerifier::CheckPinsReached() {
  for (const Pin& pin : pins_) {
    if (!ledger_id_.empty() && pin.ledger_id != ledger_id_) {
      Fail(pin.own_seq, "ledger_id", "trusted checkpoint is from ledger \"" + pin.ledger_id + "\"");
    }
    const std::string pinned = "the trusted checkpoint at seq " + std::to_string(pin.own_seq);
    if (report_.head_seq < pin.own_seq) {
      Fail(report_.head_seq + 1, "truncated",
           "input ends at seq " + std::to_string(report_.head_seq) + ", before " + pinned);
    } else if (first_seq_ > pin.own_seq) {
      Fail(pin.own_seq, "checkpoint",
           "input starts at seq " + std::to_string(first_seq_) + ", after " + pinned +
               ": nothing was checked against it");
    }
  }
}

// A whole ledger ends at the head its meta records.
void ChainVerifier::CheckLedgerHead() {
  if (!whole_ledger_) return;
  const uint64_t seq = report_.head_seq;
  const std::string head = "the ledger's head is seq " + std::to_string(ledger_head_seq_);
  if (seq < ledger_head_seq_) {
    Fail(seq + 1, "truncated", "input ends at seq " + std::to_string(seq) + ", " + head);
  } else if (seq > ledger_head_seq_) {
    Fail(ledger_head_seq_ + 1, "seq", "input goes on to seq " + std::to_string(seq) + ", " + head);
  } else if (seq > 0 && report_.head_hash != ledger_head_hash_) {
    Fail(seq, "prev_hash",
         "seq " + std::to_string(seq) + " hashes to " + report_.head_hash + ", " + head +
             " with hash " + ledger_head_hash_);
  }
}

VerifyReport ChainVerifier::Finish() {
  Drain();
  CheckPinsReached();
  CheckLedgerHead();
  report_.decisions_without_outcome.clear();
  std::vector<std::pair<uint64_t, std::string>> open;
  open.reserve(open_decisions_.size());
  for (const auto& [id, line] : open_decisions_) open.emplace_back(line, id);
  std::sort(open.begin(), open.end());
  for (auto& [line, id] : open) report_.decisions_without_outcome.push_back(std::move(id));
  return report_;
}

}  // namespace helm::receipt
