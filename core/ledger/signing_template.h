// The ledger's fast path to a signed receipt. The expensive, order-independent
// work happens in the caller's thread: the members arrive canonical (a
// ReceiptDraft's CanonicalObject), and Prepare adds the ledger's own, sorts
// them and compiles the pieces; the sign
// leader only fills four slots (prev_hash, seq, time, signature) into
// precomputed literal pieces, signs and hashes. The bytes are identical to
// receipt::Sign over the same members: the ledger checks that on open (and
// falls back to receipt::Sign if it ever is not), and the tests compare both
// over many receipts.
//
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/json.h"
#include "core/common/result.h"
#include "core/ledger/ledger.h"

namespace helm::ledger_internal {

// The prefix of the receipt ids the ledger mints.
inline constexpr const char* kReceiptIdPrefix = "rcpt_";

// Members the sign leader fills in. (v, ledger_id, receipt_id and signer are
// set in Prepare.)
enum class Slot : uint8_t { kPrevHash, kSeq, kTime, kSignature };

// The stored bytes = text with each slot's value inserted at its offset:
// slot i at byte holes[i].at of `text` (offsets ascending). The signed bytes
// are the same without the `signature` member: text[signature_from,
// signature hole) is its separator and name (`,"signature":`), since
// ledger_id always sorts before it. One string for both forms, so a
// prepared receipt costs one allocation rather than one per literal piece.
struct Pieces {
  struct Hole {
    uint32_t at = 0;
    Slot slot = Slot::kPrevHash;
  };
  std::string text;
  std::array<Hole, 4> holes{};
  uint8_t hole_count = 0;
  uint32_t signature_from = 0;
};

struct PreparedReceipt {
  Json json;               // the receipt without prev_hash/seq/time/signer/signature; null
                           // unless Prepare was asked to keep it (receipt::Sign's input)
  std::string receipt_id;  // the receipt's receipt_id
  std::string agent;       // principal.agent when it is a string, else empty
  Pieces pieces;           // the stored bytes (JCS with `signature`) and the signed ones
};

// Adds v, ledger_id, receipt_id (minted when the draft has none), signer and
// the slots to the draft's members and compiles both forms. kInvalidArgument
// when a member failed or repeats (the draft may not hold the members the
// ledger fills). `signer_canonical` is the JCS of the `signer` value for the
// signing key. `keep_json`: also return the receipt as JSON (without the
// ledger-filled members but with v, ledger_id and receipt_id) for the
// receipt::Sign path; the template path does not need it.
Result<PreparedReceipt> Prepare(ReceiptDraft draft, std::string_view ledger_id,
                                std::string_view signer_canonical, bool keep_json);

// Slot values, already JSON text: quoted strings and a bare integer.
struct SlotValues {
  std::string_view prev_hash;
  std::string_view seq;
  std::string_view time;
  std::string_view signature;
};

// Replaces *out with the stored bytes, or with the signed bytes (without
// `signature`; values.signature is not used then).
enum class Form : uint8_t { kSigned, kStored };
void Render(const Pieces& pieces, Form form, const SlotValues& values, std::string* out);

}  // namespace helm::ledger_internal
