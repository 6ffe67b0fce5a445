// Verification of the chain tail on open (DESIGN §6): the last `window`
// receipts are parsed, their seq, ledger_id and prev_hash links checked, their
// signatures checked with receipt::CheckSignature, and the head hash recorded
// in meta compared with the hash of the last receipt. Whole-chain
// verification is `helm verify` (receipt::ChainVerifier). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/json.h"
#include "core/common/result.h"

namespace helm::ledger_internal {

inline constexpr uint64_t kTailWindow = 64;

struct TailInfo {
  Json last_signer;                // the head receipt's `signer` object (null when empty)
  std::string last_signer_key_id;  // its key_id ("" when empty)
};

// The stored bytes of seq, nullopt when absent, or the read error (Ledger::Get).
using ReceiptGetter = std::function<Result<std::optional<std::string>>(uint64_t seq)>;

// On failure the error is kCorruption and its message starts "ledger corrupt
// at seq N:" (a block that cannot be read because it is damaged included),
// or get's error as it is when that is not kCorruption (an I/O error).
Result<TailInfo> VerifyTail(uint64_t head_seq, std::string_view head_hash,
                            std::string_view ledger_id, uint64_t window, const ReceiptGetter& get);

}  // namespace helm::ledger_internal
