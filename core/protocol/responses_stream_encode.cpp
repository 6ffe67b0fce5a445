// IR stream events → OpenAI Responses SSE (client protocol openai.responses).
//
// Output, every event named by its type and carrying a sequence_number that
// starts at 0 and increases by one: response.created, response.in_progress
// (always, even for an empty answer); per text run: output_item.added
// (message) → content_part.added (output_text) → output_text.delta* →
// output_text.done (full text) → content_part.done → output_item.done; per
// tool call: output_item.added (function_call with call_id and name, only
// once both are known; earlier fragments held) →
// function_call_arguments.delta* → function_call_arguments.done →
// output_item.done; then response.completed, or response.incomplete (length,
// content filter), carrying every output item and the usage with
// total_tokens. One item is open at a time; a second tool call's fragments
// are held and its item written whole after the first closes.
// Thinking is not written (no reasoning items are synthesized).
// Mid-stream error: `error`, then response.failed.
#include "core/protocol/stream_util.h"

namespace helm::protocol {
namespace {

enum class Item { kNone, kMessage, kTool };

class ResponsesStreamEncoder final : public StreamEncoderBase {
 public:
  explicit ResponsesStreamEncoder(const EncodeOptions& opt) : StreamEncoderBase(opt) {}

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
        OpenMessage(out);
        text_ += ev.text;
        Emit(out, "response.output_text.delta",
             {{"item_id", item_id_}, {"output_index", output_index()}, {"content_index", 0},
              {"delta", ev.text}, {"logprobs", Json::array()}});
        break;
      case T::kThinkingDelta:
        break;
      case T::kToolCallStart: {
        ToolSlot& t = tools_.Start(ev);
        if (!t.opened && !t.id.empty() && !t.name.empty() && !finished_ && open_ != Item::kTool) {
          OpenTool(t, out);
        }
        break;
      }
      case T::kToolCallDelta: {
        ToolSlot& t = tools_.Get(ev.index);
        if (ev.text.empty() || finished_ || t.closed) break;
        t.pending_args += ev.text;
        if (t.opened) FlushArgs(t, out);
        break;
      }
      case T::kFinish:
        Finish(ev.finish_reason, out);
        break;
      case T::kUsage:
        usage_ = ev.usage;
        break;
      case T::kError:
        OnFailure(ev.text, out);
        break;
      case T::kEnd:
        Finish(ir::FinishReason::kUnknown, out);
        {
          std::string reason;
          std::string status = FinishToResponsesStatus(reason_, &reason);
          Emit(out, status == "completed" ? "response.completed" : "response.incomplete",
               {{"response", Object(status, reason, &usage_)}});
        }
        done_ = true;
        break;
    }
  }

 private:
  int64_t output_index() const { return static_cast<int64_t>(output_.size()); }

  Json Object(const std::string& status, const std::string& reason, const ir::Usage* usage) {
    return ResponsesObject(id_, opt_, model(), status, reason, output_, usage);
  }

  void Emit(std::string* out, const char* type, Json data) {
    data["type"] = type;
    data["sequence_number"] = seq_++;
    AppendSse(out, type, data);
  }

  void EnsureStart(std::string* out) {
    if (started_) return;
    started_ = true;
    Emit(out, "response.created", {{"response", Object("in_progress", "", nullptr)}});
    Emit(out, "response.in_progress", {{"response", Object("in_progress", "", nullptr)}});
  }

  void OpenMessage(std::string* out) {
    if (open_ == Item::kMessage) return;
    EnsureStart(out);
    Close(out);
    open_ = Item::kMessage;
    item_id_ = ResponsesItemId("msg_", id_, output_.size());
    text_.clear();
    Emit(out, "response.output_item.added",
         {{"output_index", output_index()}, {"item", ResponsesMessageItem(item_id_, "", false)}});
    Emit(out, "response.content_part.added",
         {{"item_id", item_id_}, {"output_index", output_index()}, {"content_index", 0},
          {"part", {{"type", "output_text"}, {"text", ""}, {"annotations", Json::array()}}}});
  }

  void OpenTool(ToolSlot& t, std::string* out) {
    EnsureStart(out);
    Close(out);
    open_ = Item::kTool;
    open_tool_ = t.ir_index;
    t.opened = true;
    item_id_ = ResponsesItemId("fc_", id_, output_.size());
    Emit(out, "response.output_item.added",
         {{"output_index", output_index()},
          {"item", ResponsesFunctionCallItem(item_id_, {t.id, t.name, ""}, false)}});
    FlushArgs(t, out);
  }

  void FlushArgs(ToolSlot& t, std::string* out) {
    if (t.pending_args.empty()) return;
    Emit(out, "response.function_call_arguments.delta",
         {{"item_id", item_id_}, {"output_index", output_index()}, {"delta", t.pending_args}});
    t.all_args += t.pending_args;
    t.pending_args.clear();
  }

  void Close(std::string* out) {
    if (open_ == Item::kMessage) {
      Json part{{"type", "output_text"}, {"text", text_}, {"annotations", Json::array()}};
      Emit(out, "response.output_text.done",
           {{"item_id", item_id_}, {"output_index", output_index()}, {"content_index", 0},
            {"text", text_}, {"logprobs", Json::array()}});
      Emit(out, "response.content_part.done",
           {{"item_id", item_id_}, {"output_index", output_index()}, {"content_index", 0},
            {"part", part}});
      Json item = ResponsesMessageItem(item_id_, text_, true);
      Emit(out, "response.output_item.done", {{"output_index", output_index()}, {"item", item}});
      output_.push_back(std::move(item));
    } else if (open_ == Item::kTool) {
      ToolSlot& t = tools_.Get(open_tool_);
      t.closed = true;
      Emit(out, "response.function_call_arguments.done",
           {{"item_id", item_id_}, {"output_index", output_index()}, {"arguments", t.all_args}});
      Json item = ResponsesFunctionCallItem(item_id_, {t.id, t.name, t.all_args}, true);
      Emit(out, "response.output_item.done", {{"output_index", output_index()}, {"item", item}});
      output_.push_back(std::move(item));
    }
    open_ = Item::kNone;
  }

  void Finish(ir::FinishReason reason, std::string* out) {
    if (finished_) return;
    EnsureStart(out);
    Close(out);
    tools_.FillIds(id_);
    for (auto& t : tools_.all()) {
      if (t.opened) continue;
      OpenTool(t, out);
      Close(out);
    }
    finished_ = true;
    reason_ = ResolveFinish(reason, !tools_.empty());
  }

  void OnFailure(const std::string& message, std::string* out) {
    EnsureStart(out);
    Close(out);
    Emit(out, "error", {{"code", "server_error"}, {"message", message}, {"param", nullptr}});
    Json resp = Object("failed", "", nullptr);
    resp["error"] = {{"code", "server_error"}, {"message", message}};
    Emit(out, "response.failed", {{"response", resp}});
    done_ = true;
  }

  ir::FinishReason reason_ = ir::FinishReason::kStop;
  Json output_ = Json::array();  // completed items
  Item open_ = Item::kNone;
  int64_t open_tool_ = 0;
  std::string item_id_;
  std::string text_;  // text of the open message item
  int64_t seq_ = 0;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<ClientStreamEncoder> MakeResponsesStreamEncoder(const EncodeOptions& opt) {
  return std::make_unique<ResponsesStreamEncoder>(opt);
}

}  // namespace helm::protocol
