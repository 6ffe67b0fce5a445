// IR stream events → OpenAI Chat Completions SSE (client protocol
// openai.chat).
//
// Output: a role chunk first (delta {role: assistant, content: ""}), content
// chunks, tool-call chunks keyed by a sequential index (id, type and name on a
// call's first chunk; argument fragments after), one finish chunk, the usage
// chunk (empty choices) when the client asked for include_usage, then
// `data: [DONE]`. Fragments that arrive before their call's id and name are
// held. Thinking has no Chat Completions form and is not written.
// Mid-stream error: `data: {"error": {...}}` and nothing after (no [DONE]).
#include "core/protocol/stream_util.h"

namespace helm::protocol {
namespace {

class OpenAiChatStreamEncoder final : public StreamEncoderBase {
 public:
  explicit OpenAiChatStreamEncoder(const EncodeOptions& opt) : StreamEncoderBase(opt) {}

  void OnEvent(const ir::StreamEvent& ev, std::string* out) override {
    using T = ir::StreamEvent::Type;
    if (done_) return;
    switch (ev.type) {
      case T::kStart:
        TakeStart(ev);
        EnsureStart(out);
        break;
      case T::kTextDelta:
        if (ev.text.empty()) break;
        EnsureStart(out);
        Chunk(out, Json{{"content", ev.text}}, nullptr);
        break;
      case T::kThinkingDelta:
        break;
      case T::kToolCallStart:
        OnToolStart(tools_.Start(ev), out);
        break;
      case T::kToolCallDelta:
        OnToolDelta(tools_.Get(ev.index), ev.text, out);
        break;
      case T::kFinish:
        Finish(ev.finish_reason, out);
        break;
      case T::kUsage:
        usage_ = ev.usage;
        break;
      case T::kError:
        done_ = true;
        out->append("data: ");
        out->append(DumpJson(EncodeClientError(kOpenAiChat, 500, ev.text)));
        out->append("\n\n");
        break;
      case T::kEnd:
        Finish(ir::FinishReason::kUnknown, out);
        if (opt_.include_usage) {
          Json chunk = Base();
          chunk["choices"] = Json::array();
          chunk["usage"] = UsageToOpenAi(usage_);
          AppendSse(out, "", chunk);
        }
        out->append("data: [DONE]\n\n");
        done_ = true;
        break;
    }
  }

 private:
  Json Base() const {
    return Json{{"id", id_},
                {"object", "chat.completion.chunk"},
                {"created", opt_.created_unix},
                {"model", model()}};
  }

  void Chunk(std::string* out, Json delta, Json finish_reason) {
    Json chunk = Base();
    chunk["choices"] = Json::array(
        {{{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr},
          {"finish_reason", std::move(finish_reason)}}});
    if (opt_.include_usage) chunk["usage"] = nullptr;
    AppendSse(out, "", chunk);
  }

  void EnsureStart(std::string* out) {
    if (started_) return;
    started_ = true;
    Chunk(out, Json{{"role", "assistant"}, {"content", ""}}, nullptr);
  }

  void OnToolStart(ToolSlot& t, std::string* out) {
    if (t.opened || t.id.empty() || t.name.empty() || finished_) return;
    OpenTool(t, out);
  }

  void OpenTool(ToolSlot& t, std::string* out) {
    EnsureStart(out);
    t.opened = true;
    Json call{{"index", t.out_index},
              {"id", t.id},
              {"type", "function"},
              {"function", {{"name", t.name}, {"arguments", t.pending_args}}}};
    t.pending_args.clear();
    Chunk(out, Json{{"tool_calls", Json::array({call})}}, nullptr);
  }

  void OnToolDelta(ToolSlot& t, const std::string& fragment, std::string* out) {
    if (fragment.empty() || finished_) return;
    if (!t.opened) {
      t.pending_args += fragment;
      return;
    }
    Json call{{"index", t.out_index}, {"function", {{"arguments", fragment}}}};
    Chunk(out, Json{{"tool_calls", Json::array({call})}}, nullptr);
  }

  void Finish(ir::FinishReason reason, std::string* out) {
    if (finished_) return;
    EnsureStart(out);
    tools_.FillIds(id_);
    for (auto& t : tools_.all()) {
      if (!t.opened) OpenTool(t, out);
    }
    finished_ = true;
    Chunk(out, Json::object(), FinishToOpenAi(ResolveFinish(reason, !tools_.empty())));
  }

  bool finished_ = false;
};

}  // namespace

std::unique_ptr<ClientStreamEncoder> MakeOpenAiChatStreamEncoder(const EncodeOptions& opt) {
  return std::make_unique<OpenAiChatStreamEncoder>(opt);
}

}  // namespace helm::protocol
