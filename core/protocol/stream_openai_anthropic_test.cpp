// Stream state machines between OpenAI Chat and Anthropic, one named test per
// field fact (DESIGN §9).
#include <doctest/doctest.h>

#include "core/protocol/test_util.h"

namespace helm::protocol {
namespace {

using namespace testing;  // NOLINT
using T = ir::StreamEvent::Type;

SseFrame Data(std::string d) { return {"", std::move(d)}; }
SseFrame Named(std::string e, std::string d) { return {std::move(e), std::move(d)}; }

std::string Chunk(const std::string& delta, const char* finish = nullptr) {
  std::string f = finish ? std::string("\"") + finish + "\"" : "null";
  return R"({"id":"chatcmpl-9","object":"chat.completion.chunk","model":"gpt-x","choices":[{"index":0,"delta":)" +
         delta + R"(,"finish_reason":)" + f + "}]}";
}

std::string ToolFrag(int index, const char* id, const char* name, const char* args) {
  Json tc{{"index", index}, {"function", Json::object()}};
  if (id) tc["id"] = id;
  if (name) tc["function"]["name"] = name;
  if (args) tc["function"]["arguments"] = args;
  return Chunk(DumpJson(Json{{"tool_calls", Json::array({tc})}}));
}

const char* kUsageChunk =
    R"({"id":"chatcmpl-9","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":5,)"
    R"("total_tokens":105,"prompt_tokens_details":{"cached_tokens":80}}})";

std::vector<SseFrame> OpenAiText(std::vector<std::string> pieces, const char* finish = "stop") {
  std::vector<SseFrame> f{Data(Chunk(R"({"role":"assistant","content":""})"))};
  for (auto& p : pieces) f.push_back(Data(Chunk(DumpJson(Json{{"content", p}}))));
  if (finish) f.push_back(Data(Chunk("{}", finish)));
  f.push_back(Data(kUsageChunk));
  f.push_back(Data("[DONE]"));
  return f;
}

TEST_CASE("stream: OpenAI text → Anthropic client") {
  auto events = Decode(ProviderKind::kOpenAi, OpenAiText({"Hel", "lo"}));
  auto out = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(out) == "");
  CHECK(EventNames(out) == std::vector<std::string>{
                               "message_start", "content_block_start", "content_block_delta",
                               "content_block_delta", "content_block_stop", "message_delta",
                               "message_stop"});
  CHECK(AssembleAnthropic(out).content[0].text == "Hello");
  CHECK(out[0].json["message"]["id"] == "chatcmpl-9");
  CHECK(out[5].json["delta"]["stop_reason"] == "end_turn");
  CHECK(out[5].json["usage"]["input_tokens"] == 20);
  CHECK(out[5].json["usage"]["cache_read_input_tokens"] == 80);
}

TEST_CASE("stream: tool-call arguments in one chunk") {
  std::vector<SseFrame> f{Data(Chunk(R"({"role":"assistant"})")),
                          Data(ToolFrag(0, "call_1", "get", R"({"a":1})")),
                          Data(Chunk("{}", "tool_calls")), Data("[DONE]")};
  auto events = Decode(ProviderKind::kOpenAi, f);
  auto out = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(out) == "");
  auto r = AssembleAnthropic(out);
  REQUIRE(r.tool_calls.size() == 1);
  CHECK(r.tool_calls[0] == ir::ToolCall{"call_1", "get", R"({"a":1})"});
  CHECK(r.finish_reason == ir::FinishReason::kToolCalls);
}

TEST_CASE("stream: tool-call arguments in many chunks") {
  std::vector<SseFrame> f{Data(ToolFrag(0, "call_1", "get", "")),
                          Data(ToolFrag(0, nullptr, nullptr, "{\"ci")),
                          Data(ToolFrag(0, nullptr, nullptr, "ty\":\"Z")),
                          Data(ToolFrag(0, nullptr, nullptr, "ürich\"}")),
                          Data(Chunk("{}", "tool_calls")), Data("[DONE]")};
  auto events = Decode(ProviderKind::kOpenAi, f);
  auto out = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(out) == "");
  CHECK(AssembleAnthropic(out).tool_calls[0].arguments == R"({"city":"Zürich"})");
}

TEST_CASE("stream: tool-call id and name arriving late") {
  // Arguments before the id, the name in a later fragment still.
  std::vector<SseFrame> f{Data(ToolFrag(0, nullptr, nullptr, "{\"x\"")),
                          Data(ToolFrag(0, "call_late", nullptr, ":")),
                          Data(ToolFrag(0, nullptr, "late_fn", "2}")),
                          Data(Chunk("{}", "tool_calls")), Data("[DONE]")};
  auto events = Decode(ProviderKind::kOpenAi, f);
  // The decoder emits the start only once both are known, then the held args.
  REQUIRE(events.size() >= 3);
  CHECK(events[1] == ir::ToolCallStart(0, "call_late", "late_fn"));
  CHECK(events[2] == ir::ToolCallDelta(0, "{\"x\":2}"));
  auto out = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(out) == "");
  CHECK(AssembleAnthropic(out).tool_calls[0] == ir::ToolCall{"call_late", "late_fn", R"({"x":2})"});
}

TEST_CASE("stream: Anthropic encoder holds fragments that precede the tool start") {
  std::vector<ir::StreamEvent> events{ir::StartEvent("x", "m"), ir::ToolCallDelta(3, "{\"a\""),
                                      ir::ToolCallDelta(3, ":1}"), ir::ToolCallStart(3, "id3", "f"),
                                      ir::FinishEvent(ir::FinishReason::kToolCalls), ir::EndEvent()};
  auto out = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(out) == "");
  CHECK(out[1].json["content_block"]["id"] == "id3");
  CHECK(AssembleAnthropic(out).tool_calls[0].arguments == R"({"a":1})");
}

TEST_CASE("stream: non-sequential tool indexes") {
  std::vector<SseFrame> f{Data(ToolFrag(2, "call_x", "fx", "{}")),
                          Data(ToolFrag(7, "call_y", "fy", "{\"b\":2}")),
                          Data(Chunk("{}", "tool_calls")), Data("[DONE]")};
  auto events = Decode(ProviderKind::kOpenAi, f);
  auto oa = SplitSse(Encode(kOpenAiChat, events));
  CHECK(CheckOpenAiStream(oa) == "");
  auto r = AssembleOpenAi(oa);
  REQUIRE(r.tool_calls.size() == 2);  // re-indexed 0 and 1
  CHECK(r.tool_calls[0] == ir::ToolCall{"call_x", "fx", "{}"});
  CHECK(r.tool_calls[1] == ir::ToolCall{"call_y", "fy", R"({"b":2})"});
  auto an = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(an) == "");
  CHECK(AssembleAnthropic(an).tool_calls.size() == 2);
}

TEST_CASE("stream: two parallel tool calls, interleaved fragments") {
  std::vector<SseFrame> f{Data(ToolFrag(0, "call_a", "fa", "{\"p\":")),
                          Data(ToolFrag(1, "call_b", "fb", "{\"q\":")),
                          Data(ToolFrag(0, nullptr, nullptr, "1}")),
                          Data(ToolFrag(1, nullptr, nullptr, "2}")),
                          Data(Chunk("{}", "tool_calls")), Data("[DONE]")};
  auto events = Decode(ProviderKind::kOpenAi, f);
  auto an = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(an) == "");
  auto r = AssembleAnthropic(an);
  REQUIRE(r.tool_calls.size() == 2);
  CHECK(r.tool_calls[0] == ir::ToolCall{"call_a", "fa", R"({"p":1})"});
  CHECK(r.tool_calls[1] == ir::ToolCall{"call_b", "fb", R"({"q":2})"});
  auto oa = SplitSse(Encode(kOpenAiChat, events));
  CHECK(AssembleOpenAi(oa).tool_calls[1].arguments == R"({"q":2})");
}

const char* kAnthStart =
    R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],)"
    R"("stop_reason":null,"usage":{"input_tokens":10,"cache_read_input_tokens":90,"cache_creation_input_tokens":0,"output_tokens":1}}})";

std::vector<SseFrame> AnthropicFrames(std::vector<std::string> middle, const char* stop = "end_turn") {
  std::vector<SseFrame> f{Named("message_start", kAnthStart), Named("ping", R"({"type":"ping"})")};
  for (auto& m : middle) {
    Json j = Json::parse(m);
    f.push_back(Named(j["type"], m));
  }
  if (stop) {
    f.push_back(Named("message_delta", std::string(R"({"type":"message_delta","delta":{"stop_reason":")") + stop +
                                           R"(","stop_sequence":null},"usage":{"output_tokens":12}})"));
  }
  f.push_back(Named("message_stop", R"({"type":"message_stop"})"));
  return f;
}

TEST_CASE("stream: Anthropic text and tool_use → OpenAI client") {
  auto f = AnthropicFrames({
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me "}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"check"}})",
      R"({"type":"content_block_stop","index":0})",
      R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"get","input":{}}})",
      R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}})",
      R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"k\":"}})",
      R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"true}"}})",
      R"({"type":"content_block_stop","index":1})"}, "tool_use");
  auto events = Decode(ProviderKind::kAnthropic, f);
  Json usage;
  auto oa = SplitSse(Encode(kOpenAiChat, events));
  CHECK(CheckOpenAiStream(oa) == "");
  auto r = AssembleOpenAi(oa, &usage);
  CHECK(r.content[0].text == "Let me check");
  CHECK(r.tool_calls[0] == ir::ToolCall{"toolu_9", "get", R"({"k":true})"});
  CHECK(r.finish_reason == ir::FinishReason::kToolCalls);
  CHECK(usage["prompt_tokens"] == 100);
  CHECK(usage["prompt_tokens_details"]["cached_tokens"] == 90);
  CHECK(usage["completion_tokens"] == 12);
  CHECK(oa[0].json["id"] == "msg_1");
  CHECK(oa[0].json["model"] == "client-model");
}

TEST_CASE("stream: an empty text block opens nothing") {
  auto f = AnthropicFrames({
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
      R"({"type":"content_block_stop","index":0})"});
  auto events = Decode(ProviderKind::kAnthropic, f);
  for (const auto& e : events) CHECK(e.type != T::kTextDelta);
  auto an = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(an) == "");
  CHECK(EventNames(an) == std::vector<std::string>{"message_start", "message_delta", "message_stop"});
  auto oa = SplitSse(Encode(kOpenAiChat, {ir::StartEvent("i", "m"), ir::TextDelta(""),
                                          ir::FinishEvent(ir::FinishReason::kStop), ir::EndEvent()},
                            false));
  CHECK(CheckOpenAiStream(oa) == "");
  CHECK(oa.size() == 3);  // role, finish, [DONE]
}

TEST_CASE("stream: ended without finish reason is synthesized and reported") {
  std::vector<SseFrame> f{Data(Chunk(R"({"role":"assistant","content":"partial"})"))};
  bool no_finish = false;
  auto events = Decode(ProviderKind::kOpenAi, f, &no_finish);
  CHECK(no_finish);
  CHECK(events.back().type == T::kEnd);
  CHECK(events[events.size() - 2] == ir::FinishEvent(ir::FinishReason::kStop));
  auto an = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(an) == "");
  // With a tool call pending, the synthesized reason is tool_calls.
  auto ev2 = Decode(ProviderKind::kOpenAi, {Data(ToolFrag(0, "c", "f", "{}"))}, &no_finish);
  CHECK(no_finish);
  CHECK(ev2[ev2.size() - 2] == ir::FinishEvent(ir::FinishReason::kToolCalls));
  // Anthropic upstream cut before message_delta.
  auto ev3 = Decode(ProviderKind::kAnthropic, {Named("message_start", kAnthStart)}, &no_finish);
  CHECK(no_finish);
  auto oa = SplitSse(Encode(kOpenAiChat, ev3));
  CHECK(CheckOpenAiStream(oa) == "");
  // A clean stream reports nothing.
  Decode(ProviderKind::kOpenAi, OpenAiText({"x"}), &no_finish);
  CHECK_FALSE(no_finish);
}

TEST_CASE("stream: encoders synthesize a finish when the IR has none") {
  std::vector<ir::StreamEvent> events{ir::TextDelta("x"), ir::EndEvent()};
  CHECK(CheckAnthropicStream(SplitSse(Encode(kAnthropicMessages, events))) == "");
  CHECK(CheckOpenAiStream(SplitSse(Encode(kOpenAiChat, events))) == "");
}

TEST_CASE("stream: unknown stop reasons map to legal values") {
  auto events = Decode(ProviderKind::kAnthropic,
                       AnthropicFrames({R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":"a"}})",
                                        R"({"type":"content_block_stop","index":0})"},
                                       "brand_new_reason"));
  auto oa = SplitSse(Encode(kOpenAiChat, events));
  CHECK(CheckOpenAiStream(oa) == "");
  CHECK(oa[oa.size() - 3].json["choices"][0]["finish_reason"] == "stop");
  auto ev2 = Decode(ProviderKind::kOpenAi, OpenAiText({"a"}, "weird"));
  auto an = SplitSse(Encode(kAnthropicMessages, ev2));
  CHECK(an[an.size() - 2].json["delta"]["stop_reason"] == "end_turn");
  auto ev3 = Decode(ProviderKind::kOpenAi, OpenAiText({"a"}, "length"));
  an = SplitSse(Encode(kAnthropicMessages, ev3));
  CHECK(an[an.size() - 2].json["delta"]["stop_reason"] == "max_tokens");
}

TEST_CASE("stream: usage with cached tokens agrees with the non-streamed answer") {
  auto events = Decode(ProviderKind::kOpenAi, OpenAiText({"a"}));
  Json body = Json::parse(R"({"id":"x","choices":[{"message":{"content":"a"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":80}}})");
  auto resp = DecodeProviderResponse(ProviderKind::kOpenAi, body);
  REQUIRE(resp.ok());
  CHECK(Accumulate(events).usage == resp->usage);
  auto an = SplitSse(Encode(kAnthropicMessages, events));
  Json non_stream = EncodeClientResponse(kAnthropicMessages, *resp, TestOptions());
  CHECK(an[an.size() - 2].json["usage"] == non_stream["usage"]);
  // Anthropic upstream: usage split over message_start and message_delta.
  auto ev2 = Decode(ProviderKind::kAnthropic, AnthropicFrames({}));
  auto u = Accumulate(ev2).usage;
  CHECK(u.input_tokens == 100);
  CHECK(u.cached_read_tokens == 90);
  CHECK(u.output_tokens == 12);
}

TEST_CASE("stream: non-ASCII and astral characters split across chunks concatenate") {
  // "naïve 😀 中文" split inside the words: each event is whole JSON, so the
  // split falls between code points but never inside one.
  auto events = Decode(ProviderKind::kOpenAi, OpenAiText({"na", "ï", "ve 😀", "😀 中", "文"}));
  auto an = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(AssembleAnthropic(an).content[0].text == "naïve 😀😀 中文");
  // Escaped surrogate pairs in the upstream JSON decode to the same UTF-8.
  std::vector<SseFrame> f{Data(Chunk(R"({"content":"\ud83d\ude00\u00e9"})")), Data("[DONE]")};
  auto oa = SplitSse(Encode(kOpenAiChat, Decode(ProviderKind::kOpenAi, f)));
  CHECK(AssembleOpenAi(oa).content[0].text == "😀é");
}

TEST_CASE("stream: thinking and signature reach an Anthropic client, not an OpenAI one") {
  auto f = AnthropicFrames({
      R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"ponder"}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"SIG"}})",
      R"({"type":"content_block_stop","index":0})",
      R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})",
      R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"done"}})",
      R"({"type":"content_block_stop","index":1})"});
  auto events = Decode(ProviderKind::kAnthropic, f);
  auto acc = Accumulate(events);
  CHECK(acc.content[0].kind == ir::PartKind::kThinking);
  CHECK(acc.content[0].signature == "SIG");
  auto an = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(an) == "");
  CHECK(an[1].json["content_block"]["type"] == "thinking");
  CHECK(an[3].json["delta"] == Json{{"type", "signature_delta"}, {"signature", "SIG"}});
  auto oa = SplitSse(Encode(kOpenAiChat, events));
  CHECK(AssembleOpenAi(oa).content[0].text == "done");
}

TEST_CASE("stream: upstream error mid-stream becomes the client's error frame") {
  std::vector<SseFrame> f{Named("message_start", kAnthStart),
                          Named("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"),
                          Named("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hal"}})"),
                          Named("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})")};
  auto events = Decode(ProviderKind::kAnthropic, f);
  CHECK(events[events.size() - 2] == ir::ErrorEvent("Overloaded"));
  auto an = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(an) == "");
  CHECK(an.back().event == "error");
  CHECK(an[an.size() - 2].event == "content_block_stop");
  auto oa = SplitSse(Encode(kOpenAiChat, events));
  CHECK(oa.back().json["error"]["message"] == "Overloaded");
  // The proxy's own mid-stream failure, through OnError.
  auto enc = MakeStreamEncoder(kAnthropicMessages, TestOptions());
  std::string bytes;
  enc->OnEvent(ir::TextDelta("x"), &bytes);
  enc->OnError("provider went away", &bytes);
  CHECK(enc->finished());
  auto ev = SplitSse(bytes);
  CHECK(ev.back().json["error"]["message"] == "provider went away");
  enc->OnEvent(ir::TextDelta("more"), &bytes);  // ignored after the error
  CHECK(SplitSse(bytes).size() == ev.size());
}

TEST_CASE("stream: malformed upstream events are errors for the caller") {
  auto dec = MakeStreamDecoder(ProviderKind::kOpenAi);
  std::vector<ir::StreamEvent> out;
  CHECK(dec->OnEvent(Data("{not json"), &out).error().code == ErrorCode::kUnavailable);
  auto dec2 = MakeStreamDecoder(ProviderKind::kAnthropic);
  CHECK_FALSE(dec2->OnEvent(Named("message_start", "[]"), &out).ok());
}

TEST_CASE("stream: OpenAI client without include_usage gets no usage chunk") {
  auto events = Decode(ProviderKind::kAnthropic, AnthropicFrames({}));
  auto oa = SplitSse(Encode(kOpenAiChat, events, false));
  CHECK(CheckOpenAiStream(oa) == "");
  for (const auto& e : oa) CHECK_FALSE((e.json.is_object() && e.json.contains("usage")));
}

}  // namespace
}  // namespace helm::protocol
