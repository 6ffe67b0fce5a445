// OpenAI Responses: requests, responses and the stream encoder.
#include <doctest/doctest.h>

#include "core/protocol/test_util.h"

namespace helm::protocol {
namespace {

using namespace testing;  // NOLINT

Json P(const char* s) { return Json::parse(s); }

// Checks the Responses stream invariants; returns "" or what is wrong.
std::string CheckResponsesStream(const std::vector<ParsedSse>& evs) {
  if (evs.size() < 3) return "too short";
  if (evs[0].event != "response.created" || evs[1].event != "response.in_progress") {
    return "no preamble";
  }
  int64_t seq = 0;
  std::string open_item;
  for (const auto& e : evs) {
    if (e.json["sequence_number"] != seq++) return "sequence_number not 0,1,2,… at " + e.event;
    if (e.event != e.json["type"]) return "event name and type differ";
    if (e.event == "response.output_item.added") {
      if (!open_item.empty()) return "item added while another is open";
      open_item = e.json["item"]["id"];
    } else if (e.event == "response.output_item.done") {
      if (e.json["item"]["id"] != open_item) return "done for an item not open";
      open_item.clear();
    } else if (e.event.find(".delta") != std::string::npos) {
      if (e.json["item_id"] != open_item) return "orphan delta";
    }
  }
  const std::string& last = evs.back().event;
  if (last != "response.completed" && last != "response.incomplete" && last != "response.failed") {
    return "no terminal event";
  }
  if (!open_item.empty()) return "item left open";
  return "";
}

TEST_CASE("Responses request decodes: instructions, items, function calls and outputs") {
  // instructions, an input_image by URL, a reasoning item, two calls and their
  // outputs, a strict function tool, text.format, native reasoning.
  auto req = DecodeClientRequest(kOpenAiResponses,
                                 testing::LoadRequest("openai.responses/items_and_calls.json"));
  REQUIRE(req.ok());
  REQUIRE(req->messages.size() == 5);
  CHECK(req->messages[0].role == ir::Role::kSystem);
  CHECK(req->messages[1].content[1].image_url == "https://x/y.png");
  CHECK(req->messages[2].tool_calls.size() == 2);  // consecutive calls form one turn
  CHECK(req->messages[4].name == "g");
  CHECK(req->response_format.kind == ir::ResponseFormatKind::kJsonSchema);
  CHECK(req->max_output_tokens == 50);
  CHECK(req->native == P(R"({"reasoning":{"effort":"low"}})"));
  auto enc = EncodeProviderRequest(ProviderKind::kOpenAi, *req, "gpt-x");
  REQUIRE(enc.ok());
  CHECK_FALSE(enc->contains("reasoning"));  // native Responses field does not leak
  CHECK((*enc)["response_format"]["json_schema"]["name"] == "out");
  CHECK((*enc)["messages"][2]["tool_calls"][1]["id"] == "c2");
  CHECK((*enc)["messages"][4] == P(R"({"role":"tool","tool_call_id":"c2","content":"r2"})"));
}

TEST_CASE("Responses stateful features are refused") {
  for (const char* name : {"previous_response_id", "store", "item_reference", "web_search",
                           "file_image"}) {
    CAPTURE(name);
    Json body =
        testing::LoadRequest(std::string("openai.responses/untranslatable_") + name + ".json");
    REQUIRE(!body.is_null());
    auto r = DecodeClientRequest(kOpenAiResponses, body);
    CHECK_FALSE(r.ok());
    if (!r.ok()) CHECK(r.error().code == ErrorCode::kInvalidArgument);
    // Inspection reads them all the same (the policy decides on them).
    auto inspected = InspectClientRequest(kOpenAiResponses, body);
    REQUIRE(inspected.ok());
    CHECK_FALSE(inspected->untranslatable.empty());
  }
  CHECK(DecodeClientRequest(kOpenAiResponses,
                            testing::LoadRequest("openai.responses/input_string.json"))
            .ok());
}

TEST_CASE("Responses response object from an Anthropic answer") {
  auto resp = DecodeProviderResponse(ProviderKind::kAnthropic, P(R"({"id":"msg_7","content":[
      {"type":"text","text":"ok"},{"type":"tool_use","id":"toolu_1","name":"f","input":{}}],
      "stop_reason":"tool_use","usage":{"input_tokens":10,"cache_read_input_tokens":30,"output_tokens":4}})"));
  REQUIRE(resp.ok());
  Json r = EncodeClientResponse(kOpenAiResponses, *resp, TestOptions());
  CHECK(r["object"] == "response");
  CHECK(r["status"] == "completed");
  CHECK(r["output"][0]["type"] == "message");
  CHECK(r["output"][0]["content"][0]["text"] == "ok");
  CHECK(r["output"][1]["type"] == "function_call");
  CHECK(r["output"][1]["call_id"] == "toolu_1");
  CHECK(r["output"][1]["arguments"] == "{}");
  CHECK(r["usage"] == P(R"({"input_tokens":40,"input_tokens_details":{"cached_tokens":30},
      "output_tokens":4,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":44})"));
  resp->finish_reason = ir::FinishReason::kLength;
  r = EncodeClientResponse(kOpenAiResponses, *resp, TestOptions());
  CHECK(r["status"] == "incomplete");
  CHECK(r["incomplete_details"]["reason"] == "max_output_tokens");
}

std::vector<ir::StreamEvent> TextAndTools() {
  ir::Usage u;
  u.known = true;
  u.input_tokens = 100;
  u.cached_read_tokens = 60;
  u.output_tokens = 9;
  return {ir::StartEvent("chatcmpl-1", "m"), ir::TextDelta("Hé"), ir::TextDelta("llo 😀"),
          ir::ToolCallStart(4, "call_a", "fa"), ir::ToolCallDelta(4, "{\"x\":"),
          ir::ToolCallStart(9, "call_b", "fb"), ir::ToolCallDelta(9, "{}"),
          ir::ToolCallDelta(4, "1}"), ir::FinishEvent(ir::FinishReason::kToolCalls),
          ir::UsageEvent(u), ir::EndEvent()};
}

TEST_CASE("stream: Responses event preamble, items and monotonic sequence numbers") {
  auto out = SplitSse(Encode(kOpenAiResponses, TextAndTools()));
  CHECK(CheckResponsesStream(out) == "");
  CHECK(EventNames(out) == std::vector<std::string>{
      "response.created", "response.in_progress", "response.output_item.added",
      "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
      "response.output_text.done", "response.content_part.done", "response.output_item.done",
      "response.output_item.added", "response.function_call_arguments.delta",
      "response.function_call_arguments.delta", "response.function_call_arguments.done",
      "response.output_item.done", "response.output_item.added",
      "response.function_call_arguments.delta", "response.function_call_arguments.done",
      "response.output_item.done", "response.completed"});
  CHECK(out[6].json["text"] == "Héllo 😀");
  CHECK(out[12].json["arguments"] == "{\"x\":1}");
  CHECK(out[9].json["item"]["call_id"] == "call_a");
  const Json& final = out.back().json["response"];
  CHECK(final["status"] == "completed");
  CHECK(final["output"].size() == 3);
  CHECK(final["usage"]["total_tokens"] == 109);
  CHECK(final["usage"]["input_tokens_details"]["cached_tokens"] == 60);
  CHECK(out[0].json["response"]["usage"].is_null());
}

TEST_CASE("stream: Responses empty answer still has the preamble") {
  auto out = SplitSse(Encode(kOpenAiResponses, {ir::StartEvent("i", "m"), ir::TextDelta(""),
                                                ir::EndEvent()}));
  CHECK(CheckResponsesStream(out) == "");
  CHECK(EventNames(out) == std::vector<std::string>{"response.created", "response.in_progress",
                                                    "response.completed"});
  CHECK(out.back().json["response"]["usage"]["total_tokens"] == 0);
}

TEST_CASE("stream: Responses incomplete on length, failed on error") {
  auto out = SplitSse(Encode(kOpenAiResponses, {ir::TextDelta("a"),
                                                ir::FinishEvent(ir::FinishReason::kLength),
                                                ir::EndEvent()}));
  CHECK(CheckResponsesStream(out) == "");
  CHECK(out.back().event == "response.incomplete");
  CHECK(out.back().json["response"]["incomplete_details"]["reason"] == "max_output_tokens");
  auto err = SplitSse(Encode(kOpenAiResponses, {ir::TextDelta("a"), ir::ErrorEvent("boom")}));
  CHECK(CheckResponsesStream(err) == "");
  CHECK(err[err.size() - 2].event == "error");
  CHECK(err.back().json["response"]["error"]["message"] == "boom");
}

TEST_CASE("stream: Anthropic upstream → Responses client with late tool start") {
  auto out = SplitSse(Encode(kOpenAiResponses, {ir::ToolCallDelta(0, "{\"a\":"),
                                                ir::ToolCallDelta(0, "2}"),
                                                ir::ToolCallStart(0, "tid", "f"), ir::EndEvent()}));
  CHECK(CheckResponsesStream(out) == "");
  CHECK(out.back().json["response"]["output"][0]["arguments"] == "{\"a\":2}");
  // Stream and non-stream agree on the final object's output and usage.
  auto events = TextAndTools();
  auto streamed = SplitSse(Encode(kOpenAiResponses, events)).back().json["response"];
  Json direct = EncodeClientResponse(kOpenAiResponses, Accumulate(events), TestOptions());
  CHECK(streamed["output"] == direct["output"]);
  CHECK(streamed["usage"] == direct["usage"]);
}

}  // namespace
}  // namespace helm::protocol
