#include "core/ledger/signing_template.h"

#include <optional>
#include <utility>

#include "core/common/ids.h"
#include "core/receipt/receipt.h"

namespace helm::ledger_internal {
namespace {

constexpr const char* kLedgerFilled[] = {"v",    "ledger_id", "seq",      "prev_hash",
                                         "time", "signer",    "signature"};

bool LedgerFilled(std::string_view name) {
  for (const char* filled : kLedgerFilled) {
    if (name == filled) return true;
  }
  return false;
}

std::optional<Slot> SlotOf(std::string_view name) {
  if (name == "prev_hash") return Slot::kPrevHash;
  if (name == "seq") return Slot::kSeq;
  if (name == "time") return Slot::kTime;
  if (name == "signature") return Slot::kSignature;
  return std::nullopt;
}

// The receipt's text from its sorted members, with a hole at each slot.
Pieces Compile(const std::vector<CanonicalObject::Member>& members, size_t size) {
  Pieces pieces;
  pieces.text.reserve(size + members.size() + 2);
  pieces.text.push_back('{');
  bool first = true;
  for (const CanonicalObject::Member& m : members) {
    const std::optional<Slot> slot = SlotOf(m.name);
    if (slot == Slot::kSignature) pieces.signature_from = static_cast<uint32_t>(pieces.text.size());
    if (!first) pieces.text.push_back(',');
    first = false;
    pieces.text.append(m.text);
    if (slot) {
      pieces.holes[pieces.hole_count++] = {static_cast<uint32_t>(pieces.text.size()), *slot};
    }
  }
  pieces.text.push_back('}');
  return pieces;
}

}  // namespace
}  // namespace helm::ledger_internal

namespace helm {

Result<ReceiptDraft> ReceiptDraft::FromJson(const Json& receipt) {
  if (!receipt.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "a receipt must be a JSON object");
  }
  ReceiptDraft draft;
  for (auto it = receipt.begin(); it != receipt.end(); ++it) {
    if (it.key() == "receipt_id") {
      if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
        return MakeError(ErrorCode::kInvalidArgument, "receipt_id must be a non-empty string");
      }
      draft.receipt_id = it->get_ref<const std::string&>();
    } else if (!ledger_internal::LedgerFilled(it.key())) {
      draft.members.AddJson(it.key(), it.value());
    }
  }
  if (!draft.members.status().ok()) return draft.members.status().error();
  auto principal = receipt.find("principal");
  if (principal != receipt.end() && principal->is_object()) {
    auto agent = principal->find("agent");
    if (agent != principal->end() && agent->is_string()) {
      draft.agent = agent->get_ref<const std::string&>();
    }
  }
  return draft;
}

}  // namespace helm

namespace helm::ledger_internal {

Result<PreparedReceipt> Prepare(ReceiptDraft draft, std::string_view ledger_id,
                                std::string_view signer_canonical, bool keep_json) {
  PreparedReceipt out;
  out.receipt_id = draft.receipt_id.empty() ? NewId(kReceiptIdPrefix) : std::move(draft.receipt_id);
  out.agent = std::move(draft.agent);
  // A member the draft already has makes these repeat, and Sorted refuses it.
  CanonicalObject& members = draft.members;
  members.AddString("v", receipt::kVersion);
  members.AddString("ledger_id", ledger_id);
  members.AddString("receipt_id", out.receipt_id);
  if (keep_json) {
    Result<std::string> text = members.Text();
    if (!text.ok()) return text.error();
    out.json = Json::parse(*text);
  }
  members.AddCanonical("signer", signer_canonical);
  for (const char* slot : {"prev_hash", "seq", "time", "signature"}) members.AddCanonical(slot, "");
  Result<std::vector<CanonicalObject::Member>> sorted = members.Sorted();
  if (!sorted.ok()) return sorted.error();
  size_t size = 0;
  for (const CanonicalObject::Member& m : *sorted) size += m.text.size();
  out.pieces = Compile(*sorted, size);
  return out;
}

void Render(const Pieces& pieces, Form form, const SlotValues& values, std::string* out) {
  size_t extra =
      values.prev_hash.size() + values.seq.size() + values.time.size() + values.signature.size();
  out->clear();
  out->reserve(pieces.text.size() + extra);
  size_t from = 0;
  for (uint8_t i = 0; i < pieces.hole_count; ++i) {
    const Pieces::Hole& hole = pieces.holes[i];
    if (hole.slot == Slot::kSignature && form == Form::kSigned) {  // the member left out
      out->append(pieces.text, from, pieces.signature_from - from);
      from = hole.at;
      continue;
    }
    out->append(pieces.text, from, hole.at - from);
    from = hole.at;
    switch (hole.slot) {
      case Slot::kPrevHash:
        out->append(values.prev_hash);
        break;
      case Slot::kSeq:
        out->append(values.seq);
        break;
      case Slot::kTime:
        out->append(values.time);
        break;
      case Slot::kSignature:
        out->append(values.signature);
        break;
    }
  }
  out->append(pieces.text, from, std::string::npos);
}

}  // namespace helm::ledger_internal
