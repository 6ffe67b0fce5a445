#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "core/common/json.h"
#include "core/provider/mock_openai.h"
#include "core/provider/sse.h"
#include "core/provider/upstream.h"

namespace helm {
namespace {

struct Captured {
  UpstreamResult result;
  UpstreamHead head;
  std::vector<std::string> chunks;
  std::string body() const {
    std::string b;
    for (const auto& c : chunks) b += c;
    return b;
  }
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : head.headers) {
      if (k == name) return v;
    }
    return "";
  }
};

Captured Call(const std::string& method, const std::string& path, const std::string& body,
              UpstreamOptions options = {}) {
  auto up = MakeUpstream("mock://", options);
  REQUIRE(up.ok());
  Captured c;
  UpstreamRequest req;
  req.method = method;
  req.path = path;
  req.body = body;
  c.result = (*up)->Send(
      req, nullptr,
      [&](const UpstreamHead& h) {
        c.head = h;
        return true;
      },
      [&](std::string_view d) {
        c.chunks.emplace_back(d);
        return true;
      });
  return c;
}

Json ParseOk(const std::string& text) {
  Result<Json> j = ParseStrictJson(text);
  REQUIRE_MESSAGE(j.ok(), text);
  return *j;
}

std::vector<SseEvent> Events(const std::string& body) {
  SseParser parser;
  std::vector<SseEvent> events;
  REQUIRE(parser.Feed(body, &events).ok());
  CHECK_FALSE(parser.ended_mid_event());
  return events;
}

std::string ChatBody(const std::string& user_text, bool stream, const std::string& extra = "") {
  Json msg = {{"role", "user"}, {"content", user_text}};
  Json body = {{"model", "gpt-4o-mini"},
               {"messages", Json::array({{{"role", "system"}, {"content", "be brief"}}, msg})},
               {"stream", stream}};
  std::string s = DumpJson(body);
  if (!extra.empty()) s = s.substr(0, s.size() - 1) + "," + extra + "}";
  return s;
}

TEST_CASE("mock: non-streaming chat completion echoes the last user message") {
  Captured c = Call("POST", "/v1/chat/completions", ChatBody("hello there world", false));
  CHECK(c.result.fault == UpstreamFault::kNone);
  CHECK(c.head.status == 200);
  CHECK(c.header("content-type") == "application/json");
  CHECK(c.header("content-length") == std::to_string(c.body().size()));
  Json j = ParseOk(c.body());
  CHECK(j["object"] == "chat.completion");
  CHECK(j["model"] == "gpt-4o-mini");
  CHECK(j["choices"][0]["message"]["role"] == "assistant");
  CHECK(j["choices"][0]["message"]["content"] == "Echo: hello there world");
  CHECK(j["choices"][0]["finish_reason"] == "stop");
  CHECK(j["usage"]["prompt_tokens"] == 5);  // "be brief" + "hello there world"
  CHECK(j["usage"]["completion_tokens"] == 4);
  CHECK(j["usage"]["total_tokens"] == 9);
  // Deterministic: the same request gives the same bytes.
  CHECK(Call("POST", "/v1/chat/completions", ChatBody("hello there world", false)).body() ==
        c.body());
}

TEST_CASE("mock: streaming chat completion frames") {
  Captured c = Call("POST", "/v1/chat/completions",
                    ChatBody("one two three", true, R"("stream_options":{"include_usage":true})"));
  CHECK(c.result.fault == UpstreamFault::kNone);
  CHECK(c.header("content-type") == "text/event-stream");
  std::vector<SseEvent> events = Events(c.body());
  CHECK(c.chunks.size() == events.size());  // one frame per on_data call
  REQUIRE(events.size() >= 5);
  CHECK(events.back().data == "[DONE]");
  Json first = ParseOk(events[0].data);
  CHECK(first["object"] == "chat.completion.chunk");
  CHECK(first["choices"][0]["delta"]["role"] == "assistant");
  std::string text;
  std::string finish;
  Json usage;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    Json chunk = ParseOk(events[i].data);
    CHECK(chunk["id"] == first["id"]);
    if (chunk["choices"].empty()) {
      usage = chunk["usage"];
      CHECK(i + 2 == events.size());  // the usage chunk is the last before [DONE]
      continue;
    }
    const Json& choice = chunk["choices"][0];
    if (choice["delta"].contains("content")) text += choice["delta"]["content"].get<std::string>();
    if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
  }
  CHECK(text == "Echo: one two three");
  CHECK(finish == "stop");
  CHECK(usage["completion_tokens"] == 4);
  CHECK(usage["prompt_tokens"] == 5);
}

TEST_CASE("mock: streaming without include_usage has no usage chunk") {
  Captured c = Call("POST", "/v1/chat/completions", ChatBody("hi", true));
  for (const SseEvent& e : Events(c.body())) {
    if (e.data == "[DONE]") continue;
    Json chunk = ParseOk(e.data);
    CHECK_FALSE(chunk.contains("usage"));
    CHECK(chunk["choices"].size() == 1);
  }
}

TEST_CASE("mock: the chunks directive sets the number of content frames") {
  Captured c = Call("POST", "/v1/chat/completions", ChatBody("hi [mock:chunks=20]", true));
  std::vector<SseEvent> events = Events(c.body());
  // role frame + 20 content frames + finish frame + [DONE]
  CHECK(events.size() == 23);
  Json first_content = ParseOk(events[1].data);
  CHECK(first_content["choices"][0]["delta"]["content"] == "Echo:");
  Json non_stream =
      ParseOk(Call("POST", "/v1/chat/completions", ChatBody("hi [mock:chunks=20]", false)).body());
  CHECK(non_stream["usage"]["completion_tokens"] == 20);  // same words either way
}

TEST_CASE("mock: delay_ms spaces the frames out") {
  auto start = std::chrono::steady_clock::now();
  Captured c =
      Call("POST", "/v1/chat/completions", ChatBody("x [mock:chunks=4,delay_ms=30]", true));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  CHECK(c.result.fault == UpstreamFault::kNone);
  CHECK(ms >= 30 * 6);  // 7 frames: 6 pauses
}

TEST_CASE("mock: a request with tools gets a tool call") {
  std::string tools = R"("tools":[{"type":"function","function":{"name":"get_weather",)"
                      R"("parameters":{"type":"object","properties":{"city":{"type":"string"},)"
                      R"("days":{"type":"integer"}}}}}])";
  Json j = ParseOk(Call("POST", "/v1/chat/completions", ChatBody("weather?", false, tools)).body());
  const Json& choice = j["choices"][0];
  CHECK(choice["finish_reason"] == "tool_calls");
  CHECK(choice["message"]["content"].is_null());
  const Json& call = choice["message"]["tool_calls"][0];
  CHECK(call["type"] == "function");
  CHECK(call["function"]["name"] == "get_weather");
  CHECK(call["function"]["arguments"] == R"({"city":"mock","days":0})");
  CHECK(call["id"].get<std::string>().rfind("call_mock_", 0) == 0);

  Captured s = Call("POST", "/v1/chat/completions", ChatBody("weather?", true, tools));
  std::string args;
  std::string finish;
  for (const SseEvent& e : Events(s.body())) {
    if (e.data == "[DONE]") continue;
    Json chunk = ParseOk(e.data);
    const Json& delta = chunk["choices"][0]["delta"];
    if (delta.contains("tool_calls")) {
      CHECK(delta["tool_calls"][0]["index"] == 0);
      args += delta["tool_calls"][0]["function"]["arguments"].get<std::string>();
    }
    if (!chunk["choices"][0]["finish_reason"].is_null())
      finish = chunk["choices"][0]["finish_reason"];
  }
  CHECK(args == R"({"city":"mock","days":0})");
  CHECK(finish == "tool_calls");
}

TEST_CASE("mock: after a tool result the answer is text") {
  std::string body = R"({"model":"m","tools":[{"type":"function","function":{"name":"f"}}],)"
                     R"("messages":[{"role":"user","content":"go"},)"
                     R"({"role":"assistant","tool_calls":[{"id":"c1","type":"function",)"
                     R"("function":{"name":"f","arguments":"{}"}}]},)"
                     R"({"role":"tool","tool_call_id":"c1","content":"sunny"}]})";
  Json j = ParseOk(Call("POST", "/v1/chat/completions", body).body());
  CHECK(j["choices"][0]["message"]["content"] == "Tool result: sunny");
  CHECK(j["choices"][0]["finish_reason"] == "stop");
}

TEST_CASE("mock: max_tokens truncates with finish_reason length") {
  Json j = ParseOk(
      Call("POST", "/v1/chat/completions", ChatBody("a b c d e f", false, R"("max_tokens":3)"))
          .body());
  CHECK(j["choices"][0]["message"]["content"] == "Echo: a b");
  CHECK(j["choices"][0]["finish_reason"] == "length");
}

TEST_CASE("mock: status directive answers an OpenAI error") {
  Captured c =
      Call("POST", "/v1/chat/completions", ChatBody("x [mock:status=429,retry_after=7]", false));
  CHECK(c.result.fault == UpstreamFault::kNone);
  CHECK(c.head.status == 429);
  CHECK(c.header("retry-after") == "7");
  Json j = ParseOk(c.body());
  CHECK(j["error"]["type"] == "rate_limit_error");
}

TEST_CASE("mock: cut and stall directives end the stream with faults") {
  Captured cut = Call("POST", "/v1/chat/completions", ChatBody("a b c [mock:cut=2]", true));
  CHECK(cut.result.fault == UpstreamFault::kBroken);
  CHECK(cut.chunks.size() == 2);
  UpstreamOptions short_idle;
  short_idle.idle_timeout_ms = 20;
  Captured stall =
      Call("POST", "/v1/chat/completions", ChatBody("a b c [mock:stall=1]", true), short_idle);
  CHECK(stall.result.fault == UpstreamFault::kIdleTimeout);
  CHECK(stall.chunks.size() == 1);
  UpstreamOptions short_first;
  short_first.first_byte_timeout_ms = 20;
  Captured late = Call("POST", "/v1/chat/completions",
                       ChatBody("a [mock:first_byte_ms=1000]", false), short_first);
  CHECK(late.result.fault == UpstreamFault::kFirstByteTimeout);
  CHECK(late.head.status == 0);
}

TEST_CASE("mock: cancelling from on_data stops the stream") {
  auto up = MakeUpstream("mock://anything", {});
  REQUIRE(up.ok());
  UpstreamRequest req;
  req.path = "/v1/chat/completions";
  req.body = ChatBody("a b c d e f g", true);
  int calls = 0;
  UpstreamResult r = (*up)->Send(
      req, nullptr, [](const UpstreamHead&) { return true; }, [&](std::string_view) { return ++calls < 2; });
  CHECK(r.fault == UpstreamFault::kCancelled);
  CHECK(calls == 2);
}

TEST_CASE("mock: embeddings are deterministic unit vectors") {
  Captured c = Call("POST", "/v1/embeddings", R"({"model":"e","input":["a b","c"]})");
  Json j = ParseOk(c.body());
  REQUIRE(j["data"].size() == 2);
  CHECK(j["data"][1]["index"] == 1);
  const Json& v = j["data"][0]["embedding"];
  REQUIRE(v.size() == 8);
  double norm = 0;
  for (const Json& x : v) norm += x.get<double>() * x.get<double>();
  CHECK(norm == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(j["usage"]["prompt_tokens"] == 3);
  CHECK(j["data"][0]["embedding"] != j["data"][1]["embedding"]);
  Json b64 = ParseOk(
      Call("POST", "/v1/embeddings", R"({"input":"a b","encoding_format":"base64"})").body());
  CHECK(b64["data"][0]["embedding"].get<std::string>().size() == 44);  // 32 bytes
}

TEST_CASE("mock: legacy completions, models and unknown paths") {
  Json comp = ParseOk(Call("POST", "/v1/completions", R"({"model":"m","prompt":"hi you"})").body());
  CHECK(comp["object"] == "text_completion");
  CHECK(comp["choices"][0]["text"] == "Echo: hi you");
  Captured stream = Call("POST", "/v1/completions", R"({"prompt":"hi you","stream":true})");
  std::string text;
  for (const SseEvent& e : Events(stream.body())) {
    if (e.data != "[DONE]") text += ParseOk(e.data)["choices"][0]["text"].get<std::string>();
  }
  CHECK(text == "Echo: hi you");

  Json models = ParseOk(Call("GET", "/v1/models", "").body());
  CHECK(models["object"] == "list");
  CHECK(models["data"].size() >= 1);
  CHECK(ParseOk(Call("GET", "/v1/models/foo", "").body())["id"] == "foo");

  Captured missing = Call("POST", "/v1/nothing", "{}");
  CHECK(missing.head.status == 404);
  CHECK(ParseOk(missing.body())["error"]["type"] == "invalid_request_error");
  Captured bad = Call("POST", "/v1/chat/completions", R"({"model":"a","model":"b"})");
  CHECK(bad.head.status == 400);
  Captured no_messages = Call("POST", "/v1/chat/completions", R"({"messages":"x"})");
  CHECK(no_messages.head.status == 400);
}

TEST_CASE("mock: directives parse and strip") {
  MockDirectives d;
  ParseMockDirectives("x [mock:chunks=3,delay_ms=5] y [mock:chunks=4,bogus=1,cut=-2]", &d);
  CHECK(d.chunks == 4);
  CHECK(d.delay_ms == 5);
  CHECK(d.cut == -1);  // negative values are ignored
  CHECK(StripMockDirectives("  hi [mock:chunks=3] there [mock:x=1]") == "hi  there");
  CHECK(StripMockDirectives("open [mock:never closed") == "open [mock:never closed");
}

TEST_CASE("MakeUpstream rejects unknown schemes") {
  CHECK_FALSE(MakeUpstream("ftp://x", {}).ok());
  CHECK(MakeUpstream("ftp://x", {}).error().code == ErrorCode::kConfig);
  CHECK(std::string(UpstreamFaultName(UpstreamFault::kIdleTimeout)) == "idle_timeout");
}

}  // namespace
}  // namespace helm
