#include "core/common/json.h"

#include <doctest/doctest.h>

#include <string>

namespace helm {

TEST_CASE("strict JSON rejects duplicate keys at any depth") {
  CHECK_FALSE(ParseStrictJson(R"({"model":"a","model":"b"})").ok());
  CHECK_FALSE(ParseStrictJson(R"({"m":{"x":1,"x":2}})").ok());
  CHECK(ParseStrictJson(R"({"m":{"x":1},"n":{"x":2}})").ok());
  auto r = ParseStrictJson(R"({"a":1,"a":1})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("duplicate key \"a\"") != std::string::npos);
}

TEST_CASE("strict JSON rejects malformed input") {
  for (const char* bad : {"", "{", "{\"a\":1} x", "\xEF\xBB\xBF{}", "{\"a\":\"\xff\"}", "nul"}) {
    CHECK_FALSE(ParseStrictJson(bad).ok());
  }
  CHECK_FALSE(ParseStrictJson(std::string("{\"a\":1}\0", 8)).ok());
}

TEST_CASE("strict JSON depth limit: at the limit passes, one past fails") {
  auto nest = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  CHECK(ParseStrictJson(nest(8), 8).ok());
  CHECK_FALSE(ParseStrictJson(nest(9), 8).ok());
  CHECK_FALSE(ParseStrictJson(nest(100000)).ok());
}

}  // namespace helm
