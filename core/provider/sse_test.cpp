#include "core/provider/sse.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace helm {
namespace {

// Mixed line endings, comments, multi-line data, named events, ids, retry,
// an event with no data (not dispatched), a field with no colon, and a
// leading byte-order mark.
const std::string kMixedStream =
    "\xEF\xBB\xBF: keep-alive comment\r\n"
    "data: {\"a\":1}\n\n"
    "event: message_start\r\n"
    "data: first line\r\n"
    "data:second line\r"
    "id: 7\r\n"
    "\r\n"
    ":another comment\r"
    "event: ping\n"
    "\n"
    "data\n"
    "retry: 1500\n"
    "\r"
    "data: caf\xC3\xA9 \xE2\x9C\x93\n"
    "unknown: field\n"
    "\n"
    "data: [DONE]\r\n\r\n";

std::vector<SseEvent> ExpectedMixed() {
  std::vector<SseEvent> want(5);
  want[0].data = "{\"a\":1}";
  want[1].event = "message_start";
  want[1].data = "first line\nsecond line";
  want[1].id = "7";
  want[2].data = "";
  want[2].id = "7";
  want[2].retry_ms = 1500;
  want[3].data = "caf\xC3\xA9 \xE2\x9C\x93";
  want[3].id = "7";
  want[4].data = "[DONE]";
  want[4].id = "7";
  return want;
}

std::vector<SseEvent> ParseInPieces(const std::string& s, const std::vector<size_t>& cuts) {
  SseParser parser;
  std::vector<SseEvent> out;
  size_t prev = 0;
  for (size_t cut : cuts) {
    REQUIRE(parser.Feed(std::string_view(s).substr(prev, cut - prev), &out).ok());
    prev = cut;
  }
  REQUIRE(parser.Feed(std::string_view(s).substr(prev), &out).ok());
  CHECK_FALSE(parser.ended_mid_event());
  return out;
}

TEST_CASE("SseParser parses a mixed stream in one piece") {
  CHECK(ParseInPieces(kMixedStream, {}) == ExpectedMixed());
}

TEST_CASE("SseParser gives identical events when split at every byte offset") {
  const auto want = ExpectedMixed();
  for (size_t i = 0; i <= kMixedStream.size(); ++i) {
    CAPTURE(i);
    REQUIRE(ParseInPieces(kMixedStream, {i}) == want);
  }
}

TEST_CASE("SseParser gives identical events when split at every pair of offsets") {
  const auto want = ExpectedMixed();
  for (size_t i = 0; i <= kMixedStream.size(); ++i) {
    for (size_t j = i; j <= kMixedStream.size(); ++j) {
      CAPTURE(i);
      CAPTURE(j);
      REQUIRE(ParseInPieces(kMixedStream, {i, j}) == want);
    }
  }
}

TEST_CASE("SseParser gives identical events fed one byte at a time") {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < kMixedStream.size(); ++i) cuts.push_back(i);
  CHECK(ParseInPieces(kMixedStream, cuts) == ExpectedMixed());
}

TEST_CASE("SseParser: an event with no data lines is not dispatched") {
  SseParser parser;
  std::vector<SseEvent> out;
  REQUIRE(parser.Feed("event: ping\nid: 3\n\n", &out).ok());
  CHECK(out.empty());
  REQUIRE(parser.Feed("data: x\n\n", &out).ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].event.empty());  // the event name does not leak into the next event
  CHECK(out[0].id == "3");      // the id does persist
}

TEST_CASE("SseParser reports a stream cut inside an event") {
  SseParser parser;
  std::vector<SseEvent> out;
  REQUIRE(parser.Feed("data: one\n\ndata: tw", &out).ok());
  CHECK(out.size() == 1);
  CHECK(parser.ended_mid_event());
  REQUIRE(parser.Feed("o\n", &out).ok());
  CHECK(parser.ended_mid_event());  // line complete, event not yet dispatched
  REQUIRE(parser.Feed("\n", &out).ok());
  CHECK_FALSE(parser.ended_mid_event());
  REQUIRE(out.size() == 2);
  CHECK(out[1].data == "two");
}

TEST_CASE("SseParser: bytes_complete ends after the last whole event") {
  SseParser parser;
  std::vector<SseEvent> out;
  REQUIRE(parser.Feed("data: one\n\ndata: tw", &out).ok());
  CHECK(parser.bytes_complete() == 11);
  REQUIRE(parser.Feed("o\n", &out).ok());
  CHECK(parser.bytes_complete() == 11);  // the event is open until its blank line
  REQUIRE(parser.Feed("\n: keep-alive\n", &out).ok());
  CHECK(parser.bytes_complete() == 35);  // a comment between events is whole too
  REQUIRE(parser.Feed(std::string(10, 'x'), &out).ok());
  CHECK(parser.bytes_complete() == 35);
}

// Passthrough forwards only bytes_complete() bytes (core/proxy/stream_relay.h):
// for every prefix of the stream, that prefix must hold exactly the events the
// parser has completed, and nothing after it may be a whole event.
TEST_CASE("SseParser: bytes_complete is the longest prefix of whole events at every offset") {
  for (size_t k = 0; k <= kMixedStream.size(); ++k) {
    CAPTURE(k);
    SseParser parser;
    std::vector<SseEvent> events;
    REQUIRE(parser.Feed(std::string_view(kMixedStream).substr(0, k), &events).ok());
    const size_t complete = parser.bytes_complete();
    REQUIRE(complete <= k);
    SseParser whole;
    std::vector<SseEvent> whole_events;
    REQUIRE(whole.Feed(std::string_view(kMixedStream).substr(0, complete), &whole_events).ok());
    CHECK(whole_events == events);
    CHECK_FALSE(whole.ended_mid_event());
    for (size_t j = complete + 1; j <= k; ++j) {  // no longer prefix ends between events
      CAPTURE(j);
      SseParser longer;
      std::vector<SseEvent> ignored;
      REQUIRE(longer.Feed(std::string_view(kMixedStream).substr(0, j), &ignored).ok());
      CHECK(longer.ended_mid_event());
    }
  }
}

TEST_CASE("SseParser: bytes_complete is the same however the bytes are split") {
  SseParser whole;
  std::vector<SseEvent> ignored;
  for (size_t k = 0; k <= kMixedStream.size(); ++k) {
    CAPTURE(k);
    SseParser once;
    REQUIRE(once.Feed(std::string_view(kMixedStream).substr(0, k), &ignored).ok());
    if (k > 0) REQUIRE(whole.Feed(std::string_view(kMixedStream).substr(k - 1, 1), &ignored).ok());
    CHECK(whole.bytes_complete() == once.bytes_complete());
  }
}

TEST_CASE("SseParser: a line at the limit passes, one byte over fails") {
  SseLimits limits;
  limits.max_line_bytes = 64;
  const std::string at_limit = "data: " + std::string(64 - 6, 'x');
  const std::string over = at_limit + "x";
  {
    SseParser parser(limits);
    std::vector<SseEvent> out;
    REQUIRE(parser.Feed(at_limit + "\n\n", &out).ok());
    REQUIRE(out.size() == 1);
    CHECK(out[0].data.size() == 58);
  }
  {
    SseParser parser(limits);
    std::vector<SseEvent> out;
    Status s = parser.Feed(over + "\n\n", &out);
    CHECK_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kTooLarge);
    CHECK(out.empty());
    // Stays failed.
    CHECK_FALSE(parser.Feed("data: ok\n\n", &out).ok());
    CHECK(out.empty());
  }
  {
    // The same over-long line split byte by byte: the error comes as soon as
    // the line passes the limit, before any terminator arrives.
    SseParser parser(limits);
    std::vector<SseEvent> out;
    bool failed = false;
    for (size_t i = 0; i < over.size() && !failed; ++i) {
      failed = !parser.Feed(over.substr(i, 1), &out).ok();
      if (failed) CHECK(i == over.size() - 1);
    }
    CHECK(failed);
  }
}

TEST_CASE("SseParser: event data at the limit passes, one byte over fails") {
  SseLimits limits;
  limits.max_event_bytes = 10;
  {
    SseParser parser(limits);
    std::vector<SseEvent> out;
    REQUIRE(parser.Feed("data: 1234\ndata: 56789\n\n", &out).ok());  // 4 + 1 + 5
    REQUIRE(out.size() == 1);
    CHECK(out[0].data == "1234\n56789");
  }
  {
    SseParser parser(limits);
    std::vector<SseEvent> out;
    Status s = parser.Feed("data: 1234\ndata: 567890\n\n", &out);
    CHECK_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kTooLarge);
  }
}

TEST_CASE("SseParser handles a 1 MB data line under the default limit") {
  SseParser parser;
  std::vector<SseEvent> out;
  const std::string big(1 << 20, 'a');
  REQUIRE(parser.Feed("data: " + big.substr(0, 1000), &out).ok());
  REQUIRE(parser.Feed(big.substr(1000) + "\n\n", &out).ok());
  REQUIRE(out.size() == 1);
  CHECK(out[0].data.size() == big.size());
}

TEST_CASE("SseParser: a BOM only counts at the very start") {
  SseParser parser;
  std::vector<SseEvent> out;
  REQUIRE(parser
              .Feed("data: a\n\n\xEF\xBB\xBF"
                    "data: b\n\n",
                    &out)
              .ok());
  // The second line begins with a BOM, so its field name is not "data".
  REQUIRE(out.size() == 1);
  CHECK(out[0].data == "a");
}

TEST_CASE("SseParser: invalid retry values are ignored") {
  SseParser parser;
  std::vector<SseEvent> out;
  REQUIRE(parser.Feed("retry: 12x\ndata: a\n\nretry: -5\ndata: b\n\n", &out).ok());
  REQUIRE(out.size() == 2);
  CHECK(out[0].retry_ms == -1);
  CHECK(out[1].retry_ms == -1);
}

}  // namespace
}  // namespace helm
