// Gemini streamGenerateContent?alt=sse (provider kind gemini) → IR stream
// events.
//
// Each unnamed data frame is a GenerateContentResponse carrying the next
// increment of text (never a growing prefix). A functionCall part is whole:
// it becomes tool_call_start (synthesized id) plus one delta with the
// arguments. finishReason may arrive on any frame (STOP with function calls
// means tool calls); usageMetadata is repeated and the last one wins, emitted
// at Close (Gemini has no terminal marker, so Close is what ends the stream).
// A frame with an `error` object becomes an IR error.
#include "core/protocol/stream_util.h"

namespace helm::protocol {
namespace {

class GeminiStreamDecoder final : public StreamDecoderBase {
 public:
  Status OnEvent(const SseFrame& frame, std::vector<ir::StreamEvent>* out) override {
    if (closed_ || errored_) return Status::Ok();
    Json data = Json::parse(frame.data, nullptr, false);
    if (data.is_discarded() || !data.is_object()) return BadUpstream("frame is not a JSON object");
    if (IsObject(data, "error")) {
      std::string msg = GetString(data["error"], "message");
      EmitError(msg.empty() ? "upstream error" : msg, out);
      Close(out);
      return Status::Ok();
    }
    if (!started_) seed_ = GetString(data, "responseId");
    EnsureStart(GetString(data, "responseId"), GetString(data, "modelVersion"), out);
    if (IsObject(data, "usageMetadata")) usage_ = UsageFromGemini(data["usageMetadata"]);
    if (!IsArray(data, "candidates") || data["candidates"].empty()) {
      if (IsObject(data, "promptFeedback") && data["promptFeedback"].contains("blockReason")) {
        EmitFinish(ir::FinishReason::kContentFilter, out);
      }
      return Status::Ok();
    }
    const Json& cand = data["candidates"][0];
    const Json parts = cand.value("content", Json::object()).value("parts", Json::array());
    if (parts.is_array()) {
      for (const auto& p : parts) OnPart(p, out);
    }
    std::string reason = GetString(cand, "finishReason");
    if (!reason.empty()) EmitFinish(FinishFromGemini(reason), out);
    return Status::Ok();
  }

 private:
  void OnPart(const Json& p, std::vector<ir::StreamEvent>* out) {
    if (IsObject(p, "functionCall")) {
      const Json& fc = p["functionCall"];
      saw_tool_call_ = true;
      int64_t index = next_tool_++;
      std::string id = GetString(fc, "id");
      if (id.empty()) id = SynthesizeToolCallId(seed_, static_cast<size_t>(index));
      out->push_back(ir::ToolCallStart(index, id, GetString(fc, "name")));
      out->push_back(ir::ToolCallDelta(index, DumpJson(fc.value("args", Json::object()))));
      return;
    }
    std::string text = GetString(p, "text");
    if (text.empty()) return;
    if (p.value("thought", Json(false)) == Json(true)) {
      out->push_back(ir::ThinkingDelta(text));
    } else {
      out->push_back(ir::TextDelta(text));
    }
  }

  std::string seed_;
  int64_t next_tool_ = 0;
};

}  // namespace

std::unique_ptr<ProviderStreamDecoder> MakeGeminiStreamDecoder() {
  return std::make_unique<GeminiStreamDecoder>();
}

}  // namespace helm::protocol
