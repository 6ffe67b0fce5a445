// Test helpers for the proxy's callers. Header-only; tests only.
#pragma once

#include <string>
#include <string_view>

#include "core/proxy/proxy_types.h"

namespace helm::proxy_testing {

// An X-Helm-* header of a response (its header lines), or "".
inline std::string Header(const ProxyResponse& res, std::string_view name) {
  const std::string key = "\n" + std::string(name) + ": ";
  const std::string lines = "\n" + res.head_lines;
  const size_t at = lines.find(key);
  if (at == std::string::npos) return "";
  const size_t begin = at + key.size();
  return lines.substr(begin, lines.find('\r', begin) - begin);
}

}  // namespace helm::proxy_testing
