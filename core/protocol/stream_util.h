// Pieces shared by the stream state machines: the common tail of every
// provider decoder (synthesizing a missing finish, usage, end) and the
// per-tool-call bookkeeping of every client encoder. Internal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/protocol/codec.h"

namespace helm::protocol {

// Base of the provider decoders: owns the terminal bookkeeping so that every
// decoder ends the same way (ProviderStreamDecoder contract).
class StreamDecoderBase : public ProviderStreamDecoder {
 public:
  void Close(std::vector<ir::StreamEvent>* out) override;
  bool upstream_done() const override { return upstream_done_; }
  bool ended_without_finish() const override { return ended_without_finish_; }

 protected:
  // Emits start once (with whatever id/model are known at the first event).
  void EnsureStart(const std::string& id, const std::string& model,
                   std::vector<ir::StreamEvent>* out);
  // Emits the finish event once; kStop/kUnknown become kToolCalls when a
  // tool call was seen (OpenAI "stop" and Gemini STOP with tool calls).
  void EmitFinish(ir::FinishReason reason, std::vector<ir::StreamEvent>* out);
  void EmitError(std::string message, std::vector<ir::StreamEvent>* out);

  bool started_ = false;
  bool finished_ = false;  // finish emitted
  bool errored_ = false;
  bool closed_ = false;    // end emitted
  bool upstream_done_ = false;
  bool ended_without_finish_ = false;
  bool saw_tool_call_ = false;
  ir::Usage usage_;  // emitted by Close, after the finish
};

// A tool call as a client encoder tracks it, keyed by the IR index.
struct ToolSlot {
  int64_t ir_index = 0;
  int64_t out_index = 0;  // sequential, in order of first appearance
  std::string id;
  std::string name;
  std::string pending_args;  // fragments not yet written
  std::string all_args;      // every fragment, for protocols that repeat them
  bool opened = false;       // its start has been written
  bool closed = false;       // its end has been written
};

class ToolSlots {
 public:
  // The slot for an IR index, created on first sight.
  ToolSlot& Get(int64_t ir_index);
  std::vector<ToolSlot>& all() { return slots_; }
  bool empty() const { return slots_.empty(); }
  // Records a start event's id and name (non-empty values only).
  ToolSlot& Start(const ir::StreamEvent& ev);
  // Gives every slot without an id a synthesized one.
  void FillIds(const std::string& seed);

 private:
  std::vector<ToolSlot> slots_;
};

// Base of the client encoders: what every one of them tracks. The response
// id and model come from the options, else from the upstream's start event.
class StreamEncoderBase : public ClientStreamEncoder {
 public:
  bool finished() const override { return done_; }

 protected:
  explicit StreamEncoderBase(const EncodeOptions& opt) : opt_(opt), id_(opt.response_id) {}

  // Takes the upstream's id and model from a start event, unless the start
  // has been written already.
  void TakeStart(const ir::StreamEvent& ev);
  // The model the client sees: the one the route named, else the upstream's.
  const std::string& model() const { return opt_.model.empty() ? model_ : opt_.model; }

  EncodeOptions opt_;
  std::string id_;
  ToolSlots tools_;
  ir::Usage usage_;
  bool started_ = false;
  bool done_ = false;  // nothing more is written

 private:
  std::string model_;
};

// kUnknown (and kStop) with tool calls → kToolCalls; kUnknown otherwise → kStop.
ir::FinishReason ResolveFinish(ir::FinishReason r, bool has_tool_calls);

}  // namespace helm::protocol
