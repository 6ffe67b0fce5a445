#include "core/proxy/proxy_types.h"

#include <doctest/doctest.h>

namespace helm {
namespace {

TEST_CASE("a header line whose value holds a line break is left out") {
  std::string lines;
  // A client-chosen model name passed through to X-Helm-Model: no injection.
  AppendHeaderLine(&lines, "X-Helm-Model", "m\r\nX-Injected: 1");
  AppendHeaderLine(&lines, "X-Helm-Model", "m\nX-Injected: 1");
  CHECK(lines.empty());
  AppendHeaderLine(&lines, "X-Helm-Lane", "standard");
  AppendHeaderLine(&lines, "X-Helm-Fallbacks", "0");
  CHECK(lines == "X-Helm-Lane: standard\r\nX-Helm-Fallbacks: 0\r\n");
}

}  // namespace
}  // namespace helm
