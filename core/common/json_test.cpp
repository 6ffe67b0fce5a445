#include "core/common/json.h"

#include <doctest/doctest.h>

#include <string>

namespace helm {

TEST_CASE("strict JSON rejects duplicate keys at any depth") {
  CHECK_FALSE(ParseStrictJson(R"({"model":"a","model":"b"})").ok());
  CHECK_FALSE(ParseStrictJson(R"({"m":{"x":1,"x":2}})").ok());
  CHECK(ParseStrictJson(R"({"m":{"x":1},"n":{"x":2}})").ok());
  CHECK(ParseStrictJson(R"([{"x":1},{"x":1}])").ok());
  CHECK_FALSE(ParseStrictJson(R"({"a":{"b":[1,{"c":2}]},"a":2})").ok());
  CHECK_FALSE(ParseStrictJson(R"({"a":1,"\u0061":2})").ok());  // the same key once unescaped
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

TEST_CASE("strict JSON gives the document nlohmann's parser gives") {
  const char* text =
      R"({"model":"m","n":-3,"u":18446744073709551615,"f":0.5,"t":true,"z":null,)"
      R"("messages":[{"role":"user","content":[{"type":"text","text":"hi \u00e9"}]},[],{}]})";
  auto r = ParseStrictJson(text);
  REQUIRE(r.ok());
  CHECK(*r == Json::parse(text));
  CHECK(ParseStrictJson("7").value() == 7);
  CHECK(ParseStrictJson(R"("s")").value() == "s");
}

TEST_CASE("strict JSON depth limit: at the limit passes, one past fails") {
  auto nest = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  CHECK(ParseStrictJson(nest(8), 8).ok());
  CHECK_FALSE(ParseStrictJson(nest(9), 8).ok());
  CHECK_FALSE(ParseStrictJson(nest(100000)).ok());
}

}  // namespace helm
