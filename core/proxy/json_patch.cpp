#include "core/proxy/json_patch.h"

#include "core/common/json.h"
#include "core/common/json_scan.h"

namespace helm {

std::optional<std::string> ReplaceTopLevelString(std::string_view text, std::string_view key,
                                                 std::string_view value) {
  std::optional<std::string_view> old = TopLevelMember(text, key);
  if (!old) return std::nullopt;
  const size_t start = static_cast<size_t>(old->data() - text.data());
  std::string out(text.substr(0, start));
  out += DumpJson(Json(std::string(value)));
  out += text.substr(start + old->size());
  return out;
}

}  // namespace helm
