// Test-only: builds a small signed receipt chain by hand, the way the ledger
// does (seq, prev_hash, ledger_id), without the ledger. Used by the receipt
// module's tests only.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/crypto/crypto.h"
#include "core/receipt/receipt.h"

namespace helm::receipt::testing {

class ChainBuilder {
 public:
  explicit ChainBuilder(std::string ledger_id = "ldg_test")
      : ledger_id_(std::move(ledger_id)), key_((crypto::Init(), crypto::GenerateKeyPair())) {}

  const crypto::KeyPair& key() const { return key_; }
  void set_key(crypto::KeyPair key) { key_ = std::move(key); }
  uint64_t next_seq() const { return seq_ + 1; }

  // Appends a receipt of `kind` with extra members; returns its stored form.
  std::string Append(const std::string& kind, Json extra = Json::object()) {
    Json r = std::move(extra);
    r["v"] = kVersion;
    r["kind"] = kind;
    r["ledger_id"] = ledger_id_;
    r["seq"] = ++seq_;
    r["receipt_id"] = "rcpt_" + std::to_string(seq_);
    r["prev_hash"] = prev_hash_;
    r["time"] = "2025-01-01T00:00:00.000000Z";
    auto s = Sign(std::move(r), key_);
    REQUIRE(s.ok());
    prev_hash_ = s->hash;
    return s->canonical;
  }
  std::string Decision(const std::string& verdict = "ALLOW") {
    return Append("decision", Json{{"verdict", verdict}, {"reason_code", "ok"}});
  }
  std::string Outcome(uint64_t decision_seq) {
    return Append("outcome", Json{{"parent", "rcpt_" + std::to_string(decision_seq)},
                                  {"status", "completed"}, {"http_status", 200}});
  }
  std::string Checkpoint() {
    return Append("checkpoint", Json{{"checkpoint", {{"seq", seq_}, {"head_hash", prev_hash_}}}});
  }

 private:
  std::string ledger_id_;
  crypto::KeyPair key_;
  uint64_t seq_ = 0;
  std::string prev_hash_ = kGenesisPrevHash;
};

}  // namespace helm::receipt::testing
