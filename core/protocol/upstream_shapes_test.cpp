// Upstream answers of unexpected shapes: every node of a valid response or
// stream event replaced by every JSON type. Decoding may refuse them; it
// must never throw (a stream decoder runs on the thread reading the upstream).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/protocol/translate.h"

namespace helm::protocol {
namespace {

const std::vector<Json>& Replacements() {
  static const std::vector<Json> values = {nullptr,        true, 7, -1.5, "s", Json::array(),
                                           Json::object(), Json::array({1, "x"}),
                                           Json{{"a", 1}}};
  return values;
}

void CollectPointers(const Json& node, const Json::json_pointer& at,
                     std::vector<Json::json_pointer>* out) {
  out->push_back(at);
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) CollectPointers(value, at / key, out);
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) CollectPointers(node[i], at / i, out);
  }
}

// Every one-node mutation of `doc` (the root excepted).
std::vector<Json> Mutations(const Json& doc) {
  std::vector<Json::json_pointer> pointers;
  CollectPointers(doc, Json::json_pointer(), &pointers);
  std::vector<Json> out;
  for (size_t i = 1; i < pointers.size(); ++i) {
    for (const Json& r : Replacements()) {
      Json m = doc;
      m[pointers[i]] = r;
      out.push_back(std::move(m));
    }
  }
  return out;
}

struct Sample {
  ProviderKind kind;
  Json response;
  std::vector<SseFrame> stream;
};

std::vector<Sample> Samples() {
  return {
      {ProviderKind::kOpenAi,
       Json::parse(R"({"id":"c1","object":"chat.completion","model":"m","choices":[{"index":0,
         "message":{"role":"assistant","content":"hi","tool_calls":[{"id":"t1","type":"function",
         "function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":1,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":0}}})"),
       {{"", R"({"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"h",
            "tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"f","arguments":"{"}}]},
            "finish_reason":null}]})"},
        {"", R"({"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],
            "usage":{"prompt_tokens":1,"completion_tokens":2}})"},
        {"", "[DONE]"}}},
      {ProviderKind::kAnthropic,
       Json::parse(R"({"id":"msg_1","type":"message","role":"assistant","model":"m","content":[
         {"type":"text","text":"hi"},{"type":"tool_use","id":"t1","name":"f","input":{"a":1}},
         {"type":"thinking","thinking":"x","signature":"s"}],"stop_reason":"end_turn",
         "usage":{"input_tokens":1,"output_tokens":2,"cache_read_input_tokens":0}})"),
       {{"message_start",
         R"({"type":"message_start","message":{"id":"m1","model":"m","usage":{"input_tokens":1}}})"},
        {"content_block_start",
         R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}})"},
        {"content_block_delta",
         R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}})"},
        {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
        {"message_delta",
         R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":2}})"},
        {"error", R"({"type":"error","error":{"type":"overloaded_error","message":"busy"}})"}}},
      {ProviderKind::kGemini,
       Json::parse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":"hi"},
         {"functionCall":{"name":"f","args":{"a":1}}},{"text":"t","thought":true}]},
         "finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":1,
         "candidatesTokenCount":2,"cachedContentTokenCount":0},"modelVersion":"m"})"),
       {{"", R"({"candidates":[{"content":{"role":"model","parts":[{"text":"h"},
            {"functionCall":{"name":"f","args":{"a":1}}}]},"index":0}]})"},
        {"", R"({"candidates":[{"content":{"role":"model","parts":[{"text":"i"}]},
            "finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":1}})"}}},
  };
}

}  // namespace

TEST_CASE("provider responses of any shape are decoded or refused, never thrown") {
  size_t refused = 0;
  for (const Sample& s : Samples()) {
    REQUIRE(DecodeProviderResponse(s.kind, s.response).ok());
    for (const Json& m : Mutations(s.response)) {
      CAPTURE(m.dump());
      Result<ir::Response> r = MakeError(ErrorCode::kInternal, "not run");
      CHECK_NOTHROW(r = DecodeProviderResponse(s.kind, m));
      if (!r.ok()) ++refused;
    }
  }
  CHECK(refused > 0);  // some shapes are unreadable, and say so
}

TEST_CASE("provider stream events of any shape end the stream, never throw") {
  size_t malformed = 0;
  for (const Sample& s : Samples()) {
    for (size_t e = 0; e < s.stream.size(); ++e) {
      const Json event = Json::parse(s.stream[e].data, nullptr, false);
      if (!event.is_object()) continue;  // [DONE]
      for (const Json& m : Mutations(event)) {
        CAPTURE(m.dump());
        auto decoder = MakeStreamDecoder(s.kind);
        std::vector<ir::StreamEvent> out;
        for (size_t i = 0; i < s.stream.size(); ++i) {
          SseFrame frame = s.stream[i];
          if (i == e) frame.data = m.dump();
          Status status = Status::Ok();
          CHECK_NOTHROW(status = decoder->OnEvent(frame, &out));
          if (!status.ok()) {
            ++malformed;
            break;
          }
        }
        CHECK_NOTHROW(decoder->Close(&out));
      }
    }
  }
  CHECK(malformed > 0);
}

}  // namespace helm::protocol
