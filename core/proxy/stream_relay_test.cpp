// StreamRelay on its own, with no sockets: the streams of each provider kind,
// whole, without their terminal event, and cut inside an event, through every
// client protocol (translated, or forwarded when the protocols match).
#include "core/proxy/stream_relay.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/common/json.h"
#include "core/common/protocols.h"
#include "core/provider/sse.h"

namespace helm {
namespace {

using protocol::ProviderKind;

struct ProviderStream {
  ProviderKind kind;
  std::string whole;  // a complete answer, "Hi", 5 tokens in and 1 out
  std::string tail;   // its terminal event: the stream ends properly with it
  std::string error;  // the provider's in-band error event
};

std::vector<ProviderStream> Streams() {
  return {
      {ProviderKind::kOpenAi,
       "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":"
       "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"}}]}\n\n"
       "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":"
       "[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
       "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[],"
       "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\n",
       "data: [DONE]\n\n",
       "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}\n\n"},
      {ProviderKind::kAnthropic,
       "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","
       "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],"
       "\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
       "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
       "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
       "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
       "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"
       "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
       "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
       "\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n",
       "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
       "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
       "\"message\":\"boom\"}}\n\n"},
      {ProviderKind::kGemini,
       "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hi\"}]}}],"
       "\"modelVersion\":\"m\"}\n\n",
       "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"\"}]},"
       "\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":5,"
       "\"candidatesTokenCount\":1,\"totalTokenCount\":6}}\n\n",
       "data: {\"error\":{\"code\":500,\"message\":\"boom\",\"status\":\"INTERNAL\"}}\n\n"},
  };
}

struct ClientEnd {
  const char* protocol;
  const char* done;   // in the stream's proper end only
  const char* error;  // in its error frame only
};

const ClientEnd kClients[] = {
    {kOpenAiChat, "data: [DONE]", "data: {\"error\":"},
    {kAnthropicMessages, "event: message_stop", "event: error"},
    {kOpenAiResponses, "response.completed", "response.failed"},
    {kGeminiGenerate, "\"finishReason\"", "data: {\"error\":"},
};

StreamRelay MakeRelay(const char* client, ProviderKind kind,
                      StreamFraming framing = StreamFraming::kSse) {
  protocol::EncodeOptions options;
  options.model = "m";
  options.response_id = "resp_1";
  options.include_usage = true;
  return StreamRelay(client, kind, !protocol::SameProtocol(client, kind), options, framing);
}

// The SSE events of a client stream (the test streams end lines with LF).
std::vector<std::string> Events(const std::string& out) {
  std::vector<std::string> events;
  for (size_t at = 0; at < out.size();) {
    size_t end = out.find("\n\n", at);
    if (end == std::string::npos) end = out.size();
    events.push_back(out.substr(at, end - at));
    at = end + 2;
  }
  return events;
}

// The last SSE event of a client stream: what the client sees its stream end with.
std::string LastEvent(const std::string& out) {
  std::vector<std::string> events = Events(out);
  return events.empty() ? "" : events.back();
}

// Runs `check` for every provider stream through every client protocol.
template <typename Check>
void ForEveryPair(Check check) {
  for (const ProviderStream& s : Streams()) {
    for (const ClientEnd& c : kClients) {
      CAPTURE(c.protocol);
      CAPTURE(static_cast<int>(s.kind));
      check(s, c);
    }
  }
}

// The client protocol a provider kind's stream is forwarded to as it is.
const char* SameProtocolClient(ProviderKind kind) {
  return kind == ProviderKind::kOpenAi      ? kOpenAiChat
         : kind == ProviderKind::kAnthropic ? kAnthropicMessages
                                            : kGeminiGenerate;
}

TEST_CASE("a stream with its terminal event ends properly, whatever the pair") {
  ForEveryPair([&](const ProviderStream& s, const ClientEnd& c) {
    StreamRelay relay = MakeRelay(c.protocol, s.kind);
    std::string out = relay.Feed(s.whole + s.tail);
    out += relay.Finish("");
    CHECK_FALSE(relay.truncated());
    REQUIRE(relay.usage().has_value());
    CHECK(relay.usage()->input_tokens == 5);
    CHECK(out.find(c.error) == std::string::npos);
    if (protocol::SameProtocol(c.protocol, s.kind)) {
      CHECK(out == s.whole + s.tail);  // forwarded byte for byte
    } else {
      CHECK(out.find(c.done) != std::string::npos);
    }
  });
}

// Regression: the relay made up a finish for an upstream that ended cleanly
// without its terminal event ([DONE], message_stop, a Gemini finish frame), so
// the client saw a normal end (stop / end_turn / response.completed with zero
// usage) while the outcome said truncated.
TEST_CASE("a stream that ends without its terminal event ends with the error frame") {
  ForEveryPair([&](const ProviderStream& s, const ClientEnd& c) {
    StreamRelay relay = MakeRelay(c.protocol, s.kind);
    std::string out = relay.Feed(s.whole);
    out += relay.Finish("");
    CHECK(relay.truncated());
    CHECK_FALSE(relay.usage().has_value());  // unknown, never zero (I6)
    CHECK(out.find(c.done) == std::string::npos);
    CHECK(LastEvent(out).find(c.error) != std::string::npos);
    if (protocol::SameProtocol(c.protocol, s.kind)) {
      CHECK(out.starts_with(s.whole));  // what the provider sent, then the frame
    }
  });
}

TEST_CASE("a fault ends the stream with the error frame naming it") {
  ForEveryPair([&](const ProviderStream& s, const ClientEnd& c) {
    StreamRelay relay = MakeRelay(c.protocol, s.kind);
    std::string out = relay.Feed(s.whole);
    out += relay.Finish("upstream stream ended: broken");
    CHECK(relay.truncated());
    CHECK(LastEvent(out).find(c.error) != std::string::npos);
    CHECK(LastEvent(out).find("upstream stream ended: broken") != std::string::npos);
  });
}

// Regression: an in-band error event after output was sealed as completed.
TEST_CASE("the provider's error event ends the stream with one error frame, truncated") {
  ForEveryPair([&](const ProviderStream& s, const ClientEnd& c) {
    StreamRelay relay = MakeRelay(c.protocol, s.kind);
    std::string out = relay.Feed(s.whole + s.error);
    out += relay.Finish("");
    CHECK(relay.truncated());
    CHECK_FALSE(relay.usage().has_value());
    CHECK(LastEvent(out).find(c.error) != std::string::npos);
    CHECK(LastEvent(out).find("boom") != std::string::npos);
    size_t frames = 0;
    for (const std::string& e : Events(out)) frames += e.find(c.error) != std::string::npos;
    CHECK(frames == 1);
  });
}

// Regression: a passthrough stream cut inside an SSE event got the error frame
// glued onto the partial line (`..."delta":{"contdata: {"error":...}`), which
// the OpenAI SDK read as a JSON syntax error instead of an API error.
TEST_CASE("passthrough cut inside an event: the partial event is dropped") {
  for (const ProviderStream& s : Streams()) {
    const char* client = SameProtocolClient(s.kind);
    CAPTURE(client);
    const std::string partial = s.tail.substr(0, s.tail.size() / 2);
    StreamRelay relay = MakeRelay(client, s.kind);
    std::string out = relay.Feed(s.whole + partial);
    CHECK(out == s.whole);
    out += relay.Finish("upstream stream ended: broken");
    REQUIRE(out.starts_with(s.whole));
    const std::string frame = out.substr(s.whole.size());
    CHECK(frame.find(partial) == std::string::npos);
    CHECK(Events(frame).size() == 1);  // one whole event
    CHECK(frame.ends_with("\n\n"));
    const std::string data = frame.substr(frame.find("data: ") + 6);
    Json err = Json::parse(data, nullptr, false);
    REQUIRE(err.is_object());
    CHECK(err["error"].is_object());
    CHECK(relay.truncated());
  }
}

TEST_CASE("passthrough forwards each event once whole, byte for byte, however split") {
  for (const ProviderStream& s : Streams()) {
    const std::string stream = s.whole + s.tail;
    const char* client = SameProtocolClient(s.kind);
    for (size_t cut = 0; cut <= stream.size(); ++cut) {
      CAPTURE(client);
      CAPTURE(cut);
      StreamRelay relay = MakeRelay(client, s.kind);
      std::string first = relay.Feed(std::string_view(stream).substr(0, cut));
      // Exactly the whole events of the first piece: nothing held beyond them.
      const size_t boundary = stream.rfind("\n\n", cut < 2 ? 0 : cut - 2);
      const size_t whole =
          cut >= 2 && boundary != std::string::npos && boundary + 2 <= cut ? boundary + 2 : 0;
      CHECK(first == stream.substr(0, whole));
      std::string out = first + relay.Feed(std::string_view(stream).substr(cut));
      CHECK(out == stream);
      CHECK(relay.Finish("").empty());
      CHECK_FALSE(relay.truncated());
    }
  }
}

TEST_CASE("passthrough: a line over the SSE limit ends the stream at once") {
  StreamRelay relay = MakeRelay(kOpenAiChat, ProviderKind::kOpenAi);
  const std::string first = Streams()[0].whole;
  std::string out = relay.Feed(first);
  out += relay.Feed("data: " + std::string(Limits{}.max_sse_line_bytes, 'x'));
  REQUIRE(out.starts_with(first));
  CHECK(out.size() < first.size() + 1024);  // the long line is not forwarded
  CHECK(LastEvent(out).find("data: {\"error\":") != std::string::npos);
  CHECK(relay.Feed("\n\ndata: [DONE]\n\n").empty());
  CHECK(relay.Finish("").empty());
  CHECK(relay.truncated());
}

// DESIGN §8: a stream commits on its first real output event, not on its
// first bytes (Anthropic's message_start, a role chunk).
TEST_CASE("output_started: on the first text, tool call or finish, not on a start") {
  ForEveryPair([&](const ProviderStream& s, const ClientEnd& c) {
    const std::string first_event = s.whole.substr(0, s.whole.find("\n\n") + 2);
    StreamRelay relay = MakeRelay(c.protocol, s.kind);
    relay.Feed(first_event);
    // The first event carries text, except Anthropic's message_start.
    CHECK(relay.output_started() == (s.kind != ProviderKind::kAnthropic));
    relay.Feed(s.whole.substr(first_event.size()));
    CHECK(relay.output_started());

    StreamRelay empty = MakeRelay(c.protocol, s.kind);  // a finish alone is output
    empty.Feed(s.tail);
    CHECK(empty.output_started());
  });
}

TEST_CASE("output_started: an error event before any output is not output") {
  ForEveryPair([&](const ProviderStream& s, const ClientEnd& c) {
    StreamRelay relay = MakeRelay(c.protocol, s.kind);
    if (s.kind == ProviderKind::kAnthropic) relay.Feed(s.whole.substr(0, s.whole.find("\n\n") + 2));
    relay.Feed(s.error);
    CHECK(relay.truncated());
    CHECK_FALSE(relay.output_started());
  });
}

TEST_CASE("translating: an event the decoder refuses ends the stream at once") {
  StreamRelay relay = MakeRelay(kAnthropicMessages, ProviderKind::kOpenAi);
  std::string out = relay.Feed(Streams()[0].whole.substr(0, Streams()[0].whole.find("\n\n") + 2));
  out += relay.Feed("data: {\"choices\": [oops\n\n");
  CHECK(LastEvent(out).find("event: error") != std::string::npos);
  CHECK(relay.Feed(Streams()[0].tail).empty());
  CHECK(relay.Finish("").empty());
  CHECK(relay.truncated());
  CHECK(out.find("message_stop") == std::string::npos);
}

// ---- Gemini's JSON-array framing (:streamGenerateContent without alt=sse)

// The data of every event of an SSE stream, parsed.
Json SseData(const std::string& sse) {
  SseParser parser;
  std::vector<SseEvent> events;
  REQUIRE(parser.Feed(sse, &events).ok());
  Json data = Json::array();
  for (const SseEvent& e : events) data.push_back(Json::parse(e.data));
  return data;
}

// A relay's whole output, fed `upstream` in one piece then finished.
std::string Relayed(StreamRelay relay, const std::string& upstream, const std::string& fault) {
  std::string out = relay.Feed(upstream);
  return out + relay.Finish(fault);
}

TEST_CASE("JSON array: the SSE stream's events, as array elements, for every provider") {
  for (const ProviderStream& s : Streams()) {
    CAPTURE(static_cast<int>(s.kind));
    for (const std::string& upstream : {s.whole + s.tail, s.whole, s.whole + s.error}) {
      CAPTURE(upstream);
      const std::string sse = Relayed(MakeRelay(kGeminiGenerate, s.kind), upstream, "");
      const std::string array =
          Relayed(MakeRelay(kGeminiGenerate, s.kind, StreamFraming::kJsonArray), upstream, "");
      CHECK(array.starts_with("["));
      CHECK(array.ends_with("\n]"));
      const Json elements = Json::parse(array, nullptr, false);
      REQUIRE(elements.is_array());
      CHECK(elements == SseData(sse));
    }
  }
}

TEST_CASE("JSON array: a truncated stream's last element is the error, then the end") {
  for (const ProviderStream& s : Streams()) {
    CAPTURE(static_cast<int>(s.kind));
    const std::string out = Relayed(MakeRelay(kGeminiGenerate, s.kind, StreamFraming::kJsonArray),
                                    s.whole, "upstream stream ended: broken");
    const Json elements = Json::parse(out, nullptr, false);
    REQUIRE(elements.is_array());
    REQUIRE(elements.size() >= 2);
    const Json& last = elements.back();
    CHECK(last["error"]["message"].get<std::string>().find("upstream stream ended: broken") !=
          std::string::npos);
    CHECK(last["error"]["code"].is_number_integer());
    CHECK(last["error"]["status"].is_string());
    for (size_t i = 0; i + 1 < elements.size(); ++i) CHECK_FALSE(elements[i].contains("error"));
  }
}

// Regression guard for the passthrough: helm asks a Gemini upstream for SSE,
// and a client that did not ask for it must not get those bytes as they are.
TEST_CASE("JSON array: Gemini passthrough is re-framed, element by element as it arrives") {
  const ProviderStream s = Streams()[2];
  REQUIRE(s.kind == ProviderKind::kGemini);
  StreamRelay relay = MakeRelay(kGeminiGenerate, s.kind, StreamFraming::kJsonArray);
  const std::string first = relay.Feed(s.whole);
  CHECK(first.find("data:") == std::string::npos);
  // The provider's own bytes, not re-encoded: s.whole is one event, "data: ...\n\n".
  CHECK(first == "[" + s.whole.substr(6, s.whole.size() - 8));
  std::string out = first + relay.Feed(s.tail);
  out += relay.Finish("");
  CHECK_FALSE(relay.truncated());
  CHECK(Json::parse(out) == SseData(s.whole + s.tail));
}

// The Gemini encoder writes a function call whole, at the end: a stream cut
// after a tool call's first fragment committed with no element written yet.
TEST_CASE("JSON array: committed with no element yet, a cut still ends a valid array") {
  StreamRelay relay = MakeRelay(kGeminiGenerate, ProviderKind::kOpenAi, StreamFraming::kJsonArray);
  const std::string out = relay.Feed(
      "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":"
      "[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":"
      "\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\"\"}}]}}]}\n\n");
  CHECK(relay.output_started());
  CHECK(out.empty());
  const Json elements = Json::parse(relay.Finish("upstream stream ended: broken"), nullptr, false);
  REQUIRE(elements.is_array());
  REQUIRE(elements.size() == 1);
  CHECK(elements[0]["error"]["message"] == "upstream stream ended: broken");
}

TEST_CASE("JSON array: a stream broken mid-Feed is closed there, once") {
  StreamRelay relay = MakeRelay(kGeminiGenerate, ProviderKind::kGemini, StreamFraming::kJsonArray);
  std::string out = relay.Feed(Streams()[2].whole);
  out += relay.Feed("data: " + std::string(Limits{}.max_sse_line_bytes, 'x'));
  CHECK(out.ends_with("\n]"));
  CHECK(relay.Finish("").empty());
  const Json elements = Json::parse(out, nullptr, false);
  REQUIRE(elements.is_array());
  CHECK(elements.back().contains("error"));
}

TEST_CASE("JSON array: a forwarded event that is not JSON is not an element") {
  StreamRelay relay = MakeRelay(kGeminiGenerate, ProviderKind::kGemini, StreamFraming::kJsonArray);
  std::string out = relay.Feed(Streams()[2].whole + "data: {\"candidates\": [oops\n\n");
  out += relay.Finish("");
  CHECK(relay.truncated());
  const Json elements = Json::parse(out, nullptr, false);
  REQUIRE(elements.is_array());
  CHECK(elements.size() == 2);
  CHECK(elements.back().contains("error"));
}

}  // namespace
}  // namespace helm
