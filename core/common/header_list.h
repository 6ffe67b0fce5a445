// HTTP header fields as received or to send: (name, value) pairs in order.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace helm {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The first field named `name` (compared as is: received names are
// lower-cased), or null.
inline const std::string* FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return &v;
  }
  return nullptr;
}

}  // namespace helm
