// Vectors from RFC 8785: §3.2.2 (sample object), §3.2.3 (member ordering) and
// Appendix B (IEEE 754 → ECMAScript number serialisation).
#include "core/receipt/jcs.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace helm {
namespace {

std::string Jcs(const Json& j) {
  auto r = Canonicalize(j);
  REQUIRE(r.ok());
  return r.value();
}

std::string JcsText(std::string_view text) {
  auto parsed = ParseStrictJson(text);
  REQUIRE(parsed.ok());
  return Jcs(parsed.value());
}

std::string JcsBits(uint64_t bits) { return Jcs(Json(std::bit_cast<double>(bits))); }

}  // namespace

TEST_CASE("RFC 8785 §3.2.2 sample object") {
  const char* input = R"({
    "numbers": [333333333.33333329, 1E30, 4.50,
                2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  CHECK(JcsText(input) ==
        "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
        "\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST_CASE("RFC 8785 §3.2.3 members sort by UTF-16 code units, not UTF-8 bytes") {
  const char* input = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis",
    "</script>": "Browser Challenge"
  })";
  CHECK(JcsText(input) ==
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"</script>\":\"Browser Challenge\","
        "\"\xC2\x80\":\"Control\",\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\","
        "\"\xE2\x82\xAC\":\"Euro Sign\",\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
        "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST_CASE("RFC 8785 Appendix B numbers") {
  CHECK(JcsBits(0x0000000000000000) == "0");
  CHECK(JcsBits(0x8000000000000000) == "0");  // -0
  CHECK(JcsBits(0x0000000000000001) == "5e-324");
  CHECK(JcsBits(0x8000000000000001) == "-5e-324");
  CHECK(JcsBits(0x7fefffffffffffff) == "1.7976931348623157e+308");
  CHECK(JcsBits(0xffefffffffffffff) == "-1.7976931348623157e+308");
  CHECK(JcsBits(0x4340000000000000) == "9007199254740992");
  CHECK(JcsBits(0xc340000000000000) == "-9007199254740992");
  CHECK(JcsBits(0x4430000000000000) == "295147905179352830000");
  CHECK(JcsBits(0x44b52d02c7e14af5) == "9.999999999999997e+22");
  CHECK(JcsBits(0x44b52d02c7e14af6) == "1e+23");
  CHECK(JcsBits(0x44b52d02c7e14af7) == "1.0000000000000001e+23");
  CHECK(JcsBits(0x444b1ae4d6e2ef4e) == "999999999999999700000");
  CHECK(JcsBits(0x444b1ae4d6e2ef4f) == "999999999999999900000");
  CHECK(JcsBits(0x444b1ae4d6e2ef50) == "1e+21");
  CHECK(JcsBits(0x3eb0c6f7a0b5ed8c) == "9.999999999999997e-7");
  CHECK(JcsBits(0x3eb0c6f7a0b5ed8d) == "0.000001");
  CHECK(JcsBits(0x41b3de4355555553) == "333333333.3333332");
  CHECK(JcsBits(0x41b3de4355555554) == "333333333.33333325");
  CHECK(JcsBits(0x41b3de4355555555) == "333333333.3333333");
  CHECK(JcsBits(0x41b3de4355555556) == "333333333.3333334");
  CHECK(JcsBits(0x41b3de4355555557) == "333333333.33333343");
  CHECK(JcsBits(0xbecbf647612f3696) == "-0.0000033333333333333333");
  CHECK(JcsBits(0x43143ff3c1cb0959) == "1424953923781206.2");
}

TEST_CASE("numbers: exponent thresholds and parsed literals") {
  CHECK(JcsText("[1e30, 4.50, 0.002, 1e-7, 1e-6, 1e20, 1e21, 123.0, -0.0, 0.1]") ==
        "[1e+30,4.5,0.002,1e-7,0.000001,100000000000000000000,1e+21,123,0,0.1]");
  CHECK(Jcs(Json(-1.5e-10)) == "-1.5e-10");
  CHECK(Jcs(Json(2.5e25)) == "2.5e+25");
}

TEST_CASE("integers are exact over the whole int64 and uint64 range") {
  CHECK(Jcs(Json(int64_t{9007199254740992})) == "9007199254740992");
  CHECK(Jcs(Json(std::numeric_limits<int64_t>::min())) == "-9223372036854775808");
  CHECK(Jcs(Json(std::numeric_limits<uint64_t>::max())) == "18446744073709551615");
  CHECK(JcsText("[-0, 0, 42, -7]") == "[0,0,42,-7]");
}

TEST_CASE("NaN and Infinity are rejected") {
  CHECK_FALSE(Canonicalize(Json(std::nan(""))).ok());
  CHECK_FALSE(Canonicalize(Json(std::numeric_limits<double>::infinity())).ok());
  CHECK_FALSE(Canonicalize(Json{{"a", {1, -std::numeric_limits<double>::infinity()}}}).ok());
}

TEST_CASE("string escaping: only quote, backslash and controls") {
  std::string all_controls;
  for (int c = 0; c < 0x20; ++c) all_controls.push_back(static_cast<char>(c));
  CHECK(Jcs(Json(all_controls)) ==
        "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018"
        "\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
  CHECK(Jcs(Json("a\"b\\c/d\x7f")) == "\"a\\\"b\\\\c/d\x7f\"");
  // Non-ASCII, including astral and U+2028, is raw UTF-8.
  CHECK(JcsText(R"("\u00fc \u2028 \ud83d\ude00 \uffff")") ==
        "\"\xC3\xBC \xE2\x80\xA8 \xF0\x9F\x98\x80 \xEF\xBF\xBF\"");
}

TEST_CASE("invalid UTF-8 is rejected in values and member names") {
  for (const char* bad : {"\xff", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                          "\xC3", "\xF0\x9F\x98", "\x80"}) {
    CHECK_FALSE(Canonicalize(Json(std::string(bad))).ok());
    Json obj = Json::object();
    obj[std::string(bad)] = 1;
    CHECK_FALSE(Canonicalize(obj).ok());
    CHECK_FALSE(Canonicalize(Json::array({Json::array({std::string(bad)})})).ok());
  }
}

TEST_CASE("nesting: objects in arrays in objects, empty containers") {
  CHECK(JcsText(R"({"b":[{"z":1,"a":{"y":[],"x":{}}}],"a":null})") ==
        R"({"a":null,"b":[{"a":{"x":{},"y":[]},"z":1}]})");
  CHECK(JcsText(R"( [ ] )") == "[]");
  CHECK(JcsText(R"({})") == "{}");
  CHECK(JcsText(R"("")") == "\"\"");
}

TEST_CASE("astral keys sort before U+E000..U+FFFF at every depth") {
  CHECK(JcsText(R"({"x":{"\ufb33":2,"\ud83d\ude00":1,"\ue000":3,"~":0}})") ==
        "{\"x\":{\"~\":0,\"\xF0\x9F\x98\x80\":1,\"\xEE\x80\x80\":3,\"\xEF\xAC\xB3\":2}}");
}

TEST_CASE("canonical output is a fixed point") {
  const char* input = R"({"numbers":[1E3,-0.5e-9],"s":"\u0041\u00e9\t","k":{"b":true,"a":false}})";
  const std::string once = JcsText(input);
  CHECK(JcsText(once) == once);
}

}  // namespace helm
