#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "core/protocol/codec.h"

namespace helm::protocol {
namespace {

Result<std::optional<int64_t>> ReadInt(const std::string& value) {
  return OptInt(Json::parse(R"({"n":)" + value + "}"), "n");
}

// Regression (found by tests/fuzz/fuzz_request.cpp): a float beyond
// int64_t's range was converted before it was checked, which is undefined
// behaviour (1e19 as max_output_tokens).
TEST_CASE("OptInt: whole numbers int64_t holds, however written, and nothing else") {
  const std::pair<std::string, int64_t> whole[] = {
      {"0", 0},
      {"-7", -7},
      {"2.0", 2},
      {"1e3", 1000},
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
      {"-9.223372036854775808e18", INT64_MIN},  // -2^63 exactly
  };
  for (const auto& [text, value] : whole) {
    CAPTURE(text);
    Result<std::optional<int64_t>> n = ReadInt(text);
    REQUIRE(n.ok());
    CHECK(*n == value);
  }
  for (std::string text : {"1.5", "-0.25", "1e19", "-1e19", "9.223372036854775808e18", "1e300",
                           "-1e300", "9223372036854775808", "18446744073709551615", "\"3\"",
                           "true", "[1]"}) {
    CAPTURE(text);
    Result<std::optional<int64_t>> n = ReadInt(text);
    REQUIRE_FALSE(n.ok());
    CHECK(n.error().code == ErrorCode::kInvalidArgument);
    CHECK(n.error().message == "'n' must be an integer");
  }
  CHECK(ReadInt("null").value() == std::nullopt);
  CHECK(OptInt(Json::object(), "n").value() == std::nullopt);
}

}  // namespace
}  // namespace helm::protocol
