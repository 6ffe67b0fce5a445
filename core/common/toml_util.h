// Helpers for the two TOML loaders (policy, routing config). Include only
// from a .cpp that already includes toml++ (it is slow to compile).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <toml++/toml.h>

#include "core/common/result.h"

namespace helm {

// "a table", "an integer", ... for "expected X, got Y" messages.
inline const char* TomlTypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

// Base of a TOML loader: its errors, each "FILE:LINE: KEY: problem"
// (kConfig), and the checks both loaders make of keys and scalar values.
class TomlLoaderBase {
 public:
  Error Fail(uint32_t line, const std::string& key, const std::string& problem) const {
    return MakeError(ErrorCode::kConfig,
                     file_ + ":" + std::to_string(line) + ": " + key + ": " + problem);
  }
  Error Fail(const toml::node& n, const std::string& key, const std::string& problem) const {
    return Fail(n.source().begin.line, key, problem);
  }
  Error WrongType(const toml::node& n, const std::string& key, const char* want) const {
    return Fail(n, key, std::string("expected ") + want + ", got " + TomlTypeName(n));
  }

  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  // Every key of `t` (at `path`) is one of `allowed`.
  Status CheckKeys(const toml::table& t, const std::string& path,
                   std::initializer_list<std::string_view> allowed) const {
    for (auto&& [k, v] : t) {
      bool known = false;
      for (auto a : allowed) known = known || k.str() == a;
      if (!known) return Fail(k.source().begin.line, Join(path, k.str()), "unknown key");
    }
    return Status::Ok();
  }

  // A non-empty string.
  Result<std::string> String(const toml::node& n, const std::string& key) const {
    if (!n.is_string()) return WrongType(n, key, "a string");
    std::string s = n.as_string()->get();
    if (s.empty()) return Fail(n, key, "must not be empty");
    return s;
  }

  Result<int64_t> Int(const toml::node& n, const std::string& key, int64_t min,
                      int64_t max) const {
    if (!n.is_integer()) return WrongType(n, key, "an integer");
    int64_t v = n.as_integer()->get();
    if (v < min || v > max) {
      return Fail(n, key, "must be between " + std::to_string(min) + " and " +
                              std::to_string(max));
    }
    return v;
  }

  Result<bool> Bool(const toml::node& n, const std::string& key) const {
    if (!n.is_boolean()) return WrongType(n, key, "a boolean");
    return n.as_boolean()->get();
  }

 protected:
  explicit TomlLoaderBase(std::string_view file) : file_(file) {}

  std::string file_;
};

}  // namespace helm
