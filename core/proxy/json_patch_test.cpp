#include "core/proxy/json_patch.h"

#include <doctest/doctest.h>

namespace helm {

TEST_CASE("ReplaceTopLevelString changes only the top-level member's value") {
  std::string in = R"({"messages":[{"model":"inner","content":"a \"model\": x"}], "model" : "gpt-4o" ,"z":1})";
  auto out = ReplaceTopLevelString(in, "model", "upstream-1");
  REQUIRE(out);
  CHECK(*out == R"({"messages":[{"model":"inner","content":"a \"model\": x"}], "model" : "upstream-1" ,"z":1})");
}

TEST_CASE("ReplaceTopLevelString: absent member, non-object, escaped key and value") {
  CHECK_FALSE(ReplaceTopLevelString(R"({"a":{"model":"x"}})", "model", "y"));
  CHECK_FALSE(ReplaceTopLevelString(R"(["model"])", "model", "y"));
  auto out = ReplaceTopLevelString(R"({"mod\u0065l":null})", "model", "a\"b");
  REQUIRE(out);
  CHECK(*out == R"({"mod\u0065l":"a\"b"})");
  auto numeric = ReplaceTopLevelString(R"({"n":-1.5e3,"model":"m"})", "model", "k");
  REQUIRE(numeric);
  CHECK(*numeric == R"({"n":-1.5e3,"model":"k"})");
}

}  // namespace helm
