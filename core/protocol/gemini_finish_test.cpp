// Gemini streams and the finish-reason tables.
#include <doctest/doctest.h>

#include "core/protocol/codec.h"
#include "core/protocol/test_util.h"

namespace helm::protocol {
namespace {

using namespace testing;  // NOLINT
using ir::FinishReason;

SseFrame Data(const char* d) { return {"", d}; }

TEST_CASE("Gemini request: function responses pair with calls by name and order") {
  // calls f, g, f and responses f, f, g; native safetySettings.
  auto req = DecodeClientRequest(kGeminiGenerate, LoadRequest("gemini.generate/call_pairing.json"));
  REQUIRE(req.ok());
  const auto& calls = req->messages[1].tool_calls;
  REQUIRE(calls.size() == 3);
  CHECK(calls[0].id != calls[2].id);
  CHECK(req->messages[2].tool_call_id == calls[0].id);
  CHECK(req->messages[3].tool_call_id == calls[2].id);
  CHECK(req->messages[4].tool_call_id == calls[1].id);
  // To Anthropic: three tool_results answering the three tool_use ids.
  auto a = EncodeProviderRequest(ProviderKind::kAnthropic, *req, "m");
  REQUIRE(a.ok());
  CHECK((*a)["messages"][2]["content"].size() == 3);
  CHECK_FALSE(a->contains("safetySettings"));
  // Round trip to Gemini keeps the native safety settings.
  auto g = EncodeProviderRequest(ProviderKind::kGemini, *req, "m");
  REQUIRE(g.ok());
  CHECK((*g)["safetySettings"][0]["category"] == "x");
  CHECK((*g)["contents"][2]["parts"][2]["functionResponse"]["name"] == "g");
}

TEST_CASE("stream: Gemini upstream text increments and a whole function call → Anthropic") {
  std::vector<SseFrame> f{
      Data(R"({"responseId":"r1","modelVersion":"gemini-x","candidates":[{"content":{"role":"model","parts":[{"text":"Grüß"}]}}]})"),
      Data(R"({"candidates":[{"content":{"role":"model","parts":[{"text":" 👋"}]}}]})"),
      Data(R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":"ü"}}}]},"finishReason":"STOP"}],
              "usageMetadata":{"promptTokenCount":50,"cachedContentTokenCount":20,"candidatesTokenCount":5,"totalTokenCount":55}})")};
  bool no_finish = true;
  auto events = Decode(ProviderKind::kGemini, f, &no_finish);
  CHECK_FALSE(no_finish);
  auto acc = Accumulate(events);
  CHECK(acc.content[0].text == "Grüß 👋");
  CHECK(acc.finish_reason == FinishReason::kToolCalls);
  CHECK(acc.tool_calls[0].name == "f");
  CHECK(acc.tool_calls[0].id == "call_r1_0");
  CHECK(acc.usage.input_tokens == 50);
  CHECK(acc.usage.cached_read_tokens == 20);
  auto an = SplitSse(Encode(kAnthropicMessages, events));
  CHECK(CheckAnthropicStream(an) == "");
  CHECK(an[an.size() - 2].json["usage"]["input_tokens"] == 30);
  CHECK(AssembleAnthropic(an).tool_calls[0].arguments == R"({"a":"ü"})");
}

TEST_CASE("stream: Gemini upstream without finishReason is synthesized") {
  bool no_finish = false;
  auto events = Decode(ProviderKind::kGemini,
                       {Data(R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}]})")}, &no_finish);
  CHECK(no_finish);
  CHECK(Accumulate(events).finish_reason == FinishReason::kStop);
}

TEST_CASE("stream: Gemini client gets increments, whole calls, finish and usage last") {
  ir::Usage u;
  u.known = true;
  u.input_tokens = 10;
  u.output_tokens = 3;
  auto out = SplitSse(Encode(kGeminiGenerate,
                             {ir::StartEvent("x", "m"), ir::TextDelta("ab"), ir::TextDelta("ç"),
                              ir::ToolCallStart(0, "c", "f"), ir::ToolCallDelta(0, "{\"k\":"),
                              ir::ToolCallDelta(0, "1}"), ir::FinishEvent(FinishReason::kToolCalls),
                              ir::UsageEvent(u), ir::EndEvent()}));
  REQUIRE(out.size() == 3);
  CHECK(out[0].event.empty());
  CHECK(out[0].json["candidates"][0]["content"]["parts"][0]["text"] == "ab");
  CHECK(out[1].json["candidates"][0]["content"]["parts"][0]["text"] == "ç");
  CHECK_FALSE(out[1].json["candidates"][0].contains("finishReason"));
  const Json& last = out[2].json;
  CHECK(last["candidates"][0]["content"]["parts"][0]["functionCall"] ==
        Json{{"name", "f"}, {"args", {{"k", 1}}}});
  CHECK(last["candidates"][0]["finishReason"] == "STOP");
  CHECK(last["usageMetadata"]["totalTokenCount"] == 13);
  auto err = SplitSse(Encode(kGeminiGenerate, {ir::TextDelta("a"), ir::ErrorEvent("gone")}));
  CHECK(err.back().json["error"]["status"] == "INTERNAL");
}

TEST_CASE("finish reasons: provider values → IR") {
  struct Row { const char* in; FinishReason out; };
  for (Row r : {Row{"stop", FinishReason::kStop}, {"length", FinishReason::kLength},
                {"tool_calls", FinishReason::kToolCalls}, {"function_call", FinishReason::kToolCalls},
                {"content_filter", FinishReason::kContentFilter}, {"", FinishReason::kUnknown},
                {"new_thing", FinishReason::kUnknown}}) {
    CHECK(FinishFromOpenAi(r.in) == r.out);
  }
  for (Row r : {Row{"end_turn", FinishReason::kStop}, {"stop_sequence", FinishReason::kStop},
                {"max_tokens", FinishReason::kLength}, {"tool_use", FinishReason::kToolCalls},
                {"refusal", FinishReason::kContentFilter}, {"pause_turn", FinishReason::kStop},
                {"", FinishReason::kUnknown}, {"new_thing", FinishReason::kUnknown}}) {
    CHECK(FinishFromAnthropic(r.in) == r.out);
  }
  for (Row r : {Row{"STOP", FinishReason::kStop}, {"MAX_TOKENS", FinishReason::kLength},
                {"SAFETY", FinishReason::kContentFilter}, {"RECITATION", FinishReason::kContentFilter},
                {"MALFORMED_FUNCTION_CALL", FinishReason::kError}, {"OTHER", FinishReason::kUnknown},
                {"", FinishReason::kUnknown}}) {
    CHECK(FinishFromGemini(r.in) == r.out);
  }
}

TEST_CASE("finish reasons: IR → every protocol's legal enum") {
  struct Row { FinishReason in; const char* openai; const char* anthropic; const char* gemini; const char* responses; };
  for (Row r : {Row{FinishReason::kStop, "stop", "end_turn", "STOP", "completed"},
                {FinishReason::kLength, "length", "max_tokens", "MAX_TOKENS", "incomplete"},
                {FinishReason::kToolCalls, "tool_calls", "tool_use", "STOP", "completed"},
                {FinishReason::kContentFilter, "content_filter", "refusal", "SAFETY", "incomplete"},
                {FinishReason::kError, "stop", "end_turn", "OTHER", "completed"},
                {FinishReason::kUnknown, "stop", "end_turn", "STOP", "completed"}}) {
    CAPTURE(ir::FinishReasonName(r.in));
    CHECK(FinishToOpenAi(r.in) == r.openai);
    CHECK(FinishToAnthropic(r.in) == r.anthropic);
    CHECK(FinishToGemini(r.in) == r.gemini);
    std::string reason;
    CHECK(FinishToResponsesStatus(r.in, &reason) == r.responses);
  }
}

}  // namespace
}  // namespace helm::protocol
