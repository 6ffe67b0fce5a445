// stream_util.h.
#include "core/protocol/stream_util.h"

namespace helm::protocol {

void StreamDecoderBase::EnsureStart(const std::string& id, const std::string& model,
                                    std::vector<ir::StreamEvent>* out) {
  if (started_) return;
  started_ = true;
  out->push_back(ir::StartEvent(id, model));
}

void StreamDecoderBase::EmitFinish(ir::FinishReason reason, std::vector<ir::StreamEvent>* out) {
  if (finished_ || errored_) return;
  finished_ = true;
  if (saw_tool_call_ && reason == ir::FinishReason::kStop) reason = ir::FinishReason::kToolCalls;
  out->push_back(ir::FinishEvent(reason));
}

void StreamDecoderBase::EmitError(std::string message, std::vector<ir::StreamEvent>* out) {
  if (errored_ || closed_) return;
  errored_ = true;
  upstream_done_ = true;
  out->push_back(ir::ErrorEvent(std::move(message)));
}

void StreamDecoderBase::Close(std::vector<ir::StreamEvent>* out) {
  if (closed_) return;
  closed_ = true;
  if (!errored_) {
    EnsureStart("", "", out);
    if (!finished_) {
      ended_without_finish_ = true;
      EmitFinish(saw_tool_call_ ? ir::FinishReason::kToolCalls : ir::FinishReason::kStop, out);
    }
    if (usage_.known) out->push_back(ir::UsageEvent(usage_));
  }
  out->push_back(ir::EndEvent());
}

ToolSlot& ToolSlots::Get(int64_t ir_index) {
  for (auto& s : slots_) {
    if (s.ir_index == ir_index) return s;
  }
  ToolSlot& s = slots_.emplace_back();
  s.ir_index = ir_index;
  s.out_index = static_cast<int64_t>(slots_.size()) - 1;
  return s;
}

ToolSlot& ToolSlots::Start(const ir::StreamEvent& ev) {
  ToolSlot& s = Get(ev.index);
  if (!ev.id.empty() && s.id.empty()) s.id = ev.id;
  if (!ev.name.empty() && s.name.empty()) s.name = ev.name;
  return s;
}

void ToolSlots::FillIds(const std::string& seed) {
  for (auto& s : slots_) {
    if (s.id.empty()) s.id = SynthesizeToolCallId(seed, static_cast<size_t>(s.out_index));
  }
}

void StreamEncoderBase::TakeStart(const ir::StreamEvent& ev) {
  if (started_) return;
  if (!ev.id.empty()) id_ = ev.id;
  if (opt_.model.empty()) model_ = ev.model;
}

ir::FinishReason ResolveFinish(ir::FinishReason r, bool has_tool_calls) {
  if (has_tool_calls && (r == ir::FinishReason::kUnknown || r == ir::FinishReason::kStop)) {
    return ir::FinishReason::kToolCalls;
  }
  if (r == ir::FinishReason::kUnknown) return ir::FinishReason::kStop;
  return r;
}

}  // namespace helm::protocol
