#include "core/ledger/signing_template.h"

#include <algorithm>
#include <charconv>
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

// One member of the receipt: its name, and its `"name":value` text (or
// `"name":` for a slot) as a range of the shared buffer.
struct Entry {
  std::string_view name;  // raw member name (UTF-8); points into the receipt or a literal
  uint32_t begin = 0;
  uint32_t end = 0;
  std::optional<Slot> slot;
};

bool PlainAscii(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

bool LedgerFilled(std::string_view name) {
  for (const char* filled : kLedgerFilled) {
    if (name == filled) return true;
  }
  return false;
}

template <typename Int>
void AppendInt(Int value, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out->append(buf, end);
}

void AppendQuoted(std::string_view text, std::string* out) {
  out->push_back('"');
  out->append(text);
  out->push_back('"');
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
        AppendInt(value.get<int64_t>(), out);
        return Status::Ok();
      }
      break;
    case Json::value_t::number_unsigned:
      if (value.get<uint64_t>() <= static_cast<uint64_t>(kExact)) {
        AppendInt(value.get<uint64_t>(), out);
        return Status::Ok();
      }
      break;
    case Json::value_t::string:
      if (PlainAscii(value.get_ref<const std::string&>())) {
        AppendQuoted(value.get_ref<const std::string&>(), out);
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
        AppendQuoted(it.key(), out);
        out->push_back(':');
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

// Builds the entries' text in one buffer.
class EntryBuilder {
 public:
  explicit EntryBuilder(size_t members) {
    entries_.reserve(members + 8);
    buf_.reserve(64 * (members + 8));
  }

  // `"name":` + the canonical form of `value` (or `raw_value` when value is
  // null). The name must outlive the builder's entries.
  Status Add(std::string_view name, const Json* value, std::optional<Slot> slot,
             std::string_view raw_value = {}) {
    const auto begin = static_cast<uint32_t>(buf_.size());
    Status named = AppendName(name);
    if (!named.ok()) return named;
    if (value != nullptr) {
      Status canonical = AppendCanonical(*value, &buf_);
      if (!canonical.ok()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "receipt member " + std::string(name) + ": " + canonical.error().message);
      }
    } else {
      buf_.append(raw_value);
    }
    entries_.push_back(Entry{name, begin, static_cast<uint32_t>(buf_.size()), slot});
    return Status::Ok();
  }

  // A member whose value is a string.
  Status AddString(std::string_view name, std::string_view value) {
    if (!PlainAscii(value)) {
      Json json_value = std::string(value);
      return Add(name, &json_value, std::nullopt);
    }
    const auto begin = static_cast<uint32_t>(buf_.size());
    Status named = AppendName(name);
    if (!named.ok()) return named;
    AppendQuoted(value, &buf_);
    entries_.push_back(Entry{name, begin, static_cast<uint32_t>(buf_.size()), std::nullopt});
    return Status::Ok();
  }

  void Sort() {
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return Utf16Less(a.name, b.name); });
  }

  Pieces Compile(bool with_signature) const {
    Pieces pieces;
    pieces.text.reserve(buf_.size() + entries_.size() + 2);
    pieces.text.push_back('{');
    bool first = true;
    for (const Entry& e : entries_) {
      if (!with_signature && e.slot == Slot::kSignature) continue;
      if (!first) pieces.text.push_back(',');
      first = false;
      pieces.text.append(buf_, e.begin, e.end - e.begin);
      if (e.slot) {
        pieces.holes[pieces.hole_count++] = {static_cast<uint32_t>(pieces.text.size()), *e.slot};
      }
    }
    pieces.text.push_back('}');
    return pieces;
  }

 private:
  // The JCS string for a member name and the ':'. Printable ASCII without
  // '"' and '\' (every receipt member name) is quoted as is.
  Status AppendName(std::string_view name) {
    if (PlainAscii(name)) {
      AppendQuoted(name, &buf_);
    } else {
      Result<std::string> quoted = Canonicalize(Json(std::string(name)));
      if (!quoted.ok()) return quoted.error();
      buf_.append(*quoted);
    }
    buf_.push_back(':');
    return Status::Ok();
  }

  std::vector<Entry> entries_;
  std::string buf_;
};

}  // namespace

bool Utf16Less(std::string_view a, std::string_view b) {
  // Bytes up to the first difference are the same characters. When both
  // differing bytes are ASCII, they are the first differing code units.
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  if (i == n) return a.size() < b.size();
  const auto x = static_cast<uint8_t>(a[i]);
  const auto y = static_cast<uint8_t>(b[i]);
  if (x < 0x80 && y < 0x80) return x < y;
  // Back to the start of the character the difference is in.
  auto continuation = [](char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; };
  while (i > 0 && (continuation(a[i]) || continuation(b[i]))) --i;
  Utf16Units ua(a.substr(i));
  Utf16Units ub(b.substr(i));
  for (;;) {
    uint16_t u = 0;
    uint16_t v = 0;
    bool more_a = ua.Next(&u);
    bool more_b = ub.Next(&v);
    if (!more_a || !more_b) return !more_a && more_b;
    if (u != v) return u < v;
  }
}

Result<PreparedReceipt> Prepare(Json receipt, std::string_view ledger_id,
                                std::string_view signer_canonical, bool keep_json) {
  if (!receipt.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "a receipt must be a JSON object");
  }
  if (ContainsFloat(receipt)) {
    return MakeError(ErrorCode::kInvalidArgument, "receipt contains a floating-point number");
  }
  PreparedReceipt out;
  auto id = receipt.find("receipt_id");
  const bool mint_id = id == receipt.end();
  if (mint_id) {
    out.receipt_id = NewId("rcpt_");
  } else if (id->is_string() && !id->get_ref<const std::string&>().empty()) {
    out.receipt_id = id->get_ref<const std::string&>();
  } else {
    return MakeError(ErrorCode::kInvalidArgument, "receipt_id must be a non-empty string");
  }
  auto principal = receipt.find("principal");
  if (principal != receipt.end() && principal->is_object()) {
    auto agent = principal->find("agent");
    if (agent != principal->end() && agent->is_string()) {
      out.agent = agent->get_ref<const std::string&>();
    }
  }

  // The members as the caller gave them, minus those the ledger fills, plus
  // v, ledger_id and (when absent) receipt_id; the receipt itself is not
  // modified unless it is kept.
  EntryBuilder entries(receipt.size());
  for (auto it = receipt.begin(); it != receipt.end(); ++it) {
    if (LedgerFilled(it.key())) continue;
    Status s = entries.Add(it.key(), &it.value(), std::nullopt);
    if (!s.ok()) return s.error();
  }
  Status s = entries.AddString("v", receipt::kVersion);
  if (s.ok()) s = entries.AddString("ledger_id", ledger_id);
  if (s.ok() && mint_id) s = entries.AddString("receipt_id", out.receipt_id);
  if (s.ok()) s = entries.Add("signer", nullptr, std::nullopt, signer_canonical);
  if (s.ok()) s = entries.Add("prev_hash", nullptr, Slot::kPrevHash);
  if (s.ok()) s = entries.Add("seq", nullptr, Slot::kSeq);
  if (s.ok()) s = entries.Add("time", nullptr, Slot::kTime);
  if (s.ok()) s = entries.Add("signature", nullptr, Slot::kSignature);
  if (!s.ok()) return s.error();
  entries.Sort();
  out.signing = entries.Compile(/*with_signature=*/false);
  out.stored = entries.Compile(/*with_signature=*/true);

  if (keep_json) {
    for (const char* name : kLedgerFilled) receipt.erase(name);
    receipt["v"] = receipt::kVersion;
    receipt["ledger_id"] = std::string(ledger_id);
    if (mint_id) receipt["receipt_id"] = out.receipt_id;
    out.json = std::move(receipt);
  }
  return out;
}

void Render(const Pieces& pieces, const SlotValues& values, std::string* out) {
  size_t extra =
      values.prev_hash.size() + values.seq.size() + values.time.size() + values.signature.size();
  out->clear();
  out->reserve(pieces.text.size() + extra);
  size_t from = 0;
  for (uint8_t i = 0; i < pieces.hole_count; ++i) {
    const Pieces::Hole& hole = pieces.holes[i];
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
