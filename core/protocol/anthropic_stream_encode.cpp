// IR stream events → Anthropic Messages SSE (client protocol
// anthropic.messages).
//
// Output: message_start → (content_block_start → content_block_delta* →
// content_block_stop)* → message_delta (stop_reason, full usage) →
// message_stop. Invariants: block indexes are 0, 1, 2 … in order; at most one
// block is open; every start has exactly one stop; no delta outside an open
// block; empty text opens no block.
//
// Tool calls: a tool_use block opens only once the call's id and name are
// known, and fragments that arrive before are held. While one tool_use block
// is open, a second call's fragments are held and its block is written whole
// after the first closes (at the finish), so interleaved parallel calls stay
// correct. A fragment for a block already closed (text came in between) is
// dropped.
// Mid-stream error: the open block is stopped, then an `error` event.
#include "core/protocol/stream_util.h"

namespace helm::protocol {
namespace {

enum class Block { kNone, kText, kThinking, kTool };

class AnthropicStreamEncoder final : public StreamEncoderBase {
 public:
  explicit AnthropicStreamEncoder(const EncodeOptions& opt) : StreamEncoderBase(opt) {}

  void OnEvent(const ir::StreamEvent& ev, std::string* out) override {
    using T = ir::StreamEvent::Type;
    if (done_) return;
    switch (ev.type) {
      case T::kStart:
        TakeStart(ev);
        EnsureStart(out);
        break;
      case T::kTextDelta:
        if (ev.text.empty() || finished_) break;
        Open(Block::kText, nullptr, out);
        Delta(out, {{"type", "text_delta"}, {"text", ev.text}});
        break;
      case T::kThinkingDelta:
        if ((ev.text.empty() && ev.signature.empty()) || finished_) break;
        Open(Block::kThinking, nullptr, out);
        if (!ev.text.empty()) Delta(out, {{"type", "thinking_delta"}, {"thinking", ev.text}});
        if (!ev.signature.empty()) {
          Delta(out, {{"type", "signature_delta"}, {"signature", ev.signature}});
        }
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
        Close(out);
        AppendSse(out, "error", EncodeClientError(kAnthropicMessages, 500, ev.text));
        done_ = true;
        break;
      case T::kEnd:
        Finish(ir::FinishReason::kUnknown, out);
        AppendSse(out, "message_delta",
                  {{"type", "message_delta"},
                   {"delta", {{"stop_reason", FinishToAnthropic(reason_)}, {"stop_sequence", nullptr}}},
                   {"usage", UsageToAnthropic(usage_)}});
        AppendSse(out, "message_stop", {{"type", "message_stop"}});
        done_ = true;
        break;
    }
  }

 private:
  void EnsureStart(std::string* out) {
    if (started_) return;
    started_ = true;
    Json msg{{"id", id_},
             {"type", "message"},
             {"role", "assistant"},
             {"model", model()},
             {"content", Json::array()},
             {"stop_reason", nullptr},
             {"stop_sequence", nullptr},
             {"usage", {{"input_tokens", 0}, {"output_tokens", 0}}}};
    AppendSse(out, "message_start", {{"type", "message_start"}, {"message", msg}});
  }

  // Opens a block of `kind` unless one is open already (tool blocks always
  // open anew). `tool` is the slot for kTool.
  void Open(Block kind, ToolSlot* tool, std::string* out) {
    if (kind == open_ && kind != Block::kTool) return;
    EnsureStart(out);
    Close(out);
    Json block;
    if (kind == Block::kText) block = {{"type", "text"}, {"text", ""}};
    if (kind == Block::kThinking) block = {{"type", "thinking"}, {"thinking", ""}, {"signature", ""}};
    if (kind == Block::kTool) {
      block = {{"type", "tool_use"}, {"id", tool->id}, {"name", tool->name}, {"input", Json::object()}};
      tool->opened = true;
      open_tool_ = tool->ir_index;
    }
    open_ = kind;
    AppendSse(out, "content_block_start",
              {{"type", "content_block_start"}, {"index", next_index_}, {"content_block", block}});
  }

  void Close(std::string* out) {
    if (open_ == Block::kNone) return;
    if (open_ == Block::kTool) tools_.Get(open_tool_).closed = true;
    AppendSse(out, "content_block_stop", {{"type", "content_block_stop"}, {"index", next_index_}});
    ++next_index_;
    open_ = Block::kNone;
  }

  void Delta(std::string* out, Json delta) {
    AppendSse(out, "content_block_delta",
              {{"type", "content_block_delta"}, {"index", next_index_}, {"delta", std::move(delta)}});
  }

  void FlushArgs(ToolSlot& t, std::string* out) {
    if (t.pending_args.empty()) return;
    Delta(out, {{"type", "input_json_delta"}, {"partial_json", t.pending_args}});
    t.pending_args.clear();
  }

  void OnToolStart(ToolSlot& t, std::string* out) {
    if (t.opened || t.id.empty() || t.name.empty() || finished_) return;
    if (open_ == Block::kTool) return;  // held until the open call is done
    Open(Block::kTool, &t, out);
    FlushArgs(t, out);
  }

  void OnToolDelta(ToolSlot& t, const std::string& fragment, std::string* out) {
    if (fragment.empty() || finished_) return;
    if (t.closed) return;
    t.pending_args += fragment;
    if (t.opened) FlushArgs(t, out);
  }

  void Finish(ir::FinishReason reason, std::string* out) {
    if (finished_) return;
    EnsureStart(out);
    Close(out);
    tools_.FillIds(id_);
    for (auto& t : tools_.all()) {
      if (t.opened) continue;
      Open(Block::kTool, &t, out);
      FlushArgs(t, out);
      Close(out);
    }
    finished_ = true;
    reason_ = ResolveFinish(reason, !tools_.empty());
  }

  ir::FinishReason reason_ = ir::FinishReason::kStop;
  Block open_ = Block::kNone;
  int64_t open_tool_ = 0;
  int64_t next_index_ = 0;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<ClientStreamEncoder> MakeAnthropicStreamEncoder(const EncodeOptions& opt) {
  return std::make_unique<AnthropicStreamEncoder>(opt);
}

}  // namespace helm::protocol
