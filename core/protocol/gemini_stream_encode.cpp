// IR stream events → Gemini SSE (client protocol gemini.generate,
// :streamGenerateContent?alt=sse).
//
// Output: unnamed `data:` frames, each a GenerateContentResponse. Text and
// thinking (thought: true) are written as they come, one increment per frame.
// Function calls are written whole once their arguments are complete, i.e.
// at the finish, in the last frame together with finishReason and
// usageMetadata. There is no [DONE]. Mid-stream error: a frame
// {"error": {code, message, status}}.
#include "core/protocol/stream_util.h"

namespace helm::protocol {
namespace {

class GeminiStreamEncoder final : public StreamEncoderBase {
 public:
  explicit GeminiStreamEncoder(const EncodeOptions& opt) : StreamEncoderBase(opt) {}

  void OnEvent(const ir::StreamEvent& ev, std::string* out) override {
    using T = ir::StreamEvent::Type;
    if (done_) return;
    switch (ev.type) {
      case T::kStart:
        TakeStart(ev);
        started_ = true;
        break;
      case T::kTextDelta:
        if (!ev.text.empty()) Frame(out, Json::array({{{"text", ev.text}}}), "", nullptr);
        break;
      case T::kThinkingDelta:
        if (!ev.text.empty()) {
          Frame(out, Json::array({{{"text", ev.text}, {"thought", true}}}), "", nullptr);
        }
        break;
      case T::kToolCallStart:
        tools_.Start(ev);
        break;
      case T::kToolCallDelta:
        tools_.Get(ev.index).all_args += ev.text;
        break;
      case T::kFinish:
        if (!finish_seen_) reason_ = ev.finish_reason;
        finish_seen_ = true;
        break;
      case T::kUsage:
        usage_ = ev.usage;
        break;
      case T::kError:
        AppendSse(out, "", EncodeClientError(kGeminiGenerate, 500, ev.text));
        done_ = true;
        break;
      case T::kEnd: {
        Json parts = Json::array();
        for (const auto& t : tools_.all()) {
          parts.push_back({{"functionCall", {{"name", t.name}, {"args", ArgumentsObject(t.all_args)}}}});
        }
        if (parts.empty()) parts.push_back({{"text", ""}});
        ir::FinishReason r = ResolveFinish(reason_, !tools_.empty());
        Frame(out, std::move(parts), FinishToGemini(r), &usage_);
        done_ = true;
        break;
      }
    }
  }

 private:
  void Frame(std::string* out, Json parts, const std::string& finish, const ir::Usage* usage) {
    Json frame{{"candidates", Json::array({GeminiCandidate(std::move(parts), finish)})}};
    if (usage) frame["usageMetadata"] = UsageToGemini(*usage);
    frame["modelVersion"] = model();
    frame["responseId"] = id_;
    AppendSse(out, "", frame);
  }

  ir::FinishReason reason_ = ir::FinishReason::kUnknown;
  bool finish_seen_ = false;
};

}  // namespace

std::unique_ptr<ClientStreamEncoder> MakeGeminiStreamEncoder(const EncodeOptions& opt) {
  return std::make_unique<GeminiStreamEncoder>(opt);
}

}  // namespace helm::protocol
