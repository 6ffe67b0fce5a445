#include "core/receipt/canonical_object.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "core/receipt/jcs.h"

namespace helm {
namespace {

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

// Whether eight bytes are all PlainAscii. Once no byte is above 0x7f no
// carry crosses a byte, and each test below is nonzero exactly when some byte
// of the word fails it.
bool PlainWord(const char* at) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = kOnes * 0x80;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  uint64_t w;
  std::memcpy(&w, at, 8);
  const uint64_t bad = (w & kHigh)                    // above 0x7f
                       | (~(w + kOnes * 0x60) & kHigh)  // below 0x20
                       | ((w + kOnes) & kHigh)          // 0x7f
                       | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'));
  return bad == 0;
}

// Printable ASCII without '"' and '\': its JCS form is the text quoted.
// Eight bytes at a time, as every receipt's names and strings pass through
// here.
bool PlainAscii(std::string_view text) {
  const size_t n = text.size();
  if (n < 8) {
    return std::all_of(text.begin(), text.end(), [](char c) {
      return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
  }
  for (size_t i = 0; i + 8 < n; i += 8) {
    if (!PlainWord(text.data() + i)) return false;
  }
  return PlainWord(text.data() + n - 8);  // the last word, overlapping the one before
}

template <typename Int>
void AppendInt(Int value, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out->append(buf, end);
}

// `text` between quotes: its JCS form when PlainAscii(text).
void AppendQuoted(std::string_view text, std::string* out) {
  const size_t at = out->size();
  out->append(text.size() + 2, '"');  // one growth; the text goes between the quotes
  std::copy(text.begin(), text.end(), out->begin() + static_cast<std::ptrdiff_t>(at) + 1);
}

Status AppendString(std::string_view text, std::string* out) {
  if (!PlainAscii(text)) return AppendCanonicalString(text, out);
  AppendQuoted(text, out);
  return Status::Ok();
}

}  // namespace

Status AppendCanonicalJson(const Json& value, std::string* out) {
  switch (value.type()) {
    case Json::value_t::null:
      out->append("null");
      return Status::Ok();
    case Json::value_t::boolean:
      out->append(value.get<bool>() ? "true" : "false");
      return Status::Ok();
    case Json::value_t::number_integer:
      if (value.get<int64_t>() <= kExactJsonInt && value.get<int64_t>() >= -kExactJsonInt) {
        AppendInt(value.get<int64_t>(), out);
        return Status::Ok();
      }
      break;
    case Json::value_t::number_unsigned:
      if (value.get<uint64_t>() <= static_cast<uint64_t>(kExactJsonInt)) {
        AppendInt(value.get<uint64_t>(), out);
        return Status::Ok();
      }
      break;
    case Json::value_t::string:
      return AppendString(value.get_ref<const std::string&>(), out);
    case Json::value_t::array: {
      out->push_back('[');
      for (size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out->push_back(',');
        Status s = AppendCanonicalJson(value[i], out);
        if (!s.ok()) return s;
      }
      out->push_back(']');
      return Status::Ok();
    }
    case Json::value_t::object: {
      // nlohmann keeps members in byte order: RFC 8785 order for ASCII names.
      bool plain_names = true;
      for (auto it = value.begin(); it != value.end() && plain_names; ++it) {
        plain_names = PlainAscii(it.key());
      }
      if (!plain_names) break;
      out->push_back('{');
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (it != value.begin()) out->push_back(',');
        (void)AppendString(it.key(), out);
        out->push_back(':');
        Status s = AppendCanonicalJson(it.value(), out);
        if (!s.ok()) return s;
      }
      out->push_back('}');
      return Status::Ok();
    }
    default:  // receipts hold no floating-point numbers (DESIGN §5)
      return MakeError(ErrorCode::kInvalidArgument, "a floating-point number");
  }
  Result<std::string> canonical = Canonicalize(value);
  if (!canonical.ok()) return canonical.error();
  out->append(*canonical);
  return Status::Ok();
}

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

void CanonicalObject::Begin(std::string_view name) {
  if (entries_.empty()) {  // two allocations in all for most objects
    entries_.reserve(expected_bytes_ / 32);
    text_.reserve(expected_bytes_);
  }
  const auto begin = static_cast<uint32_t>(text_.size());
  if (PlainAscii(name)) {  // every receipt member name: read back from the text
    entries_.push_back(Entry{false, begin + 1, begin + 1 + static_cast<uint32_t>(name.size()),
                             begin, begin});
    AppendQuoted(name, &text_);
  } else {
    const auto name_begin = static_cast<uint32_t>(names_.size());
    names_.append(name);
    entries_.push_back(
        Entry{true, name_begin, static_cast<uint32_t>(names_.size()), begin, begin});
    if (Status s = AppendCanonicalString(name, &text_); !s.ok()) Fail(name, s.error());
  }
  text_.push_back(':');
}

void CanonicalObject::End() { entries_.back().end = static_cast<uint32_t>(text_.size()); }

void CanonicalObject::Fail(std::string_view name, const Error& error) {
  if (status_.ok()) {
    status_ = MakeError(ErrorCode::kInvalidArgument,
                        "receipt member " + std::string(name) + ": " + error.message);
  }
}

void CanonicalObject::AddString(std::string_view name, std::string_view value) {
  Begin(name);
  if (Status s = AppendString(value, &text_); !s.ok()) Fail(name, s.error());
  End();
}

void CanonicalObject::AddInt(std::string_view name, int64_t value) {
  Begin(name);
  if (value > kExactJsonInt || value < -kExactJsonInt) {
    Fail(name, Error{ErrorCode::kInvalidArgument, "integer beyond +-2^53"});
  }
  AppendInt(value, &text_);
  End();
}

void CanonicalObject::AddBool(std::string_view name, bool value) {
  Begin(name);
  text_.append(value ? "true" : "false");
  End();
}

void CanonicalObject::AddObject(std::string_view name, const CanonicalObject& value) {
  Begin(name);
  if (Status s = value.AppendTo(&text_); !s.ok()) Fail(name, s.error());
  End();
}

void CanonicalObject::AddJson(std::string_view name, const Json& value) {
  Begin(name);
  if (Status s = AppendCanonicalJson(value, &text_); !s.ok()) Fail(name, s.error());
  End();
}

void CanonicalObject::AddCanonical(std::string_view name, std::string_view canonical) {
  Begin(name);
  text_.append(canonical);
  End();
}

namespace {

// Room for an object's members in order: on the stack for up to 16 (every
// nested object of a receipt), else on the heap.
class MemberBuffer {
 public:
  explicit MemberBuffer(size_t n) {
    if (n > sizeof small_ / sizeof small_[0]) large_.resize(n);
  }
  CanonicalObject::Member* data() { return large_.empty() ? small_ : large_.data(); }

 private:
  CanonicalObject::Member small_[16];
  std::vector<CanonicalObject::Member> large_;
};

}  // namespace

Status CanonicalObject::SortInto(Member* members) const {
  if (!status_.ok()) return status_.error();
  const std::string_view names(names_);
  const std::string_view text(text_);
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    members[i] = Member{(e.escaped_name ? names : text).substr(e.name_begin,
                                                               e.name_end - e.name_begin),
                        text.substr(e.begin, e.end - e.begin)};
  }
  std::sort(members, members + entries_.size(),
            [](const Member& a, const Member& b) { return Utf16Less(a.name, b.name); });
  for (size_t i = 1; i < entries_.size(); ++i) {
    if (members[i].name == members[i - 1].name) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "receipt member " + std::string(members[i].name) + " repeats");
    }
  }
  return Status::Ok();
}

Result<std::vector<CanonicalObject::Member>> CanonicalObject::Sorted() const {
  std::vector<Member> members(entries_.size());
  if (Status s = SortInto(members.data()); !s.ok()) return s.error();
  return members;
}

Status CanonicalObject::AppendTo(std::string* out) const {
  MemberBuffer buffer(entries_.size());
  const Member* members = buffer.data();
  if (Status s = SortInto(buffer.data()); !s.ok()) return s;
  out->reserve(out->size() + text_.size() + entries_.size() + 2);
  out->push_back('{');
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->append(members[i].text);
  }
  out->push_back('}');
  return Status::Ok();
}

Result<std::string> CanonicalObject::Text() const {
  std::string out;
  if (Status s = AppendTo(&out); !s.ok()) return s.error();
  return out;
}

}  // namespace helm
