// Helpers for the two TOML loaders (policy, routing config). Include only
// from a .cpp that already includes toml++ (it is slow to compile).
#pragma once

#include <toml++/toml.h>

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

}  // namespace helm
