// Reading one member of a large JSON document without parsing all of it.
#pragma once

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

}  // namespace helm
