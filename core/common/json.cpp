#include "core/common/json.h"

#include <set>
#include <string>
#include <vector>

namespace helm {

Result<Json> ParseStrictJson(std::string_view text, int max_depth) {
  // The parser skips a byte-order mark and stops at a NUL; an upstream may not.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    return MakeError(ErrorCode::kInvalidArgument, "JSON body must not start with a byte-order mark");
  }
  if (text.find('\0') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "JSON body contains a NUL byte");
  }
  std::vector<std::set<std::string>> keys;  // one key set per open object
  std::string problem;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) -> bool {
    if (!problem.empty()) return false;
    switch (event) {
      case Json::parse_event_t::object_start:
        keys.emplace_back();
        [[fallthrough]];
      case Json::parse_event_t::array_start:
        if (depth >= max_depth) problem = "JSON nesting deeper than " + std::to_string(max_depth);
        break;
      case Json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
          problem = "duplicate key \"" + parsed.get<std::string>() + "\" in JSON object";
        }
        break;
      default:
        break;
    }
    return problem.empty();
  };
  Json out = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (!problem.empty()) return MakeError(ErrorCode::kInvalidArgument, problem);
  if (out.is_discarded()) {
    return MakeError(ErrorCode::kInvalidArgument, "request body is not valid JSON");
  }
  return out;
}

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace helm
