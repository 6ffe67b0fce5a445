// Internal to core/policy: one walker per client protocol over the
// policy-visible parts of a request body. ExtractFacts (read-only, J = const
// Json) and RewriteTexts (in place, J = Json) run the very same walker, so the
// strings redaction rewrites are exactly the strings the policy matched.
//
// A visitor V provides:
//   void Text(J& node);         // node is a JSON string holding prompt text
//   void Stringified(J& node);  // node is a JSON value seen as its compact dump
//   void Image();               // an image part was seen
//   void Tool(const std::string& name);  // a tool offered to the model
//
// The walker only reads structure (find, iteration), never inserts, so it is
// safe on const bodies. Every shape problem is kInvalidArgument naming the
// JSON path, e.g. "messages[2].content: expected a string or an array".
#pragma once

#include <string>
#include <string_view>

#include "core/common/json.h"
#include "core/common/result.h"

namespace helm::facts_internal {

inline Status Bad(const std::string& where, std::string_view what) {
  return MakeError(ErrorCode::kInvalidArgument, where + ": " + std::string(what));
}

inline std::string At(const std::string& where, size_t i) {
  return where + "[" + std::to_string(i) + "]";
}

// The member `key`, or nullptr when absent or null (clients send null for
// "not set"). A second spelling (Gemini accepts snake_case too) may be given;
// a body carrying both is rejected, so no spelling escapes the policy.
template <typename J>
Result<J*> Member(J& obj, const char* key, const char* alt = nullptr) {
  J* found = nullptr;
  auto it = obj.find(key);
  if (it != obj.end() && !it->is_null()) found = &*it;
  if (alt != nullptr) {
    auto it2 = obj.find(alt);
    if (it2 != obj.end() && !it2->is_null()) {
      if (found != nullptr) {
        return MakeError(ErrorCode::kInvalidArgument,
                         std::string("both \"") + key + "\" and \"" + alt + "\" are set");
      }
      found = &*it2;
    }
  }
  return found;
}

// Optional string member: absent/null is fine, any other non-string is not.
template <typename J>
Result<const std::string*> StringMember(J& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return static_cast<const std::string*>(nullptr);
  if (!it->is_string()) return Bad(where + "." + key, "expected a string").error();
  return &it->template get_ref<const std::string&>();
}

// Optional string member fed to the visitor as text.
template <typename J, typename V>
Status TextMember(J& obj, const char* key, const std::string& where, V& v) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Bad(where + "." + key, "expected a string");
  v.Text(*it);
  return Status::Ok();
}

// "a string, or an array of strings" (embeddings input, completions prompt).
template <typename J, typename V>
Status StringOrStrings(J& node, const std::string& where, V& v) {
  if (node.is_string()) {
    v.Text(node);
    return Status::Ok();
  }
  if (!node.is_array()) return Bad(where, "expected a string or an array of strings");
  size_t i = 0;
  for (auto& item : node) {
    if (!item.is_string()) {
      return Bad(At(where, i), "expected a string (token arrays are not supported)");
    }
    v.Text(item);
    ++i;
  }
  return Status::Ok();
}

// The part's "type" member, which must be a string.
template <typename J>
Result<std::string> PartType(J& part, const std::string& where) {
  if (!part.is_object()) return Bad(where, "expected an object").error();
  auto it = part.find("type");
  if (it == part.end() || !it->is_string()) {
    return Bad(where + ".type", "expected a string").error();
  }
  return it->template get<std::string>();
}

// A part or block of a type this walker does not know: its "text" member, if a
// string, is still policy-visible (fail-safe for new part types).
template <typename J, typename V>
void UnknownPart(J& part, V& v) {
  auto it = part.find("text");
  if (it != part.end() && it->is_string()) v.Text(*it);
}

// Reads tools[i] names with `name_of`, which returns the name or nullptr.
template <typename J, typename V, typename NameOf>
Status ToolNames(J& body, const char* key, V& v, NameOf name_of) {
  auto tools = Member(body, key);
  if (!tools.ok()) return tools.error();
  if (*tools == nullptr) return Status::Ok();
  if (!(*tools)->is_array()) return Bad(key, "expected an array");
  size_t i = 0;
  for (auto& tool : **tools) {
    std::string where = At(key, i++);
    if (!tool.is_object()) return Bad(where, "expected an object");
    const std::string* name = name_of(tool);
    if (name == nullptr) return Bad(where, "no tool name");
    v.Tool(*name);
  }
  return Status::Ok();
}

// Returns the string at obj[key] (or obj[key][sub] when sub is given), or
// nullptr when it is not a string.
template <typename J>
const std::string* StringAt(J& obj, const char* key, const char* sub = nullptr) {
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  if (sub != nullptr) {
    if (!it->is_object()) return nullptr;
    auto it2 = it->find(sub);
    if (it2 == it->end() || !it2->is_string()) return nullptr;
    return &it2->template get_ref<const std::string&>();
  }
  if (!it->is_string()) return nullptr;
  return &it->template get_ref<const std::string&>();
}

}  // namespace helm::facts_internal
