// Reading one member of a large JSON document without parsing all of it.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

namespace helm {

// The raw text of the value of top-level member `name` of the JSON object
// `text` (the last one, if the name repeats, as a parser keeps it). Strings
// are skipped with their escapes and nesting is tracked, but nothing else is
// validated: parse the returned slice. nullopt when `text` is not an object,
// the member is absent, or the text ends early. Member names are compared
// after unescaping ("mod\u0065l" is "model"), as a parser reads them.
std::optional<std::string_view> TopLevelMember(std::string_view text, std::string_view name);

// Calls fn(name, raw value text) for each top-level member of the JSON object
// `text` in order, with TopLevelMember's (lack of) validation. Names are
// unescaped; a name that had escapes is valid only during its call. False
// when `text` is not an object or ends early (the members before that point
// were passed).
bool ForEachTopLevelMember(std::string_view text,
                           const std::function<void(std::string_view, std::string_view)>& fn);

}  // namespace helm
