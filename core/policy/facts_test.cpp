#include "core/policy/facts.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace helm {
namespace {

RequestFacts Facts(std::string_view protocol, const char* body) {
  auto parsed = ParseStrictJson(body);
  REQUIRE(parsed.ok());
  auto facts = ExtractFacts(protocol, *parsed);
  REQUIRE_MESSAGE(facts.ok(), facts.error().message);
  return std::move(facts).value();
}

std::string ShapeError(std::string_view protocol, const char* body) {
  auto parsed = ParseStrictJson(body);
  REQUIRE(parsed.ok());
  auto facts = ExtractFacts(protocol, *parsed);
  REQUIRE(!facts.ok());
  CHECK(facts.error().code == ErrorCode::kInvalidArgument);
  return facts.error().message;
}

// Checks RewriteTexts visits the texts ExtractFacts collected (as a multiset;
// empty strings are not texts). facts_differential_test.cpp does this over a
// corpus.
void CheckRewriteVisitsTexts(std::string_view protocol, const char* body) {
  Json json = ParseStrictJson(body).value();
  RequestFacts facts = Facts(protocol, body);
  std::vector<std::string> seen;
  RewriteTexts(protocol, json, [&](std::string& s) {
    if (!s.empty()) seen.push_back(s);
    return 0;
  });
  std::sort(seen.begin(), seen.end());
  std::sort(facts.texts.begin(), facts.texts.end());
  CHECK(seen == facts.texts);
}

TEST_CASE("openai.chat: texts, parts, images, tools, model, stream") {
  const char* body = R"({"model":"gpt-4o","stream":true,"messages":[
    {"role":"system","content":"be nice"},
    {"role":"user","content":[{"type":"text","text":"hello"},
                              {"type":"image_url","image_url":{"url":"data:x"}}]},
    {"role":"assistant","content":null,"tool_calls":[
      {"id":"c1","type":"function","function":{"name":"shell","arguments":"{\"cmd\":\"ls\"}"}}]},
    {"role":"tool","tool_call_id":"c1","content":"file.txt"}],
    "tools":[{"type":"function","function":{"name":"shell"}}],
    "functions":[{"name":"legacy_fn"}]})";
  RequestFacts f = Facts(kOpenAiChat, body);
  CHECK(f.model == "gpt-4o");
  CHECK(f.stream);
  CHECK(f.has_images);
  CHECK(f.texts == std::vector<std::string>{"be nice", "hello", "{\"cmd\":\"ls\"}", "file.txt"});
  CHECK(f.tools == std::vector<std::string>{"shell", "legacy_fn"});
  CHECK(f.input_tokens == (7 + 5 + 12 + 8 + 3) / 4);
  CheckRewriteVisitsTexts(kOpenAiChat, body);
}

TEST_CASE("openai.chat: shape errors name the path") {
  CHECK(ShapeError(kOpenAiChat, R"({"messages":{}})") == "'messages' must be an array");
  CHECK(ShapeError(kOpenAiChat, R"({"messages":[{"role":"user","content":5}]})") ==
        "message content must be a string or an array");
  CHECK(ShapeError(kOpenAiChat, R"({"messages":[{"role":"user","content":[{"text":"x"}]}]})") ==
        "content part without a 'type'");
  CHECK(ShapeError(kOpenAiChat, R"({"messages":[{"role":"user","content":[{"type":"text",
        "text":5}]}]})") == "'text' part without a string 'text'");
  CHECK(ShapeError(kOpenAiChat, R"({"model":3,"messages":[]})") == "'model' must be a string");
  CHECK(ShapeError(kOpenAiChat, R"({"stream":"yes","messages":[]})") ==
        "'stream' must be a boolean");
  CHECK(ShapeError(kOpenAiChat, R"({"messages":[],"tools":[{"type":"function"}]})") ==
        "each tool needs a name");
  CHECK(ShapeError(kOpenAiChat,
                   R"({"messages":[{"role":"user","tool_calls":[{"function":{}}]}]})") ==
        "only assistant messages carry tool calls");
  CHECK(ShapeError(kOpenAiChat, R"([])") == "request body must be a JSON object");
  CHECK(ShapeError("nope", R"({})").find("unknown protocol") != std::string::npos);
}

TEST_CASE("input_tokens is ceil(text bytes / 4)") {
  CHECK(Facts(kOpenAiCompletions, R"({"prompt":""})").input_tokens == 0);
  CHECK(Facts(kOpenAiCompletions, R"({"prompt":"a"})").input_tokens == 1);
  CHECK(Facts(kOpenAiCompletions, R"({"prompt":"abcd"})").input_tokens == 1);
  CHECK(Facts(kOpenAiCompletions, R"({"prompt":"abcde"})").input_tokens == 2);
}

TEST_CASE("anthropic.messages: system blocks, tool_result, images, tools") {
  const char* body = R"({"model":"claude-x","max_tokens":5,
    "system":[{"type":"text","text":"sys"}],
    "messages":[
      {"role":"user","content":"hi"},
      {"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"a":1}},
                                      {"type":"thinking","thinking":"hmm","signature":"s"}]},
      {"role":"user","content":[
        {"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"res"},
          {"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA"}}]},
        {"type":"tool_result","tool_use_id":"t","content":"plain"}]}],
    "tools":[{"name":"delete_file","input_schema":{}}]})";
  RequestFacts f = Facts(kAnthropicMessages, body);
  CHECK(f.texts == std::vector<std::string>{"sys", "hi", "{\"a\":1}", "res", "plain"});
  CHECK(f.has_images);
  CHECK(f.tools == std::vector<std::string>{"delete_file"});
  CHECK(!f.stream);
  CHECK(Facts(kAnthropicMessages, R"({"system":"s","messages":[]})").texts ==
        std::vector<std::string>{"s"});
  CHECK(ShapeError(kAnthropicMessages, R"({"messages":[{"role":"user"}]})") ==
        "message content must be a string or an array");
  CHECK(ShapeError(kAnthropicMessages, R"({"system":1,"messages":[]})") ==
        "'system' must be a string or an array of text blocks");
  CheckRewriteVisitsTexts(kAnthropicMessages, body);
}

TEST_CASE("openai.responses: instructions, items, outputs, tools") {
  const char* body = R"({"model":"gpt-4.1","instructions":"inst","input":[
      {"role":"user","content":[{"type":"input_text","text":"q"},
                                {"type":"input_image","image_url":"x"}]},
      {"type":"message","role":"user","content":"plain"},
      {"type":"function_call","call_id":"c","name":"f","arguments":"{}"},
      {"type":"function_call_output","call_id":"c","output":"out"},
      {"type":"reasoning","summary":[]}],
    "tools":[{"type":"function","name":"transfer_funds"},{"type":"web_search"}]})";
  RequestFacts f = Facts(kOpenAiResponses, body);
  CHECK(f.texts == std::vector<std::string>{"inst", "q", "plain", "{}", "out"});
  CHECK(f.has_images);
  CHECK(f.tools == std::vector<std::string>{"transfer_funds", "web_search"});
  CHECK(Facts(kOpenAiResponses, R"({"input":"just text"})").texts ==
        std::vector<std::string>{"just text"});
  CHECK(ShapeError(kOpenAiResponses, R"({"input":5})") == "'input' must be a string or an array");
  CHECK(ShapeError(kOpenAiResponses, R"({"instructions":1,"input":"x"})") ==
        "'instructions' must be a string");
  CheckRewriteVisitsTexts(kOpenAiResponses, body);
}

TEST_CASE("gemini.generate: system, parts, media, function responses, tools") {
  const char* body = R"({"systemInstruction":{"parts":[{"text":"sys"}]},
    "contents":[{"role":"user","parts":[{"text":"hello"},
        {"inlineData":{"mimeType":"image/jpeg","data":"AA"}}]},
      {"role":"model","parts":[{"functionCall":{"name":"f","args":{"x":1}}}]},
      {"role":"user","parts":[{"functionResponse":{"name":"f","response":{"ok":true}}}]}],
    "tools":[{"functionDeclarations":[{"name":"shell_exec"}]},{"googleSearch":{}}]})";
  RequestFacts f = Facts(kGeminiGenerate, body);
  CHECK(f.texts ==
        std::vector<std::string>{"sys", "hello", "{\"x\":1}", "{\"ok\":true}"});
  CHECK(f.has_images);
  CHECK(f.tools == std::vector<std::string>{"shell_exec", "googleSearch"});
  // snake_case spellings are read too; both at once is refused.
  RequestFacts snake = Facts(kGeminiGenerate, R"({"system_instruction":{"parts":[{"text":"s"}]},
    "contents":[{"parts":[{"file_data":{"mime_type":"application/pdf","file_uri":"u"}}]}]})");
  CHECK(snake.texts == std::vector<std::string>{"s"});
  CHECK(!snake.has_images);
  CHECK(ShapeError(kGeminiGenerate, R"({"systemInstruction":{"parts":[]},
    "system_instruction":{"parts":[]},"contents":[]})")
            .find("both") != std::string::npos);
  CHECK(ShapeError(kGeminiGenerate, R"({"contents":[{"role":"user"}]})") ==
        "'parts' must be an array");
  CHECK(ShapeError(kGeminiGenerate, R"({"contents":[{"parts":[{"text":"a",
        "inlineData":{"data":"AA"}}]}]})").find("one of") != std::string::npos);
  CheckRewriteVisitsTexts(kGeminiGenerate, body);
}

// Same-protocol traffic is forwarded verbatim, so a request the IR cannot
// translate (audio, server tools, stateful Responses, …) is still decided on:
// the IR keeps what it does not model, with its text.
TEST_CASE("untranslatable requests still have facts") {
  RequestFacts chat = Facts(kOpenAiChat, R"({"messages":[
    {"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA"}},
                              {"type":"future_part","text":"seen"}]},
    {"role":"assistant","tool_calls":[{"id":"c","type":"custom","custom":{"name":"sql",
      "input":"DROP TABLE x"}}]}],
    "tools":[{"type":"custom","custom":{"name":"sql"}}]})");
  CHECK(chat.texts == std::vector<std::string>{"seen", "DROP TABLE x"});
  CHECK(chat.tools == std::vector<std::string>{"sql"});
  RequestFacts anthropic = Facts(kAnthropicMessages, R"({"messages":[{"role":"user","content":[
    {"type":"document","source":{"type":"text","media_type":"text/plain","data":"doc text"}},
    {"type":"image","source":{"type":"file","file_id":"f"}}]}],
    "tools":[{"type":"web_search_20250305","name":"web_search"}]})");
  CHECK(anthropic.texts == std::vector<std::string>{"doc text"});
  CHECK(anthropic.has_images);
  CHECK(anthropic.tools == std::vector<std::string>{"web_search"});
  RequestFacts responses = Facts(kOpenAiResponses, R"({"previous_response_id":"r","store":true,
    "input":[{"type":"item_reference","id":"m"},{"role":"user","content":[
      {"type":"input_image","file_id":"f"},{"type":"input_text","text":"q"}]}],
    "tools":[{"type":"web_search"}]})");
  CHECK(responses.texts == std::vector<std::string>{"q"});
  CHECK(responses.has_images);
  CHECK(responses.tools == std::vector<std::string>{"web_search"});
  RequestFacts gemini = Facts(kGeminiGenerate, R"({"systemInstruction":"plain system",
    "contents":[{"parts":[{"inline_data":{"mime_type":"application/pdf","data":"AA"}},
                          {"executableCode":{"code":"x"}}]}],
    "tools":[{"googleSearch":{}}]})");
  CHECK(gemini.texts == std::vector<std::string>{"plain system"});
  CHECK(!gemini.has_images);
  CHECK(gemini.tools == std::vector<std::string>{"googleSearch"});
}

TEST_CASE("thinking: inspected unless signed") {
  const char* anthropic = R"({"messages":[{"role":"assistant","content":[
    {"type":"thinking","thinking":"signed","signature":"sig"},
    {"type":"thinking","thinking":"unsigned"},
    {"type":"redacted_thinking","data":"opaque"}]}]})";
  CHECK(Facts(kAnthropicMessages, anthropic).texts == std::vector<std::string>{"unsigned"});
  CheckRewriteVisitsTexts(kAnthropicMessages, anthropic);
  const char* gemini =
      R"({"contents":[{"role":"model","parts":[{"text":"thought","thought":true}]}]})";
  CHECK(Facts(kGeminiGenerate, gemini).texts == std::vector<std::string>{"thought"});
}

TEST_CASE("empty strings are not texts") {
  CHECK(Facts(kOpenAiResponses, R"({"instructions":"","input":[{"type":"function_call",
    "call_id":"c","name":"f","arguments":""}]})").texts.empty());
  CHECK(Facts(kGeminiGenerate, R"({"contents":[{"role":"model","parts":[{"functionCall":
    {"name":"f"}}]},{"parts":[{"functionResponse":{"name":"f"}}]}]})").texts.empty());
}

TEST_CASE("embeddings and completions") {
  RequestFacts e = Facts(kOpenAiEmbeddings, R"({"model":"m","input":["a","bb"]})");
  CHECK(e.texts == std::vector<std::string>{"a", "bb"});
  CHECK(Facts(kOpenAiCompletions, R"({"prompt":"p","stream":false})").texts ==
        std::vector<std::string>{"p"});
  CHECK(ShapeError(kOpenAiEmbeddings, R"({"input":[1,2]})") ==
        "input[0]: expected a string (token arrays are not supported)");
  CHECK(ShapeError(kOpenAiCompletions, R"({})") == "prompt: missing");
}

TEST_CASE("RewriteTexts rewrites in place, structured payloads through their dump") {
  Json body = ParseStrictJson(R"({"contents":[{"parts":[{"text":"key KEY1"},
    {"functionResponse":{"name":"f","response":{"v":"KEY2"}}}]}]})").value();
  int n = RewriteTexts(kGeminiGenerate, body, [](std::string& s) {
    int count = 0;
    for (size_t p; (p = s.find("KEY")) != std::string::npos; ++count) s.replace(p, 4, "[R]");
    return count;
  });
  CHECK(n == 2);
  CHECK(body["contents"][0]["parts"][0]["text"] == "key [R]");
  CHECK(body["contents"][0]["parts"][1]["functionResponse"]["response"]["v"] == "[R]");
}

// Replaces every node of every sample body, one at a time, by values of each
// JSON type: extraction and rewriting must answer (facts or kInvalidArgument)
// and never throw, whatever the shape.
void MutateEverywhere(std::string_view protocol, const Json& root, Json& node) {
  static const Json kReplacements[] = {nullptr, 1, "s", Json::array(), Json::object(),
                                       Json::array({1}), Json::object({{"type", 1}})};
  for (const Json& r : kReplacements) {
    Json saved = node;
    node = r;
    CHECK_NOTHROW((void)ExtractFacts(protocol, root));
    Json copy = root;
    CHECK_NOTHROW((void)RewriteTexts(protocol, copy, [](std::string& s) {
      s += "!";
      return 1;
    }));
    node = std::move(saved);
  }
  if (node.is_structured()) {
    for (auto& child : node) MutateEverywhere(protocol, root, child);
  }
}

TEST_CASE("structural mutations never throw") {
  const std::pair<const char*, const char*> samples[] = {
      {kOpenAiChat, R"({"model":"m","messages":[{"role":"user","content":[{"type":"text",
        "text":"t"}]},{"role":"assistant","tool_calls":[{"function":{"arguments":"{}"}}]}],
        "tools":[{"function":{"name":"f"}}]})"},
      {kAnthropicMessages, R"({"system":[{"type":"text","text":"s"}],"messages":[{"role":"user",
        "content":[{"type":"tool_result","content":[{"type":"text","text":"r"}]}]}],
        "tools":[{"name":"t"}]})"},
      {kOpenAiResponses, R"({"instructions":"i","input":[{"role":"user","content":[
        {"type":"input_text","text":"q"}]},{"type":"function_call_output","output":"o"}],
        "tools":[{"type":"function","name":"f"}]})"},
      {kGeminiGenerate, R"({"systemInstruction":{"parts":[{"text":"s"}]},"contents":[{"parts":[
        {"text":"t"},{"functionResponse":{"response":{"a":"b"}}}]}],
        "tools":[{"functionDeclarations":[{"name":"f"}]}]})"},
      {kOpenAiEmbeddings, R"({"input":["a","b"]})"},
      {kOpenAiCompletions, R"({"prompt":["a"]})"},
  };
  for (const auto& [protocol, text] : samples) {
    Json body = ParseStrictJson(text).value();
    MutateEverywhere(protocol, body, body);
  }
}

}  // namespace
}  // namespace helm
