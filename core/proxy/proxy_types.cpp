#include "core/proxy/proxy_types.h"

#include "core/provider/http1_wire.h"

namespace helm {

void AppendHeaderLine(std::string* lines, std::string_view name, std::string_view value) {
  if (http1::HasHeaderBreak(value)) return;
  lines->append(name).append(": ").append(value).append("\r\n");
}

}  // namespace helm
