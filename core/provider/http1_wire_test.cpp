#include "core/provider/http1_wire.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

namespace helm::http1 {
namespace {

TEST_CASE("a token is one or more RFC 9110 tchar bytes") {
  const std::string_view tchar_symbols = "!#$%&'*+-.^_`|~";
  for (int byte = 0; byte < 256; ++byte) {
    const char c = static_cast<char>(byte);
    const bool tchar = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       tchar_symbols.find(c) != std::string_view::npos;
    CAPTURE(byte);
    CHECK(IsToken(std::string("x-") + c) == tchar);
  }
  CHECK(IsToken("content-type"));
  CHECK_FALSE(IsToken(""));
  CHECK_FALSE(IsToken("bad name"));
}

TEST_CASE("a header value with CR, LF or NUL anywhere could break the head") {
  CHECK_FALSE(HasHeaderBreak(""));
  CHECK_FALSE(HasHeaderBreak("Bearer sk-abc\t\x7f\xC3\xA9"));
  for (char c : {'\r', '\n', '\0'}) {
    for (size_t at : {0, 5, 9}) {
      std::string value = "0123456789";
      value[at] = c;
      CAPTURE(at);
      CHECK(HasHeaderBreak(value));
    }
  }
  HeaderList fields;
  CHECK(ParseFields("Name: value\r\nOther: two", fields));
  CHECK(fields.size() == 2);
  CHECK_FALSE(ParseFields(std::string_view("Name: a\0b", 9), fields));
}

}  // namespace
}  // namespace helm::http1
