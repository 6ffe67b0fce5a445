// RFC 8785 JSON Canonicalization Scheme. Object members sorted by their names'
// UTF-16 code units, strings escaped minimally as the RFC prescribes, numbers
// in ECMAScript shortest form. Receipts contain integers and strings only, but
// the serializer implements the whole RFC so it can be tested against it.
#pragma once

#include <string>
#include <string_view>

#include "core/common/json.h"

namespace helm {

// Fails (kInvalidArgument) on non-finite numbers or invalid UTF-8 in strings.
Result<std::string> Canonicalize(const Json& value);
// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates
// or code points above U+10FFFF).
bool IsValidUtf8(std::string_view s);
// Appends the RFC 8785 form of the string `s` (quoted, minimally escaped).
Status AppendCanonicalString(std::string_view s, std::string* out);

}  // namespace helm
