// ir.h helpers: event constructors and the stream accumulator.
#include "core/protocol/ir.h"

#include <algorithm>

namespace helm::ir {

StreamEvent StartEvent(std::string id, std::string model) {
  StreamEvent e;
  e.type = StreamEvent::Type::kStart;
  e.id = std::move(id);
  e.model = std::move(model);
  return e;
}

StreamEvent TextDelta(std::string text) {
  StreamEvent e;
  e.type = StreamEvent::Type::kTextDelta;
  e.text = std::move(text);
  return e;
}

StreamEvent ThinkingDelta(std::string text, std::string signature) {
  StreamEvent e;
  e.type = StreamEvent::Type::kThinkingDelta;
  e.text = std::move(text);
  e.signature = std::move(signature);
  return e;
}

StreamEvent ToolCallStart(int64_t index, std::string id, std::string name) {
  StreamEvent e;
  e.type = StreamEvent::Type::kToolCallStart;
  e.index = index;
  e.id = std::move(id);
  e.name = std::move(name);
  return e;
}

StreamEvent ToolCallDelta(int64_t index, std::string fragment) {
  StreamEvent e;
  e.type = StreamEvent::Type::kToolCallDelta;
  e.index = index;
  e.text = std::move(fragment);
  return e;
}

StreamEvent FinishEvent(FinishReason reason) {
  StreamEvent e;
  e.type = StreamEvent::Type::kFinish;
  e.finish_reason = reason;
  return e;
}

StreamEvent UsageEvent(const Usage& usage) {
  StreamEvent e;
  e.type = StreamEvent::Type::kUsage;
  e.usage = usage;
  return e;
}

StreamEvent ErrorEvent(std::string message) {
  StreamEvent e;
  e.type = StreamEvent::Type::kError;
  e.text = std::move(message);
  return e;
}

StreamEvent EndEvent() { return StreamEvent{}; }

void StreamAccumulator::Add(const StreamEvent& ev) {
  using T = StreamEvent::Type;
  auto tool = [&](int64_t index) -> ToolCall& {
    auto it = std::find(tool_indexes_.begin(), tool_indexes_.end(), index);
    if (it != tool_indexes_.end()) return response_.tool_calls[it - tool_indexes_.begin()];
    tool_indexes_.push_back(index);
    return response_.tool_calls.emplace_back();
  };
  auto& content = response_.content;
  switch (ev.type) {
    case T::kStart:
      response_.id = ev.id;
      response_.model = ev.model;
      break;
    case T::kTextDelta:
      if (content.empty() || content.back().kind != PartKind::kText) content.emplace_back();
      content.back().text += ev.text;
      break;
    case T::kThinkingDelta:
      if (content.empty() || content.back().kind != PartKind::kThinking) {
        content.emplace_back().kind = PartKind::kThinking;
      }
      content.back().text += ev.text;
      content.back().signature += ev.signature;
      break;
    case T::kToolCallStart: {
      ToolCall& c = tool(ev.index);
      if (!ev.id.empty()) c.id = ev.id;
      if (!ev.name.empty()) c.name = ev.name;
      break;
    }
    case T::kToolCallDelta:
      tool(ev.index).arguments += ev.text;
      break;
    case T::kFinish:
      response_.finish_reason = ev.finish_reason;
      saw_finish_ = true;
      break;
    case T::kUsage:
      response_.usage = ev.usage;
      break;
    case T::kError:
      response_.finish_reason = FinishReason::kError;
      saw_error_ = true;
      break;
    case T::kEnd:
      break;
  }
}

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kToolCalls: return "tool_calls";
    case FinishReason::kContentFilter: return "content_filter";
    case FinishReason::kError: return "error";
    case FinishReason::kUnknown: return "unknown";
  }
  return "unknown";
}

}  // namespace helm::ir
