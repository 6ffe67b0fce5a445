// Anthropic Messages SSE (provider kind anthropic) → IR stream events.
//
// State: message_start → (content_block_start → content_block_delta* →
// content_block_stop)* → message_delta → message_stop. The IR tool index is
// the Anthropic block index. Usage arrives in two halves (message_start:
// input and cache counts; message_delta: output, sometimes updated input):
// the raw usage objects are merged field by field and converted once, so a
// later partial object never zeroes an earlier count. `ping` is ignored; an
// `error` event becomes an IR error.
#include "core/protocol/stream_util.h"

namespace helm::protocol {
namespace {

class AnthropicStreamDecoder final : public StreamDecoderBase {
 public:
  Status OnEvent(const SseFrame& frame, std::vector<ir::StreamEvent>* out) override {
    if (closed_ || errored_) return Status::Ok();
    Json data = Json::parse(frame.data, nullptr, false);
    if (data.is_discarded() || !data.is_object()) return BadUpstream("event is not a JSON object");
    std::string type = GetString(data, "type");
    if (type.empty()) type = frame.event;
    if (type == "message_start") {
      const Json msg = data.value("message", Json::object());
      EnsureStart(GetString(msg, "id"), GetString(msg, "model"), out);
      MergeRawUsage(msg.value("usage", Json()));
    } else if (type == "content_block_start") {
      EnsureStart("", "", out);
      OnBlockStart(data.value("index", Json(0)), data.value("content_block", Json::object()), out);
    } else if (type == "content_block_delta") {
      EnsureStart("", "", out);
      OnBlockDelta(data.value("index", Json(0)), data.value("delta", Json::object()), out);
    } else if (type == "message_delta") {
      EnsureStart("", "", out);
      const Json delta = data.value("delta", Json::object());
      std::string reason = GetString(delta, "stop_reason");
      if (!reason.empty()) EmitFinish(FinishFromAnthropic(reason), out);
      MergeRawUsage(data.value("usage", Json()));
    } else if (type == "message_stop") {
      upstream_done_ = true;
      Close(out);
    } else if (type == "error") {
      const Json err = data.value("error", Json::object());
      std::string msg = GetString(err, "message");
      EmitError(msg.empty() ? "upstream error" : msg, out);
      Close(out);
    }
    // ping, content_block_stop and unknown events carry nothing for the IR.
    return Status::Ok();
  }

 private:
  static int64_t Index(const Json& j) { return j.is_number_integer() ? j.get<int64_t>() : 0; }

  void OnBlockStart(const Json& index, const Json& block, std::vector<ir::StreamEvent>* out) {
    std::string type = GetString(block, "type");
    if (type == "tool_use") {
      saw_tool_call_ = true;
      out->push_back(ir::ToolCallStart(Index(index), GetString(block, "id"), GetString(block, "name")));
      const Json input = block.value("input", Json::object());
      if (input.is_object() && !input.empty()) {
        out->push_back(ir::ToolCallDelta(Index(index), DumpJson(input)));
      }
    } else if (type == "text") {
      std::string text = GetString(block, "text");
      if (!text.empty()) out->push_back(ir::TextDelta(text));
    } else if (type == "thinking") {
      std::string text = GetString(block, "thinking");
      if (!text.empty()) out->push_back(ir::ThinkingDelta(text));
    }
  }

  void OnBlockDelta(const Json& index, const Json& delta, std::vector<ir::StreamEvent>* out) {
    std::string type = GetString(delta, "type");
    if (type == "text_delta") {
      std::string text = GetString(delta, "text");
      if (!text.empty()) out->push_back(ir::TextDelta(text));
    } else if (type == "input_json_delta") {
      std::string frag = GetString(delta, "partial_json");
      if (!frag.empty()) out->push_back(ir::ToolCallDelta(Index(index), frag));
    } else if (type == "thinking_delta") {
      out->push_back(ir::ThinkingDelta(GetString(delta, "thinking")));
    } else if (type == "signature_delta") {
      out->push_back(ir::ThinkingDelta("", GetString(delta, "signature")));
    }
  }

  void MergeRawUsage(const Json& usage) {
    if (!usage.is_object()) return;
    for (const auto& [k, v] : usage.items()) {
      if (v.is_number()) raw_usage_[k] = v;
    }
    usage_ = UsageFromAnthropic(raw_usage_);
  }

  Json raw_usage_ = Json::object();
};

}  // namespace

std::unique_ptr<ProviderStreamDecoder> MakeAnthropicStreamDecoder() {
  return std::make_unique<AnthropicStreamDecoder>();
}

}  // namespace helm::protocol
