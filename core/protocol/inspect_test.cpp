// InspectClientRequest: every well-shaped request decodes, including what
// cannot be translated; shape errors are kInvalidArgument. The policy decides
// on this IR (core/policy/facts.h).
#include <doctest/doctest.h>

#include "core/protocol/codec.h"
#include "core/protocol/test_util.h"

namespace helm::protocol {
namespace {

ir::Request Inspect(std::string_view protocol, const char* body) {
  auto req = InspectClientRequest(protocol, Json::parse(body));
  REQUIRE_MESSAGE(req.ok(), req.error().message);
  return std::move(req).value();
}

std::string ShapeError(std::string_view protocol, const char* body) {
  auto req = InspectClientRequest(protocol, Json::parse(body));
  REQUIRE(!req.ok());
  CHECK(req.error().code == ErrorCode::kInvalidArgument);
  return req.error().message;
}

TEST_CASE("openai.chat: audio, files, custom tools and legacy functions are kept") {
  ir::Request r = Inspect(kOpenAiChat, R"({"messages":[
    {"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA"}},
                              {"type":"refusal","refusal":"no"}]},
    {"role":"assistant","function_call":{"name":"f","arguments":"{}"}},
    {"role":"function","name":"f","content":"r"}],
    "tools":[{"type":"custom","custom":{"name":"sql"}}],"functions":[{"name":"f"}]})");
  CHECK(r.messages[0].content[0].kind == ir::PartKind::kOpaque);
  CHECK(r.messages[0].content[0].data == "input_audio");
  CHECK(r.messages[0].content[1] == ir::ContentPart::Text("no"));
  CHECK(r.messages[1].tool_calls[0].name == "f");
  CHECK(r.messages[2].role == ir::Role::kTool);
  REQUIRE(r.tools.size() == 2);
  CHECK(r.tools[0].type == "custom");
  CHECK_FALSE(r.untranslatable.empty());
  CHECK_FALSE(DecodeClientRequest(kOpenAiChat, Json::parse(R"({"messages":[],
    "tools":[{"type":"custom","custom":{"name":"sql"}}]})"))
                  .ok());
  CHECK(
      ShapeError(kOpenAiChat, R"({"messages":[{"role":"tool","tool_calls":[{"function":{}}]}]})") ==
      "only assistant messages carry tool calls");
}

TEST_CASE("anthropic.messages: system blocks stay parts, documents and server tools kept") {
  ir::Request r = Inspect(kAnthropicMessages, R"({"system":[{"type":"text","text":"a"},
    {"type":"text","text":"b"}],"messages":[{"role":"user","content":[
    {"type":"document","source":{"type":"text","data":"doc"}},
    {"type":"image","source":{"type":"file","file_id":"f"}}]}],
    "tools":[{"type":"web_search_20250305","name":"web_search"}]})");
  REQUIRE(r.messages[0].content.size() == 2);
  CHECK(r.messages[1].content[0].kind == ir::PartKind::kOpaque);
  CHECK(r.messages[1].content[0].text == "doc");
  CHECK(r.messages[1].content[1].kind == ir::PartKind::kImage);
  CHECK(r.tools[0].type == "web_search_20250305");
  CHECK_FALSE(r.untranslatable.empty());
  // Two system blocks translate as before: one system text.
  auto plain = DecodeClientRequest(kAnthropicMessages, Json::parse(R"({"system":[
    {"type":"text","text":"a"},{"type":"text","text":"b"}],
    "messages":[{"role":"user","content":"q"}]})"));
  REQUIRE(plain.ok());
  auto enc = EncodeProviderRequest(ProviderKind::kOpenAi, *plain, "m");
  REQUIRE(enc.ok());
  CHECK((*enc)["messages"][0] == Json::parse(R"({"role":"system","content":"ab"})"));
  CHECK(ShapeError(kAnthropicMessages, R"({"messages":[{"role":"assistant","content":[
    {"type":"tool_use","id":"t","name":"f"}]}]})") == "tool_use block without an 'input' object");
}

TEST_CASE("gemini.generate: both spellings, string system, non-image media, built-in tools") {
  ir::Request r = Inspect(kGeminiGenerate, R"({"system_instruction":"sys",
    "contents":[{"role":"user","parts":[{"inline_data":{"mime_type":"application/pdf","data":"AA"}},
      {"file_data":{"file_uri":"gs://b/i"}}]},
      {"role":"model","parts":[{"function_call":{"name":"f"}}]}],
    "tools":[{"function_declarations":[{"name":"f"}],"googleSearch":{}}]})");
  CHECK(r.messages[0].role == ir::Role::kSystem);
  CHECK(r.messages[0].content[0].text == "sys");
  CHECK(r.messages[1].content[0].kind == ir::PartKind::kOpaque);
  CHECK(r.messages[1].content[0].mime_type == "application/pdf");
  CHECK(r.messages[1].content[1].kind == ir::PartKind::kImage);
  CHECK(r.messages[1].content[1].image_url == "gs://b/i");
  CHECK(r.messages[2].tool_calls[0].arguments.empty());  // no args: no text
  REQUIRE(r.tools.size() == 2);
  CHECK(r.tools[1].type == "googleSearch");
  CHECK(r.untranslatable == "tool type 'googleSearch' cannot be translated");
  CHECK(ShapeError(kGeminiGenerate, R"({"contents":[],"systemInstruction":{"parts":[]},
    "system_instruction":"x"})") == "both 'systemInstruction' and 'system_instruction' are set");
  CHECK(ShapeError(kGeminiGenerate, R"({"contents":[{"role":"user","parts":[
    {"functionCall":{"name":"f"}}]}]})") == "functionCall outside a model turn");
  CHECK(ShapeError(kGeminiGenerate, R"({"contents":[],"systemInstruction":{"parts":[
    {"text":"a","inlineData":{"data":"AA"}}]}})").find("one of") != std::string::npos);
  // A snake_case system instruction is translated (it used to be dropped).
  auto plain = DecodeClientRequest(kGeminiGenerate, Json::parse(R"({"system_instruction":
    {"parts":[{"text":"be brief"}]},"contents":[{"role":"user","parts":[{"text":"q"}]}]})"));
  REQUIRE(plain.ok());
  auto enc = EncodeProviderRequest(ProviderKind::kAnthropic, *plain, "m");
  REQUIRE(enc.ok());
  CHECK((*enc)["system"] == "be brief");
}

TEST_CASE("gemini.generate: the generation config in snake_case reads as in camelCase") {
  ir::Request snake = Inspect(kGeminiGenerate, R"({"contents":[],"generation_config":{
    "max_output_tokens":64,"top_p":0.5,"stop_sequences":["END"],
    "response_mime_type":"application/json","thinking_config":{"thinking_budget":0}}})");
  ir::Request camel = Inspect(kGeminiGenerate, R"({"contents":[],"generationConfig":{
    "maxOutputTokens":64,"topP":0.5,"stopSequences":["END"],
    "responseMimeType":"application/json","thinkingConfig":{"thinking_budget":0}}})");
  CHECK(snake.max_output_tokens == 64);
  CHECK(snake.top_p == 0.5);
  CHECK(snake.stop == std::vector<std::string>{"END"});
  CHECK(snake.response_format.kind == ir::ResponseFormatKind::kJsonObject);
  CHECK(snake.native == camel.native);
  CHECK(ShapeError(kGeminiGenerate, R"({"contents":[],"generationConfig":{},
    "generation_config":{}})") == "both 'generationConfig' and 'generation_config' are set");
  CHECK(ShapeError(kGeminiGenerate, R"({"contents":[],"generationConfig":{"top_k":1,"topK":2}})")
            .find("both 'topK'") != std::string::npos);
}

TEST_CASE("Gemini's OpenAPI schemas reach other providers as JSON Schema") {
  auto req = DecodeClientRequest(kGeminiGenerate, Json::parse(R"({
    "contents":[{"role":"user","parts":[{"text":"hi"}]}],
    "tools":[{"functionDeclarations":[
      {"name":"get_w","parameters":{"type":"OBJECT","propertyOrdering":["city","days"],
        "properties":{"city":{"type":"STRING","description":"name"},
                      "days":{"type":"ARRAY","items":{"type":"INTEGER"},"nullable":true},
                      "any":{"type":"TYPE_UNSPECIFIED"}},
        "required":["city"]}},
      {"name":"raw","parametersJsonSchema":{"type":"object","additionalProperties":false}}]}],
    "generationConfig":{"responseMimeType":"application/json",
      "responseSchema":{"type":"OBJECT","properties":{"ok":{"type":"BOOLEAN"}}}}})"));
  REQUIRE(req.ok());
  auto anthropic = EncodeProviderRequest(ProviderKind::kAnthropic, *req, "m");
  REQUIRE_MESSAGE(anthropic.ok(), anthropic.error().message);
  CHECK((*anthropic)["tools"][0]["input_schema"] == Json::parse(R"({"type":"object",
    "properties":{"city":{"type":"string","description":"name"},
                  "days":{"type":["array","null"],"items":{"type":"integer"}},
                  "any":{}},
    "required":["city"]})"));
  CHECK((*anthropic)["tools"][1]["input_schema"] ==  // JSON Schema already: as sent
        Json::parse(R"({"type":"object","additionalProperties":false})"));
  auto openai = EncodeProviderRequest(ProviderKind::kOpenAi, *req, "m");
  REQUIRE(openai.ok());
  CHECK((*openai)["tools"][0]["function"]["parameters"]["type"] == "object");
  CHECK((*openai)["response_format"]["json_schema"]["schema"] ==
        Json::parse(R"({"type":"object","properties":{"ok":{"type":"boolean"}}})"));
}

TEST_CASE("an untranslatable IR is never encoded") {
  ir::Request r = Inspect(kOpenAiResponses, R"({"input":"x","store":true})");
  CHECK_FALSE(EncodeProviderRequest(ProviderKind::kOpenAi, r, "m").ok());
  CHECK(ShapeError("openai.embeddings", "{}").find("cannot be translated") != std::string::npos);
}

TEST_CASE("a Gemini call without args reaches OpenAI as {}") {
  auto req = DecodeClientRequest(kGeminiGenerate, Json::parse(R"({"contents":[
    {"role":"model","parts":[{"functionCall":{"name":"f"}}]}]})"));
  REQUIRE(req.ok());
  auto enc = EncodeProviderRequest(ProviderKind::kOpenAi, *req, "m");
  REQUIRE(enc.ok());
  CHECK((*enc)["messages"][0]["tool_calls"][0]["function"]["arguments"] == "{}");
}

}  // namespace
}  // namespace helm::protocol

namespace helm::protocol {
namespace {

TEST_CASE("Payloads::kSkip decodes the same request without schemas or native fields") {
  Json body = testing::LoadRequest("openai.chat/tool_conversation.json");
  auto full = InspectClientRequest(kOpenAiChat, body);
  auto lean = InspectClientRequest(kOpenAiChat, body, Payloads::kSkip);
  REQUIRE(full.ok());
  REQUIRE(lean.ok());
  CHECK(lean->messages == full->messages);
  REQUIRE(lean->tools.size() == full->tools.size());
  CHECK(lean->tools[0].name == full->tools[0].name);
  CHECK(lean->tools[0].parameters == Json::object());
  CHECK(full->tools[0].parameters != Json::object());
  CHECK(lean->native.empty());
  CHECK(lean->untranslatable == full->untranslatable);
}

}  // namespace
}  // namespace helm::protocol
