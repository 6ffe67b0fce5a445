// RFC 8785 serializer. Layout of this file follows the RFC: §3.2.2.2 strings,
// §3.2.2.3 numbers (ECMAScript Number.prototype.toString), §3.2.3 member
// ordering by UTF-16 code units.
//
// One deliberate extension: integers that nlohmann holds as int64/uint64 are
// written exactly, not through a double. Within ±2^53 both are the same bytes;
// receipts never hold larger integers, and helm_verify.py does the same.
#include "core/receipt/jcs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace helm {
namespace {

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, "JCS: " + std::move(message));
}

// Decodes `s` as UTF-8 into UTF-16 code units (into nothing when `out` is
// null). Fails on any ill-formed sequence (overlong forms, surrogates, code
// points above U+10FFFF, truncation).
bool Utf8ToUtf16(std::string_view s, std::u16string* out) {
  if (out) out->clear();
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<uint8_t>(s[i]);
    uint32_t cp = 0;
    size_t len = 0;
    if (b0 < 0x80) {
      cp = b0;
      len = 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      cp = b0 & 0x1Fu;
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      cp = b0 & 0x0Fu;
      len = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      cp = b0 & 0x07u;
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    i += len;
    if (!out) continue;  // validating only
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out->push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out->push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FFu)));
    } else {
      out->push_back(static_cast<char16_t>(cp));
    }
  }
  return true;
}

// RFC 8785 §3.2.2.2: escape only '"', '\\' and C0 controls; everything else is
// copied as UTF-8. The caller has validated `s`.
void AppendString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;  // start of the bytes copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<uint8_t>(s[i]);
    if (u >= 0x20 && u != '"' && u != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (u) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\t': out->append("\\t"); break;
      case '\n': out->append("\\n"); break;
      case '\f': out->append("\\f"); break;
      case '\r': out->append("\\r"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[u >> 4]);
        out->push_back(kHex[u & 0xF]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

// ECMAScript Number.prototype.toString for a finite double (ECMA-262
// §7.1.12.1). std::to_chars gives the shortest round-trip digits d1..dk and
// exponent; we then lay them out as ECMAScript does, with n = exponent + 1:
//   k <= n <= 21      digits followed by n-k zeros        (1e21 > x >= 1)
//   0 < n <= 21       digits with a point after n of them
//   -6 < n <= 0       "0." then -n zeros then digits
//   otherwise         d1[.d2..dk]e(+|-)(n-1)
std::string FormatEcmaScriptNumber(double value) {
  if (value == 0) return "0";  // also -0
  std::string out;
  if (value < 0) {
    out.push_back('-');
    value = -value;
  }
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));  // "d.ddde+XX"
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  int exp10 = 0;
  std::string_view exp_text = sci.substr(e_pos + 1);
  if (!exp_text.empty() && exp_text[0] == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp10);
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<size_t>(n));
    out.push_back('.');
    out += digits.substr(static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out += digits.substr(1);
    }
    out.push_back('e');
    out.push_back(n - 1 < 0 ? '-' : '+');
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

Status AppendValue(const Json& value, std::string* out);

// §3.2.3: members sorted by the UTF-16 code units of their names.
Status AppendObject(const Json& value, std::string* out) {
  std::vector<std::pair<std::u16string, const std::string*>> names;
  names.reserve(value.size());
  for (auto it = value.begin(); it != value.end(); ++it) {
    std::u16string utf16;
    if (!Utf8ToUtf16(it.key(), &utf16)) return Invalid("member name is not valid UTF-8");
    names.emplace_back(std::move(utf16), &it.key());
  }
  std::sort(names.begin(), names.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  out->push_back('{');
  bool first = true;
  for (const auto& [utf16, name] : names) {
    if (!first) out->push_back(',');
    first = false;
    AppendString(*name, out);
    out->push_back(':');
    Status s = AppendValue(value.at(*name), out);
    if (!s.ok()) return s;
  }
  out->push_back('}');
  return Status::Ok();
}

Status AppendArray(const Json& value, std::string* out) {
  out->push_back('[');
  bool first = true;
  for (const Json& element : value) {
    if (!first) out->push_back(',');
    first = false;
    Status s = AppendValue(element, out);
    if (!s.ok()) return s;
  }
  out->push_back(']');
  return Status::Ok();
}

Status AppendValue(const Json& value, std::string* out) {
  switch (value.type()) {
    case Json::value_t::null: out->append("null"); return Status::Ok();
    case Json::value_t::boolean: out->append(value.get<bool>() ? "true" : "false");
      return Status::Ok();
    case Json::value_t::number_integer:
      out->append(std::to_string(value.get<int64_t>()));
      return Status::Ok();
    case Json::value_t::number_unsigned:
      out->append(std::to_string(value.get<uint64_t>()));
      return Status::Ok();
    case Json::value_t::number_float: {
      const double d = value.get<double>();
      if (!std::isfinite(d)) return Invalid("NaN and Infinity have no JSON form");
      out->append(FormatEcmaScriptNumber(d));
      return Status::Ok();
    }
    case Json::value_t::string:
      return AppendCanonicalString(value.get_ref<const std::string&>(), out);
    case Json::value_t::object: return AppendObject(value, out);
    case Json::value_t::array: return AppendArray(value, out);
    default: return Invalid("value has no JSON form (binary or discarded)");
  }
}

}  // namespace

bool IsValidUtf8(std::string_view s) { return Utf8ToUtf16(s, nullptr); }

Status AppendCanonicalString(std::string_view s, std::string* out) {
  if (!IsValidUtf8(s)) return Invalid("string is not valid UTF-8");
  AppendString(s, out);
  return Status::Ok();
}

Result<std::string> Canonicalize(const Json& value) {
  std::string out;
  Status s = AppendValue(value, &out);
  if (!s.ok()) return s.error();
  return out;
}

}  // namespace helm
