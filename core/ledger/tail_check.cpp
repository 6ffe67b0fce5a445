#include "core/ledger/tail_check.h"

#include <string>
#include <utility>

#include "core/common/json.h"
#include "core/crypto/crypto.h"
#include "core/receipt/receipt.h"

namespace helm::ledger_internal {
namespace {

Error Corrupt(uint64_t seq, std::string detail) {
  return MakeError(ErrorCode::kCorruption,
                   "ledger corrupt at seq " + std::to_string(seq) + ": " + std::move(detail));
}

std::string StringMember(const Json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The stored bytes of seq: a receipt the ledger lacks, or cannot read
// because its block is damaged, is corruption at seq; an I/O error stays one.
Result<std::string> Read(const ReceiptGetter& get, uint64_t seq) {
  Result<std::optional<std::string>> stored = get(seq);
  if (!stored.ok()) {
    if (stored.error().code != ErrorCode::kCorruption) return stored.error();
    return Corrupt(seq, stored.error().message);
  }
  if (!*stored) return Corrupt(seq, "receipt missing");
  return std::move(**stored);
}

// Checks one stored receipt against its key and the expected link.
Status CheckOne(uint64_t seq, const std::string& stored, std::string_view ledger_id,
                std::string_view expected_prev, Json* parsed) {
  Result<Json> j = ParseStrictJson(stored);
  if (!j.ok() || !j->is_object()) return Corrupt(seq, "stored receipt is not a JSON object");
  auto s = j->find("seq");
  if (s == j->end() || !s->is_number_unsigned() || s->get<uint64_t>() != seq) {
    return Corrupt(seq, "seq member does not match the key");
  }
  if (StringMember(*j, "ledger_id") != ledger_id) return Corrupt(seq, "ledger_id mismatch");
  if (StringMember(*j, "prev_hash") != expected_prev) {
    return Corrupt(seq, "prev_hash does not match the hash of seq " + std::to_string(seq - 1));
  }
  Status sig = receipt::CheckSignature(*j);
  if (!sig.ok()) return Corrupt(seq, "signature: " + sig.error().message);
  *parsed = std::move(*j);
  return Status::Ok();
}

}  // namespace

Result<TailInfo> VerifyTail(uint64_t head_seq, std::string_view head_hash,
                            std::string_view ledger_id, uint64_t window, const ReceiptGetter& get) {
  TailInfo info;
  if (head_seq == 0) {
    if (!head_hash.empty() && head_hash != receipt::kGenesisPrevHash) {
      return Corrupt(0, "empty ledger with a head hash");
    }
    return info;
  }
  uint64_t first = head_seq > window ? head_seq - window + 1 : 1;
  std::string expected_prev = receipt::kGenesisPrevHash;
  if (first > 1) {
    Result<std::string> before = Read(get, first - 1);
    if (!before.ok()) return before.error();
    expected_prev = crypto::Sha256Tagged(*before);
  }
  Json last;
  for (uint64_t seq = first; seq <= head_seq; ++seq) {
    Result<std::string> stored = Read(get, seq);
    if (!stored.ok()) return stored.error();
    Status s = CheckOne(seq, *stored, ledger_id, expected_prev, &last);
    if (!s.ok()) return s.error();
    expected_prev = crypto::Sha256Tagged(*stored);
  }
  if (expected_prev != head_hash) {
    return Corrupt(head_seq, "head hash in meta does not match the last receipt");
  }
  auto signer = last.find("signer");
  if (signer != last.end() && signer->is_object()) {
    info.last_signer = *signer;
    info.last_signer_key_id = StringMember(*signer, "key_id");
  }
  return info;
}

}  // namespace helm::ledger_internal
