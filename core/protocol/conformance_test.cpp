// The conformance table: every client protocol × every provider kind, for
// plain text, a tool-call round trip (assistant call then tool result), image
// input and JSON output. Checks the provider request's shape, then the
// client's view of each provider's answer.
#include <doctest/doctest.h>

#include <map>

#include "core/protocol/codec.h"
#include "core/protocol/test_util.h"

namespace helm::protocol {
namespace {

using testing::TestOptions;

enum class Case { kText, kTool, kImage, kJson };

const char* kPng = "iVBORw0KGgo=";

// The client request of each protocol for each case:
// tests/corpus/requests/<protocol>/conformance_<case>.json. Anthropic requests
// have no JSON mode to translate from.
Json ClientBody(const std::string& protocol, Case c) {
  static const std::map<Case, const char*> kNames = {
      {Case::kText, "text"}, {Case::kTool, "tool"}, {Case::kImage, "image"}, {Case::kJson, "json"}};
  if (protocol == kAnthropicMessages && c == Case::kJson) return Json();
  Json body = testing::LoadRequest(protocol + "/conformance_" + kNames.at(c) + ".json");
  REQUIRE_MESSAGE(!body.is_null(), protocol << " " << kNames.at(c));
  return body;
}

void CheckProviderRequest(ProviderKind kind, Case c, const Json& r, const std::string& label) {
  INFO(label << " " << DumpJson(r));
  switch (kind) {
    case ProviderKind::kOpenAi: {
      const Json& m = r["messages"];
      if (c == Case::kText) CHECK(m.back() == Json{{"role", "user"}, {"content", "hello"}});
      if (c == Case::kTool) {
        CHECK(m[1]["tool_calls"][0]["function"]["name"] == "get_weather");
        CHECK(ArgumentsObject(m[1]["tool_calls"][0]["function"]["arguments"]) == Json{{"city", "Paris"}});
        CHECK(m[2]["role"] == "tool");
        CHECK(m[2]["tool_call_id"] == m[1]["tool_calls"][0]["id"]);
        CHECK(Json::parse(m[2]["content"].get<std::string>()) == Json{{"temp", 21}});
      }
      if (c == Case::kImage) {
        CHECK(m[0]["content"][1]["image_url"]["url"] == std::string("data:image/png;base64,") + kPng);
      }
      if (c == Case::kJson) CHECK(r["response_format"]["type"] == "json_schema");
      break;
    }
    case ProviderKind::kAnthropic: {
      const Json& m = r["messages"];
      CHECK(r["max_tokens"].is_number_integer());
      if (c == Case::kText) CHECK(m.back()["content"][0]["text"] == "hello");
      if (c == Case::kTool) {
        CHECK(m[1]["content"][0]["type"] == "tool_use");
        CHECK(m[1]["content"][0]["input"] == Json{{"city", "Paris"}});
        CHECK(m[2]["content"][0]["type"] == "tool_result");
        CHECK(m[2]["content"][0]["tool_use_id"] == m[1]["content"][0]["id"]);
      }
      if (c == Case::kImage) CHECK(m[0]["content"][1]["source"]["data"] == kPng);
      if (c == Case::kJson) CHECK(r["system"].get<std::string>().find("JSON Schema") != std::string::npos);
      break;
    }
    case ProviderKind::kGemini: {
      const Json& m = r["contents"];
      if (c == Case::kText) CHECK(m.back()["parts"][0]["text"] == "hello");
      if (c == Case::kTool) {
        CHECK(m[1]["role"] == "model");
        CHECK(m[1]["parts"][0]["functionCall"] == Json{{"name", "get_weather"}, {"args", {{"city", "Paris"}}}});
        CHECK(m[2]["parts"][0]["functionResponse"] ==
              Json{{"name", "get_weather"}, {"response", {{"temp", 21}}}});
        CHECK_FALSE(DumpJson(r["tools"]).find("additionalProperties") != std::string::npos);
      }
      if (c == Case::kImage) CHECK(m[0]["parts"][1]["inlineData"]["data"] == kPng);
      if (c == Case::kJson) {
        CHECK(r["generationConfig"]["responseMimeType"] == "application/json");
        CHECK(r["generationConfig"]["responseSchema"]["type"] == "object");
        CHECK_FALSE(r["generationConfig"]["responseSchema"].contains("$schema"));
      }
      break;
    }
  }
}

// One answer per provider kind: text "hi", one tool call, usage 100 in
// (40 of them cached), 10 out.
Json ProviderAnswer(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kOpenAi:
      return Json::parse(R"({"id":"chatcmpl-1","model":"u","choices":[{"index":0,"message":{"role":"assistant",
        "content":"hi","tool_calls":[{"id":"call_9","type":"function","function":{"name":"get_weather",
        "arguments":"{\"city\":\"Oslo\"}"}}]},"finish_reason":"tool_calls"}],
        "usage":{"prompt_tokens":100,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":40}}})");
    case ProviderKind::kAnthropic:
      return Json::parse(R"({"id":"msg_1","type":"message","model":"u","content":[{"type":"text","text":"hi"},
        {"type":"tool_use","id":"toolu_9","name":"get_weather","input":{"city":"Oslo"}}],"stop_reason":"tool_use",
        "usage":{"input_tokens":60,"cache_read_input_tokens":40,"output_tokens":10}})");
    case ProviderKind::kGemini:
      return Json::parse(R"({"responseId":"r1","modelVersion":"u","candidates":[{"content":{"role":"model","parts":[
        {"text":"hi"},{"functionCall":{"name":"get_weather","args":{"city":"Oslo"}}}]},"finishReason":"STOP"}],
        "usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":40,"candidatesTokenCount":10,"totalTokenCount":110}})");
  }
  return Json();
}

void CheckClientAnswer(std::string_view protocol, const Json& r, const std::string& label) {
  INFO(label << " " << DumpJson(r));
  if (protocol == kOpenAiChat) {
    const Json& m = r["choices"][0]["message"];
    CHECK(m["content"] == "hi");
    CHECK(m["tool_calls"][0]["function"]["name"] == "get_weather");
    CHECK(ArgumentsObject(m["tool_calls"][0]["function"]["arguments"]) == Json{{"city", "Oslo"}});
    CHECK_FALSE(m["tool_calls"][0]["id"].get<std::string>().empty());
    CHECK(r["choices"][0]["finish_reason"] == "tool_calls");
    CHECK(r["usage"]["prompt_tokens"] == 100);
    CHECK(r["usage"]["prompt_tokens_details"]["cached_tokens"] == 40);
  } else if (protocol == kAnthropicMessages) {
    CHECK(r["content"][0] == Json{{"type", "text"}, {"text", "hi"}});
    CHECK(r["content"][1]["input"] == Json{{"city", "Oslo"}});
    CHECK_FALSE(r["content"][1]["id"].get<std::string>().empty());
    CHECK(r["stop_reason"] == "tool_use");
    CHECK(r["usage"]["input_tokens"] == 60);
    CHECK(r["usage"]["cache_read_input_tokens"] == 40);
  } else if (protocol == kOpenAiResponses) {
    CHECK(r["output"][0]["content"][0]["text"] == "hi");
    CHECK(r["output"][1]["name"] == "get_weather");
    CHECK_FALSE(r["output"][1]["call_id"].get<std::string>().empty());
    CHECK(r["usage"]["input_tokens"] == 100);
    CHECK(r["usage"]["total_tokens"] == 110);
  } else {
    const Json& parts = r["candidates"][0]["content"]["parts"];
    CHECK(parts[0]["text"] == "hi");
    CHECK(parts[1]["functionCall"] == Json{{"name", "get_weather"}, {"args", {{"city", "Oslo"}}}});
    CHECK(r["candidates"][0]["finishReason"] == "STOP");
    CHECK(r["usageMetadata"]["promptTokenCount"] == 100);
    CHECK(r["usageMetadata"]["cachedContentTokenCount"] == 40);
  }
}

const std::vector<std::string> kClients = {kOpenAiChat, kAnthropicMessages, kOpenAiResponses,
                                           kGeminiGenerate};
const std::vector<ProviderKind> kKinds = {ProviderKind::kOpenAi, ProviderKind::kAnthropic,
                                          ProviderKind::kGemini};

TEST_CASE("conformance: provider request shape for every client × provider × case") {
  int checked = 0;
  for (const auto& client : kClients) {
    for (ProviderKind kind : kKinds) {
      for (Case c : {Case::kText, Case::kTool, Case::kImage, Case::kJson}) {
        Json body = ClientBody(client, c);
        if (body.is_null()) continue;
        std::string label = client + " → " + ProviderKindName(kind) + " case " +
                            std::to_string(static_cast<int>(c));
        auto req = DecodeClientRequest(client, body);
        REQUIRE_MESSAGE(req.ok(), label);
        auto enc = EncodeProviderRequest(kind, *req, "upstream-model");
        REQUIRE_MESSAGE(enc.ok(), label);
        CheckProviderRequest(kind, c, *enc, label);
        ++checked;
      }
    }
  }
  CHECK(checked == 45);
}

TEST_CASE("conformance: every provider's answer in every client protocol") {
  for (ProviderKind kind : kKinds) {
    auto resp = DecodeProviderResponse(kind, ProviderAnswer(kind));
    REQUIRE(resp.ok());
    CHECK(resp->usage.input_tokens == 100);
    CHECK(resp->usage.cached_read_tokens == 40);
    CHECK(resp->finish_reason == ir::FinishReason::kToolCalls);
    for (const auto& client : kClients) {
      CheckClientAnswer(client, EncodeClientResponse(client, *resp, TestOptions()),
                        client + " ← " + ProviderKindName(kind));
    }
  }
}

}  // namespace
}  // namespace helm::protocol
