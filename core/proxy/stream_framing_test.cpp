// JsonArrayFramer: SSE events in, one JSON array out, whatever the split.
#include "core/proxy/stream_framing.h"

#include <doctest/doctest.h>

#include <string>

#include "core/common/json.h"

namespace helm {
namespace {

const std::string kStream =
    "data: {\"n\":1}\n\n"
    ": a comment makes no element\n\n"
    "event: named\r\ndata: {\"n\":2,\r\ndata: \"s\":\"a,b\"}\r\n\r\n"
    "data: [3]\n\n";

TEST_CASE("the events' data become the elements, in order, separated as Google does") {
  JsonArrayFramer framer;
  std::string out = framer.Frame(kStream);
  out += framer.Close();
  CHECK(out == "[{\"n\":1}\n,\r\n{\"n\":2,\n\"s\":\"a,b\"}\n,\r\n[3]\n]");
  CHECK(Json::parse(out) == Json::parse("[{\"n\":1},{\"n\":2,\"s\":\"a,b\"},[3]]"));
}

TEST_CASE("the same array however the SSE bytes are split") {
  JsonArrayFramer whole;
  std::string expected = whole.Frame(kStream);
  expected += whole.Close();
  for (size_t cut = 0; cut <= kStream.size(); ++cut) {
    CAPTURE(cut);
    JsonArrayFramer framer;
    std::string out = framer.Frame(std::string_view(kStream).substr(0, cut));
    out += framer.Frame(std::string_view(kStream).substr(cut));
    CHECK(out + framer.Close() == expected);
  }
}

TEST_CASE("each element is written as soon as its event is whole") {
  JsonArrayFramer framer;
  CHECK(framer.Frame("data: {\"n\":1}\n") == "");
  CHECK(framer.Frame("\n") == "[{\"n\":1}");
  CHECK(framer.Frame("data: {\"n\":2}\n\n") == "\n,\r\n{\"n\":2}");
  CHECK(framer.Close() == "\n]");
}

TEST_CASE("no element: still an array") {
  JsonArrayFramer framer;
  CHECK(framer.Frame(": keep-alive\n\n").empty());
  const std::string out = framer.Close();
  CHECK(Json::parse(out) == Json::array());
}

TEST_CASE("an event whose data is not JSON is left out, the array stays valid") {
  JsonArrayFramer framer;
  std::string out = framer.Frame("data: {\"n\":1}\n\ndata: {\"n\": [oops\n\ndata: \n\n");
  out += framer.Frame("data: {\"error\":{\"code\":502}}\n\n");
  out += framer.Close();
  const Json array = Json::parse(out, nullptr, false);
  REQUIRE(array.is_array());
  CHECK(array == Json::parse("[{\"n\":1},{\"error\":{\"code\":502}}]"));
}

}  // namespace
}  // namespace helm
