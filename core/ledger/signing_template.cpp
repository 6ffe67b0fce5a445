#include "core/ledger/signing_template.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "core/common/ids.h"
#include "core/receipt/jcs.h"
#include "core/receipt/receipt.h"

namespace helm::ledger_internal {
namespace {

constexpr const char* kLedgerFilled[] = {"v",    "ledger_id", "seq",      "prev_hash",
                                         "time", "signer",    "signature"};

bool ContainsFloat(const Json& value) {
  if (value.is_number_float()) return true;
  if (value.is_structured()) {
    for (const Json& child : value) {
      if (ContainsFloat(child)) return true;
    }
  }
  return false;
}

struct Entry {
  std::string name;  // raw member name (UTF-8)
  std::string text;  // `"name":value`, or `"name":` for a slot
  std::optional<Slot> slot;
};

// Yields the UTF-16 code units of valid UTF-8 text one at a time, without
// allocating.
class Utf16Units {
 public:
  explicit Utf16Units(std::string_view s) : s_(s) {}
  // False at the end; otherwise sets *unit to the next code unit.
  bool Next(uint16_t* unit) {
    if (low_ != 0) {
      *unit = low_;
      low_ = 0;
      return true;
    }
    if (i_ >= s_.size()) return false;
    auto b = static_cast<uint8_t>(s_[i_]);
    int extra = b < 0x80 ? 0 : b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
    uint32_t cp = extra == 0 ? b : b & (0x3F >> extra);
    for (int k = 1; k <= extra && i_ + k < s_.size(); ++k) {
      cp = (cp << 6) | (static_cast<uint8_t>(s_[i_ + k]) & 0x3F);
    }
    i_ += static_cast<size_t>(extra) + 1;
    if (cp < 0x10000) {
      *unit = static_cast<uint16_t>(cp);
    } else {
      cp -= 0x10000;
      *unit = static_cast<uint16_t>(0xD800 + (cp >> 10));
      low_ = static_cast<uint16_t>(0xDC00 + (cp & 0x3FF));
    }
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
  uint16_t low_ = 0;  // pending low surrogate
};

Pieces Compile(const std::vector<Entry>& entries, bool with_signature) {
  Pieces pieces;
  std::string literal = "{";
  bool first = true;
  for (const Entry& e : entries) {
    if (!with_signature && e.slot == Slot::kSignature) continue;
    if (!first) literal.push_back(',');
    first = false;
    literal += e.text;
    if (e.slot) {
      pieces.literals.push_back(std::move(literal));
      pieces.slots.push_back(*e.slot);
      literal.clear();
    }
  }
  literal.push_back('}');
  pieces.literals.push_back(std::move(literal));
  return pieces;
}

bool PlainAscii(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

// Appends the RFC 8785 form of `value`. Common receipt values (printable
// ASCII strings and names, integers within +-2^53, booleans, null) are
// written directly; anything else is handed to Canonicalize. nlohmann keeps
// object members in byte order, which is RFC 8785 order for ASCII names.
Status AppendCanonical(const Json& value, std::string* out) {
  constexpr int64_t kExact = int64_t{1} << 53;  // integers a double holds exactly
  switch (value.type()) {
    case Json::value_t::null:
      out->append("null");
      return Status::Ok();
    case Json::value_t::boolean:
      out->append(value.get<bool>() ? "true" : "false");
      return Status::Ok();
    case Json::value_t::number_integer:
      if (value.get<int64_t>() <= kExact && value.get<int64_t>() >= -kExact) {
        out->append(std::to_string(value.get<int64_t>()));
        return Status::Ok();
      }
      break;
    case Json::value_t::number_unsigned:
      if (value.get<uint64_t>() <= static_cast<uint64_t>(kExact)) {
        out->append(std::to_string(value.get<uint64_t>()));
        return Status::Ok();
      }
      break;
    case Json::value_t::string:
      if (PlainAscii(value.get_ref<const std::string&>())) {
        out->push_back('"');
        out->append(value.get_ref<const std::string&>());
        out->push_back('"');
        return Status::Ok();
      }
      break;
    case Json::value_t::array: {
      out->push_back('[');
      for (size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out->push_back(',');
        Status s = AppendCanonical(value[i], out);
        if (!s.ok()) return s;
      }
      out->push_back(']');
      return Status::Ok();
    }
    case Json::value_t::object: {
      bool plain_names = true;
      for (auto it = value.begin(); it != value.end() && plain_names; ++it) {
        plain_names = PlainAscii(it.key());
      }
      if (!plain_names) break;
      out->push_back('{');
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (it != value.begin()) out->push_back(',');
        out->push_back('"');
        out->append(it.key());
        out->append("\":");
        Status s = AppendCanonical(it.value(), out);
        if (!s.ok()) return s;
      }
      out->push_back('}');
      return Status::Ok();
    }
    default:
      break;
  }
  Result<std::string> canonical = Canonicalize(value);
  if (!canonical.ok()) return canonical.error();
  out->append(*canonical);
  return Status::Ok();
}

// The JCS string for a member name; printable ASCII without '"' and '\\'
// (every receipt member name) is quoted as is, anything else goes through
// Canonicalize.
Result<std::string> QuotedName(std::string_view name) {
  if (!PlainAscii(name)) return Canonicalize(Json(std::string(name)));
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  out.append(name);
  out.push_back('"');
  return out;
}

Status AddEntry(std::string name, const Json* value, std::optional<Slot> slot,
                std::string_view raw_value, std::vector<Entry>* entries) {
  Result<std::string> quoted = QuotedName(name);
  if (!quoted.ok()) return quoted.error();
  std::string text = std::move(*quoted);
  text.push_back(':');
  if (value != nullptr) {
    Status canonical = AppendCanonical(*value, &text);
    if (!canonical.ok()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "receipt member " + name + ": " + canonical.error().message);
    }
  } else {
    text += raw_value;
  }
  entries->push_back(Entry{std::move(name), std::move(text), slot});
  return Status::Ok();
}

}  // namespace

bool Utf16Less(std::string_view a, std::string_view b) {
  Utf16Units ua(a);
  Utf16Units ub(b);
  for (;;) {
    uint16_t x = 0;
    uint16_t y = 0;
    bool more_a = ua.Next(&x);
    bool more_b = ub.Next(&y);
    if (!more_a || !more_b) return !more_a && more_b;
    if (x != y) return x < y;
  }
}

Result<PreparedReceipt> Prepare(Json receipt, std::string_view ledger_id,
                                std::string_view signer_canonical) {
  if (!receipt.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "a receipt must be a JSON object");
  }
  if (ContainsFloat(receipt)) {
    return MakeError(ErrorCode::kInvalidArgument, "receipt contains a floating-point number");
  }
  for (const char* name : kLedgerFilled) receipt.erase(name);
  receipt["v"] = receipt::kVersion;
  receipt["ledger_id"] = std::string(ledger_id);
  PreparedReceipt out;
  auto id = receipt.find("receipt_id");
  if (id == receipt.end()) {
    out.receipt_id = NewId("rcpt_");
    receipt["receipt_id"] = out.receipt_id;
  } else if (id->is_string() && !id->get_ref<const std::string&>().empty()) {
    out.receipt_id = id->get<std::string>();
  } else {
    return MakeError(ErrorCode::kInvalidArgument, "receipt_id must be a non-empty string");
  }
  auto principal = receipt.find("principal");
  if (principal != receipt.end() && principal->is_object()) {
    auto agent = principal->find("agent");
    if (agent != principal->end() && agent->is_string()) out.agent = agent->get<std::string>();
  }

  std::vector<Entry> entries;
  entries.reserve(receipt.size() + 5);
  for (auto it = receipt.begin(); it != receipt.end(); ++it) {
    Status s = AddEntry(it.key(), &it.value(), std::nullopt, {}, &entries);
    if (!s.ok()) return s.error();
  }
  Status s = AddEntry("signer", nullptr, std::nullopt, signer_canonical, &entries);
  if (s.ok()) s = AddEntry("prev_hash", nullptr, Slot::kPrevHash, {}, &entries);
  if (s.ok()) s = AddEntry("seq", nullptr, Slot::kSeq, {}, &entries);
  if (s.ok()) s = AddEntry("time", nullptr, Slot::kTime, {}, &entries);
  if (s.ok()) s = AddEntry("signature", nullptr, Slot::kSignature, {}, &entries);
  if (!s.ok()) return s.error();
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return Utf16Less(a.name, b.name); });

  out.signing = Compile(entries, /*with_signature=*/false);
  out.stored = Compile(entries, /*with_signature=*/true);
  out.json = std::move(receipt);
  return out;
}

void Render(const Pieces& pieces, const SlotValues& values, std::string* out) {
  out->clear();
  for (size_t i = 0; i < pieces.slots.size(); ++i) {
    out->append(pieces.literals[i]);
    switch (pieces.slots[i]) {
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
  out->append(pieces.literals.back());
}

}  // namespace helm::ledger_internal
