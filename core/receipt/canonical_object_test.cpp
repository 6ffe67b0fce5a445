#include "core/receipt/canonical_object.h"

#include <doctest/doctest.h>

#include "core/receipt/jcs.h"

namespace helm {
namespace {

TEST_CASE("strings take the quoted fast path only when JCS would copy them as they are") {
  // Every byte value, at every position of every word and of the tail.
  for (size_t size : {1, 7, 8, 9, 16, 21}) {
    for (size_t at = 0; at < size; ++at) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string text(size, 'a');
        text[at] = static_cast<char>(byte);
        std::string fast;
        Status s = AppendCanonicalJson(Json(text), &fast);
        Result<std::string> reference = Canonicalize(Json(text));
        CAPTURE(size);
        CAPTURE(at);
        CAPTURE(byte);
        REQUIRE(s.ok() == reference.ok());
        if (s.ok()) REQUIRE(fast == *reference);
      }
    }
  }
}

TEST_CASE("a CanonicalObject gives the RFC 8785 text of the same JSON object") {
  CanonicalObject route;
  route.AddString("lane", "balanced");
  route.AddJson("attempts", Json::array({Json{{"outcome", "ok"}, {"latency_us", 12}}}));
  CanonicalObject o;
  o.AddString("kind", "outcome");
  o.AddString("quote\"and\\back", "tab\there \xC3\xA9 \x01");
  o.AddInt("negative", -42);
  o.AddInt("exact", int64_t{1} << 53);
  o.AddBool("stream", false);
  o.AddObject("route", route);
  o.AddJson("usage", Json{{"input", 3}, {"output", 4}});
  o.AddJson("nothing", nullptr);
  // Sorted by UTF-16 code units: U+1F600 (a surrogate pair) before U+FFFD.
  o.AddString("\xEF\xBF\xBD", "replacement");
  o.AddString("\xF0\x9F\x98\x80", "emoji");
  o.AddCanonical("signer", R"({"alg":"ed25519"})");

  Json same = {{"kind", "outcome"},
               {"quote\"and\\back", "tab\there \xC3\xA9 \x01"},
               {"negative", -42},
               {"exact", int64_t{1} << 53},
               {"stream", false},
               {"route",
                {{"lane", "balanced"},
                 {"attempts", Json::array({Json{{"outcome", "ok"}, {"latency_us", 12}}})}}},
               {"usage", {{"input", 3}, {"output", 4}}},
               {"nothing", nullptr},
               {"\xEF\xBF\xBD", "replacement"},
               {"\xF0\x9F\x98\x80", "emoji"},
               {"signer", {{"alg", "ed25519"}}}};
  REQUIRE(o.status().ok());
  CHECK(o.Text().value() == Canonicalize(same).value());
  auto sorted = o.Sorted();
  REQUIRE(sorted.ok());
  CHECK(sorted->front().name == "exact");
  CHECK(sorted->back().name == "\xEF\xBF\xBD");
  CHECK(sorted->back().text == "\"\xEF\xBF\xBD\":\"replacement\"");
}

TEST_CASE("objects of any size, empty or past the stack's room, sort as RFC 8785 says") {
  CHECK(CanonicalObject().Text().value() == "{}");
  std::string empty_nested;
  REQUIRE(CanonicalObject().AppendTo(&empty_nested).ok());
  CHECK(empty_nested == "{}");
  for (int n : {3, 16, 17, 40}) {
    CanonicalObject o;
    Json same = Json::object();
    for (int i = n - 1; i >= 0; --i) {  // added in reverse order
      const std::string name = "m" + std::to_string(i);
      o.AddInt(name, i);
      same[name] = i;
    }
    std::string text = "prefix:";
    REQUIRE(o.AppendTo(&text).ok());
    CHECK(text == "prefix:" + Canonicalize(same).value());
  }
  CanonicalObject twice;
  twice.AddInt("a", 1);
  twice.AddInt("a", 2);
  std::string untouched = "kept";
  CHECK_FALSE(twice.AppendTo(&untouched).ok());
  CHECK(untouched == "kept");
  CanonicalObject parent;
  parent.AddObject("child", twice);
  CHECK_FALSE(parent.Text().ok());
}

TEST_CASE("a CanonicalObject with a member that cannot be canonical is refused") {
  SUBCASE("invalid UTF-8 in a value") {
    CanonicalObject o;
    o.AddString("bad", "\xff");
    CHECK(o.status().error().code == ErrorCode::kInvalidArgument);
    CHECK(o.Text().error().message.find("bad") != std::string::npos);
  }
  SUBCASE("invalid UTF-8 in a name") {
    CanonicalObject o;
    o.AddBool("\xc3", true);
    CHECK_FALSE(o.Text().ok());
  }
  SUBCASE("an integer a double cannot hold") {
    CanonicalObject o;
    o.AddInt("big", (int64_t{1} << 53) + 1);
    CHECK_FALSE(o.Text().ok());
  }
  SUBCASE("a floating-point number") {
    CanonicalObject o;
    o.AddJson("usage", Json{{"cost", 0.5}});
    CHECK_FALSE(o.Text().ok());
  }
  SUBCASE("a failed nested object") {
    CanonicalObject inner;
    inner.AddString("bad", "\xff");
    CanonicalObject o;
    o.AddObject("inner", inner);
    CHECK_FALSE(o.status().ok());
  }
  SUBCASE("a repeated name") {
    CanonicalObject o;
    o.AddString("kind", "a");
    o.AddInt("kind", 1);
    REQUIRE(o.status().ok());
    CHECK(o.Text().error().message.find("kind repeats") != std::string::npos);
  }
}

TEST_CASE("member order is by UTF-16 code units, not UTF-8 bytes") {
  CHECK(Utf16Less("a", "b"));
  CHECK(Utf16Less("a", "aa"));
  CHECK_FALSE(Utf16Less("b", "a"));
  // U+1F600 is a surrogate pair (0xD83D ...) and sorts before U+FFFD in UTF-16,
  // the other way round in UTF-8.
  CHECK(Utf16Less("\xF0\x9F\x98\x80", "\xEF\xBF\xBD"));
  // ... also after a common prefix, and when the difference is inside a character.
  CHECK(Utf16Less("x\xF0\x9F\x98\x80", "x\xEF\xBF\xBD"));
  CHECK_FALSE(Utf16Less("x\xEF\xBF\xBD", "x\xF0\x9F\x98\x80"));
  CHECK(Utf16Less("\xC3\xA9", "\xC3\xAA"));
  CHECK(Utf16Less("a\x7f", "a\xC2\x80"));
  CHECK_FALSE(Utf16Less("abc", "abc"));
  CHECK(Utf16Less("", "a"));
  CHECK_FALSE(Utf16Less("a", ""));
  CHECK(Utf16Less("receipt_id", "request"));
  CHECK(Utf16Less("Seq", "_"));
}

}  // namespace
}  // namespace helm
