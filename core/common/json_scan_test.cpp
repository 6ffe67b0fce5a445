#include "core/common/json_scan.h"

#include <doctest/doctest.h>

#include <string>

#include "core/common/json.h"

namespace helm {

TEST_CASE("TopLevelMember finds the top-level member, not a nested or quoted one") {
  const std::string body =
      R"({"id":"x","choices":[{"message":{"content":"a \"usage\": {} ]}","usage":1}}],)"
      R"( "n": -1.5e3 , "ok":true,"usage" : {"prompt_tokens":3,"x":[1,{"y":"}"}]} })";
  auto usage = TopLevelMember(body, "usage");
  REQUIRE(usage);
  CHECK(*usage == R"({"prompt_tokens":3,"x":[1,{"y":"}"}]})");
  CHECK(TopLevelMember(body, "n") == std::optional<std::string_view>("-1.5e3"));
  CHECK(TopLevelMember(body, "ok") == std::optional<std::string_view>("true"));
  CHECK(TopLevelMember(body, "id") == std::optional<std::string_view>("\"x\""));
  CHECK_FALSE(TopLevelMember(body, "content"));
  CHECK_FALSE(TopLevelMember(body, "prompt_tokens"));
  // Agrees with a full parse of every member of the document.
  const Json doc = Json::parse(body);
  for (const auto& [key, value] : doc.items()) {
    auto raw = TopLevelMember(body, key);
    REQUIRE(raw);
    CHECK(Json::parse(*raw) == value);
  }
}

TEST_CASE("TopLevelMember: quotes after runs of backslashes") {
  // "a\\" ends after an escaped backslash; in "b\\\"\\" the quote is escaped.
  const std::string body = R"({"x":"a\\","y":"b\\\"\\","usage":"\\\\","z":[""]})";
  const Json doc = Json::parse(body);
  for (const auto& [key, value] : doc.items()) {
    auto raw = TopLevelMember(body, key);
    REQUIRE(raw);
    CHECK(Json::parse(*raw) == value);
  }
  CHECK_FALSE(TopLevelMember(R"({"x":"a\"})", "x"));  // the string never ends
}

TEST_CASE("TopLevelMember: the last of repeated names, and nothing from broken text") {
  CHECK(TopLevelMember(R"({"usage":1,"usage":2})", "usage") ==
        std::optional<std::string_view>("2"));
  CHECK(TopLevelMember(R"({"usage":null})", "usage") == std::optional<std::string_view>("null"));
  CHECK(TopLevelMember("\n{ \"a\" :\t{ } }\n", "a") == std::optional<std::string_view>("{ }"));
  CHECK(TopLevelMember(R"({"us\u0061ge":5,"u\"":6})", "usage") ==
        std::optional<std::string_view>("5"));
  CHECK(TopLevelMember(R"({"us\u0061ge":5,"u\"":6})", "u\"") ==
        std::optional<std::string_view>("6"));
  for (const char* broken :
       {"", "[]", "{}", "{", R"({"usage")", R"({"usage":)", R"({"usage":{"a":1})",
        R"({"usage":"open)", R"({"a":1 "usage":2})", R"("usage")", R"({usage:1})"}) {
    CAPTURE(broken);
    CHECK_FALSE(TopLevelMember(broken, "usage"));
  }
}

}  // namespace helm
