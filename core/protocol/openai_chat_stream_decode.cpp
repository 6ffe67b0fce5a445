// OpenAI Chat Completions SSE (provider kind openai) → IR stream events.
//
// State: before the first chunk → streaming → finish seen → [DONE]. Tool
// calls are tracked per upstream index; a call's start is emitted once both
// its id and name are known, and argument fragments that arrive earlier are
// held until then (ids and names may come late). Usage (the include_usage
// chunk, or usage on the finish chunk) is held and emitted after the finish.
#include <map>

#include "core/protocol/stream_util.h"

namespace helm::protocol {
namespace {

class OpenAiChatStreamDecoder final : public StreamDecoderBase {
 public:
  Status OnEvent(const SseFrame& frame, std::vector<ir::StreamEvent>* out) override {
    if (closed_ || errored_) return Status::Ok();
    if (frame.data == "[DONE]") {
      upstream_done_ = true;
      FlushTools(out);
      Close(out);
      return Status::Ok();
    }
    Json chunk = Json::parse(frame.data, nullptr, false);
    if (chunk.is_discarded() || !chunk.is_object()) return BadUpstream("chunk is not a JSON object");
    if (IsObject(chunk, "error")) {
      std::string msg = GetString(chunk["error"], "message");
      EmitError(msg.empty() ? "upstream error" : msg, out);
      Close(out);
      return Status::Ok();
    }
    EnsureStart(GetString(chunk, "id"), GetString(chunk, "model"), out);
    if (seed_.empty()) seed_ = GetString(chunk, "id");
    if (IsArray(chunk, "choices") && !chunk["choices"].empty()) {
      const Json& choice = chunk["choices"][0];
      if (IsObject(choice, "delta")) OnDelta(choice["delta"], out);
      std::string reason = GetString(choice, "finish_reason");
      if (!reason.empty()) {
        FlushTools(out);
        EmitFinish(FinishFromOpenAi(reason), out);
      }
    }
    if (IsObject(chunk, "usage")) usage_ = UsageFromOpenAi(chunk["usage"]);
    return Status::Ok();
  }

 private:
  struct Tool {
    std::string id, name, held_args;
    bool started = false;
  };

  void OnDelta(const Json& delta, std::vector<ir::StreamEvent>* out) {
    for (const char* key : {"reasoning_content", "reasoning"}) {
      std::string r = GetString(delta, key);
      if (!r.empty()) out->push_back(ir::ThinkingDelta(r));
    }
    std::string text = GetString(delta, "content");
    if (!text.empty()) out->push_back(ir::TextDelta(text));
    if (!IsArray(delta, "tool_calls")) return;
    int64_t position = 0;
    for (const auto& tc : delta["tool_calls"]) {
      int64_t index = tc.value("index", Json(position)).is_number_integer()
                          ? tc.value("index", Json(position)).get<int64_t>()
                          : position;
      ++position;
      OnToolFragment(index, tc, out);
    }
  }

  void OnToolFragment(int64_t index, const Json& tc, std::vector<ir::StreamEvent>* out) {
    saw_tool_call_ = true;
    Tool& t = tools_[index];
    std::string id = GetString(tc, "id");
    const Json fn = tc.value("function", Json::object());
    std::string name = GetString(fn, "name");
    std::string args = GetString(fn, "arguments");
    if (t.id.empty()) t.id = id;
    if (t.name.empty()) t.name = name;
    if (t.started) {
      if (!args.empty()) out->push_back(ir::ToolCallDelta(index, args));
      return;
    }
    t.held_args += args;
    if (!t.id.empty() && !t.name.empty()) StartTool(index, t, out);
  }

  void StartTool(int64_t index, Tool& t, std::vector<ir::StreamEvent>* out) {
    t.started = true;
    if (t.id.empty()) t.id = SynthesizeToolCallId(seed_, static_cast<size_t>(index));
    out->push_back(ir::ToolCallStart(index, t.id, t.name));
    if (!t.held_args.empty()) out->push_back(ir::ToolCallDelta(index, t.held_args));
    t.held_args.clear();
  }

  // Calls whose id or name never came are started now, id synthesized.
  void FlushTools(std::vector<ir::StreamEvent>* out) {
    for (auto& [index, t] : tools_) {
      if (!t.started) StartTool(index, t, out);
    }
  }

  std::map<int64_t, Tool> tools_;
  std::string seed_;  // the upstream id, seeds synthesized tool-call ids
};

}  // namespace

std::unique_ptr<ProviderStreamDecoder> MakeOpenAiChatStreamDecoder() {
  return std::make_unique<OpenAiChatStreamDecoder>();
}

}  // namespace helm::protocol
