// Requests and non-streamed responses between OpenAI Chat and Anthropic.
#include <doctest/doctest.h>

#include "core/protocol/test_util.h"

namespace helm::protocol {
namespace {

using testing::TestOptions;

Json P(const char* s) { return Json::parse(s); }

// tests/corpus/requests/openai.chat/tool_conversation.json: system, text and
// image parts, two tool calls and their results, tools, sampling, stream.
Json OpenAiToolConversation() { return testing::LoadRequest("openai.chat/tool_conversation.json"); }

TEST_CASE("OpenAI chat request decodes into the IR") {
  auto req = DecodeClientRequest(kOpenAiChat, OpenAiToolConversation());
  REQUIRE(req.ok());
  CHECK(req->model == "gpt-x");
  REQUIRE(req->messages.size() == 6);
  CHECK(req->messages[1].content[1].kind == ir::PartKind::kImage);
  CHECK(req->messages[1].content[1].mime_type == "image/png");
  CHECK(req->messages[1].content[1].data == "iVBOR");
  CHECK(req->messages[2].tool_calls.size() == 2);
  CHECK(req->messages[3].tool_call_id == "call_a");
  CHECK(req->tool_choice.kind == ir::ToolChoiceKind::kRequired);
  CHECK(req->parallel_tool_calls == false);
  CHECK(req->max_output_tokens == 300);
  CHECK(req->stop == std::vector<std::string>{"END"});
  CHECK(req->stream);
  CHECK(req->include_usage);
  CHECK(req->native == Json{{"user", "u-1"}});
}

TEST_CASE("OpenAI chat request round trip through the IR") {
  auto req = DecodeClientRequest(kOpenAiChat, OpenAiToolConversation());
  REQUIRE(req.ok());
  auto enc = EncodeProviderRequest(ProviderKind::kOpenAi, *req, "gpt-x");
  REQUIRE(enc.ok());
  auto again = DecodeClientRequest(kOpenAiChat, *enc);
  REQUIRE(again.ok());
  CHECK(again->messages == req->messages);
  CHECK(again->tools == req->tools);
  CHECK(again->tool_choice == req->tool_choice);
  CHECK(again->native == req->native);  // same protocol: native fields come back
  CHECK((*enc)["stream_options"]["include_usage"] == true);
}

TEST_CASE("OpenAI chat → Anthropic request shape") {
  auto req = DecodeClientRequest(kOpenAiChat, OpenAiToolConversation());
  REQUIRE(req.ok());
  auto enc = EncodeProviderRequest(ProviderKind::kAnthropic, *req, "claude-x");
  REQUIRE(enc.ok());
  const Json& a = *enc;
  CHECK(a["model"] == "claude-x");
  CHECK(a["system"] == "be brief");
  CHECK(a["max_tokens"] == 300);
  CHECK_FALSE(a.contains("user"));  // native OpenAI field does not leak
  CHECK(a["stop_sequences"] == Json::array({"END"}));
  CHECK(a["tool_choice"] == P(R"({"type":"any","disable_parallel_tool_use":true})"));
  CHECK(a["tools"][0]["input_schema"]["type"] == "object");
  const Json& m = a["messages"];
  REQUIRE(m.size() == 3);  // user, assistant, user (tool results + "thanks" merged)
  CHECK(m[0]["content"][1] == P(R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}})"));
  CHECK(m[1]["role"] == "assistant");
  CHECK(m[1]["content"][0] == P(R"({"type":"tool_use","id":"call_a","name":"get_weather","input":{"city":"Zürich"}})"));
  CHECK(m[2]["role"] == "user");
  CHECK(m[2]["content"][0] == P(R"({"type":"tool_result","tool_use_id":"call_a","content":[{"type":"text","text":"12C"}]})"));
  CHECK(m[2]["content"][1]["tool_use_id"] == "call_b");
  CHECK(m[2]["content"][2] == P(R"({"type":"text","text":"thanks"})"));
}

TEST_CASE("Anthropic max_tokens defaults to 4096 and temperature is clamped") {
  ir::Request req;
  req.messages.push_back({ir::Role::kUser, {ir::ContentPart::Text("hi")}, {}, "", "", false});
  req.temperature = 1.7;
  auto enc = EncodeProviderRequest(ProviderKind::kAnthropic, req, "m");
  REQUIRE(enc.ok());
  CHECK((*enc)["max_tokens"] == 4096);
  CHECK((*enc)["temperature"] == 1.0);
  ir::Request empty;
  CHECK(EncodeProviderRequest(ProviderKind::kAnthropic, empty, "m").error().code ==
        ErrorCode::kInvalidArgument);
}

// tests/corpus/requests/anthropic.messages/conversation.json: system blocks,
// thinking, a tool_use and an error tool_result beside text, metadata.
Json AnthropicConversation() {
  return testing::LoadRequest("anthropic.messages/conversation.json");
}

TEST_CASE("Anthropic request decodes into the IR, system and tool results split out") {
  auto req = DecodeClientRequest(kAnthropicMessages, AnthropicConversation());
  REQUIRE(req.ok());
  REQUIRE(req->messages.size() == 5);
  CHECK(req->messages[0].role == ir::Role::kSystem);
  CHECK(req->messages[2].content[0].kind == ir::PartKind::kThinking);
  CHECK(req->messages[2].content[0].signature == "sig==");
  CHECK(req->messages[2].tool_calls[0].arguments == R"({"q":"x"})");
  CHECK(req->messages[3].role == ir::Role::kTool);
  CHECK(req->messages[3].name == "lookup");
  CHECK(req->messages[3].is_error);
  CHECK(req->messages[4].role == ir::Role::kUser);
  CHECK(req->tool_choice == ir::ToolChoice{ir::ToolChoiceKind::kNamed, "lookup"});
  CHECK(req->top_k == 5);
  CHECK(req->native == P(R"({"metadata":{"user_id":"u"}})"));
}

TEST_CASE("Anthropic request round trip through the IR") {
  auto req = DecodeClientRequest(kAnthropicMessages, AnthropicConversation());
  REQUIRE(req.ok());
  auto enc = EncodeProviderRequest(ProviderKind::kAnthropic, *req, "claude-x");
  REQUIRE(enc.ok());
  CHECK((*enc)["metadata"] == P(R"({"user_id":"u"})"));
  CHECK((*enc)["messages"][1]["content"][0]["signature"] == "sig==");
  auto again = DecodeClientRequest(kAnthropicMessages, *enc);
  REQUIRE(again.ok());
  CHECK(again->messages == req->messages);
  CHECK(again->tools == req->tools);
}

TEST_CASE("Anthropic → OpenAI request shape: thinking dropped, tool result becomes a tool message") {
  auto req = DecodeClientRequest(kAnthropicMessages, AnthropicConversation());
  REQUIRE(req.ok());
  auto enc = EncodeProviderRequest(ProviderKind::kOpenAi, *req, "gpt-x");
  REQUIRE(enc.ok());
  const Json& m = (*enc)["messages"];
  REQUIRE(m.size() == 5);
  CHECK(m[0] == P(R"({"role":"system","content":"sys"})"));
  CHECK(m[2]["content"] == "calling");
  CHECK(m[2]["tool_calls"][0]["function"]["arguments"] == R"({"q":"x"})");
  CHECK(m[3] == P(R"({"role":"tool","tool_call_id":"toolu_1","content":"found"})"));
  CHECK((*enc)["tool_choice"] == P(R"({"type":"function","function":{"name":"lookup"}})"));
  CHECK_FALSE(enc->contains("metadata"));
  CHECK_FALSE(enc->contains("top_k"));
}

TEST_CASE("Refused input is kInvalidArgument") {
  CHECK(DecodeClientRequest(kOpenAiChat, P(R"({"messages": 3})")).error().code ==
        ErrorCode::kInvalidArgument);
  CHECK_FALSE(DecodeClientRequest(kOpenAiChat, P(R"({"messages":[{"role":"user","content":[{"type":"input_audio"}]}]})")).ok());
  CHECK_FALSE(DecodeClientRequest(kOpenAiChat, P(R"({"messages":[], "temperature":"hot"})")).ok());
  CHECK_FALSE(DecodeClientRequest(kAnthropicMessages, P(R"({"messages":[], "tools":[{"type":"web_search_20250305","name":"web_search"}]})")).ok());
  CHECK_FALSE(DecodeClientRequest("openai.embeddings", P("{}")).ok());
}

TEST_CASE("OpenAI response → Anthropic client response, cached tokens rebuilt") {
  Json body = P(R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-x",
    "choices":[{"index":0,"message":{"role":"assistant","content":"Hi é","tool_calls":[
      {"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
      "finish_reason":"tool_calls"}],
    "usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,
             "prompt_tokens_details":{"cached_tokens":60}}})");
  auto resp = DecodeProviderResponse(ProviderKind::kOpenAi, body);
  REQUIRE(resp.ok());
  CHECK(resp->usage.input_tokens == 100);
  CHECK(resp->usage.cached_read_tokens == 60);
  Json a = EncodeClientResponse(kAnthropicMessages, *resp, TestOptions());
  CHECK(a["type"] == "message");
  CHECK(a["model"] == "client-model");
  CHECK(a["stop_reason"] == "tool_use");
  CHECK(a["content"][0] == P(R"({"type":"text","text":"Hi é"})"));
  CHECK(a["content"][1] == P(R"({"type":"tool_use","id":"call_1","name":"f","input":{"a":1}})"));
  CHECK(a["usage"] == P(R"({"input_tokens":40,"cache_read_input_tokens":60,
                            "cache_creation_input_tokens":0,"output_tokens":20})"));
}

TEST_CASE("Anthropic response → OpenAI client response, cached tokens rebuilt") {
  Json body = P(R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x",
    "content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"ok"},
               {"type":"tool_use","id":"toolu_1","name":"f","input":{"a":[1,2]}}],
    "stop_reason":"tool_use","stop_sequence":null,
    "usage":{"input_tokens":10,"cache_read_input_tokens":50,"cache_creation_input_tokens":5,"output_tokens":7}})");
  auto resp = DecodeProviderResponse(ProviderKind::kAnthropic, body);
  REQUIRE(resp.ok());
  CHECK(resp->usage.input_tokens == 65);
  Json o = EncodeClientResponse(kOpenAiChat, *resp, TestOptions());
  CHECK(o["object"] == "chat.completion");
  CHECK(o["id"] == "msg_1");
  CHECK(o["created"] == 1700000000);
  CHECK(o["choices"][0]["finish_reason"] == "tool_calls");
  CHECK(o["choices"][0]["message"]["content"] == "ok");
  CHECK(o["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == R"({"a":[1,2]})");
  CHECK(o["usage"]["prompt_tokens"] == 65);
  CHECK(o["usage"]["prompt_tokens_details"]["cached_tokens"] == 50);
  CHECK(o["usage"]["total_tokens"] == 72);
  // And back to Anthropic: the same numbers as the provider sent.
  Json a = EncodeClientResponse(kAnthropicMessages, *resp, TestOptions());
  CHECK(a["usage"] == body["usage"]);
}

TEST_CASE("Malformed provider responses are kUnavailable") {
  CHECK(DecodeProviderResponse(ProviderKind::kOpenAi, P(R"({"choices":[]})")).error().code ==
        ErrorCode::kUnavailable);
  CHECK(DecodeProviderResponse(ProviderKind::kAnthropic, P("[]")).error().code ==
        ErrorCode::kUnavailable);
}

TEST_CASE("Provider errors are extracted from every shape") {
  auto o = ExtractProviderError(ProviderKind::kOpenAi, 429,
                                P(R"({"error":{"message":"slow down","type":"rate_limit"}})"));
  CHECK(o.http_status == 429);
  CHECK(o.message == "slow down");
  auto a = ExtractProviderError(ProviderKind::kAnthropic, 529,
      P(R"({"type":"error","error":{"type":"overloaded_error","message":"busy"}})"));
  CHECK(a.type == "overloaded_error");
  CHECK(a.message == "busy");
  auto g = ExtractProviderError(ProviderKind::kGemini, 400,
      P(R"({"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}})"));
  CHECK(g.type == "INVALID_ARGUMENT");
  auto none = ExtractProviderError(ProviderKind::kOpenAi, 502, Json());
  CHECK(none.message == "upstream returned HTTP 502");
  CHECK(EncodeClientError(kAnthropicMessages, 429, "x")["error"]["type"] == "rate_limit_error");
  CHECK(EncodeClientError(kGeminiGenerate, 400, "x")["error"]["status"] == "INVALID_ARGUMENT");
  CHECK(EncodeClientError(kOpenAiChat, 500, "x")["error"]["type"] == "server_error");
}

TEST_CASE("SameProtocol and ProviderPath") {
  CHECK(SameProtocol(kOpenAiChat, ProviderKind::kOpenAi));
  CHECK(SameProtocol(kAnthropicMessages, ProviderKind::kAnthropic));
  CHECK(SameProtocol(kGeminiGenerate, ProviderKind::kGemini));
  CHECK_FALSE(SameProtocol(kOpenAiResponses, ProviderKind::kOpenAi));
  CHECK_FALSE(SameProtocol(kOpenAiChat, ProviderKind::kAnthropic));
  CHECK(ProviderPath(ProviderKind::kOpenAi, "m", true) == "/v1/chat/completions");
  CHECK(ProviderPath(ProviderKind::kAnthropic, "m", false) == "/v1/messages");
  CHECK(ProviderPath(ProviderKind::kGemini, "gemini-2.5-flash", false) ==
        "/v1beta/models/gemini-2.5-flash:generateContent");
  CHECK(ProviderPath(ProviderKind::kGemini, "models/g 1", true) ==
        "/v1beta/models/g%201:streamGenerateContent?alt=sse");
  CHECK(ParseProviderKind("gemini").value() == ProviderKind::kGemini);
  CHECK_FALSE(ParseProviderKind("mock").ok());
}

}  // namespace
}  // namespace helm::protocol
