#include "core/common/json.h"

#include <string>
#include <vector>

namespace helm {

namespace {

// Builds the document as nlohmann's own DOM parser does, and refuses a key the
// object being built already has (one map lookup, no copies) and nesting
// deeper than max_depth.
class StrictDomBuilder {
 public:
  StrictDomBuilder(Json* root, int max_depth) : root_(root), max_depth_(max_depth) {}

  bool null() { return Value(nullptr); }
  bool boolean(bool v) { return Value(v); }
  bool number_integer(Json::number_integer_t v) { return Value(v); }
  bool number_unsigned(Json::number_unsigned_t v) { return Value(v); }
  bool number_float(Json::number_float_t v, const Json::string_t& /*text*/) { return Value(v); }
  // Strings and keys are copied, not moved: the lexer reuses its buffer,
  // which a move would take away (a reallocation per later token).
  bool string(Json::string_t& v) { return Value(v); }
  bool binary(Json::binary_t& /*v*/) { return false; }  // not in JSON text
  bool start_object(std::size_t /*size*/) { return Open(Json::value_t::object); }
  bool start_array(std::size_t /*size*/) { return Open(Json::value_t::array); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool key(Json::string_t& k) {
    auto [it, inserted] = open_.back()->get_ref<Json::object_t&>().try_emplace(k);
    if (!inserted) {
      problem_ = "duplicate key \"" + it->first + "\" in JSON object";
      return false;
    }
    member_ = &it->second;
    return true;
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/,
                   const nlohmann::detail::exception& /*e*/) {
    return false;
  }

  const std::string& problem() const { return problem_; }

 private:
  // Places a value where the parser is: the root, the next array element or
  // the member whose key came last.
  template <typename T>
  Json* Place(T&& v) {
    if (open_.empty()) {
      *root_ = Json(std::forward<T>(v));
      return root_;
    }
    if (open_.back()->is_array()) {
      open_.back()->get_ref<Json::array_t&>().emplace_back(std::forward<T>(v));
      return &open_.back()->get_ref<Json::array_t&>().back();
    }
    *member_ = Json(std::forward<T>(v));
    return member_;
  }
  template <typename T>
  bool Value(T&& v) {
    Place(std::forward<T>(v));
    return true;
  }
  bool Open(Json::value_t type) {
    if (open_.size() >= static_cast<size_t>(max_depth_)) {
      problem_ = "JSON nesting deeper than " + std::to_string(max_depth_);
      return false;
    }
    open_.push_back(Place(type));
    return true;
  }
  bool Close() {
    open_.pop_back();
    return true;
  }

  Json* root_;
  const int max_depth_;
  std::vector<Json*> open_;  // the containers being built, innermost last
  Json* member_ = nullptr;   // the member whose value comes next
  std::string problem_;
};

}  // namespace

Result<Json> ParseStrictJson(std::string_view text, int max_depth) {
  // The parser skips a byte-order mark and stops at a NUL; an upstream may not.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    return MakeError(ErrorCode::kInvalidArgument, "JSON body must not start with a byte-order mark");
  }
  if (text.find('\0') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "JSON body contains a NUL byte");
  }
  Json out;
  StrictDomBuilder builder(&out, max_depth);
  if (Json::sax_parse(text.begin(), text.end(), &builder)) return out;
  if (!builder.problem().empty()) return MakeError(ErrorCode::kInvalidArgument, builder.problem());
  return MakeError(ErrorCode::kInvalidArgument, "request body is not valid JSON");
}

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace helm
